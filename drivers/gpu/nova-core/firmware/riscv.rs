// SPDX-License-Identifier: GPL-2.0

//! The GSP's RISC-V bootloader file (`bootloader-<version>.bin`).
//!
//! After NVIDIA's binary header ([`super::BinHeader`]) comes an `RM_RISCV_UCODE_DESC`
//! (`src/nvidia/arch/nvalloc/common/inc/rmRiscvUcode.h`) of little-endian 32-bit words locating
//! the parts of the payload: 19 words in version 4 (Turing, GA100: a bootloader without a
//! monitor), 21 in version 5 (GA10x and later: a bootloader with a monitor, whose code, data and
//! manifest offsets go into `GspFwWprMeta`). The payload is what the driver hands the GSP
//! (`GspFwWprMeta.sysmemAddrOfBootloader`).

use kernel::prelude::*;

use super::{BinHeader, FwError};

/// The descriptor fields nova uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RiscvDesc {
    /// Descriptor version (4 or 5 in 570.144).
    pub(crate) version: u32,
    /// Offset of the bootloader proper in the payload.
    pub(crate) bootloader_offset: u32,
    /// Size of the bootloader proper.
    pub(crate) bootloader_size: u32,
    /// Whether the payload holds a monitor (and the next five fields are meaningful).
    pub(crate) monitor: bool,
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

/// The words of `RM_RISCV_UCODE_DESC` nova reads: versions 4 and 5 agree on them.
const DESC_WORDS: usize = 15;

// Word indices in `RM_RISCV_UCODE_DESC`.
const W_VERSION: usize = 0;
const W_BOOTLOADER_OFFSET: usize = 1;
const W_BOOTLOADER_SIZE: usize = 2;
const W_APP_VERSION: usize = 7;
const W_MANIFEST_OFFSET: usize = 8;
const W_MANIFEST_SIZE: usize = 9;
const W_DATA_OFFSET: usize = 10;
const W_DATA_SIZE: usize = 11;
const W_CODE_OFFSET: usize = 12;
const W_CODE_SIZE: usize = 13;
const W_MONITOR_ENABLED: usize = 14;

impl<'a> Bootloader<'a> {
    /// Parses `data`: the binary header, the descriptor, and that every part the descriptor
    /// names lies inside the payload.
    pub(crate) fn parse(data: &'a [u8]) -> Result<Self, FwError> {
        let hdr = BinHeader::parse(data)?;
        let desc_end = hdr
            .header_offset
            .checked_add(DESC_WORDS * 4)
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
            bootloader_offset: word(W_BOOTLOADER_OFFSET)?,
            bootloader_size: word(W_BOOTLOADER_SIZE)?,
            monitor: word(W_MONITOR_ENABLED)? != 0,
            manifest_offset: word(W_MANIFEST_OFFSET)?,
            data_offset: word(W_DATA_OFFSET)?,
            data_size: word(W_DATA_SIZE)?,
            code_offset: word(W_CODE_OFFSET)?,
            code_size: word(W_CODE_SIZE)?,
            app_version: word(W_APP_VERSION)?,
        };
        if !matches!(desc.version, 4 | 5) {
            return Err(FwError::Malformed("unknown RISC-V descriptor version"));
        }
        let inside = |off: u32, size: u32| {
            size != 0 && u64::from(off) + u64::from(size) <= payload.len() as u64
        };
        let bootloader_ok =
            desc.bootloader_size == 0 || inside(desc.bootloader_offset, desc.bootloader_size);
        let monitor_ok = !desc.monitor
            || (inside(desc.manifest_offset, word(W_MANIFEST_SIZE)?)
                && inside(desc.data_offset, desc.data_size)
                && inside(desc.code_offset, desc.code_size));
        if !bootloader_ok || !monitor_ok {
            return Err(FwError::Malformed("bootloader part outside its payload"));
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
                bootloader_offset: 0x8000,
                bootloader_size: 0x880,
                monitor: true,
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
    fn parses_a_turing_layout() -> Result<(), AllocError> {
        // TU102's bootloader-570.144.bin: a version 4 descriptor (19 words), no monitor.
        let mut words = KVec::new();
        for w in [
            0x10de, 1, 0x1064, 0x18, 0x64, 0x1000, 4, 0, 0x488, 0x488, 0x10,
        ] {
            words.push(w, GFP_KERNEL)?;
        }
        let mut f = KVec::from_elem(0u8, 0x64 + 0x1000, GFP_KERNEL)?;
        for (i, w) in words.iter().enumerate() {
            f[i * 4..i * 4 + 4].copy_from_slice(&u32::to_le_bytes(*w));
        }
        let bl = Bootloader::parse(&f);
        assert_eq!(bl.map(|b| (b.desc.version, b.desc.monitor)), Ok((4, false)));
        assert_eq!(bl.map(|b| b.desc.bootloader_size), Ok(0x488));
        // The bootloader proper past the payload.
        f[0x18 + 8..0x18 + 12].copy_from_slice(&0x1001u32.to_le_bytes());
        assert!(Bootloader::parse(&f).is_err());
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
