// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The firmware files the GSP-RM model checks the driver's uploads against.
//!
//! * `gsp-570.144.bin` is a little-endian ELF64 file. Its `.fwimage` section is the image the
//!   driver maps with the radix3 page table; its `.fwsignature_<family>` sections are the
//!   signatures, one per chip family (nouveau `r535_gsp_oneinit()`,
//!   `nvkm/subdev/gsp/rm/r535/gsp.c`, loads `.fwimage` and the chip's `sig_section`; the
//!   family names are listed in `Documentation/gpu/nova/tlv-converter.rst`).
//! * `bootloader-570.144.bin` starts with `struct nvfw_bin_hdr` (nouveau `include/nvfw/fw.h`):
//!   six `u32`s `bin_magic` (0x10de), `bin_ver`, `bin_size`, `header_offset`, `data_offset`,
//!   `data_size`. The payload `[data_offset, data_offset + data_size)` is what the driver
//!   uploads; at `header_offset` is `RM_RISCV_UCODE_DESC` (nouveau
//!   `nvkm/subdev/gsp/rm/r535/nvrm/gsp.h`), whose `manifestOffset` (word 8),
//!   `monitorDataOffset` (word 10) and `monitorCodeOffset` (word 12) the driver passes on in
//!   `GspFwWprMeta` (nouveau `r535_gsp_rm_boot_ctor()`).
//!
//! Only the section header table of the ELF file is read; every offset and size is checked
//! against the file before use.

use super::r570::{get_u32, get_u64};

/// The parts of a `gsp-<version>.bin` file the model needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GspElf {
    /// Contents of `.fwimage`.
    pub image: Vec<u8>,
    /// `(section name, contents)` of every `.fwsignature_*` section.
    pub signatures: Vec<(String, Vec<u8>)>,
    /// Contents of `.fwversion` without its terminating NUL, if the section exists.
    pub version: Option<String>,
}

impl GspElf {
    /// Parses a GSP-RM ELF file.
    pub fn parse(file: &[u8]) -> Result<Self, String> {
        let sections = elf64_sections(file)?;
        let mut image = None;
        let mut signatures = Vec::new();
        let mut version = None;
        for (name, data) in sections {
            if name == ".fwimage" {
                if image.is_some() {
                    return Err("two .fwimage sections".into());
                }
                image = Some(data.to_vec());
            } else if let Some(family) = name.strip_prefix(".fwsignature_") {
                if signatures
                    .iter()
                    .any(|(n, _): &(String, Vec<u8>)| n == family)
                {
                    return Err(format!("two {name} sections"));
                }
                signatures.push((family.to_string(), data.to_vec()));
            } else if name == ".fwversion" {
                let text = data.split(|b| *b == 0).next().unwrap_or_default();
                version = Some(String::from_utf8_lossy(text).into_owned());
            }
        }
        let image = image.ok_or("no .fwimage section")?;
        if image.is_empty() {
            return Err(".fwimage is empty".into());
        }
        Ok(Self {
            image,
            signatures,
            version,
        })
    }

    /// The signature section for chip family `family` (`"ga10x"`, `"ad10x"`, ...).
    pub fn signature(&self, family: &str) -> Option<&[u8]> {
        self.signatures
            .iter()
            .find(|(n, _)| n == family)
            .map(|(_, d)| d.as_slice())
    }
}

/// Returns `(name, contents)` of every section with contents in an ELF64 little-endian file.
fn elf64_sections(file: &[u8]) -> Result<Vec<(String, &[u8])>, String> {
    // ELF header fields (System V ABI, "ELF Header"): e_ident[16], then e_shoff at 0x28,
    // e_shentsize at 0x3a, e_shnum at 0x3c, e_shstrndx at 0x3e.
    if file.get(0..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF file".into());
    }
    if file.get(4) != Some(&2) {
        return Err("not a 64-bit ELF file".into());
    }
    if file.get(5) != Some(&1) {
        return Err("not a little-endian ELF file".into());
    }
    let short = || "ELF header truncated".to_string();
    let shoff = usize::try_from(get_u64(file, 0x28).ok_or_else(short)?)
        .map_err(|_| "section table offset too large")?;
    let half = |off: usize| -> Result<usize, String> {
        file.get(off..off + 2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
            .ok_or_else(short)
    };
    let shentsize = half(0x3a)?;
    let shnum = half(0x3c)?;
    let shstrndx = half(0x3e)?;
    // An ELF64 section header is 64 bytes: sh_name (u32) at 0, sh_type (u32) at 4,
    // sh_offset (u64) at 0x18, sh_size (u64) at 0x20.
    if shentsize < 64 {
        return Err(format!("section header size {shentsize} is below 64"));
    }
    let header = |i: usize| -> Result<&[u8], String> {
        let start = i
            .checked_mul(shentsize)
            .and_then(|o| o.checked_add(shoff))
            .ok_or("section table overflows")?;
        start
            .checked_add(shentsize)
            .and_then(|end| file.get(start..end))
            .ok_or_else(|| format!("section header {i} outside the file"))
    };
    let contents = |h: &[u8]| -> Result<&[u8], String> {
        // SHT_NOBITS (8) has no contents in the file.
        if get_u32(h, 4) == Some(8) {
            return Ok(&[]);
        }
        let off = get_u64(h, 0x18).and_then(|v| usize::try_from(v).ok());
        let size = get_u64(h, 0x20).and_then(|v| usize::try_from(v).ok());
        match (off, size) {
            (Some(off), Some(size)) => off
                .checked_add(size)
                .and_then(|end| file.get(off..end))
                .ok_or_else(|| "section contents outside the file".to_string()),
            _ => Err("section header truncated".into()),
        }
    };
    if shstrndx >= shnum {
        return Err(format!("name table index {shstrndx} out of range"));
    }
    let names = contents(header(shstrndx)?)?;
    let mut out = Vec::new();
    for i in 0..shnum {
        let h = header(i)?;
        let name_off = get_u32(h, 0)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or("section header truncated")?;
        let rest = names
            .get(name_off..)
            .ok_or_else(|| format!("section {i} name outside the name table"))?;
        let end = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(|| format!("section {i} name is not terminated"))?;
        let name = std::str::from_utf8(&rest[..end])
            .map_err(|_| format!("section {i} name is not UTF-8"))?;
        out.push((name.to_string(), contents(h)?));
    }
    Ok(out)
}

/// The GSP bootloader as the driver uploads it, with the offsets it passes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bootloader {
    /// The payload (`data_offset`, `data_size` of the binary header).
    pub image: Vec<u8>,
    /// `monitorCodeOffset` (`GspFwWprMeta::bootloaderCodeOffset`).
    pub code_offset: u32,
    /// `monitorDataOffset` (`GspFwWprMeta::bootloaderDataOffset`).
    pub data_offset: u32,
    /// `manifestOffset` (`GspFwWprMeta::bootloaderManifestOffset`).
    pub manifest_offset: u32,
    /// `appVersion`, which the driver writes to the GSP's `NV_PFALCON_FALCON_OS`.
    pub app_version: u32,
}

impl Bootloader {
    /// Parses a `bootloader-<version>.bin` file.
    pub fn parse(file: &[u8]) -> Result<Self, String> {
        let word = |off: usize| get_u32(file, off).ok_or("bootloader header truncated");
        if word(0)? != 0x10de {
            return Err("bootloader: bad bin_magic".into());
        }
        let to_usize = |v: u32| usize::try_from(v).map_err(|_| "bootloader: offset too large");
        let header = to_usize(word(12)?)?;
        let data_offset = to_usize(word(16)?)?;
        let data_size = to_usize(word(20)?)?;
        let image = data_offset
            .checked_add(data_size)
            .and_then(|end| file.get(data_offset..end))
            .filter(|d| !d.is_empty())
            .ok_or("bootloader: payload outside the file")?
            .to_vec();
        let desc = |index: usize| -> Result<u32, String> {
            index
                .checked_mul(4)
                .and_then(|o| o.checked_add(header))
                .and_then(|o| get_u32(file, o))
                .ok_or_else(|| "bootloader: descriptor outside the file".to_string())
        };
        Ok(Self {
            image,
            app_version: desc(7)?,
            manifest_offset: desc(8)?,
            data_offset: desc(10)?,
            code_offset: desc(12)?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a small ELF64 file with the given sections, for tests.
    pub(crate) fn make_elf(sections: &[(&str, &[u8])]) -> Vec<u8> {
        let mut names = vec![0u8];
        let mut name_offs = Vec::new();
        for (name, _) in sections {
            name_offs.push(names.len() as u32);
            names.extend_from_slice(name.as_bytes());
            names.push(0);
        }
        let shstr_name = names.len() as u32;
        names.extend_from_slice(b".shstrtab\0");
        let mut file = vec![0u8; 64];
        file[0..4].copy_from_slice(b"\x7fELF");
        file[4] = 2;
        file[5] = 1;
        let mut offs = Vec::new();
        for (_, data) in sections {
            offs.push(file.len() as u64);
            file.extend_from_slice(data);
        }
        let names_off = file.len() as u64;
        file.extend_from_slice(&names);
        while file.len() % 8 != 0 {
            file.push(0);
        }
        let shoff = file.len() as u64;
        let shnum = sections.len() + 2;
        file.extend_from_slice(&[0u8; 64]);
        for (i, (_, data)) in sections.iter().enumerate() {
            let mut h = [0u8; 64];
            h[0..4].copy_from_slice(&name_offs[i].to_le_bytes());
            h[4..8].copy_from_slice(&1u32.to_le_bytes());
            h[0x18..0x20].copy_from_slice(&offs[i].to_le_bytes());
            h[0x20..0x28].copy_from_slice(&(data.len() as u64).to_le_bytes());
            file.extend_from_slice(&h);
        }
        let mut h = [0u8; 64];
        h[0..4].copy_from_slice(&shstr_name.to_le_bytes());
        h[4..8].copy_from_slice(&3u32.to_le_bytes());
        h[0x18..0x20].copy_from_slice(&names_off.to_le_bytes());
        h[0x20..0x28].copy_from_slice(&(names.len() as u64).to_le_bytes());
        file.extend_from_slice(&h);
        file[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        file[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        file[0x3c..0x3e].copy_from_slice(&(shnum as u16).to_le_bytes());
        file[0x3e..0x40].copy_from_slice(&((shnum - 1) as u16).to_le_bytes());
        file
    }

    /// Builds a bootloader file whose payload is `image`.
    pub(crate) fn make_bootloader(image: &[u8], code: u32, data: u32, manifest: u32) -> Vec<u8> {
        let mut file = Vec::new();
        let header_offset = 24u32;
        let data_offset = header_offset + 14 * 4;
        for v in [0x10de, 1, 0, header_offset, data_offset, image.len() as u32] {
            file.extend_from_slice(&u32::to_le_bytes(v));
        }
        let desc = [4, 0, 0, 0, 0, 0, 0, 0x1234, manifest, 0, data, 0, code, 0];
        for v in desc {
            file.extend_from_slice(&u32::to_le_bytes(v));
        }
        file.extend_from_slice(image);
        file
    }

    #[test]
    fn parses_sections() {
        let elf = make_elf(&[
            (".fwimage", b"IMAGE-BYTES"),
            (".fwversion", b"570.144\0"),
            (".fwsignature_ga10x", b"SIG-GA"),
            (".fwsignature_ad10x", b"SIG-AD"),
        ]);
        let parsed = GspElf::parse(&elf).unwrap();
        assert_eq!(parsed.image, b"IMAGE-BYTES");
        assert_eq!(parsed.version.as_deref(), Some("570.144"));
        assert_eq!(parsed.signature("ad10x"), Some(b"SIG-AD".as_slice()));
        assert_eq!(parsed.signature("tu10x"), None);
    }

    #[test]
    fn refuses_malformed_files() {
        assert!(GspElf::parse(b"not an elf").is_err());
        let elf = make_elf(&[(".text", b"x")]);
        assert_eq!(GspElf::parse(&elf).unwrap_err(), "no .fwimage section");
        let mut elf = make_elf(&[(".fwimage", b"abc")]);
        let len = elf.len();
        // Point the section table past the end of the file.
        elf[0x28..0x30].copy_from_slice(&(len as u64).to_le_bytes());
        assert!(GspElf::parse(&elf).is_err());
        let mut elf = make_elf(&[(".fwimage", b"abc")]);
        elf.truncate(len - 10);
        assert!(GspElf::parse(&elf).is_err());
    }

    #[test]
    fn parses_bootloader() {
        let file = make_bootloader(b"BLBLBLBL", 0x100, 0x200, 0x300);
        let bl = Bootloader::parse(&file).unwrap();
        assert_eq!(bl.image, b"BLBLBLBL");
        assert_eq!(
            (bl.code_offset, bl.data_offset, bl.manifest_offset),
            (0x100, 0x200, 0x300)
        );
        assert_eq!(bl.app_version, 0x1234);
        assert!(Bootloader::parse(&file[..30]).is_err());
        let mut bad = file.clone();
        bad[0] = 0;
        assert!(Bootloader::parse(&bad).is_err());
    }
}
