// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Section lookup in the ELF containers NVIDIA ships firmware in.
//!
//! `gsp-*.bin` is a little-endian ELF64 object whose sections hold the GSP-RM image
//! (`.fwimage`), its version (`.fwversion`), its build ID (`.note.gnu.build-id`) and one
//! signature per chip family (`.fwsignature_<family>`). `fmc-*.bin` (Hopper, Blackwell) is a
//! little-endian ELF32 object with `hash`, `signature`, `publickey` and `image` sections. Only
//! the section table is read; every offset and size in it is checked against the file.

use std::fmt;

/// `SHT_NULL`.
pub const SHT_NULL: u32 = 0;
/// `SHT_PROGBITS`.
pub const SHT_PROGBITS: u32 = 1;
/// `SHT_STRTAB`.
pub const SHT_STRTAB: u32 = 3;
/// `SHT_NOTE`.
pub const SHT_NOTE: u32 = 7;
/// `SHT_NOBITS`: a section without contents in the file.
pub const SHT_NOBITS: u32 = 8;

/// The ELF class of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// `ELFCLASS32`.
    Elf32,
    /// `ELFCLASS64`.
    Elf64,
}

/// Why an ELF file was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// The file does not start with `\x7fELF`.
    BadMagic,
    /// `EI_CLASS` is neither 32 nor 64 bits.
    UnknownClass(u8),
    /// The file is not little-endian.
    NotLittleEndian,
    /// The file is shorter than its ELF header.
    TooShort,
    /// The section header table is unusable; the text says why.
    BadSectionTable(String),
    /// A section's contents are outside the file.
    SectionOutside {
        /// Section index.
        index: usize,
        /// Section offset.
        offset: u64,
        /// Section size.
        size: u64,
    },
    /// A section name is not a NUL-terminated ASCII string inside the string table.
    BadName {
        /// Section index.
        index: usize,
    },
    /// Two sections have the name that was looked up.
    Duplicate(String),
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic => write!(f, "not an ELF file (bad magic)"),
            Self::UnknownClass(c) => write!(f, "unknown ELF class {c}"),
            Self::NotLittleEndian => write!(f, "ELF file is not little-endian"),
            Self::TooShort => write!(f, "file is shorter than its ELF header"),
            Self::BadSectionTable(why) => write!(f, "bad ELF section table: {why}"),
            Self::SectionOutside {
                index,
                offset,
                size,
            } => write!(
                f,
                "ELF section {index} (offset {offset:#x}, size {size:#x}) is outside the file"
            ),
            Self::BadName { index } => write!(f, "ELF section {index} has an invalid name"),
            Self::Duplicate(name) => write!(f, "ELF file has more than one section {name}"),
        }
    }
}

impl std::error::Error for ElfError {}

/// One entry of the section header table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The section's name.
    pub name: String,
    /// `sh_type`.
    pub sh_type: u32,
    /// `sh_flags`.
    pub flags: u64,
    /// `sh_info`.
    pub info: u32,
    /// `sh_offset`, checked to lie inside the file with `size` for sections with contents.
    pub offset: usize,
    /// `sh_size`.
    pub size: usize,
}

/// A parsed ELF file: its class and section table.
#[derive(Clone, Debug)]
pub struct Elf<'a> {
    data: &'a [u8],
    class: Class,
    sections: Vec<Section>,
}

/// Reads a little-endian integer of `N` bytes at `off`.
fn le<const N: usize>(data: &[u8], off: usize) -> Option<u64> {
    let bytes = data.get(off..off.checked_add(N)?)?;
    Some(
        bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    )
}

/// Reads a little-endian `u32` at `off`.
fn le32(data: &[u8], off: usize) -> Option<u32> {
    let bytes = data.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

fn table_error(why: &str) -> ElfError {
    ElfError::BadSectionTable(why.to_string())
}

impl<'a> Elf<'a> {
    /// Parses the ELF header and section table of `data`.
    pub fn parse(data: &'a [u8]) -> Result<Self, ElfError> {
        if data.get(..4) != Some(b"\x7fELF".as_slice()) {
            return Err(ElfError::BadMagic);
        }
        let class = match data.get(4) {
            Some(1) => Class::Elf32,
            Some(2) => Class::Elf64,
            Some(&c) => return Err(ElfError::UnknownClass(c)),
            None => return Err(ElfError::TooShort),
        };
        if data.get(5) != Some(&1) {
            return Err(ElfError::NotLittleEndian);
        }
        // Offsets of e_shoff, e_shentsize/e_shnum/e_shstrndx, the header size, and the
        // minimum section header size for each class (System V gABI).
        let (shoff, fields, ehsize, min_entsize) = match class {
            Class::Elf32 => (le::<4>(data, 0x20), 0x2e, 52usize, 40u64),
            Class::Elf64 => (le::<8>(data, 0x28), 0x3a, 64usize, 64u64),
        };
        if data.len() < ehsize {
            return Err(ElfError::TooShort);
        }
        let shoff = shoff.ok_or(ElfError::TooShort)?;
        let field = |i: usize| {
            i.checked_mul(2)
                .and_then(|o| o.checked_add(fields))
                .and_then(|o| le::<2>(data, o))
                .ok_or(ElfError::TooShort)
        };
        let shentsize = field(0)?;
        let shnum = field(1)?;
        let shstrndx = field(2)?;
        if shnum == 0 {
            return Err(table_error("no section headers"));
        }
        if shentsize < min_entsize {
            return Err(table_error("section header entries are too small"));
        }
        if shstrndx >= shnum {
            return Err(table_error("section name table index out of range"));
        }
        let table_end = shnum
            .checked_mul(shentsize)
            .and_then(|size| size.checked_add(shoff))
            .ok_or_else(|| table_error("section header table size overflows"))?;
        if table_end > data.len() as u64 {
            return Err(table_error(
                "section header table extends past the end of the file",
            ));
        }

        struct Raw {
            name: u64,
            sh_type: u32,
            flags: u64,
            offset: u64,
            size: u64,
            info: u32,
        }
        let read_header = |index: u64| -> Result<Raw, ElfError> {
            let base = index
                .checked_mul(shentsize)
                .and_then(|o| o.checked_add(shoff))
                .and_then(|o| usize::try_from(o).ok())
                .ok_or_else(|| table_error("section header offset overflows"))?;
            let at = |off: usize| base.saturating_add(off);
            let short = || table_error("section header is truncated");
            let raw = match class {
                Class::Elf32 => Raw {
                    name: le::<4>(data, at(0)).ok_or_else(short)?,
                    sh_type: le32(data, at(4)).ok_or_else(short)?,
                    flags: le::<4>(data, at(8)).ok_or_else(short)?,
                    offset: le::<4>(data, at(16)).ok_or_else(short)?,
                    size: le::<4>(data, at(20)).ok_or_else(short)?,
                    info: le32(data, at(28)).ok_or_else(short)?,
                },
                Class::Elf64 => Raw {
                    name: le::<4>(data, at(0)).ok_or_else(short)?,
                    sh_type: le32(data, at(4)).ok_or_else(short)?,
                    flags: le::<8>(data, at(8)).ok_or_else(short)?,
                    offset: le::<8>(data, at(24)).ok_or_else(short)?,
                    size: le::<8>(data, at(32)).ok_or_else(short)?,
                    info: le32(data, at(44)).ok_or_else(short)?,
                },
            };
            Ok(raw)
        };

        let raws = (0..shnum).map(read_header).collect::<Result<Vec<_>, _>>()?;
        let mut sections = Vec::with_capacity(raws.len());
        for (index, raw) in raws.iter().enumerate() {
            let has_contents = raw.sh_type != SHT_NULL && raw.sh_type != SHT_NOBITS;
            let outside = || ElfError::SectionOutside {
                index,
                offset: raw.offset,
                size: raw.size,
            };
            let end = raw.offset.checked_add(raw.size).ok_or_else(outside)?;
            if has_contents && end > data.len() as u64 {
                return Err(outside());
            }
            sections.push(Section {
                name: String::new(),
                sh_type: raw.sh_type,
                flags: raw.flags,
                info: raw.info,
                offset: usize::try_from(raw.offset).map_err(|_| outside())?,
                size: usize::try_from(raw.size).map_err(|_| outside())?,
            });
        }

        // Resolve the names in the section name table.
        let strtab = usize::try_from(shstrndx)
            .ok()
            .and_then(|i| sections.get(i))
            .ok_or_else(|| table_error("section name table index out of range"))?;
        if strtab.sh_type == SHT_NOBITS || strtab.sh_type == SHT_NULL {
            return Err(table_error("section name table has no contents"));
        }
        let names = strtab
            .offset
            .checked_add(strtab.size)
            .and_then(|end| data.get(strtab.offset..end))
            .ok_or_else(|| table_error("section name table is outside the file"))?;
        for (index, (section, raw)) in sections.iter_mut().zip(&raws).enumerate() {
            if index == 0 {
                continue;
            }
            let name = usize::try_from(raw.name)
                .ok()
                .and_then(|start| names.get(start..))
                .and_then(|tail| tail.split(|&b| b == 0).next().filter(|_| tail.contains(&0)))
                .filter(|n| n.is_ascii())
                .ok_or(ElfError::BadName { index })?;
            section.name = String::from_utf8_lossy(name).into_owned();
        }

        Ok(Self {
            data,
            class,
            sections,
        })
    }

    /// The file's class.
    pub fn class(&self) -> Class {
        self.class
    }

    /// The section table, index 0 included.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The section called `name`, if there is exactly one; an error if there are several.
    pub fn section(&self, name: &str) -> Result<Option<&Section>, ElfError> {
        let mut found = self.sections.iter().skip(1).filter(|s| s.name == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(ElfError::Duplicate(name.to_string()));
        }
        Ok(first)
    }

    /// The contents of `section` (empty for `SHT_NOBITS`).
    pub fn contents(&self, section: &Section) -> &'a [u8] {
        if section.sh_type == SHT_NOBITS || section.sh_type == SHT_NULL {
            return &[];
        }
        // Parse checked the range of every section with contents; `get` keeps this total.
        section
            .offset
            .checked_add(section.size)
            .and_then(|end| self.data.get(section.offset..end))
            .unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::synth::{self, Sec};

    fn build(class: Class, secs: &[(&str, u32, u64, u32, &[u8])]) -> Vec<u8> {
        let secs: Vec<Sec<'_>> = secs
            .iter()
            .map(|&(name, ty, flags, info, data)| Sec {
                name,
                ty,
                flags,
                info,
                data,
            })
            .collect();
        synth::elf(class == Class::Elf64, &secs)
    }

    #[test]
    fn finds_sections_in_both_classes() {
        for class in [Class::Elf32, Class::Elf64] {
            let f = build(
                class,
                &[
                    (".fwimage", SHT_PROGBITS, 3, 0, b"image!"),
                    ("empty", SHT_NOBITS, 0, 0, b""),
                    ("hash", SHT_PROGBITS, 0, 7, b"h"),
                ],
            );
            let elf = Elf::parse(&f).unwrap();
            assert_eq!(elf.class(), class);
            let s = elf.section(".fwimage").unwrap().unwrap();
            assert_eq!(elf.contents(s), b"image!");
            assert_eq!(s.flags, 3);
            let h = elf.section("hash").unwrap().unwrap();
            assert_eq!((elf.contents(h), h.info), (b"h".as_slice(), 7));
            assert!(elf.section("missing").unwrap().is_none());
            assert!(elf.section(".shstrtab").unwrap().is_some());
        }
    }

    #[test]
    fn duplicate_names_are_ambiguous() {
        let f = build(
            Class::Elf64,
            &[
                ("a", SHT_PROGBITS, 0, 0, b"1"),
                ("a", SHT_PROGBITS, 0, 0, b"2"),
            ],
        );
        let elf = Elf::parse(&f).unwrap();
        assert_eq!(elf.section("a"), Err(ElfError::Duplicate("a".into())));
    }

    #[test]
    fn hostile_headers_are_refused_without_panic() {
        let good = build(Class::Elf64, &[(".fwimage", SHT_PROGBITS, 0, 0, b"xyz")]);
        // Every truncation.
        for len in 0..good.len() {
            assert!(Elf::parse(&good[..len]).is_err(), "prefix {len}");
        }
        // Header fields.
        let mut f = good.clone();
        f[0] = 0;
        assert_eq!(Elf::parse(&f).unwrap_err(), ElfError::BadMagic);
        let mut f = good.clone();
        f[4] = 3;
        assert_eq!(Elf::parse(&f).unwrap_err(), ElfError::UnknownClass(3));
        let mut f = good.clone();
        f[5] = 2;
        assert_eq!(Elf::parse(&f).unwrap_err(), ElfError::NotLittleEndian);
        for (off, val) in [
            (0x28usize, u64::MAX),     // e_shoff
            (0x28, u64::MAX - 10),     // e_shoff near overflow
            (0x28, good.len() as u64), // table past the end
        ] {
            let mut f = good.clone();
            f[off..off + 8].copy_from_slice(&val.to_le_bytes());
            assert!(matches!(Elf::parse(&f), Err(ElfError::BadSectionTable(_))));
        }
        let mut f = good.clone();
        f[0x3a..0x3c].copy_from_slice(&8u16.to_le_bytes()); // e_shentsize too small
        assert!(matches!(Elf::parse(&f), Err(ElfError::BadSectionTable(_))));
        let mut f = good.clone();
        f[0x3e..0x40].copy_from_slice(&99u16.to_le_bytes()); // e_shstrndx out of range
        assert!(matches!(Elf::parse(&f), Err(ElfError::BadSectionTable(_))));
        let mut f = good.clone();
        f[0x3c..0x3e].copy_from_slice(&0u16.to_le_bytes()); // no sections
        assert!(matches!(Elf::parse(&f), Err(ElfError::BadSectionTable(_))));

        // Section 1's offset and size, and its name offset.
        let shoff = u64::from_le_bytes(good[0x28..0x30].try_into().unwrap()) as usize;
        let sh1 = shoff + 64;
        for (field, val) in [(24usize, u64::MAX), (32, u64::MAX), (32, good.len() as u64)] {
            let mut f = good.clone();
            f[sh1 + field..sh1 + field + 8].copy_from_slice(&val.to_le_bytes());
            assert!(matches!(
                Elf::parse(&f),
                Err(ElfError::SectionOutside { index: 1, .. })
            ));
        }
        let mut f = good.clone();
        f[sh1..sh1 + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Elf::parse(&f).unwrap_err(), ElfError::BadName { index: 1 });
    }
}
