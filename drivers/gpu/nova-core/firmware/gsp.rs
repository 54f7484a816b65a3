// SPDX-License-Identifier: GPL-2.0

//! The GSP-RM image file (`gsp-<version>.bin`).
//!
//! An ELF64 object whose `.fwimage` section is the image the GSP bootloader loads, `.fwversion`
//! its release as a NUL-terminated string ("570.144"), and `.fwsignature_<family>` one signature
//! per chip family. Only references into the file are kept: the image (60 MiB on GA102) is
//! copied once, into the DMA pages the GSP reads.

use kernel::{num::casts::FromSafeCast, prelude::*};

use super::{at_most, elf, signature_section, FwError};

/// Largest `.fwversion` section: Debian's is 8 bytes ("570.144" and a NUL).
const MAX_VERSION_SIZE: u64 = 64;

/// Largest signature section: Debian's are 0x1000 bytes each.
const MAX_SIGNATURE_SIZE: u64 = 0x2000;
use crate::gpu::Chipset;

/// The parts of a GSP-RM image file one chip needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GspImage<'a> {
    /// The image (`.fwimage`).
    pub(crate) image: &'a [u8],
    /// The release, up to its first NUL (`.fwversion`).
    pub(crate) version: &'a [u8],
    /// The signature for the chip's family.
    pub(crate) signature: &'a [u8],
}

impl<'a> GspImage<'a> {
    /// Finds the image, version and `chipset`'s signature in `data`; every offset is checked.
    pub(crate) fn parse(data: &'a [u8], chipset: Chipset) -> Result<Self, FwError> {
        elf::check_layout(data, elf::GSP_LIMITS)?;
        let image = elf::section(data, ".fwimage")?;
        if image.is_empty() {
            return Err(FwError::Malformed("empty GSP-RM image"));
        }
        let raw_version = elf::section(data, ".fwversion")?;
        at_most(
            "sh_size of .fwversion",
            u64::from_safe_cast(raw_version.len()),
            MAX_VERSION_SIZE,
        )?;
        let end = raw_version
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(raw_version.len());
        let version = raw_version.get(..end).ok_or(FwError::Truncated)?;
        let signature = elf::section(data, signature_section(chipset)).map_err(|e| match e {
            FwError::MissingSection => {
                FwError::Malformed("no signature section for this chip's family")
            }
            e => e,
        })?;
        if signature.is_empty() {
            return Err(FwError::Malformed("empty signature"));
        }
        at_most(
            "sh_size of the signature section",
            u64::from_safe_cast(signature.len()),
            MAX_SIGNATURE_SIZE,
        )?;
        Ok(Self {
            image,
            version,
            signature,
        })
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_firmware_gsp)]
mod tests {
    use super::*;

    const NAMES: &[u8] = b"\0.shstrtab\0.fwimage\0.fwversion\0.fwsignature_ad10x\0";

    fn put(buf: &mut [u8], off: usize, v: u64, n: usize) {
        for i in 0..n {
            buf[off + i] = (v >> (8 * i)) as u8;
        }
    }

    /// An ELF64 image with `.fwimage`, `.fwversion` = `version` and a 64-byte AD10x signature.
    fn build(image: &[u8], version: &[u8]) -> Result<KVec<u8>> {
        let strtab = 0x40;
        let img = strtab + NAMES.len();
        let ver = img + image.len();
        let sig = ver + version.len();
        let shoff = sig + 64;
        let mut v = KVec::from_elem(0u8, shoff + 5 * 0x40, GFP_KERNEL)?;
        v[..6].copy_from_slice(b"\x7fELF\x02\x01");
        put(&mut v, 0x28, shoff as u64, 8);
        put(&mut v, 0x3a, 0x40, 2);
        put(&mut v, 0x3c, 5, 2);
        put(&mut v, 0x3e, 1, 2);
        v[strtab..img].copy_from_slice(NAMES);
        v[img..ver].copy_from_slice(image);
        v[ver..sig].copy_from_slice(version);
        v[sig..shoff].fill(0x5a);
        let secs = [
            (1u64, strtab, NAMES.len()),
            (11, img, image.len()),
            (20, ver, version.len()),
            (31, sig, 64),
        ];
        for (i, (name, off, size)) in secs.iter().enumerate() {
            let base = shoff + (i + 1) * 0x40;
            put(&mut v, base, *name, 4);
            put(&mut v, base + 0x18, *off as u64, 8);
            put(&mut v, base + 0x20, *size as u64, 8);
        }
        Ok(v)
    }

    #[test]
    fn finds_image_version_and_signature() -> Result {
        let f = build(b"RISC-V image", b"570.144\0")?;
        let g = GspImage::parse(&f, Chipset::AD104).map_err(|_| EINVAL)?;
        assert_eq!(g.image, b"RISC-V image");
        assert_eq!(g.version, b"570.144");
        assert_eq!(g.signature, &[0x5a; 64][..]);
        Ok(())
    }

    #[test]
    fn refuses_a_signature_laid_over_the_image() -> Result {
        // The fuzzer's reproducer: `.fwsignature_ad10x` moved over `.fwimage`, as large as it,
        // once reached the DMA allocator unchecked.
        let mut f = build(&[0x11; 0x3000], b"570.144\0")?;
        let sig_header = f.len() - 0x40;
        put(&mut f, sig_header + 0x18, (0x40 + NAMES.len()) as u64, 8);
        put(&mut f, sig_header + 0x20, 0x3000, 8);
        assert!(matches!(
            GspImage::parse(&f, Chipset::AD102),
            Err(FwError::Overlap {
                field: "sh_offset",
                ..
            })
        ));
        // Over the section table, and over the ELF header.
        for offset in [(f.len() - 0x100) as u64, 0] {
            put(&mut f, sig_header + 0x18, offset, 8);
            put(&mut f, sig_header + 0x20, 0x40, 8);
            assert!(matches!(
                GspImage::parse(&f, Chipset::AD102),
                Err(FwError::Overlap { .. })
            ));
        }
        Ok(())
    }

    #[test]
    fn refuses_what_a_chip_cannot_use() -> Result {
        let f = build(b"RISC-V image", b"570.144\0")?;
        // No signature for Ampere's family in this file.
        assert_eq!(
            GspImage::parse(&f, Chipset::GA102),
            Err(FwError::Malformed(
                "no signature section for this chip's family"
            ))
        );
        let empty = build(b"", b"570.144\0")?;
        assert_eq!(
            GspImage::parse(&empty, Chipset::AD102),
            Err(FwError::Malformed("empty GSP-RM image"))
        );
        // Every truncation fails cleanly, or finds the same sections when only bytes the
        // lookup does not read are cut; cutting into the sections or their headers fails.
        let full = GspImage::parse(&f, Chipset::AD102);
        let last_header_read = f.len() - 0x40 + 0x28;
        for len in 0..f.len() {
            let r = GspImage::parse(&f[..len], Chipset::AD102);
            assert!(r.is_err() || r == full);
            if len < last_header_read {
                assert!(r.is_err());
            }
        }
        Ok(())
    }
}
