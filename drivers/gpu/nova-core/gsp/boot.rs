// SPDX-License-Identifier: GPL-2.0

//! The memory the driver prepares for GSP-RM before starting it.
//!
//! - the GSP-RM image in system memory, reached through a radix-3 page table ([`GspFwImage`]);
//! - three LibOS log buffers, `LOGINIT`, `LOGINTR` and `LOGRM`, each starting with a 64-bit put
//!   pointer followed by the bus addresses of the buffer's own 4 KiB pages (nouveau's
//!   `r535_gsp_libos_init` and `create_pte_array`);
//! - the RM arguments (`RMARGS`, `GSP_ARGUMENTS_CACHED`) pointing at the message queues;
//! - the LibOS region array naming those four regions;
//! - `GspFwWprMeta`, built from the FB layout.
//!
//! The layouts come from [`super::fw`]; this module owns the allocations.

use core::ptr;

use kernel::{
    device,
    dma::{attrs::DMA_ATTR_NO_WARN, Coherent, DataDirection},
    num::casts::{usize_as_u64, usize_into_u32, FromSafeCast},
    prelude::*,
    scatterlist::{Owned, SGTable},
    sync::Arc,
};

use super::{
    fw::{Abi, LibosRegion, MsgqInitParams, WprMetaParams},
    queue::{self, SharedMem, GSP_PAGE_SIZE},
    radix3::{self, Radix3Layout},
};
use crate::firmware::{gsp::GspImage, riscv::Bootloader};

/// Size of each LibOS log buffer (nouveau: 0x10000).
pub(crate) const LOG_BUFFER_SIZE: usize = 0x10000;

/// Writes the page table of a log buffer of `buf.len()` bytes at bus address `bus_addr`: the
/// address of each of its 4 KiB pages, from byte 8 on (byte 0 is the put pointer, left zero).
pub(crate) fn fill_log_ptes(buf: &mut [u8], bus_addr: u64) -> Result {
    let pages = buf.len() / GSP_PAGE_SIZE;
    // The table must fit in the buffer after the put pointer.
    let table_end = pages
        .checked_add(1)
        .and_then(|n| n.checked_mul(8))
        .ok_or(EINVAL)?;
    if buf.len() % GSP_PAGE_SIZE != 0 || pages == 0 || table_end > buf.len() {
        return Err(EINVAL);
    }
    for i in 0..pages {
        let addr = bus_addr
            // CAST: usize is at most 64 bits wide on every kernel target: lossless.
            .checked_add(u64::from_safe_cast(i * GSP_PAGE_SIZE))
            .ok_or(EOVERFLOW)?;
        let off = 8 + i * 8;
        buf.get_mut(off..off + 8)
            .ok_or(EINVAL)?
            .copy_from_slice(&addr.to_le_bytes());
    }
    Ok(())
}

/// The queue parameters GSP-RM is given for a shared area at `bus_addr`.
pub(crate) fn msgq_params(bus_addr: u64) -> MsgqInitParams {
    // CAST: small constants (129 pages, offsets below 1 MiB).
    MsgqInitParams {
        shared_mem_addr: bus_addr,
        pte_count: usize_into_u32::<{ queue::PTE_COUNT }>(),
        cmd_queue_offset: usize_as_u64(queue::CMD_QUEUE_OFFSET),
        stat_queue_offset: usize_as_u64(queue::STAT_QUEUE_OFFSET),
    }
}

/// Shared memory in a coherent DMA allocation.
pub(crate) struct DmaMem(Coherent<[u8]>);

impl DmaMem {
    /// Allocates `size` zeroed bytes for `dev`.
    pub(crate) fn new(dev: &device::Device<device::Bound>, size: usize) -> Result<Self> {
        Ok(Self(Coherent::zeroed_slice(dev, size, GFP_KERNEL)?))
    }

    /// Returns the bus address.
    pub(crate) fn bus_addr(&self) -> u64 {
        self.0.dma_address()
    }

    /// Returns the address of `len` bytes at `offset`, or `EINVAL` if they are not all inside.
    fn at(&self, offset: usize, len: usize) -> Result<*mut u8> {
        let end = offset.checked_add(len).ok_or(EINVAL)?;
        if end > self.0.size() {
            return Err(EINVAL);
        }
        // SAFETY: `offset + len <= size`, so the result stays inside the allocation.
        Ok(unsafe { self.0.as_mut_ptr().cast::<u8>().add(offset) })
    }
}

impl SharedMem for DmaMem {
    fn read(&self, offset: usize, buf: &mut [u8]) -> Result {
        let src = self.at(offset, buf.len())?;
        // SAFETY: `src` is valid for `buf.len()` bytes (checked by `at`) and does not overlap
        // `buf`, which is CPU memory. Whoever uses this memory gives the CPU these bytes for the
        // copy: the queue protocol until the CPU moves its pointer, or the boot sequence before
        // the GSP is started.
        unsafe { ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    fn write(&mut self, offset: usize, data: &[u8]) -> Result {
        let dst = self.at(offset, data.len())?;
        // SAFETY: `dst` is valid for `data.len()` bytes (checked by `at`) and does not overlap
        // `data`. As in `read`, the CPU owns these bytes until it publishes them.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len()) };
        Ok(())
    }

    fn bytes_mut(&mut self, offset: usize, len: usize) -> Result<&mut [u8]> {
        let p = self.at(offset, len)?;
        // SAFETY: `p` is valid for `len` bytes (checked by `at`), and `&mut self` keeps every
        // other CPU access out while the slice lives. The caller asks only for bytes the device
        // does not touch until the CPU publishes them (the `SharedMem` contract: command slots
        // beyond the write pointer, or memory the GSP has not been told about yet).
        Ok(unsafe { core::slice::from_raw_parts_mut(p, len) })
    }

    fn read_u32(&self, offset: usize) -> Result<u32> {
        if offset % 4 != 0 {
            return Err(EINVAL);
        }
        let p = self.at(offset, 4)?.cast::<u32>();
        // SAFETY: `p` is inside the allocation and 4-byte aligned (the allocation is page
        // aligned and `offset` a multiple of 4). The volatile read sees GSP-RM's latest store
        // of a pointer it updates concurrently.
        Ok(u32::from_le(unsafe { ptr::read_volatile(p) }))
    }

    fn write_u32(&mut self, offset: usize, value: u32) -> Result {
        if offset % 4 != 0 {
            return Err(EINVAL);
        }
        let p = self.at(offset, 4)?.cast::<u32>();
        // SAFETY: As in `read_u32`; the word is one only the CPU writes.
        unsafe { ptr::write_volatile(p, value.to_le()) };
        Ok(())
    }
}

/// Copies a whole coherent allocation into system memory.
///
/// Only for memory the device no longer writes (a log buffer after the GSP was stopped), or
/// where a torn read is harmless.
pub(crate) fn copy_from_dma(c: &Coherent<[u8]>) -> Result<KVVec<u8>> {
    let mut copy = KVVec::from_elem(0u8, c.size(), GFP_KERNEL)?;
    // SAFETY: The allocation is valid for `c.size()` bytes, the length of `copy`, and does not
    // overlap it. Nothing writes it concurrently (the caller's promise), or the bytes are only
    // looked at as a snapshot.
    unsafe { ptr::copy_nonoverlapping(c.as_ptr().cast::<u8>(), copy.as_mut_ptr(), c.size()) };
    Ok(copy)
}

/// Fills a coherent allocation from bytes built in CPU memory.
fn coherent_from(dev: &device::Device<device::Bound>, bytes: &[u8]) -> Result<Coherent<[u8]>> {
    Coherent::from_slice(dev, bytes, GFP_KERNEL)
}

/// The LibOS arguments, the log buffers and the RM arguments.
pub(crate) struct GspMemory {
    /// The LibOS region array (one page).
    pub(crate) libos: Coherent<[u8]>,
    /// `LOGINIT`, `LOGINTR`, `LOGRM`, shared with debugfs ([`super::logs`]).
    pub(crate) logs: super::logs::LiveLogs,
    /// `GSP_ARGUMENTS_CACHED`, which GSP-RM reads; only kept alive here.
    pub(crate) _rmargs: Coherent<[u8]>,
}

impl GspMemory {
    /// Allocates and fills everything for `abi`, and the message queues the RM arguments
    /// point at.
    pub(crate) fn new(
        dev: &device::Device<device::Bound>,
        abi: Abi,
    ) -> Result<(Self, queue::Queues<DmaMem>)> {
        let make_log = || -> Result<Coherent<[u8]>> {
            let mut bytes = KVec::from_elem(0u8, LOG_BUFFER_SIZE, GFP_KERNEL)?;
            let log = Coherent::<u8>::zeroed_slice(dev, LOG_BUFFER_SIZE, GFP_KERNEL)?;
            fill_log_ptes(&mut bytes, log.dma_address())?;
            let mut mem = DmaMem(log);
            mem.write(0, &bytes)?;
            Ok(mem.0)
        };
        let logs = Arc::new([make_log()?, make_log()?, make_log()?], GFP_KERNEL)?;

        let shared = DmaMem::new(dev, queue::SHARED_SIZE)?;
        let shared_addr = shared.bus_addr();
        let queues = queue::Queues::new(shared, abi, shared_addr)?;
        // LibOS maps regions in whole pages (nouveau allocates a page for the RM arguments).
        let mut args = abi.rm_args(&msgq_params(shared_addr))?;
        let padded = args.len().max(1).next_multiple_of(GSP_PAGE_SIZE);
        args.resize(padded, 0, GFP_KERNEL)?;
        let rmargs = coherent_from(dev, &args)?;

        let region = |name, c: &Coherent<[u8]>| LibosRegion {
            name,
            addr: c.dma_address(),
            // CAST: usize is at most 64 bits wide on every kernel target: lossless.
            size: u64::from_safe_cast(c.size()),
        };
        let libos = coherent_from(
            dev,
            &abi.libos_args(&[
                region("LOGINIT", &logs[0]),
                region("LOGINTR", &logs[1]),
                region("LOGRM", &logs[2]),
                region("RMARGS", &rmargs),
            ])?,
        )?;
        Ok((
            Self {
                libos,
                logs,
                _rmargs: rmargs,
            },
            queues,
        ))
    }
}

/// The GSP-RM image in DMA-mapped system memory, with its radix-3 page table, and the
/// bootloader and signature next to it.
pub(crate) struct GspFwImage {
    /// The image, copied once into vmalloc pages and mapped for the device.
    image: Pin<KBox<SGTable<Owned<VVec<u8>>>>>,
    /// Levels 0 and 1 of the page table (two pages).
    levels01: DmaMem,
    /// Level 2 of the page table.
    level2: DmaMem,
    /// The bootloader's payload.
    _bootloader: Coherent<[u8]>,
    /// The chip family's signature.
    _signature: Coherent<[u8]>,
    /// `GspFwWprMeta` without the FB layout filled in.
    params: WprMetaParams,
}

impl GspFwImage {
    /// Copies the image, the bootloader and the signature into DMA memory and builds the page
    /// table. The image is copied exactly once, from the firmware file into the pages the GSP
    /// reads.
    pub(crate) fn new(
        dev: &device::Device<device::Bound>,
        image: &GspImage<'_>,
        bootloader: &Bootloader<'_>,
    ) -> Result<Self> {
        // The sizes come from the file: `GspImage::parse` and `Bootloader::parse` bounded them,
        // and a failure to allocate is reported by the caller, not by the allocator.
        let gfp = GFP_KERNEL | __GFP_NOWARN;
        let layout = Radix3Layout::new(image.image.len())?;
        let mut pages = VVec::with_capacity(layout.data_pages * GSP_PAGE_SIZE, gfp)?;
        pages.extend_from_slice(image.image, gfp)?;
        pages.resize(layout.data_pages * GSP_PAGE_SIZE, 0, gfp)?;
        let sgt = KBox::pin_init(
            SGTable::new(dev, pages, DataDirection::ToDevice, GFP_KERNEL),
            GFP_KERNEL,
        )?;

        let bl = Coherent::from_slice_with_attrs(dev, bootloader.payload, gfp, DMA_ATTR_NO_WARN)?;
        let sig = Coherent::from_slice_with_attrs(dev, image.signature, gfp, DMA_ATTR_NO_WARN)?;
        let params = WprMetaParams {
            // CAST: usize is at most 64 bits wide on every kernel target: lossless.
            image_size: u64::from_safe_cast(image.image.len()),
            bootloader_addr: bl.dma_address(),
            // CAST: usize is at most 64 bits wide on every kernel target: lossless.
            bootloader_size: u64::from_safe_cast(bl.size()),
            bootloader_code_offset: u64::from(bootloader.desc.code_offset),
            bootloader_data_offset: u64::from(bootloader.desc.data_offset),
            bootloader_manifest_offset: u64::from(bootloader.desc.manifest_offset),
            signature_addr: sig.dma_address(),
            // CAST: usize is at most 64 bits wide on every kernel target: lossless.
            signature_size: u64::from_safe_cast(sig.size()),
            ..Default::default()
        };
        let mut this = Self {
            image: sgt,
            levels01: DmaMem::new(dev, 2 * GSP_PAGE_SIZE)?,
            level2: DmaMem::new(dev, layout.level2_size())?,
            _bootloader: bl,
            _signature: sig,
            params,
        };
        this.fill_tables(layout)?;
        Ok(this)
    }

    /// Writes the page table from the image's DMA mapping.
    fn fill_tables(&mut self, layout: Radix3Layout) -> Result {
        // Expand the (possibly merged) SG entries into 4 KiB bus addresses.
        let mut addrs = KVec::with_capacity(layout.data_pages, GFP_KERNEL)?;
        for entry in self.image.iter() {
            let len = usize::try_from(entry.dma_len()).map_err(|_| EINVAL)?;
            let mut off = 0;
            while off < len && addrs.len() < layout.data_pages {
                let addr = entry
                    .dma_address()
                    // CAST: usize is at most 64 bits wide on every kernel target: lossless.
                    .checked_add(u64::from_safe_cast(off))
                    .ok_or(EOVERFLOW)?;
                addrs.push(addr, GFP_KERNEL)?;
                off += GSP_PAGE_SIZE;
            }
        }
        if addrs.len() != layout.data_pages {
            return Err(EINVAL);
        }

        let mut l0 = KVec::from_elem(0u8, GSP_PAGE_SIZE, GFP_KERNEL)?;
        let mut l1 = KVec::from_elem(0u8, GSP_PAGE_SIZE, GFP_KERNEL)?;
        let mut l2 = KVec::from_elem(0u8, layout.level2_size(), GFP_KERNEL)?;
        let l01_addr = self.levels01.bus_addr();
        let l2_addr = self.level2.bus_addr();
        radix3::fill(
            &layout,
            &mut l0,
            &mut l1,
            l01_addr
                // CAST: usize is at most 64 bits wide on every kernel target: lossless.
                .checked_add(usize_as_u64(GSP_PAGE_SIZE))
                .ok_or(EOVERFLOW)?,
            &mut l2,
            |i| {
                l2_addr
                    // CAST: usize is at most 64 bits wide on every kernel target: lossless.
                    .checked_add(u64::from_safe_cast(i * GSP_PAGE_SIZE))
                    .ok_or(EOVERFLOW)
            },
            |i| addrs.get(i).copied().ok_or(EINVAL),
        )?;
        // The device has not been told about these tables yet, so the CPU owns them.
        self.levels01.write(0, &l0)?;
        self.levels01.write(GSP_PAGE_SIZE, &l1)?;
        self.level2.write(0, &l2)?;
        self.params.radix3_addr = l01_addr;
        Ok(())
    }

    /// Returns the `GspFwWprMeta` parameters except the FB layout.
    pub(crate) fn wpr_meta_params(&self) -> WprMetaParams {
        self.params
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_gsp_boot)]
mod tests {
    use super::*;
    use crate::gsp::fw::{id8, FbLayout, FbRange};

    #[test]
    fn log_buffer_page_table() -> Result {
        let mut buf = KVec::from_elem(0xaau8, LOG_BUFFER_SIZE, GFP_KERNEL)?;
        buf[..8].fill(0);
        fill_log_ptes(&mut buf, 0x8000_0000)?;
        let word =
            |i: usize| u64::from_le_bytes(buf[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        assert_eq!(word(0), 0);
        for i in 0..16 {
            assert_eq!(word(i + 1), 0x8000_0000 + (i as u64) * 4096);
        }
        // Untouched after the table.
        assert_eq!(buf[17 * 8], 0xaa);
        let mut odd = KVec::from_elem(0u8, 4097, GFP_KERNEL)?;
        assert_eq!(fill_log_ptes(&mut odd, 0), Err(EINVAL));
        let mut one = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        assert_eq!(fill_log_ptes(&mut one, u64::MAX), Ok(()));
        Ok(())
    }

    #[test]
    fn id8_packs_names() {
        assert_eq!(id8("LOGRM"), 0x4c4f47524d);
        assert_eq!(id8("RMARGS"), 0x524d41524753);
        assert_eq!(id8("LOGINIT"), 0x4c4f47494e4954);
    }

    #[test]
    fn queue_parameters() {
        let p = msgq_params(0x1234_5000);
        assert_eq!(p.pte_count, 129);
        assert_eq!(p.cmd_queue_offset, 0x1000);
        assert_eq!(p.stat_queue_offset, 0x41000);
        assert_eq!(p.shared_mem_addr, 0x1234_5000);
    }

    #[test]
    fn fb_layout_order_is_checked() {
        let r = |start, size| FbRange { start, size };
        let good = FbLayout {
            fb_size: 0x2_0000_0000,
            non_wpr_heap: r(0x1_f000_0000, 0x10_0000),
            wpr2: r(0x1_f010_0000, 0x800_0000),
            wpr2_heap: r(0x1_f010_0000, 0x400_0000),
            elf: r(0x1_f410_0000, 0x3c9_9000),
            boot_bin: r(0x1_f7e0_0000, 0x1_0000),
            frts: r(0x1_f800_0000, 0x10_0000),
            vga_workspace: r(0x1_ff00_0000, 0x10_0000),
            pmu_reserved_size: 0,
        };
        assert_eq!(good.validate(), Ok(()));
        let mut bad = good;
        bad.frts.start = 0x1_f7e0_8000;
        assert_eq!(bad.validate(), Err(EINVAL));
        let mut bad = good;
        bad.vga_workspace.size = u64::MAX;
        assert_eq!(bad.validate(), Err(EOVERFLOW));
        let mut bad = good;
        bad.fb_size = 0x1_ff00_0000;
        assert_eq!(bad.validate(), Err(EINVAL));
    }
}
