// SPDX-License-Identifier: GPL-2.0

//! The GSP's RISC-V bootloader file (`bootloader-<version>.bin`).
//!
//! After NVIDIA's binary header ([`super::BinHeader`]) comes an `RM_RISCV_UCODE_DESC`
//! (`src/nvidia/arch/nvalloc/common/inc/rmRiscvUcode.h`): 21 little-endian 32-bit words locating
//! the code, data and manifest inside the payload. The payload is what the driver hands the GSP
//! (`GspFwWprMeta.sysmemAddrOfBootloader`), with the three offsets next to it.

use kernel::prelude::*;

use super::{BinHeader, FwError};

/// The descriptor fields nova uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RiscvDesc {
    /// Descriptor version (5 in 570.144).
    pub(crate) version: u32,
    /// Offset of the manifest in the payload.
    pub(crate) manifest_offset: u32,
    /// Offset of the monitor's data in the payload.
    pub(crate) data_offset: u32,
    /// Size of the monitor's data.
    pub(crate) data_size: u32,
    /// Offset of the monitor's code in the payload.
    pub(crate) code_offset: u32,
    /// Size of the monitor's code.
    pub(crate) code_size: u32,
    /// The application (changelist) version.
    pub(crate) app_version: u32,
}

/// A parsed bootloader file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bootloader<'a> {
    /// The descriptor.
    pub(crate) desc: RiscvDesc,
    /// The payload.
    pub(crate) payload: &'a [u8],
}

/// Size of `RM_RISCV_UCODE_DESC` (21 words).
const DESC_SIZE: usize = 21 * 4;

// Word indices in `RM_RISCV_UCODE_DESC`.
const W_VERSION: usize = 0;
const W_APP_VERSION: usize = 7;
const W_MANIFEST_OFFSET: usize = 8;
const W_MANIFEST_SIZE: usize = 9;
const W_DATA_OFFSET: usize = 10;
const W_DATA_SIZE: usize = 11;
const W_CODE_OFFSET: usize = 12;
const W_CODE_SIZE: usize = 13;

impl<'a> Bootloader<'a> {
    /// Parses `data`: the binary header, the descriptor, and that code, data and manifest lie
    /// inside the payload.
    pub(crate) fn parse(data: &'a [u8]) -> Result<Self, FwError> {
        let hdr = BinHeader::parse(data)?;
        let desc_end = hdr
            .header_offset
            .checked_add(DESC_SIZE)
            .ok_or(FwError::Truncated)?;
        let raw = data
            .get(hdr.header_offset..desc_end)
            .ok_or(FwError::Truncated)?;
        let word = |i: usize| -> Result<u32, FwError> {
            let b = raw.get(i * 4..i * 4 + 4).ok_or(FwError::Truncated)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let payload = data
            .get(hdr.data_offset..hdr.data_offset + hdr.data_size)
            .ok_or(FwError::Truncated)?;

        let desc = RiscvDesc {
            version: word(W_VERSION)?,
            manifest_offset: word(W_MANIFEST_OFFSET)?,
            data_offset: word(W_DATA_OFFSET)?,
            data_size: word(W_DATA_SIZE)?,
            code_offset: word(W_CODE_OFFSET)?,
            code_size: word(W_CODE_SIZE)?,
            app_version: word(W_APP_VERSION)?,
        };
        for (off, size) in [
            (desc.manifest_offset, word(W_MANIFEST_SIZE)?),
            (desc.data_offset, desc.data_size),
            (desc.code_offset, desc.code_size),
        ] {
            let end = u64::from(off) + u64::from(size);
            if size == 0 || end > payload.len() as u64 {
                return Err(FwError::Malformed("bootloader part outside its payload"));
            }
        }
        Ok(Self { desc, payload })
    }
}

#[kunit_tests(nova_core_firmware_riscv)]
mod tests {
    use super::*;
    use kernel::alloc::AllocError;

    /// The header and descriptor of AD102's bootloader-570.144.bin, with a zeroed payload.
    fn ad102_like() -> Result<KVec<u8>, AllocError> {
        let words: [u32; 27] = [
            0x10de, 1, 0x9100, 0x18, 0x6c, 0x9000, // nvfw_bin_hdr
            5, 0x8000, 0x880, 0x8880, 0x10, 0, 0, 0, // version .. appVersion
            0, 0x800, 0x800, 0x4000, 0x4800, 0x2900, 1, // manifest .. bIsMonitorEnabled
            0, 0, 0, 0, 0x9000, 0, // swbrom .. bSignedAsCode
        ];
        let mut v = KVec::from_elem(0u8, 0x6c + 0x9000, GFP_KERNEL)?;
        for (i, w) in words.iter().enumerate() {
            v[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        Ok(v)
    }

    #[test]
    fn parses_the_real_layout() -> Result<(), AllocError> {
        let f = ad102_like()?;
        let bl = Bootloader::parse(&f);
        assert_eq!(
            bl.map(|b| b.desc),
            Ok(RiscvDesc {
                version: 5,
                manifest_offset: 0,
                data_offset: 0x800,
                data_size: 0x4000,
                code_offset: 0x4800,
                code_size: 0x2900,
                app_version: 0,
            })
        );
        assert_eq!(bl.map(|b| b.payload.len()), Ok(0x9000));
        Ok(())
    }

    #[test]
    fn malformed_descriptors_are_refused() -> Result<(), AllocError> {
        let good = ad102_like()?;
        // Every truncation: never a panic, and an error once the payload is cut.
        for len in 0..good.len() {
            assert!(Bootloader::parse(&good[..len]).is_err());
        }
        // Code past the payload's end.
        let mut f = ad102_like()?;
        f[0x18 + 12 * 4..0x18 + 13 * 4].copy_from_slice(&0x8000u32.to_le_bytes());
        assert_eq!(
            Bootloader::parse(&f),
            Err(FwError::Malformed("bootloader part outside its payload"))
        );
        // Offset + size overflowing 32 bits.
        let mut f = ad102_like()?;
        f[0x18 + 10 * 4..0x18 + 11 * 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Bootloader::parse(&f).is_err());
        // Descriptor running past the end of the file.
        let mut f = ad102_like()?;
        let near_end = f.len() as u32 - 8;
        f[12..16].copy_from_slice(&near_end.to_le_bytes());
        assert!(Bootloader::parse(&f).is_err());
        Ok(())
    }
}
