// SPDX-License-Identifier: GPL-2.0

//! The heavy-secure (HS) falcon images: SEC2's `booter_load` and `booter_unload`, and Ada's
//! `scrubber`.
//!
//! The file starts with NVIDIA's binary header ([`BinHeader`]), whose format header is a
//! heavy-secure header, version 2 (nouveau `nvfw_hs_header_v2`, upstream nova-core
//! `firmware/booter.rs` `HsHeaderV2`): nine little-endian words, several of which are file
//! offsets of further words ([`RawHsHeader`]). The load header (nouveau
//! `nvfw_hs_load_header_v2`) gives, relative to the payload, the code and data of the image and
//! the applications in the code.
//!
//! On GA102 and later the boot ROM verifies the image against the signature for the board's
//! fused ucode version: the driver patches that signature into the data, and tells the boot ROM
//! where it is (`BROM_PARAADDR`), which engines the image is for and its ucode id.
//!
//! Every header region (signatures, the words the header points at, the signature parameters,
//! the load header) must lie between the HS header and the payload, none overlapping another;
//! the code, the data and application 0 must lie inside the payload without overlapping; the
//! signature must be patched inside the data. Each count and size has an upper bound: the
//! largest value in Debian's 570.144 files (noted per bound) with a wide margin.

use core::ops::Range;

use kernel::{num::casts::FromSafeCast, prelude::*, transmute::FromBytes};

use super::{at_most, no_overlaps, BinHeader, FwError, Region};

/// Largest payload: Debian's largest (GA100 booter_load) is 0xeb00 bytes; SEC2's IMEM and DMEM
/// together hold less than this.
const MAX_PAYLOAD: usize = 256 << 10;

/// Most signatures in one file (Debian: 2, for fuse versions 1 and 0).
const MAX_SIGNATURES: u32 = 16;

/// Largest single signature: Debian's are 0x180 bytes (RSA-3K) on GA102 and later and 0x10 on
/// Turing and GA100; RSA-4K (0x200 bytes) is the largest the boot ROM's PKC verification uses.
const MAX_SIGNATURE_SIZE: u32 = 0x200;

/// Highest fuse version (`NV_FUSE_OPT_FPF_*_UCODE*_VERSION` are 16-bit fields of set bits;
/// Debian: 1).
const MAX_FUSE_VERSION: u32 = 16;

/// Ucode ids select one of the 16 `NV_FUSE_OPT_FPF_<engine>_UCODE<id>_VERSION` registers
/// (`ga100/dev_fuse.h`); Debian uses 3 and 13.
const MAX_UCODE_ID: u32 = 16;

/// Most applications in the load header (Debian: 1).
const MAX_APPS: u32 = 8;

/// Size of the signature parameters (fuse version, engine id mask, ucode id; Debian: 12).
const META_SIZE: u32 = 12;

/// The falcons load code and data in blocks of 256 bytes (IMEM tags and DMA transfers are per
/// block); every part of Debian's HS images starts and ends on a block boundary.
const BLOCK: u32 = 256;

/// The engine id mask bit of SEC2, which runs every HS image of this format nova loads
/// (`NV_PFALCON2_FALCON_BROM_ENGIDMASK`; upstream nova-core `falcon/hal/ga102.rs`).
const ENGINE_SEC2: u16 = 1;

/// The heavy-secure header, version 2, as stored (nouveau `nvfw_hs_header_v2`).
#[repr(C)]
#[derive(Clone, Copy)]
struct RawHsHeader {
    /// File offset of the production signatures.
    sig_prod_offset: u32,
    /// Total size of those signatures.
    sig_prod_size: u32,
    /// File offset of a word: where in the payload to patch the signature.
    patch_loc: u32,
    /// File offset of a word: an offset to add to `sig_prod_offset`.
    patch_sig: u32,
    /// File offset of the signature parameters.
    meta_data_offset: u32,
    /// Size of the signature parameters.
    meta_data_size: u32,
    /// File offset of a word: the number of signatures.
    num_sig: u32,
    /// File offset of the load header.
    header_offset: u32,
    /// Size of the load header.
    header_size: u32,
}

/// The signature parameters as stored (`BOOTER_SIG_META`-like words: fuse version, engine id
/// mask, ucode id).
#[repr(C)]
#[derive(Clone, Copy)]
struct RawSigMeta {
    fuse_ver: u32,
    engine_id_mask: u32,
    ucode_id: u32,
}

/// The fixed part of the load header, version 2 (nouveau `nvfw_hs_load_header_v2`).
#[repr(C)]
#[derive(Clone, Copy)]
struct RawLoadHeader {
    /// Offset and size of the non-secure code in the payload.
    os_code_offset: u32,
    os_code_size: u32,
    /// Offset and size of the data in the payload.
    os_data_offset: u32,
    os_data_size: u32,
    /// Number of applications that follow.
    num_apps: u32,
    /// Offset and size of application 0 in the payload.
    app0_offset: u32,
    app0_size: u32,
}

// SAFETY: The three structures are plain old data: any bit pattern is valid.
unsafe impl FromBytes for RawHsHeader {}
// SAFETY: As above.
unsafe impl FromBytes for RawSigMeta {}
// SAFETY: As above.
unsafe impl FromBytes for RawLoadHeader {}

/// Size of the load header before the applications (the first five words).
const LOAD_HEADER_FIXED: u32 = 20;
/// Size of one application entry.
const APP_ENTRY: u32 = 8;

/// Reads a `T` at file offset `offset`, which `field` holds.
fn read<T: FromBytes>(file: &[u8], field: &'static str, offset: u32) -> Result<T, FwError> {
    let region = Region::new(
        field,
        offset.into(),
        u64::from_safe_cast(core::mem::size_of::<T>()),
        file.len(),
    )?;
    file.get(region.range)
        .and_then(T::from_bytes_copy)
        .ok_or(FwError::Truncated)
}

/// Reads the little-endian word at file offset `offset`, which `field` holds.
fn word(file: &[u8], field: &'static str, offset: u32) -> Result<u32, FwError> {
    read::<u32>(file, field, offset).map(u32::from_le)
}

/// A section of a falcon image, relative to the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PayloadPart {
    /// Offset in the payload.
    pub(crate) offset: u32,
    /// Size.
    pub(crate) size: u32,
}

impl PayloadPart {
    fn region(self, what: &'static str, payload_len: usize) -> Result<Region, FwError> {
        Region::new(what, self.offset.into(), self.size.into(), payload_len)
    }
}

/// What an HS file says, checked against the file: where the signatures and the parts of the
/// image are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HsLayout {
    /// The payload (the image) in the file.
    pub(crate) payload: Range<usize>,
    /// The signatures in the file, back to back.
    pub(crate) signatures: Range<usize>,
    /// Size of one signature.
    pub(crate) signature_size: usize,
    /// Where in the payload the chosen signature goes.
    pub(crate) patch_at: u32,
    /// The fuse version the newest signature is for.
    pub(crate) fuse_version: u32,
    /// Engines the image is signed for.
    pub(crate) engine_id_mask: u16,
    /// The ucode id, which selects the fuse register.
    pub(crate) ucode_id: u8,
    /// The non-secure OS code, in the payload (loaded on Turing and GA100 only).
    pub(crate) code: PayloadPart,
    /// The code of application 0, in the payload.
    pub(crate) app0: PayloadPart,
    /// The data, in the payload.
    pub(crate) data: PayloadPart,
}

impl HsLayout {
    /// Parses and checks `file`; see the module documentation for the rules.
    pub(crate) fn parse(file: &[u8]) -> Result<Self, FwError> {
        let bin = BinHeader::parse(file, MAX_PAYLOAD)?;
        // `parse` checked that the offsets lie inside the file, whose length a 32-bit field
        // describes, so this cannot fail.
        let hs_offset = u32::try_from(bin.header_offset).map_err(|_| {
            FwError::field(
                "header_offset",
                u64::from_safe_cast(bin.header_offset),
                "beyond 4 GiB",
            )
        })?;
        let hs = read::<RawHsHeader>(file, "header_offset", hs_offset)?;
        let hs_end = bin.header_offset + core::mem::size_of::<RawHsHeader>();
        if hs_end > bin.data_offset {
            return Err(FwError::Overlap {
                field: "header_offset",
                value: hs_offset.into(),
                other: "the payload",
            });
        }

        // Every region the HS header places lies between it and the payload.
        let header_area = bin.data_offset;
        let region = |what: &'static str, offset: u32, size: u32| -> Result<Region, FwError> {
            let r = Region::new(what, offset.into(), size.into(), file.len())?;
            if r.range.end > header_area {
                return Err(FwError::Overlap {
                    field: what,
                    value: offset.into(),
                    other: "the payload",
                });
            }
            if r.range.start < hs_end {
                return Err(FwError::Overlap {
                    field: what,
                    value: offset.into(),
                    other: "the binary or HS header",
                });
            }
            Ok(r)
        };

        let patch_loc_at = u32::from_le(hs.patch_loc);
        let patch_sig_at = u32::from_le(hs.patch_sig);
        let num_sig_at = u32::from_le(hs.num_sig);
        let meta_at = u32::from_le(hs.meta_data_offset);
        let meta_size = u32::from_le(hs.meta_data_size);
        let load_at = u32::from_le(hs.header_offset);
        let load_size = u32::from_le(hs.header_size);
        let sig_size = u32::from_le(hs.sig_prod_size);

        if !(META_SIZE..=4 * META_SIZE).contains(&meta_size) {
            return Err(FwError::field(
                "meta_data_size",
                meta_size.into(),
                "not the size of the signature parameters",
            ));
        }
        let regions_fixed = [
            region("patch_loc", patch_loc_at, 4)?,
            region("patch_sig", patch_sig_at, 4)?,
            region("num_sig", num_sig_at, 4)?,
            region("meta_data_offset", meta_at, meta_size)?,
        ];

        let patch_at = word(file, "patch_loc", patch_loc_at)?;
        let sig_adjust = word(file, "patch_sig", patch_sig_at)?;
        let count = word(file, "num_sig", num_sig_at)?;
        let meta = read::<RawSigMeta>(file, "meta_data_offset", meta_at)?;
        let load = read::<RawLoadHeader>(file, "header_offset", load_at)?;

        // The signatures.
        if count == 0 {
            return Err(FwError::field("num_sig", 0, "no signatures"));
        }
        at_most("num_sig", count.into(), MAX_SIGNATURES.into())?;
        if sig_size == 0 || sig_size % count != 0 {
            return Err(FwError::field(
                "sig_prod_size",
                sig_size.into(),
                "not a whole number of signatures",
            ));
        }
        let one_sig = sig_size / count;
        at_most("sig_prod_size", one_sig.into(), MAX_SIGNATURE_SIZE.into())?;
        let sig_offset = u32::from_le(hs.sig_prod_offset)
            .checked_add(sig_adjust)
            .ok_or(FwError::field(
                "sig_prod_offset",
                u32::from_le(hs.sig_prod_offset).into(),
                "offset overflows",
            ))?;
        let signatures = region("sig_prod_offset", sig_offset, sig_size)?;

        // The signature parameters.
        let fuse_version = u32::from_le(meta.fuse_ver);
        at_most("fuse_ver", fuse_version.into(), MAX_FUSE_VERSION.into())?;
        if count > fuse_version + 1 {
            return Err(FwError::field(
                "num_sig",
                count.into(),
                "more signatures than fuse versions up to fuse_ver",
            ));
        }
        let engine_id_mask = u16::try_from(u32::from_le(meta.engine_id_mask))
            .ok()
            .filter(|&m| m == ENGINE_SEC2)
            .ok_or(FwError::field(
                "engine_id_mask",
                u32::from_le(meta.engine_id_mask).into(),
                "not signed for SEC2",
            ))?;
        let raw_id = u32::from_le(meta.ucode_id);
        let ucode_id = u8::try_from(raw_id)
            .ok()
            .filter(|&id| id != 0 && u32::from(id) <= MAX_UCODE_ID)
            .ok_or(FwError::field(
                "ucode_id",
                raw_id.into(),
                "selects no fuse register",
            ))?;

        // The load header.
        let num_apps = u32::from_le(load.num_apps);
        if num_apps == 0 {
            return Err(FwError::field("num_apps", 0, "no application"));
        }
        at_most("num_apps", num_apps.into(), MAX_APPS.into())?;
        let need = LOAD_HEADER_FIXED + num_apps * APP_ENTRY;
        if load_size < need || load_size > LOAD_HEADER_FIXED + MAX_APPS * APP_ENTRY {
            return Err(FwError::field(
                "header_size",
                load_size.into(),
                "not the size of the load header",
            ));
        }
        let load_region = region("header_offset", load_at, load_size)?;

        let [a, b, c, d] = regions_fixed;
        no_overlaps(&[a, b, c, d, signatures.clone(), load_region])?;

        // The parts of the payload.
        let payload_len = bin.data_size;
        let code = PayloadPart {
            offset: u32::from_le(load.os_code_offset),
            size: u32::from_le(load.os_code_size),
        };
        let data = PayloadPart {
            offset: u32::from_le(load.os_data_offset),
            size: u32::from_le(load.os_data_size),
        };
        let app0 = PayloadPart {
            offset: u32::from_le(load.app0_offset),
            size: u32::from_le(load.app0_size),
        };
        if data.size == 0 {
            return Err(FwError::field("os_data_size", 0, "no data"));
        }
        if app0.size == 0 {
            return Err(FwError::field("app0_size", 0, "empty application"));
        }
        for (what, part) in [
            ("os_code_offset", code),
            ("os_data_offset", data),
            ("app_offset[0]", app0),
        ] {
            if part.offset % BLOCK != 0 {
                return Err(FwError::field(
                    what,
                    part.offset.into(),
                    "not block-aligned",
                ));
            }
            if part.size % BLOCK != 0 {
                return Err(FwError::field(
                    what,
                    part.size.into(),
                    "size not whole blocks",
                ));
            }
        }
        let parts = [
            code.region("os_code_offset", payload_len)?,
            data.region("os_data_offset", payload_len)?,
            app0.region("app_offset[0]", payload_len)?,
        ];
        no_overlaps(&parts)?;

        // The signature must land inside the data, where the boot ROM is told to look.
        let patch = Region::new("patch_loc", patch_at.into(), one_sig.into(), payload_len)?;
        if patch_at % 4 != 0
            || patch.range.start < parts[1].range.start
            || patch.range.end > parts[1].range.end
        {
            return Err(FwError::field(
                "patch_loc",
                patch_at.into(),
                "signature not patched inside the data",
            ));
        }

        Ok(Self {
            payload: bin.payload(),
            signatures: signatures.range,
            signature_size: usize::from_safe_cast(one_sig),
            patch_at,
            fuse_version,
            engine_id_mask,
            ucode_id,
            code,
            app0,
            data,
        })
    }

    /// The number of signatures.
    pub(crate) fn count(&self) -> usize {
        self.signatures.len() / self.signature_size
    }

    /// Returns the index of the signature for a board whose fuse reads `fused` (upstream
    /// nova-core `firmware/booter.rs`: the file's newest signature is for
    /// [`HsLayout::fuse_version`] and older ones follow it; a fuse of zero takes the last).
    pub(crate) fn signature_index(&self, fused: u32) -> Option<usize> {
        let count = self.count();
        let index = if fused == 0 {
            count.checked_sub(1)?
        } else {
            usize::try_from(self.fuse_version.checked_sub(fused)?).ok()?
        };
        (index < count).then_some(index)
    }

    /// The bytes of signature `index` in the file.
    pub(crate) fn signature(&self, index: usize) -> Option<Range<usize>> {
        let start = index
            .checked_mul(self.signature_size)?
            .checked_add(self.signatures.start)?;
        let end = start.checked_add(self.signature_size)?;
        (end <= self.signatures.end).then_some(start..end)
    }
}

/// Builds an HS file for the KUnit tests, here and in `boot::booter`: binary header, HS header,
/// two 16-byte signatures (for fuse versions 5 and 4), the indirect words, signature parameters,
/// load header, then a 0x400-byte payload at 0x200 with code at 0, application 0 at 0x100 and
/// data at 0x300 (signature patched at 0x310). The layout of Debian's files, smaller.
#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
pub(crate) fn test_file() -> Result<KVec<u8>> {
    let mut f = KVec::from_elem(0u8, 0x600, GFP_KERNEL)?;
    let mut put = |at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_le_bytes());
    // nvfw_bin_hdr: magic, version, size, header offset, data offset, data size.
    for (i, v) in [0x10de, 1, 0x600, 0x18, 0x200, 0x400]
        .into_iter()
        .enumerate()
    {
        put(i * 4, v);
    }
    // HS header v2 at 0x18: signatures at 0x40 (0x20 bytes), patch_loc word at 0x80,
    // patch_sig at 0x84, meta at 0x90 (12), num_sig at 0x88, load header at 0xa0 (0x1c).
    for (i, v) in [0x40, 0x20, 0x80, 0x84, 0x90, 12, 0x88, 0xa0, 0x1c]
        .into_iter()
        .enumerate()
    {
        put(0x18 + i * 4, v);
    }
    put(0x80, 0x310); // patch location
    put(0x84, 0); // signature offset adjustment
    put(0x88, 2); // two signatures
    put(0x90, 5); // fuse version of the newest
    put(0x94, 1); // SEC2
    put(0x98, 3); // ucode id
    for (i, v) in [0, 0x100, 0x300, 0x100, 1, 0x100, 0x200]
        .into_iter()
        .enumerate()
    {
        put(0xa0 + i * 4, v);
    }
    f[0x40..0x50].fill(0xa1);
    f[0x50..0x60].fill(0xb2);
    Ok(f)
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_firmware_hs)]
mod tests {
    use super::*;

    use super::test_file as file;

    fn set(f: &mut [u8], at: usize, v: u32) {
        f[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    #[test]
    fn parses_the_layout() -> Result {
        let f = file()?;
        let l = HsLayout::parse(&f).map_err(|_| EINVAL)?;
        assert_eq!(l.payload, 0x200..0x600);
        assert_eq!(l.signatures, 0x40..0x60);
        assert_eq!(l.signature_size, 16);
        assert_eq!((l.engine_id_mask, l.ucode_id, l.fuse_version), (1, 3, 5));
        assert_eq!(l.app0.offset, 0x100);
        assert_eq!(l.data.offset, 0x300);
        // Fuse 5 picks the first signature, 4 the second, 0 the last; 3 has none.
        assert_eq!(l.signature_index(5), Some(0));
        assert_eq!(l.signature_index(4), Some(1));
        assert_eq!(l.signature_index(0), Some(1));
        assert_eq!(l.signature_index(3), None);
        assert_eq!(l.signature_index(6), None);
        assert_eq!(l.signature(1), Some(0x50..0x60));
        assert_eq!(l.signature(2), None);
        Ok(())
    }

    /// Each damage the firmware fuzzer found accepted before these checks, and its error.
    #[test]
    fn refuses_damaged_headers() -> Result {
        let cases: [(usize, u32, &str); 14] = [
            // The payload over the headers.
            (0x10, 0, "data_offset"),
            // Signatures over the binary header.
            (0x18, 0, "sig_prod_offset"),
            // The adjustment word read from offset 0 (the magic): signatures past the area.
            (0x24, 0, "patch_sig"),
            (0x20, 0, "patch_loc"),
            // Application 0 at the start of the payload, over the code; or empty.
            (0xb4, 0, "app_offset[0]"),
            (0xb8, 0, "app0_size"),
            // Three signatures in 0x20 bytes.
            (0x88, 3, "sig_prod_size"),
            (0x88, 0, "num_sig"),
            (0x88, 17, "num_sig"),
            (0x98, 0, "ucode_id"),
            (0x38, 0xffff_fff0, "header_size"),
            // Loaded one byte short, and signed for NVDEC rather than SEC2.
            (0xb8, 0x1ff, "app_offset[0]"),
            (0x94, 2, "engine_id_mask"),
            // The code over the data.
            (0xa0, 0x300, "os_data_offset"),
        ];
        for (at, value, field) in cases {
            let mut f = file()?;
            set(&mut f, at, value);
            let named = match HsLayout::parse(&f) {
                Err(FwError::Field { field: n, .. }) | Err(FwError::Overlap { field: n, .. }) => n,
                _ => "",
            };
            assert_eq!((at, named), (at, field));
        }
        Ok(())
    }

    #[test]
    fn every_truncation_and_byte_is_safe() -> Result {
        let good = file()?;
        // Cut anywhere before the payload ends: always refused.
        for len in 0..good.len() {
            assert!(HsLayout::parse(&good[..len]).is_err());
        }
        // Any header byte set to 0xff: refused or a layout whose parts are all inside.
        for at in 0..0x200 {
            let mut f = file()?;
            f[at] = 0xff;
            if let Ok(l) = HsLayout::parse(&f) {
                assert!(l.signatures.end <= l.payload.start);
                assert!(l.payload.end <= f.len());
            }
        }
        Ok(())
    }
}
