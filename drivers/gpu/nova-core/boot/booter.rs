// SPDX-License-Identifier: GPL-2.0

//! SEC2's booter images, `booter_load` and `booter_unload`, as distributions ship them.
//!
//! The file starts with NVIDIA's binary header ([`BinHeader`]), whose format header is a
//! heavy-secure header, version 2 (nouveau `nvfw_hs_header_v2`, upstream nova-core
//! `firmware/booter.rs` `HsHeaderV2`): nine little-endian words, several of which are file
//! offsets of further words:
//!
//! | word | meaning                                                              |
//! |------|----------------------------------------------------------------------|
//! | 0    | file offset of the production signatures                              |
//! | 1    | total size of those signatures                                        |
//! | 2    | file offset of a word: where in the payload to patch the signature   |
//! | 3    | file offset of a word: offset to add to word 0                        |
//! | 4    | file offset of the signature parameters (fuse version, engine mask, ucode id) |
//! | 5    | size of the signature parameters                                      |
//! | 6    | file offset of a word: the number of signatures                       |
//! | 7    | file offset of the load header                                        |
//! | 8    | size of the load header                                               |
//!
//! The load header (nouveau `nvfw_hs_load_header_v2`) gives, relative to the payload, the code
//! and data of the image and the applications in the code: five words (code offset and size,
//! data offset and size, number of applications), then an offset and size per application.
//!
//! On GA102 and later the boot ROM verifies the image against the signature for the board's
//! fused ucode version: the driver patches that signature into the data, and tells the boot ROM
//! where it is (`BROM_PARAADDR`), which engines the image is for and its ucode id.

use kernel::prelude::*;

use crate::{
    falcon::{sec2::Sec2, BromParams, FalconImage, FalconSection},
    firmware::BinHeader,
};

/// Reads the little-endian word at `offset` of `data`.
fn word(data: &[u8], offset: usize) -> Result<u32> {
    let end = offset.checked_add(4).ok_or(EINVAL)?;
    let b = data.get(offset..end).ok_or(EINVAL)?;
    let mut w = [0u8; 4];
    w.copy_from_slice(b);
    Ok(u32::from_le_bytes(w))
}

/// Reads the word at the file offset held in word `index` of the table at `table`.
fn indirect(data: &[u8], table: usize, index: usize) -> Result<u32> {
    let at = index
        .checked_mul(4)
        .and_then(|o| o.checked_add(table))
        .ok_or(EINVAL)?;
    let at = word(data, at)?;
    word(data, usize::try_from(at)?)
}

/// `start..start + len` as a range of `usize`, if it does not overflow.
fn span(start: u32, len: u32) -> Result<core::ops::Range<usize>> {
    let start = usize::try_from(start)?;
    let end = start.checked_add(usize::try_from(len)?).ok_or(EINVAL)?;
    Ok(start..end)
}

/// What a booter file says, checked against the file: where the signatures and the parts of
/// the image are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BooterLayout {
    /// The payload (the image) in the file.
    pub(crate) payload: core::ops::Range<usize>,
    /// The signatures in the file, back to back.
    pub(crate) signatures: core::ops::Range<usize>,
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
    /// The code of application 0, relative to the payload.
    pub(crate) app0: FalconSection,
    /// The data, relative to the payload.
    pub(crate) data: FalconSection,
}

impl BooterLayout {
    /// Parses and checks `file`.
    pub(crate) fn parse(file: &[u8]) -> Result<Self> {
        let bin = BinHeader::parse(file).map_err(|_| EINVAL)?;
        let hs = bin.header_offset;
        let hs_word = |i: usize| {
            let at = i.checked_mul(4).and_then(|o| o.checked_add(hs));
            word(file, at.ok_or(EINVAL)?)
        };
        let at = |base: usize, offset: usize| base.checked_add(offset).ok_or(EINVAL);

        let sig_offset = hs_word(0)?;
        let sig_size = hs_word(1)?;
        let patch_at = indirect(file, hs, 2)?;
        let sig_base = indirect(file, hs, 3)?;
        let meta = usize::try_from(hs_word(4)?)?;
        let meta_size = hs_word(5)?;
        let count = indirect(file, hs, 6)?;
        let load = usize::try_from(hs_word(7)?)?;

        // Signature parameters: fuse version, engine id mask, ucode id.
        if meta_size < 12 {
            return Err(EINVAL);
        }
        let fuse_version = word(file, meta)?;
        let engine_id_mask = u16::try_from(word(file, at(meta, 4)?)?).map_err(|_| EINVAL)?;
        let ucode_id = u8::try_from(word(file, at(meta, 8)?)?).map_err(|_| EINVAL)?;

        // Load header: code offset and size, data offset and size, application count, then
        // application 0's offset and size.
        let data_offset = word(file, at(load, 8)?)?;
        let data_size = word(file, at(load, 12)?)?;
        if word(file, at(load, 16)?)? == 0 {
            return Err(EINVAL);
        }
        let app0_offset = word(file, at(load, 20)?)?;
        let app0_size = word(file, at(load, 24)?)?;

        let payload = bin.data_offset..at(bin.data_offset, bin.data_size)?;
        let in_payload = |r: core::ops::Range<usize>| r.end <= bin.data_size;
        if !in_payload(span(app0_offset, app0_size)?) || !in_payload(span(data_offset, data_size)?)
        {
            return Err(EINVAL);
        }

        let signature_size = match sig_size.checked_div(count) {
            Some(size) if size > 0 => usize::try_from(size)?,
            _ => return Err(EINVAL),
        };
        let signatures = span(sig_offset.checked_add(sig_base).ok_or(EINVAL)?, sig_size)?;
        if signatures.end > file.len() {
            return Err(EINVAL);
        }
        // The signature must land inside the data, where the boot ROM is told to look.
        let patch = span(patch_at, u32::try_from(signature_size)?)?;
        let data = span(data_offset, data_size)?;
        if patch.start < data.start || patch.end > data.end {
            return Err(EINVAL);
        }

        Ok(Self {
            payload,
            signatures,
            signature_size,
            patch_at,
            fuse_version,
            engine_id_mask,
            ucode_id,
            app0: FalconSection {
                src: app0_offset,
                dst: 0,
                virt: app0_offset,
                len: app0_size,
            },
            data: FalconSection {
                src: data_offset,
                dst: 0,
                virt: 0,
                len: data_size,
            },
        })
    }

    /// Returns the index of the signature for a board whose fuse reads `fused` (upstream
    /// nova-core `firmware/booter.rs`: the file's newest signature is for
    /// [`BooterLayout::fuse_version`] and older ones follow it; a fuse of zero takes the last).
    pub(crate) fn signature_index(&self, fused: u32) -> Result<usize> {
        let count = self
            .signatures
            .len()
            .checked_div(self.signature_size)
            .ok_or(EINVAL)?;
        let index = if fused == 0 {
            count.checked_sub(1).ok_or(EINVAL)?
        } else {
            usize::try_from(self.fuse_version.checked_sub(fused).ok_or(EINVAL)?)?
        };
        if index >= count {
            return Err(EINVAL);
        }
        Ok(index)
    }
}

/// A booter image patched with the board's signature, ready for SEC2 (GA102 and later).
pub(crate) struct Booter {
    bytes: KVVec<u8>,
    layout: BooterLayout,
}

impl Booter {
    /// Builds the image from `file` for a board whose SEC2 fuse for the image reads `fused`
    /// (see [`BooterLayout::signature_index`]); `fuse` is asked for it once the file is parsed.
    pub(crate) fn new(file: &[u8], fuse: impl FnOnce(u16, u8) -> Result<u32>) -> Result<Self> {
        let layout = BooterLayout::parse(file)?;
        let index = layout.signature_index(fuse(layout.engine_id_mask, layout.ucode_id)?)?;
        let sig_start = index
            .checked_mul(layout.signature_size)
            .and_then(|o| o.checked_add(layout.signatures.start))
            .ok_or(EINVAL)?;
        let sig_end = sig_start.checked_add(layout.signature_size).ok_or(EINVAL)?;
        let signature = file.get(sig_start..sig_end).ok_or(EINVAL)?;

        let mut bytes = KVVec::new();
        bytes.extend_from_slice(file.get(layout.payload.clone()).ok_or(EINVAL)?, GFP_KERNEL)?;
        let at = usize::try_from(layout.patch_at)?;
        let end = at.checked_add(layout.signature_size).ok_or(EINVAL)?;
        bytes
            .get_mut(at..end)
            .ok_or(EINVAL)?
            .copy_from_slice(signature);
        Ok(Self { bytes, layout })
    }
}

impl FalconImage for Booter {
    type Engine = Sec2;

    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn imem_secure(&self) -> Option<FalconSection> {
        Some(self.layout.app0)
    }

    fn dmem(&self) -> FalconSection {
        self.layout.data
    }

    fn boot_vector(&self) -> u32 {
        self.layout.app0.virt
    }

    fn brom_params(&self) -> Option<BromParams> {
        Some(BromParams {
            // `parse` checked that the patch lies inside the data, so this does not wrap.
            pkc_data_offset: self.layout.patch_at.wrapping_sub(self.layout.data.src),
            engine_id_mask: self.layout.engine_id_mask,
            ucode_id: self.layout.ucode_id,
        })
    }
}

#[kunit_tests(nova_core_boot_booter)]
mod tests {
    use super::*;

    /// Builds a booter file: binary header, HS header, indirect words, signature parameters,
    /// load header, two 16-byte signatures, then a 0x400-byte payload with code at 0x100 and
    /// data at 0x300 (signature patched at 0x310).
    fn file() -> Result<KVec<u8>> {
        let mut f = KVec::from_elem(0u8, 0x600, GFP_KERNEL)?;
        let mut put = |at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_le_bytes());
        // nvfw_bin_hdr: magic, version, size, header offset, data offset, data size.
        for (i, v) in [0x10de, 1, 0x600, 0x18, 0x200, 0x400]
            .into_iter()
            .enumerate()
        {
            put(i * 4, v);
        }
        // HS header v2 at 0x18.
        for (i, v) in [0x100, 0x20, 0x80, 0x84, 0x90, 12, 0x88, 0xa0, 0x1c]
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
                      // Load header at 0xa0: code 0x0/0x300, data 0x300/0x100,
                      // one app at 0x100/0x200.
        for (i, v) in [0, 0x300, 0x300, 0x100, 1, 0x100, 0x200]
            .into_iter()
            .enumerate()
        {
            put(0xa0 + i * 4, v);
        }
        f[0x100..0x110].fill(0xa1);
        f[0x110..0x120].fill(0xb2);
        Ok(f)
    }

    #[test]
    fn parses_and_patches() -> Result {
        let f = file()?;
        let l = BooterLayout::parse(&f)?;
        assert_eq!(l.payload, 0x200..0x600);
        assert_eq!(l.signature_size, 16);
        assert_eq!((l.engine_id_mask, l.ucode_id, l.fuse_version), (1, 3, 5));
        assert_eq!(l.app0.src, 0x100);
        assert_eq!(l.data.src, 0x300);
        // Fuse 5 picks the first signature, 4 the second, 0 the last; 3 has none.
        assert_eq!(l.signature_index(5), Ok(0));
        assert_eq!(l.signature_index(4), Ok(1));
        assert_eq!(l.signature_index(0), Ok(1));
        assert_eq!(l.signature_index(3), Err(EINVAL));
        assert_eq!(l.signature_index(6), Err(EINVAL));

        let b = Booter::new(&f, |mask, id| {
            assert_eq!((mask, id), (1, 3));
            Ok(4)
        })?;
        assert_eq!(&b.bytes()[0x310..0x320], &[0xb2; 16]);
        assert_eq!(b.bytes().len(), 0x400);
        assert_eq!(
            b.brom_params(),
            Some(BromParams {
                pkc_data_offset: 0x10,
                engine_id_mask: 1,
                ucode_id: 3
            })
        );
        assert_eq!(b.boot_vector(), 0x100);
        Ok(())
    }

    #[test]
    fn refuses_what_points_outside() -> Result {
        // The patch location outside the data.
        let mut f = file()?;
        f[0x80..0x84].copy_from_slice(&0x3f8u32.to_le_bytes());
        assert_eq!(BooterLayout::parse(&f), Err(EINVAL));
        // No signatures.
        let mut f = file()?;
        f[0x88..0x8c].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(BooterLayout::parse(&f), Err(EINVAL));
        // Application 0 past the payload.
        let mut f = file()?;
        f[0xb8..0xbc].copy_from_slice(&0x3f0u32.to_le_bytes());
        assert_eq!(BooterLayout::parse(&f), Err(EINVAL));
        // The load header past the end of the file.
        let mut f = file()?;
        f[0x34..0x38].copy_from_slice(&0x5f0u32.to_le_bytes());
        assert_eq!(BooterLayout::parse(&f), Err(EINVAL));
        // Every truncation of the file fails cleanly.
        let f = file()?;
        for len in [0, 0x17, 0x40, 0xb0, 0x5ff] {
            assert!(BooterLayout::parse(&f[..len]).is_err());
        }
        Ok(())
    }
}
