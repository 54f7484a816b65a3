// SPDX-License-Identifier: GPL-2.0

//! The GSP's RISC-V bootloader file (`bootloader-<version>.bin`).
//!
//! After NVIDIA's binary header ([`super::BinHeader`]) comes an `RM_RISCV_UCODE_DESC`
//! (`src/nvidia/arch/nvalloc/common/inc/rmRiscvUcode.h`) of little-endian 32-bit words locating
//! the parts of the payload: 19 words in version 4 (Turing, GA100: a bootloader without a
//! monitor), 21 in version 5 (GA10x and later: a bootloader with a monitor, whose code, data and
//! manifest offsets go into `GspFwWprMeta`). The payload is what the driver hands the GSP
//! (`GspFwWprMeta.sysmemAddrOfBootloader`).

use kernel::{num::casts::FromSafeCast, prelude::*, transmute::FromBytes};

use super::{no_overlaps, BinHeader, FwError, Region};

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

/// The leading fields of `RM_RISCV_UCODE_DESC` as stored, which versions 4 and 5 share.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawRiscvDesc {
    version: u32,
    bootloader_offset: u32,
    bootloader_size: u32,
    bootloader_param_offset: u32,
    bootloader_param_size: u32,
    riscv_elf_offset: u32,
    riscv_elf_size: u32,
    app_version: u32,
    manifest_offset: u32,
    manifest_size: u32,
    monitor_data_offset: u32,
    monitor_data_size: u32,
    monitor_code_offset: u32,
    monitor_code_size: u32,
    is_monitor_enabled: u32,
}

// SAFETY: `RawRiscvDesc` is plain old data: any bit pattern is valid.
unsafe impl FromBytes for RawRiscvDesc {}

/// Size of the whole descriptor: 19 words in version 4, 21 in version 5.
const fn desc_size(version: u32) -> Option<usize> {
    match version {
        4 => Some(19 * 4),
        5 => Some(21 * 4),
        _ => None,
    }
}

/// Largest payload: Debian's largest bootloader (Blackwell's) is 0x31000 bytes, GA102's and
/// AD102's 0x6000 and 0x9000.
const MAX_PAYLOAD: usize = 1 << 20;

impl<'a> Bootloader<'a> {
    /// Parses `data`: the binary header, the descriptor (which must end before the payload),
    /// and that every part the descriptor names lies inside the payload without overlapping
    /// another.
    pub(crate) fn parse(data: &'a [u8]) -> Result<Self, FwError> {
        let hdr = BinHeader::parse(data, MAX_PAYLOAD)?;
        let fixed = core::mem::size_of::<RawRiscvDesc>();
        let raw = data
            .get(hdr.header_offset..)
            .and_then(|d| d.get(..fixed))
            .and_then(RawRiscvDesc::from_bytes_copy)
            .ok_or(FwError::Truncated)?;
        let version = u32::from_le(raw.version);
        let size = desc_size(version).ok_or(FwError::field(
            "version",
            version.into(),
            "unknown RISC-V descriptor version",
        ))?;
        if hdr.header_offset + size > hdr.data_offset {
            return Err(FwError::Overlap {
                field: "data_offset",
                value: u64::from_safe_cast(hdr.data_offset),
                other: "the RISC-V descriptor",
            });
        }
        let payload = data.get(hdr.payload()).ok_or(FwError::Truncated)?;

        let le = u32::from_le;
        let desc = RiscvDesc {
            version,
            bootloader_offset: le(raw.bootloader_offset),
            bootloader_size: le(raw.bootloader_size),
            monitor: le(raw.is_monitor_enabled) != 0,
            manifest_offset: le(raw.manifest_offset),
            data_offset: le(raw.monitor_data_offset),
            data_size: le(raw.monitor_data_size),
            code_offset: le(raw.monitor_code_offset),
            code_size: le(raw.monitor_code_size),
            app_version: le(raw.app_version),
        };
        let part = |what, offset: u32, size: u32| {
            Region::new(what, offset.into(), size.into(), payload.len())
        };
        let nonempty = |what, offset: u32, size: u32| {
            if size == 0 {
                return Err(FwError::field(what, offset.into(), "empty part"));
            }
            part(what, offset, size)
        };
        let mut parts = [
            part(
                "bootloaderOffset",
                desc.bootloader_offset,
                desc.bootloader_size,
            )?,
            part(
                "bootloaderParamOffset",
                le(raw.bootloader_param_offset),
                le(raw.bootloader_param_size),
            )?,
            part("manifestOffset", 0, 0)?,
            part("monitorDataOffset", 0, 0)?,
            part("monitorCodeOffset", 0, 0)?,
        ];
        if desc.monitor {
            parts[2] = nonempty(
                "manifestOffset",
                desc.manifest_offset,
                le(raw.manifest_size),
            )?;
            parts[3] = nonempty("monitorDataOffset", desc.data_offset, desc.data_size)?;
            parts[4] = nonempty("monitorCodeOffset", desc.code_offset, desc.code_size)?;
        }
        no_overlaps(&parts)?;
        Ok(Self { desc, payload })
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
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
        assert!(matches!(
            Bootloader::parse(&f),
            Err(FwError::Field {
                field: "monitorCodeOffset",
                ..
            })
        ));
        // The monitor's code over its data.
        let mut f = ad102_like()?;
        f[0x18 + 12 * 4..0x18 + 13 * 4].copy_from_slice(&0x4000u32.to_le_bytes());
        assert!(matches!(
            Bootloader::parse(&f),
            Err(FwError::Overlap {
                field: "monitorCodeOffset",
                other: "monitorDataOffset",
                ..
            })
        ));
        // The payload over the descriptor.
        let mut f = ad102_like()?;
        f[16..20].copy_from_slice(&0x60u32.to_le_bytes());
        assert!(Bootloader::parse(&f).is_err());
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
