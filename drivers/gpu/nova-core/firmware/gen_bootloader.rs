// SPDX-License-Identifier: GPL-2.0

//! The generic falcon bootloader file (`gen_bootloader-<version>.bin`, Turing and GA100).
//!
//! After NVIDIA's binary header ([`super::BinHeader`]) comes an `RM_FLCN_BL_DESC`
//! (open-gpu-kernel-modules `src/nvidia/arch/nvalloc/common/inc/rmflcnbl.h`): the IMEM tag the
//! bootloader starts at, where in DMEM it expects its `RM_FLCN_BL_DMEM_DESC`, and where its
//! code and data are in the payload. Open RM copies the code to the top of IMEM, tagged from
//! the start tag, and the descriptor to DMEM (`s_prepareHsFalconWithLoader` in
//! `kernel_gsp_falcon_tu102.c`); the bootloader then loads the image the descriptor names and
//! jumps to it.

use kernel::{num::casts::FromSafeCast, prelude::*, transmute::FromBytes};

use super::{BinHeader, FwError, Region};

/// `RM_FLCN_BL_DESC` as stored: six little-endian words.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawBlDesc {
    /// `blStartTag`.
    start_tag: u32,
    /// `blDmemDescLoadOff`.
    dmem_desc_load_off: u32,
    /// `blImgHeader.blCodeOffset`.
    code_offset: u32,
    /// `blImgHeader.blCodeSize`.
    code_size: u32,
    /// `blImgHeader.blDataOffset`.
    data_offset: u32,
    /// `blImgHeader.blDataSize`.
    data_size: u32,
}

// SAFETY: `RawBlDesc` is plain old data of `u32`s: any bit pattern is valid.
unsafe impl FromBytes for RawBlDesc {}

/// Largest payload: the bootloader runs from IMEM below 64 KiB; Debian's is 0x200 bytes.
pub(super) const MAX_PAYLOAD: usize = 64 << 10;

/// A parsed generic bootloader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GenBootloader<'a> {
    /// The IMEM tag (virtual address in 256-byte blocks) of the code's first block, where the
    /// falcon starts.
    pub(crate) start_tag: u16,
    /// Where in DMEM the bootloader reads its `RM_FLCN_BL_DMEM_DESC`.
    pub(crate) dmem_desc_offset: u32,
    /// The code, as the falcon runs it.
    pub(crate) code: &'a [u8],
}

impl<'a> GenBootloader<'a> {
    /// Parses `file`: the binary header, the descriptor, and that the code lies inside the
    /// payload, is not empty and has a start tag that an IMEM tag can hold.
    pub(crate) fn parse(file: &'a [u8]) -> Result<Self, FwError> {
        let hdr = BinHeader::parse(file, MAX_PAYLOAD)?;
        let desc_end = hdr
            .header_offset
            .checked_add(core::mem::size_of::<RawBlDesc>())
            .ok_or(FwError::Truncated)?;
        if desc_end > hdr.data_offset {
            return Err(FwError::Overlap {
                field: "data_offset",
                value: u64::from_safe_cast(hdr.data_offset),
                other: "the bootloader descriptor",
            });
        }
        let raw = file
            .get(hdr.header_offset..desc_end)
            .and_then(RawBlDesc::from_bytes_copy)
            .ok_or(FwError::Truncated)?;
        let payload = file.get(hdr.payload()).ok_or(FwError::Truncated)?;

        let le = u32::from_le;
        let start_tag = le(raw.start_tag);
        let start_tag = u16::try_from(start_tag).map_err(|_| {
            FwError::field(
                "blStartTag",
                start_tag.into(),
                "more than an IMEM tag holds",
            )
        })?;
        let code_size = le(raw.code_size);
        if code_size == 0 {
            return Err(FwError::field("blCodeSize", 0, "empty code"));
        }
        let code = Region::new(
            "blCodeOffset",
            le(raw.code_offset).into(),
            code_size.into(),
            payload.len(),
        )?;
        // The data part is not loaded (the bootloader keeps no data of its own in 570.144); it
        // must still lie inside the payload.
        Region::new(
            "blDataOffset",
            le(raw.data_offset).into(),
            le(raw.data_size).into(),
            payload.len(),
        )?;
        Ok(Self {
            start_tag,
            dmem_desc_offset: le(raw.dmem_desc_load_off),
            code: payload.get(code.range).ok_or(FwError::Truncated)?,
        })
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_gen_bootloader)]
mod tests {
    use super::*;

    /// A file as Debian ships it: binary header, descriptor, then a payload of `code` bytes
    /// from `code_offset`.
    fn file(start_tag: u32, code_offset: u32, code: u32) -> Result<KVec<u8>> {
        // Binary header (magic, version, size, header offset, data offset, data size), then
        // the descriptor (start tag, DMEM offset, code offset and size, data offset and size).
        let payload_at = 48;
        let payload = code_offset + code;
        let words = [
            0x10de,
            1,
            payload_at + payload,
            24,
            payload_at,
            payload,
            start_tag,
            0,
            code_offset,
            code,
            0,
            0,
        ];
        let mut f = KVec::new();
        for w in words {
            f.extend_from_slice(&u32::to_le_bytes(w), GFP_KERNEL)?;
        }
        f.resize(usize::try_from(payload_at + payload)?, 0x5a, GFP_KERNEL)?;
        Ok(f)
    }

    #[test]
    fn parses_the_descriptor() -> Result {
        let f = file(0xfd, 0, 0x200)?;
        let bl = GenBootloader::parse(&f).map_err(|_| EINVAL)?;
        assert_eq!(bl.start_tag, 0xfd);
        assert_eq!(bl.dmem_desc_offset, 0);
        assert_eq!(bl.code.len(), 0x200);
        Ok(())
    }

    #[test]
    fn refuses_bad_descriptors() -> Result {
        // A start tag an IMEM tag cannot hold, empty code, code past the payload, a cut file.
        assert!(GenBootloader::parse(&file(0x1_0000, 0, 0x200)?).is_err());
        assert!(GenBootloader::parse(&file(0xfd, 0, 0)?).is_err());
        let mut f = file(0xfd, 0, 0x200)?;
        f[9 * 4..10 * 4].copy_from_slice(&u32::to_le_bytes(0x201));
        assert!(GenBootloader::parse(&f).is_err());
        assert!(GenBootloader::parse(&f[..30]).is_err());
        Ok(())
    }
}
