// SPDX-License-Identifier: GPL-2.0

//! The radix-3 page table through which the GSP bootloader reads the GSP-RM image.
//!
//! The image lies in scattered 4 KiB pages of system memory. The bootloader finds them through
//! three levels of tables, each a list of little-endian 64-bit bus addresses (nouveau's
//! `nvkm_gsp_radix3_sg`, `GspFwWprMeta.sysmemAddrOfRadix3Elf`):
//!
//! - level 0: one page whose first entry is the address of level 1;
//! - level 1: one page listing the addresses of the level 2 pages;
//! - level 2: as many pages as needed to list the address of every image page.
//!
//! One level 1 page lists 512 level 2 pages, which list 512 image pages each: the image can be at
//! most 1 GiB. This module computes the table contents; where the pages live is the caller's.

use kernel::prelude::*;

use super::queue::GSP_PAGE_SIZE;

/// Entries per 4 KiB table page.
pub(crate) const ENTRIES_PER_PAGE: usize = GSP_PAGE_SIZE / 8;

/// The shape of the tables for an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Radix3Layout {
    /// Number of 4 KiB image pages (the last may be partly used).
    pub(crate) data_pages: usize,
    /// Number of level 2 pages.
    pub(crate) level2_pages: usize,
}

impl Radix3Layout {
    /// Computes the layout for an image of `image_size` bytes; `EINVAL` for an empty image and
    /// `E2BIG` for one larger than one level 1 page can map.
    pub(crate) fn new(image_size: usize) -> Result<Self> {
        if image_size == 0 {
            return Err(EINVAL);
        }
        let data_pages = image_size.div_ceil(GSP_PAGE_SIZE);
        let level2_pages = data_pages.div_ceil(ENTRIES_PER_PAGE);
        if level2_pages > ENTRIES_PER_PAGE {
            return Err(E2BIG);
        }
        Ok(Self {
            data_pages,
            level2_pages,
        })
    }

    /// Size in bytes of the level 2 table.
    pub(crate) fn level2_size(&self) -> usize {
        self.level2_pages * GSP_PAGE_SIZE
    }
}

/// Stores `addr` as entry `index` of the table `table` (bytes).
fn put(table: &mut [u8], index: usize, addr: u64) -> Result {
    let off = index.checked_mul(8).ok_or(EINVAL)?;
    table
        .get_mut(off..off + 8)
        .ok_or(EINVAL)?
        .copy_from_slice(&addr.to_le_bytes());
    Ok(())
}

/// Fills the three levels for `layout`.
///
/// - `level0` and `level1` are one page each; `level1_addr` is the bus address of `level1`.
/// - `level2` is [`Radix3Layout::level2_size`] bytes; `level2_page_addr(i)` returns the bus
///   address of its page `i`.
/// - `data_page_addr(i)` returns the bus address of image page `i`.
///
/// Unused entries are zeroed.
pub(crate) fn fill(
    layout: &Radix3Layout,
    level0: &mut [u8],
    level1: &mut [u8],
    level1_addr: u64,
    level2: &mut [u8],
    mut level2_page_addr: impl FnMut(usize) -> Result<u64>,
    mut data_page_addr: impl FnMut(usize) -> Result<u64>,
) -> Result {
    if level0.len() != GSP_PAGE_SIZE
        || level1.len() != GSP_PAGE_SIZE
        || level2.len() != layout.level2_size()
    {
        return Err(EINVAL);
    }
    level0.fill(0);
    level1.fill(0);
    level2.fill(0);
    put(level0, 0, level1_addr)?;
    for i in 0..layout.level2_pages {
        put(level1, i, level2_page_addr(i)?)?;
    }
    for i in 0..layout.data_pages {
        put(level2, i, data_page_addr(i)?)?;
    }
    Ok(())
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_gsp_radix3)]
mod tests {
    use super::*;

    fn entry(t: &[u8], i: usize) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&t[i * 8..i * 8 + 8]);
        u64::from_le_bytes(b)
    }

    #[test]
    fn layout_sizes() {
        assert_eq!(Radix3Layout::new(0), Err(EINVAL));
        assert_eq!(
            Radix3Layout::new(1),
            Ok(Radix3Layout {
                data_pages: 1,
                level2_pages: 1
            })
        );
        // 512 pages fill one level 2 page exactly; one more byte needs a second.
        assert_eq!(Radix3Layout::new(512 * 4096).map(|l| l.level2_pages), Ok(1));
        assert_eq!(
            Radix3Layout::new(512 * 4096 + 1).map(|l| l.level2_pages),
            Ok(2)
        );
        // The GA102/AD102 570.144 image: 0x3c99000 bytes.
        assert_eq!(
            Radix3Layout::new(0x3c99000),
            Ok(Radix3Layout {
                data_pages: 0x3c99,
                level2_pages: 31
            })
        );
        assert_eq!(Radix3Layout::new(1 << 30).map(|l| l.level2_pages), Ok(512));
        assert_eq!(Radix3Layout::new((1 << 30) + 1), Err(E2BIG));
    }

    #[test]
    fn tables_point_at_every_page() -> Result {
        // 1027 data pages: three level 2 pages, the last with three entries.
        let layout = Radix3Layout::new(1027 * 4096 - 100)?;
        assert_eq!(layout.level2_pages, 3);
        let mut l0 = KVec::from_elem(0xffu8, 4096, GFP_KERNEL)?;
        let mut l1 = KVec::from_elem(0xffu8, 4096, GFP_KERNEL)?;
        let mut l2 = KVec::from_elem(0xffu8, layout.level2_size(), GFP_KERNEL)?;
        // Scattered addresses, as an SG table would give.
        fill(
            &layout,
            &mut l0,
            &mut l1,
            0x1_0000_0000,
            &mut l2,
            |i| Ok(0x2_0000_0000 + (i as u64) * 0x10000),
            |i| Ok(0x4_0000_0000 + (i as u64 ^ 5) * 4096),
        )?;
        assert_eq!(entry(&l0, 0), 0x1_0000_0000);
        assert_eq!(entry(&l0, 1), 0);
        for i in 0..3 {
            assert_eq!(entry(&l1, i), 0x2_0000_0000 + (i as u64) * 0x10000);
        }
        assert_eq!(entry(&l1, 3), 0);
        for i in 0..1027 {
            assert_eq!(entry(&l2, i), 0x4_0000_0000 + (i as u64 ^ 5) * 4096);
        }
        for i in 1027..3 * 512 {
            assert_eq!(entry(&l2, i), 0);
        }
        Ok(())
    }

    #[test]
    fn wrong_buffer_sizes_and_address_errors() -> Result {
        let layout = Radix3Layout::new(8192)?;
        let mut page = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        let mut page1 = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        let mut short = KVec::from_elem(0u8, 2048, GFP_KERNEL)?;
        assert_eq!(
            fill(
                &layout,
                &mut page,
                &mut page1,
                0,
                &mut short,
                |_| Ok(0),
                |_| Ok(0)
            ),
            Err(EINVAL)
        );
        let mut l2 = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        assert_eq!(
            fill(
                &layout,
                &mut page,
                &mut page1,
                0,
                &mut l2,
                |_| Ok(0),
                |i| if i == 1 { Err(ENOMEM) } else { Ok(0) }
            ),
            Err(ENOMEM)
        );
        Ok(())
    }
}
