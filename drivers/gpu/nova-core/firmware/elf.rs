// SPDX-License-Identifier: GPL-2.0

//! Section lookup in the ELF images NVIDIA ships its firmware in.
//!
//! `gsp-*.bin` is a little-endian ELF64 object whose sections hold the GSP-RM image
//! (`.fwimage`), its version and one signature per chip family (`.fwsignature_<family>`);
//! `fmc-*.bin` (Hopper and Blackwell) is an ELF32 object with `image`, `hash`, `signature` and
//! `publickey` sections. Only the section table is read; every offset and size in it is
//! untrusted and checked against the file.

use kernel::{prelude::*, transmute::FromBytes};

use super::{at_most, FwError, Region};

const ELF_MAGIC: [u8; 4] = *b"\x7fELF";
const ELFCLASS32: u8 = 1;
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;

/// Reads a little-endian integer of `N` bytes at `off`, or `None` past the end of `data`.
fn read_le<const N: usize>(data: &[u8], off: usize) -> Option<u64> {
    let bytes: [u8; N] = data.get(off..off.checked_add(N)?)?.try_into().ok()?;
    let mut v = 0u64;
    for (i, b) in bytes.iter().enumerate() {
        v |= u64::from(*b) << (8 * i);
    }
    Some(v)
}

/// The parts of the ELF header that locate the section table.
struct Layout {
    is64: bool,
    shoff: u64,
    shentsize: u64,
    shnum: u64,
    shstrndx: u64,
}

impl Layout {
    fn parse(data: &[u8]) -> Result<Self, FwError> {
        if data.get(..4) != Some(&ELF_MAGIC[..]) {
            return Err(FwError::BadMagic);
        }
        let is64 = match data.get(4) {
            Some(&ELFCLASS32) => false,
            Some(&ELFCLASS64) => true,
            _ => return Err(FwError::Malformed("unknown ELF class")),
        };
        if data.get(5) != Some(&ELFDATA2LSB) {
            return Err(FwError::Malformed("ELF image is not little-endian"));
        }
        let (shoff, rest) = if is64 {
            (read_le::<8>(data, 0x28), 0x3a)
        } else {
            (read_le::<4>(data, 0x20), 0x2e)
        };
        let field = |off: usize| read_le::<2>(data, off).ok_or(FwError::Truncated);
        let layout = Self {
            is64,
            shoff: shoff.ok_or(FwError::Truncated)?,
            shentsize: field(rest)?,
            shnum: field(rest + 2)?,
            shstrndx: field(rest + 4)?,
        };
        // `Elf64_Shdr` and `Elf32_Shdr` are 64 and 40 bytes (the ELF specification).
        let entsize = if is64 { 0x40 } else { 0x28 };
        if layout.shentsize != entsize {
            return Err(FwError::field(
                "e_shentsize",
                layout.shentsize,
                "not the size of an ELF section header",
            ));
        }
        if layout.shnum == 0 || layout.shstrndx >= layout.shnum {
            return Err(FwError::field(
                "e_shstrndx",
                layout.shstrndx,
                "no such section",
            ));
        }
        Ok(layout)
    }

    /// Returns the header of section `index`.
    fn header(&self, data: &[u8], index: u64) -> Result<SectionHeader, FwError> {
        if index >= self.shnum {
            return Err(FwError::Malformed("ELF section index out of range"));
        }
        let base = index
            .checked_mul(self.shentsize)
            .and_then(|o| o.checked_add(self.shoff))
            .and_then(|o| usize::try_from(o).ok())
            .ok_or(FwError::Truncated)?;
        let bytes = data.get(base..).ok_or(FwError::Truncated)?;
        if self.is64 {
            let sh = bytes
                .get(..core::mem::size_of::<Elf64Shdr>())
                .and_then(Elf64Shdr::from_bytes_copy)
                .ok_or(FwError::Truncated)?;
            Ok(SectionHeader {
                name: u32::from_le(sh.sh_name).into(),
                kind: u32::from_le(sh.sh_type),
                offset: u64::from_le(sh.sh_offset),
                size: u64::from_le(sh.sh_size),
            })
        } else {
            let sh = bytes
                .get(..core::mem::size_of::<Elf32Shdr>())
                .and_then(Elf32Shdr::from_bytes_copy)
                .ok_or(FwError::Truncated)?;
            Ok(SectionHeader {
                name: u32::from_le(sh.sh_name).into(),
                kind: u32::from_le(sh.sh_type),
                offset: u32::from_le(sh.sh_offset).into(),
                size: u32::from_le(sh.sh_size).into(),
            })
        }
    }

    /// Returns (name offset, file offset, size) of section `index`.
    fn section(&self, data: &[u8], index: u64) -> Result<(u64, u64, u64), FwError> {
        let sh = self.header(data, index)?;
        Ok((sh.name, sh.offset, sh.size))
    }
}

/// An ELF64 section header as stored (`Elf64_Shdr`).
#[repr(C)]
#[derive(Clone, Copy)]
struct Elf64Shdr {
    sh_name: u32,
    sh_type: u32,
    sh_flags: u64,
    sh_addr: u64,
    sh_offset: u64,
    sh_size: u64,
    sh_link: u32,
    sh_info: u32,
    sh_addralign: u64,
    sh_entsize: u64,
}

/// An ELF32 section header as stored (`Elf32_Shdr`).
#[repr(C)]
#[derive(Clone, Copy)]
struct Elf32Shdr {
    sh_name: u32,
    sh_type: u32,
    sh_flags: u32,
    sh_addr: u32,
    sh_offset: u32,
    sh_size: u32,
    sh_link: u32,
    sh_info: u32,
    sh_addralign: u32,
    sh_entsize: u32,
}

// SAFETY: Both are plain old data: any bit pattern is valid.
unsafe impl FromBytes for Elf64Shdr {}
// SAFETY: As above.
unsafe impl FromBytes for Elf32Shdr {}

/// The fields of a section header nova uses.
struct SectionHeader {
    /// Offset of the name in the section name table.
    name: u64,
    /// `sh_type`.
    kind: u32,
    /// File offset of the contents.
    offset: u64,
    /// Size of the contents.
    size: u64,
}

/// Upper bounds for the ELF objects of one firmware file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Most sections.
    pub(crate) shnum: u64,
    /// Largest section.
    pub(crate) section_size: u64,
    /// Largest section name table.
    pub(crate) shstrtab_size: u64,
}

/// Bounds for `gsp-*.bin`: Debian's 570.144 files have 14 sections, the largest (`.fwimage`
/// of GA102 and later) 0x3c99000 bytes, and a 0xcd-byte name table.
pub(crate) const GSP_LIMITS: Limits = Limits {
    shnum: 64,
    section_size: 128 << 20,
    shstrtab_size: 4 << 10,
};

/// Bounds for `fmc-*.bin`: Debian's have 6 sections, the largest 0x30a48 bytes, and a
/// 0x2a-byte name table.
pub(crate) const FMC_LIMITS: Limits = Limits {
    shnum: 64,
    section_size: 4 << 20,
    shstrtab_size: 4 << 10,
};

/// `SHT_NOBITS`: a section that takes no room in the file.
const SHT_NOBITS: u32 = 8;

/// Checks the layout of the ELF object `data` as a whole: the section table lies inside the file
/// after the ELF header, every section with contents lies inside the file and overlaps neither
/// the ELF header, the section table nor another section, and the counts and sizes stay within
/// `limits`.
pub(crate) fn check_layout(data: &[u8], limits: Limits) -> Result<(), FwError> {
    let layout = Layout::parse(data)?;
    at_most("e_shnum", layout.shnum, limits.shnum)?;
    let ehsize: u64 = if layout.is64 { 0x40 } else { 0x34 };
    let table_size = layout.shnum * layout.shentsize;
    let table = Region::new("e_shoff", layout.shoff, table_size, data.len())?;
    let header = Region::new("ELF header", 0, ehsize, data.len())?;
    if table.overlaps(&header) {
        return Err(FwError::Overlap {
            field: "e_shoff",
            value: layout.shoff,
            other: "the ELF header",
        });
    }
    let (_, _, str_size) = layout.section(data, layout.shstrndx)?;
    at_most("sh_size of .shstrtab", str_size, limits.shstrtab_size)?;

    for index in 0..layout.shnum {
        let sh = layout.header(data, index)?;
        if sh.kind == SHT_NOBITS || sh.size == 0 {
            continue;
        }
        at_most("sh_size", sh.size, limits.section_size)?;
        let r = Region::new("sh_offset", sh.offset, sh.size, data.len())?;
        for (other, what) in [(&header, "the ELF header"), (&table, "the section table")] {
            if r.overlaps(other) {
                return Err(FwError::Overlap {
                    field: "sh_offset",
                    value: sh.offset,
                    other: what,
                });
            }
        }
        // Against every other section: at most 64 * 64 comparisons.
        for j in 0..index {
            let o = layout.header(data, j)?;
            if o.kind == SHT_NOBITS || o.size == 0 {
                continue;
            }
            let other = Region::new("sh_offset", o.offset, o.size, data.len())?;
            if r.overlaps(&other) {
                return Err(FwError::Overlap {
                    field: "sh_offset",
                    value: sh.offset,
                    other: "another section",
                });
            }
        }
    }
    Ok(())
}

/// Returns the bytes `offset..offset + size` of `data`, if they are all inside it.
fn slice(data: &[u8], offset: u64, size: u64) -> Result<&[u8], FwError> {
    let start = usize::try_from(offset).map_err(|_| FwError::Truncated)?;
    let len = usize::try_from(size).map_err(|_| FwError::Truncated)?;
    let end = start.checked_add(len).ok_or(FwError::Truncated)?;
    data.get(start..end).ok_or(FwError::Truncated)
}

/// Returns the contents of the section called `name` in the ELF image `data`.
///
/// Fails with [`FwError::MissingSection`] if there is no such section, and with another
/// [`FwError`] if the image is not a little-endian ELF object or any table or section it
/// reads lies outside `data`.
pub(crate) fn section<'a>(data: &'a [u8], name: &str) -> Result<&'a [u8], FwError> {
    let layout = Layout::parse(data)?;
    let (_, str_off, str_size) = layout.section(data, layout.shstrndx)?;
    let strtab = slice(data, str_off, str_size)?;

    for index in 0..layout.shnum {
        let (name_off, offset, size) = layout.section(data, index)?;
        let name_start = usize::try_from(name_off).map_err(|_| FwError::Truncated)?;
        let Some(rest) = strtab.get(name_start..) else {
            return Err(FwError::Malformed(
                "ELF section name outside the string table",
            ));
        };
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        if &rest[..end] == name.as_bytes() {
            return slice(data, offset, size);
        }
    }
    Err(FwError::MissingSection)
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_firmware_elf)]
mod tests {
    use super::*;
    use kernel::alloc::AllocError;

    const SHSTRTAB: &[u8] = b"\0.shstrtab\0.fwimage\0.fwsignature_ad10x\0";

    fn put(buf: &mut [u8], off: usize, v: u64, n: usize) {
        for i in 0..n {
            buf[off + i] = (v >> (8 * i)) as u8;
        }
    }

    /// Builds a small ELF64 (or ELF32) image: three sections (`.shstrtab`, `.fwimage` holding
    /// `image`, `.fwsignature_ad10x` holding 16 bytes of 0xaa), section table at the end.
    fn build(is64: bool, image: &[u8]) -> Result<KVec<u8>, AllocError> {
        let (ehsize, shentsize) = if is64 { (0x40, 0x40) } else { (0x34, 0x28) };
        let strtab_off = ehsize;
        let image_off = strtab_off + SHSTRTAB.len();
        let sig_off = image_off + image.len();
        let shoff = sig_off + 16;
        let total = shoff + 4 * shentsize;
        let mut v = KVec::from_elem(0u8, total, GFP_KERNEL)?;
        v[..4].copy_from_slice(b"\x7fELF");
        v[4] = if is64 { 2 } else { 1 };
        v[5] = 1;
        let rest = if is64 {
            put(&mut v, 0x28, shoff as u64, 8);
            0x3a
        } else {
            put(&mut v, 0x20, shoff as u64, 4);
            0x2e
        };
        put(&mut v, rest, shentsize as u64, 2);
        put(&mut v, rest + 2, 4, 2);
        put(&mut v, rest + 4, 1, 2);
        v[strtab_off..image_off].copy_from_slice(SHSTRTAB);
        v[image_off..sig_off].copy_from_slice(image);
        for b in &mut v[sig_off..shoff] {
            *b = 0xaa;
        }
        // Section 0 is the null section; then .shstrtab (name 1), .fwimage (11),
        // .fwsignature_ad10x (20).
        let secs = [
            (1u64, strtab_off, SHSTRTAB.len()),
            (11, image_off, image.len()),
            (20, sig_off, 16),
        ];
        for (i, (name, off, size)) in secs.iter().enumerate() {
            let base = shoff + (i + 1) * shentsize;
            put(&mut v, base, *name, 4);
            if is64 {
                put(&mut v, base + 0x18, *off as u64, 8);
                put(&mut v, base + 0x20, *size as u64, 8);
            } else {
                put(&mut v, base + 0x10, *off as u64, 4);
                put(&mut v, base + 0x14, *size as u64, 4);
            }
        }
        Ok(v)
    }

    #[test]
    fn finds_sections_in_elf64_and_elf32() -> Result<(), AllocError> {
        for is64 in [true, false] {
            let img = build(is64, b"GSP-RM image")?;
            assert_eq!(section(&img, ".fwimage"), Ok(&b"GSP-RM image"[..]));
            assert_eq!(section(&img, ".fwsignature_ad10x").map(|s| s.len()), Ok(16));
            assert_eq!(
                section(&img, ".fwsignature_ga10x"),
                Err(FwError::MissingSection)
            );
        }
        Ok(())
    }

    #[test]
    fn rejects_what_is_not_elf() -> Result<(), AllocError> {
        assert_eq!(section(b"", ".fwimage"), Err(FwError::BadMagic));
        assert_eq!(
            section(b"\x7fELX\x02\x01", ".fwimage"),
            Err(FwError::BadMagic)
        );
        let mut img = build(true, b"x")?;
        img[5] = 2;
        assert!(matches!(
            section(&img, ".fwimage"),
            Err(FwError::Malformed(_))
        ));
        img[5] = 1;
        img[4] = 3;
        assert!(matches!(
            section(&img, ".fwimage"),
            Err(FwError::Malformed(_))
        ));
        Ok(())
    }

    #[test]
    fn every_truncation_is_caught() -> Result<(), AllocError> {
        let img = build(true, b"0123456789abcdef")?;
        let sig_end = 0x40 + SHSTRTAB.len() + 16 + 16;
        // Cutting the file anywhere gives an error or the intact section (when only bytes the
        // lookup does not read are cut), never a panic or a short section; cutting into the
        // section itself or anything after it that the lookup needs is always an error.
        for len in 0..img.len() {
            let r = section(&img[..len], ".fwsignature_ad10x");
            assert!(r.is_err() || r == Ok(&[0xaa; 16][..]));
            if len < sig_end {
                assert!(r.is_err());
            }
        }
        Ok(())
    }

    #[test]
    fn hostile_offsets_are_caught() -> Result<(), AllocError> {
        let mut img = build(true, b"abc")?;
        let shoff = img.len() - 4 * 0x40;
        // .fwimage's size made huge: must not overflow or read past the end.
        put(&mut img, shoff + 2 * 0x40 + 0x20, u64::MAX, 8);
        assert_eq!(section(&img, ".fwimage"), Err(FwError::Truncated));
        // Section table offset near u64::MAX.
        put(&mut img, 0x28, u64::MAX - 8, 8);
        assert_eq!(section(&img, ".fwimage"), Err(FwError::Truncated));
        Ok(())
    }
}
