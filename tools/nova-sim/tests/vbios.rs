// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The VBIOS every chip carries, checked by a parser written here from the public formats
//! (not from the simulator's builder):
//!
//! * PROM window: `NV_PROM_DATA(i) = 0x300000 + i`, 1 MiB (open-gpu-kernel-modules
//!   `dev_ext_devices.h`; nouveau `shadowrom.c`).
//! * IFR header and image chain: nova-core `Documentation/gpu/nova/core/vbios.rst` and
//!   `vbios.rs`; Open RM `kernel_gsp_vbios_tu102.c` and `pci_exp_table.h`; nouveau `image.c`,
//!   `pcir.c`, `npde.c`.
//! * BIT: NVIDIA's BIOS Information Table specification (open-gpu-doc).
//! * Falcon Ucode Table, FWSEC descriptors V2/V3: Open RM `kernel_gsp_fwsec.c`.
//! * FWSEC application interfaces and signature selection: nova-core `firmware/fwsec.rs`,
//!   nouveau `gsp/fwsec.c` and `gsp/ga102.c`.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{run, spawn_server, value_of, wait_exit, TempDir};
use nova_sim::bar0::Identity;
use nova_sim::chips::{Chip, CHIPS};
use nova_sim::device::GpuDevice;
use nova_sim::stats::Counters;
use nova_sim::vbios::{Corruption, Vbios};
use nova_sim::vfio::VfioDevice;

const PROM: u64 = 0x30_0000;
const PROM_SIZE: usize = 0x10_0000;
const BLOCK: usize = 512;

type Parse<T> = Result<T, String>;

fn rd8(rom: &[u8], at: usize) -> Parse<u8> {
    rom.get(at)
        .copied()
        .ok_or(format!("u8 at {at:#x} out of bounds"))
}

fn rd16(rom: &[u8], at: usize) -> Parse<u16> {
    let b = rom
        .get(at..at.checked_add(2).ok_or("overflow")?)
        .ok_or(format!("u16 at {at:#x} out of bounds"))?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn rd32(rom: &[u8], at: usize) -> Parse<u32> {
    let b = rom
        .get(at..at.checked_add(4).ok_or("overflow")?)
        .ok_or(format!("u32 at {at:#x} out of bounds"))?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b))
}

/// The start of the PCI expansion ROM: 0, or what the IFR header says (vbios.rst "IFR Header").
fn pci_rom_start(rom: &[u8]) -> Parse<usize> {
    if rd16(rom, 0)? == 0xaa55 {
        return Ok(0);
    }
    if rd32(rom, 0)? != u32::from_le_bytes(*b"NVGI") {
        return Err("neither a PCI ROM signature nor an IFR header at offset 0".into());
    }
    let fixed1 = rd32(rom, 4)?;
    let offset = match (fixed1 >> 8) & 0xff {
        1 | 2 => rd32(rom, (((fixed1 >> 16) & 0x7fff) + 4) as usize)?,
        3 => {
            let total = (rd32(rom, 8)? & 0xf_ffff) as usize;
            let dir = rd32(rom, total)? as usize + 4096;
            if rd32(rom, dir)? != u32::from_le_bytes(*b"RFRD") {
                return Err("no ROM directory".into());
            }
            rd32(rom, dir + 8)?
        }
        v => return Err(format!("IFR version {v}")),
    } as usize;
    if offset % 4 != 0 || offset >= PROM_SIZE {
        return Err(format!("bad PCI ROM offset {offset:#x}"));
    }
    Ok(offset)
}

#[derive(Clone, Debug)]
struct Image {
    offset: usize,
    len: usize,
    rom_signature: u16,
    pcir_signature: [u8; 4],
    vendor: u16,
    device: u16,
    class: u32,
    code_type: u8,
    pcir_blocks: u16,
    pcir_last: bool,
    npde_last: Option<bool>,
}

/// Walks the image chain from `start`, preferring the NPDE's length and last-image indicator
/// (Open RM `s_locateExpansionRoms`; nova-core `BiosImage`; nouveau `nvbios_imagen`).
fn walk(rom: &[u8], start: usize) -> Parse<Vec<Image>> {
    let mut images = Vec::new();
    let mut base = start;
    loop {
        if images.len() > 16 || base >= PROM_SIZE {
            return Err("image chain does not end".into());
        }
        let rom_signature = rd16(rom, base)?;
        if ![0xaa55, 0x4e56, 0xbb77].contains(&rom_signature) {
            return Err(format!("ROM signature {rom_signature:#06x} at {base:#x}"));
        }
        let pcir = base + rd16(rom, base + 0x18)? as usize;
        let mut pcir_signature = [0u8; 4];
        pcir_signature.copy_from_slice(rom.get(pcir..pcir + 4).ok_or("PCIR out of bounds")?);
        if ![*b"PCIR", *b"NPDS", *b"RGIS"].contains(&pcir_signature) {
            return Err(format!("PCIR signature {pcir_signature:?} at {pcir:#x}"));
        }
        let pcir_len = rd16(rom, pcir + 0x0a)? as usize;
        let pcir_blocks = rd16(rom, pcir + 0x10)?;
        let code_type = rd8(rom, pcir + 0x14)?;
        let pcir_last = rd8(rom, pcir + 0x15)? & 0x80 != 0;
        let class = u32::from_le_bytes([
            rd8(rom, pcir + 0x0d)?,
            rd8(rom, pcir + 0x0e)?,
            rd8(rom, pcir + 0x0f)?,
            0,
        ]);
        let npde = (pcir + pcir_len + 0xf) & !0xf;
        let mut blocks = pcir_blocks;
        let mut npde_last = None;
        if rom.get(npde..npde + 4) == Some(b"NPDE") && matches!(rd16(rom, npde + 4)?, 0x100 | 0x101)
        {
            blocks = rd16(rom, npde + 8)?;
            if rd16(rom, npde + 6)? >= 0x0b {
                npde_last = Some(rd8(rom, npde + 0x0a)? & 0x80 != 0);
            }
        }
        let len = blocks as usize * BLOCK;
        if len == 0 {
            return Err(format!("zero-length image at {base:#x}"));
        }
        let last = code_type == 0x70 || npde_last.unwrap_or(pcir_last);
        images.push(Image {
            offset: base,
            len,
            rom_signature,
            pcir_signature,
            vendor: rd16(rom, pcir + 4)?,
            device: rd16(rom, pcir + 6)?,
            class,
            code_type,
            pcir_blocks,
            pcir_last,
            npde_last,
        });
        if base + len > rom.len() {
            return Err(format!("image at {base:#x} runs past the ROM"));
        }
        if last {
            return Ok(images);
        }
        base += len;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Token {
    id: u8,
    version: u8,
    size: u16,
    pointer: u16,
}

/// Finds the BIT in the PC-AT image (id 0xB8FF, "BIT\0", zero header checksum) and returns
/// its offset in the image and its tokens.
fn parse_bit(pcat: &[u8]) -> Parse<(usize, Vec<Token>)> {
    let at = pcat
        .windows(6)
        .position(|w| w == [0xff, 0xb8, b'B', b'I', b'T', 0])
        .ok_or("no BIT")?;
    if rd16(pcat, at + 6)? != 0x0100 {
        return Err("BIT version".into());
    }
    let header_size = rd8(pcat, at + 8)? as usize;
    let token_size = rd8(pcat, at + 9)? as usize;
    let count = rd8(pcat, at + 10)? as usize;
    if sum(pcat.get(at..at + header_size).ok_or("BIT header")?) != 0 {
        return Err("BIT header checksum".into());
    }
    if token_size < 6 {
        return Err("BIT token size".into());
    }
    let mut tokens = Vec::new();
    for i in 0..count {
        let t = at + header_size + i * token_size;
        tokens.push(Token {
            id: rd8(pcat, t)?,
            version: rd8(pcat, t + 1)?,
            size: rd16(pcat, t + 2)?,
            pointer: rd16(pcat, t + 4)?,
        });
    }
    Ok((at, tokens))
}

#[derive(Debug)]
struct Fwsec {
    version: u8,
    desc_size: usize,
    ucode: usize,
    imem: u32,
    dmem: u32,
    signatures: Vec<Vec<u8>>,
    signature_versions: u16,
    engine_id_mask: u16,
    ucode_id: u8,
    pkc_data_offset: u32,
}

/// Parses and bounds-checks the FWSEC descriptor at `desc` (a ROM offset); `end` is the end
/// of the ROM data it may use.
fn parse_fwsec(rom: &[u8], desc: usize, end: usize) -> Parse<Fwsec> {
    let hdr = rd32(rom, desc)?;
    if hdr & 1 == 0 {
        return Err("descriptor version unavailable".into());
    }
    let version = ((hdr >> 8) & 0xff) as u8;
    let desc_size = (hdr >> 16) as usize;
    let ucode = desc + desc_size;
    let stored = rd32(rom, desc + 4)?;
    let f = |i: usize| rd32(rom, desc + 4 * i);
    let (imem, dmem, dmem_in_image, interface, parsed) = match version {
        2 => {
            if desc_size < 60 {
                return Err("V2 descriptor too short".into());
            }
            let (imem_phys, imem, imem_virt) = (f(5)?, f(6)?, f(7)?);
            let (sec_base, sec_size, dmem_offset) = (f(8)?, f(9)?, f(10)?);
            let (dmem_phys, dmem) = (f(11)?, f(12)?);
            if imem_phys != 0 || dmem_phys != 0 {
                return Err("V2 IMEM/DMEM physical base not 0".into());
            }
            let sec_start = sec_base.checked_sub(imem_virt).ok_or("secure base")?;
            if sec_start.checked_add(sec_size).ok_or("overflow")? > imem || sec_size % 256 != 0 {
                return Err("V2 secure IMEM outside IMEM".into());
            }
            if dmem_offset.checked_add(dmem).ok_or("overflow")? > stored {
                return Err("V2 DMEM outside the stored ucode".into());
            }
            let parsed = Fwsec {
                version,
                desc_size,
                ucode,
                imem,
                dmem,
                signatures: Vec::new(),
                signature_versions: 0,
                engine_id_mask: 0,
                ucode_id: 0,
                pkc_data_offset: 0,
            };
            (imem, dmem, dmem_offset, f(4)?, parsed)
        }
        3 => {
            if desc_size < 44 || (desc_size - 44) % 384 != 0 {
                return Err(format!("V3 descriptor size {desc_size}"));
            }
            let (pkc, interface, imem_phys, imem, _virt, dmem_phys, dmem) =
                (f(2)?, f(3)?, f(4)?, f(5)?, f(6)?, f(7)?, f(8)?);
            let engine_id_mask = rd16(rom, desc + 36)?;
            let ucode_id = rd8(rom, desc + 38)?;
            let count = rd8(rom, desc + 39)? as usize;
            let signature_versions = rd16(rom, desc + 40)?;
            if count * 384 != desc_size - 44 {
                return Err("V3 signature count does not match the descriptor size".into());
            }
            if imem_phys != 0 || dmem_phys != 0 {
                return Err("V3 IMEM/DMEM physical base not 0".into());
            }
            // Open RM s_vbiosFillFlcnUcodeFromDescV3's checks, on the 256-aligned size.
            let size = stored.div_ceil(256) * 256;
            if imem > size || imem.checked_add(dmem).ok_or("overflow")? > size {
                return Err("V3 IMEM/DMEM outside the stored ucode".into());
            }
            if pkc.checked_add(384).ok_or("overflow")? > dmem {
                return Err("V3 signature slot outside DMEM".into());
            }
            let signatures = (0..count)
                .map(|i| rom[desc + 44 + i * 384..desc + 44 + (i + 1) * 384].to_vec())
                .collect();
            let parsed = Fwsec {
                version,
                desc_size,
                ucode,
                imem,
                dmem,
                signatures,
                signature_versions,
                engine_id_mask,
                ucode_id,
                pkc_data_offset: pkc,
            };
            (imem, dmem, imem, interface, parsed)
        }
        v => return Err(format!("descriptor version {v}")),
    };
    let ucode_len = (imem as usize)
        .checked_add(dmem as usize)
        .ok_or("overflow")?
        .max(stored as usize);
    if ucode.checked_add(ucode_len).ok_or("overflow")? > end {
        return Err("ucode runs past the ROM".into());
    }
    let dmem_at = ucode + dmem_in_image as usize;
    let dmem_bytes = &rom[dmem_at..dmem_at + dmem as usize];
    check_appif(dmem_bytes, interface as usize)?;
    Ok(parsed)
}

/// Follows the application interface table to the DMEMMAPPER and its command buffer.
fn check_appif(dmem: &[u8], interface: usize) -> Parse<()> {
    if rd8(dmem, interface)? != 1 {
        return Err("application interface table version".into());
    }
    let (hdr, len, cnt) = (
        rd8(dmem, interface + 1)? as usize,
        rd8(dmem, interface + 2)? as usize,
        rd8(dmem, interface + 3)? as usize,
    );
    for i in 0..cnt {
        let entry = interface + hdr + i * len;
        if rd32(dmem, entry)? != 4 {
            continue;
        }
        let mapper = rd32(dmem, entry + 4)? as usize;
        if dmem.get(mapper..mapper + 4) != Some(b"DMAP") || rd16(dmem, mapper + 4)? != 3 {
            return Err("DMEMMAPPER signature or version".into());
        }
        let cmd_in = rd32(dmem, mapper + 8)? as usize;
        let cmd_in_size = rd32(dmem, mapper + 12)? as usize;
        // The FRTS command (ReadVbios, 24 bytes, and FrtsRegion, 20 bytes) must fit.
        if cmd_in_size < 44 || cmd_in + cmd_in_size > dmem.len() {
            return Err("DMEMMAPPER command buffer".into());
        }
        // init_cmd, the word the driver patches, is inside DMEM.
        rd32(dmem, mapper + 0x2c)?;
        return Ok(());
    }
    Err("no DMEMMAPPER interface".into())
}

#[derive(Debug)]
struct Parsed {
    pci_rom: usize,
    images: Vec<Image>,
    tokens: Vec<Token>,
    bit_offset: usize,
    table: usize,
    entries: Vec<(u8, u8, usize)>,
    fwsec: Option<Fwsec>,
    fwsec_debug: Option<Parse<Fwsec>>,
}

/// Converts a VBIOS pointer past the PC-AT image to a ROM offset: it counts the first 0xE0
/// image as directly following the PC-AT image.
fn pointer_to_rom(images: &[Image], pointer: u32) -> Parse<usize> {
    let pcat = images.first().ok_or("no image")?;
    let nvidia = images
        .iter()
        .find(|i| i.code_type == 0xe0)
        .ok_or("no 0xE0 image")?;
    let past = (pointer as usize)
        .checked_sub(pcat.len)
        .ok_or("pointer inside the PC-AT image")?;
    Ok(nvidia.offset + past)
}

fn parse(rom: &[u8]) -> Parse<Parsed> {
    let pci_rom = pci_rom_start(rom)?;
    let images = walk(rom, pci_rom)?;
    let pcat = images.first().ok_or("no image")?;
    if pcat.code_type != 0 {
        return Err("first image is not PC-AT".into());
    }
    let pcat_bytes = &rom[pcat.offset..pcat.offset + pcat.len];
    let (bit_at, tokens) = parse_bit(pcat_bytes)?;
    let falcon = tokens
        .iter()
        .find(|t| t.id == 0x70 && t.version == 2 && t.size >= 4)
        .ok_or("no falcon data token")?;
    let pointer = rd32(pcat_bytes, falcon.pointer as usize)?;
    let table = pointer_to_rom(&images, pointer)?;
    // The BIT specification's own rule: past the PC-AT image, add the UEFI image's length.
    let efi_len: usize = images
        .iter()
        .filter(|i| i.code_type == 0x03)
        .map(|i| i.len)
        .sum();
    assert_eq!(table, pci_rom + pointer as usize + efi_len);

    if rd8(rom, table)? != 1 {
        return Err("falcon ucode table version".into());
    }
    let (hdr, len, cnt) = (
        rd8(rom, table + 1)? as usize,
        rd8(rom, table + 2)? as usize,
        rd8(rom, table + 3)? as usize,
    );
    if hdr < 6 || len < 6 {
        return Err("falcon ucode table sizes".into());
    }
    let mut entries = Vec::new();
    for i in 0..cnt {
        let e = table + hdr + i * len;
        let desc = pointer_to_rom(&images, rd32(rom, e + 2)?)?;
        entries.push((rd8(rom, e)?, rd8(rom, e + 1)?, desc));
    }
    let end = images.last().map(|i| i.offset + i.len).ok_or("no image")?;
    let fwsec = match entries.iter().find(|e| e.0 == 0x85) {
        Some(&(_, _, desc)) => Some(parse_fwsec(rom, desc, end)?),
        None => None,
    };
    let fwsec_debug = entries
        .iter()
        .find(|e| e.0 == 0x45)
        .map(|&(_, _, desc)| parse_fwsec(rom, desc, end));
    Ok(Parsed {
        pci_rom,
        bit_offset: pcat.offset + bit_at,
        images,
        tokens,
        table,
        entries,
        fwsec,
        fwsec_debug,
    })
}

/// The signature nova-core and nouveau pick for a fuse register value.
fn select_signature(f: &Fwsec, fuse_register: u32) -> Option<usize> {
    let version = 16 - (fuse_register as u16).leading_zeros();
    let bit = 1u32 << version;
    let versions = u32::from(f.signature_versions);
    (versions & bit != 0).then(|| (versions & (bit - 1)).count_ones() as usize)
}

fn clean(chip: &Chip) -> Vbios {
    Vbios::build(chip, Corruption::None).unwrap()
}

/// The descriptor version from the chip family (see the module docs of `nova_sim::vbios` for
/// why): none on Volta, 2 on Turing and GA100, 3 after.
fn expected_version(chip: &Chip) -> Option<u8> {
    match &chip.name[..2] {
        "gv" => None,
        "tu" => Some(2),
        _ if chip.name == "ga100" => Some(2),
        _ => Some(3),
    }
}

#[test]
fn every_chip_has_a_well_formed_vbios() {
    for chip in CHIPS {
        let name = chip.name;
        let vbios = clean(chip);
        let rom = vbios.bytes();
        let p = parse(rom).unwrap_or_else(|e| panic!("{name}: {e}"));

        // IFR header only where the PROM window shows it (GA100).
        assert_eq!(p.pci_rom != 0, name == "ga100", "{name}");
        assert_eq!(rom[..4] == *b"NVGI", name == "ga100", "{name}");

        // The chain: PC-AT, EFI on boards with a display, two NVIDIA images.
        let types: Vec<u8> = p.images.iter().map(|i| i.code_type).collect();
        let vga = chip.class_code == 0x03_00_00;
        let expected: &[u8] = if vga {
            &[0x00, 0x03, 0xe0, 0xe0]
        } else {
            &[0x00, 0xe0, 0xe0]
        };
        assert_eq!(types, expected, "{name}");
        for (i, image) in p.images.iter().enumerate() {
            assert_eq!(image.vendor, 0x10de, "{name}");
            assert_eq!(image.device, chip.device_id, "{name}");
            assert_eq!(image.class, chip.class_code, "{name}");
            assert_eq!(image.offset % BLOCK, 0, "{name}");
            assert_eq!(image.pcir_blocks as usize * BLOCK, image.len, "{name}");
            let is_last = i + 1 == p.images.len();
            assert_eq!(image.npde_last, Some(is_last), "{name} image {i}");
            if image.code_type == 0xe0 {
                assert_eq!(image.rom_signature, 0x4e56, "{name}");
                assert_eq!(&image.pcir_signature, b"NPDS", "{name}");
            } else {
                assert_eq!(image.rom_signature, 0xaa55, "{name}");
                assert_eq!(&image.pcir_signature, b"PCIR", "{name}");
            }
        }
        // The PCI data structures alone describe the standard chain: PC-AT, then EFI.
        let visible_end = p.images.iter().position(|i| i.pcir_last).unwrap();
        assert_eq!(visible_end, if vga { 1 } else { 0 }, "{name}");
        let end = p.images.last().map(|i| i.offset + i.len).unwrap();
        assert_eq!(end, rom.len(), "{name}: the ROM ends with the last image");

        // The PC-AT image sums to zero; its legacy size byte agrees.
        let pcat = &p.images[0];
        assert_eq!(sum(&rom[pcat.offset..pcat.offset + pcat.len]), 0, "{name}");
        assert_eq!(rom[pcat.offset + 2] as usize * BLOCK, pcat.len, "{name}");

        // BIT tokens: BIOSDATA v2 (28 bytes), falcon data v2 (4 bytes); pointers inside the
        // PC-AT image.
        let ids: Vec<u8> = p.tokens.iter().map(|t| t.id).collect();
        assert!(
            ids.contains(&b'B') && ids.contains(&b'p'),
            "{name}: {ids:?}"
        );
        for t in &p.tokens {
            assert!(
                t.pointer as usize + t.size as usize <= pcat.len,
                "{name}: {t:?}"
            );
        }
        let biosdata = p.tokens.iter().find(|t| t.id == b'B').unwrap();
        assert_eq!((biosdata.version, biosdata.size), (2, 28), "{name}");

        // Falcon Ucode Table and FWSEC.
        assert_eq!(rom[p.table + 1], 6, "{name}: table header size");
        match expected_version(chip) {
            None => {
                assert!(p.entries.is_empty(), "{name}: {:?}", p.entries);
                assert!(p.fwsec.is_none());
            }
            Some(version) => {
                let apps: BTreeSet<u8> = p.entries.iter().map(|e| e.0).collect();
                assert_eq!(apps, BTreeSet::from([0x45, 0x85]), "{name}");
                let f = p.fwsec.as_ref().unwrap();
                assert_eq!(f.version, version, "{name}");
                let debug = p.fwsec_debug.as_ref().unwrap().as_ref().unwrap();
                assert_eq!(debug.version, version, "{name}");
                assert_ne!(
                    rom[f.ucode..f.ucode + 64],
                    rom[debug.ucode..debug.ucode + 64],
                    "{name}: debug and production ucode differ"
                );
                // The descriptors live in the last NVIDIA image.
                let last = p.images.last().unwrap();
                assert!(f.ucode - f.desc_size >= last.offset, "{name}");
                if version == 3 {
                    assert!((2..=4).contains(&f.signatures.len()), "{name}");
                    assert_eq!(
                        f.signatures.len(),
                        f.signature_versions.count_ones() as usize
                    );
                    assert_eq!(f.engine_id_mask & 0x0400, 0x0400, "{name}: GSP");
                    assert!((1..=16).contains(&f.ucode_id), "{name}");
                    let distinct: BTreeSet<&Vec<u8>> = f.signatures.iter().collect();
                    assert_eq!(distinct.len(), f.signatures.len(), "{name}");
                    // The slot the signature is patched into is zero in the ROM.
                    let slot = f.ucode + f.imem as usize + f.pkc_data_offset as usize;
                    assert!(rom[slot..slot + 384].iter().all(|&b| b == 0), "{name}");
                } else {
                    assert!(f.signatures.is_empty());
                }
                assert!(f.imem > 0 && f.dmem > 0);
            }
        }
    }
}

#[test]
fn the_builder_reports_what_the_parser_finds() {
    for chip in CHIPS {
        let vbios = clean(chip);
        let info = vbios.info();
        let p = parse(vbios.bytes()).unwrap();
        let name = chip.name;
        assert_eq!(info.pci_rom_offset, p.pci_rom, "{name}");
        assert_eq!(info.bit_offset, p.bit_offset, "{name}");
        assert_eq!(info.falcon_table_offset, p.table, "{name}");
        let images: Vec<(usize, usize, u8)> = p
            .images
            .iter()
            .map(|i| (i.offset, i.len, i.code_type))
            .collect();
        let built: Vec<(usize, usize, u8)> = info
            .images
            .iter()
            .map(|i| (i.offset, i.len, i.code_type))
            .collect();
        assert_eq!(images, built, "{name}");
        match (&info.fwsec, &p.fwsec) {
            (None, None) => {}
            (Some(built), Some(parsed)) => {
                assert_eq!(built.ucode_offset, parsed.ucode, "{name}");
                assert_eq!(built.desc_size, parsed.desc_size, "{name}");
                assert_eq!(built.signature_versions, parsed.signature_versions);
                // The signature the drivers' selection picks on the simulated board.
                if let Some(fuse) = built.fuse_register_value() {
                    let index = select_signature(parsed, fuse);
                    assert_eq!(index, built.signature_index(), "{name}");
                    assert!(index.is_some_and(|i| i < parsed.signatures.len()));
                    // A fuse version the ROM has no signature for is refused.
                    let too_new = (u32::from(parsed.signature_versions) << 1) | 1;
                    assert_eq!(select_signature(parsed, too_new), None, "{name}");
                }
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

fn device(chip: &'static Chip, vbios: Vbios) -> (GpuDevice, Arc<Counters>) {
    let counters = Arc::new(Counters::default());
    let identity = Identity::of(chip);
    let dev = GpuDevice::with_vbios(
        chip,
        identity,
        chip.bar1_size,
        counters.clone(),
        None,
        vbios,
    )
    .unwrap();
    (dev, counters)
}

#[test]
fn the_prom_window_reads_the_image_byte_for_byte() {
    use std::sync::atomic::Ordering::Relaxed;
    for chip in CHIPS {
        let name = chip.name;
        let expected = clean(chip).bytes().to_vec();
        let (mut dev, counters) = device(chip, clean(chip));
        // What nova-core does: aligned 32-bit reads from NV_PROM_DATA.
        let mut read = Vec::with_capacity(expected.len());
        for offset in (0..expected.len() as u64).step_by(4) {
            let word = dev.mmio_read(PROM + offset, 4).unwrap() as u32;
            read.extend_from_slice(&word.to_le_bytes());
        }
        read.truncate(expected.len());
        assert_eq!(read, expected, "{name}");
        assert_eq!(counters.unimplemented_reads.load(Relaxed), 0, "{name}");

        // Byte, 16-bit and 64-bit reads at any alignment, through the region interface too.
        for offset in [0usize, 1, 3, 0x18, 0x61, 0x1ff, expected.len() - 3] {
            for size in [1usize, 2, 8] {
                let mut buf = [0u8; 8];
                dev.region_read(0, PROM + offset as u64, &mut buf[..size])
                    .unwrap();
                let want: Vec<u8> = (offset..offset + size)
                    .map(|i| expected.get(i).copied().unwrap_or(0xff))
                    .collect();
                assert_eq!(&buf[..size], &want[..], "{name} {offset:#x}/{size}");
            }
        }

        // Past the image: erased flash, up to the end of the 1 MiB window.
        for offset in [expected.len(), expected.len() + 0x1000, PROM_SIZE - 4] {
            let v = dev.mmio_read(PROM + offset as u64, 4).unwrap();
            assert_eq!(v, 0xffff_ffff, "{name} {offset:#x}");
        }
        assert_eq!(counters.violations.load(Relaxed), 0, "{name}");
        // Just past the window is no longer the PROM: no register there, a violation.
        let after = dev.mmio_read(PROM + PROM_SIZE as u64, 4).unwrap();
        assert_ne!(after, 0xffff_ffff, "{name}");
        assert_eq!(counters.violations.load(Relaxed), 1, "{name}");
    }
}

#[test]
fn writes_to_the_prom_window_are_violations_and_change_nothing() {
    use std::sync::atomic::Ordering::Relaxed;
    let chip = nova_sim::chips::find("ad102").unwrap();
    let (mut dev, counters) = device(chip, clean(chip));
    let before = dev.mmio_read(PROM, 4).unwrap();
    dev.mmio_write(PROM, 4, 0).unwrap();
    dev.region_write(0, PROM + 0x61, &[0x12, 0x34]).unwrap();
    dev.mmio_write(PROM + 0x2000, 1, 0).unwrap();
    assert_eq!(counters.violations.load(Relaxed), 3);
    assert_eq!(dev.mmio_read(PROM, 4).unwrap(), before);
    let rom = clean(chip);
    assert_eq!(dev.mmio_read(PROM + 0x60, 4).unwrap() as u32, {
        let b = &rom.bytes()[0x60..0x64];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    });
    // A reset does not change the ROM either.
    dev.reset().unwrap();
    assert_eq!(dev.mmio_read(PROM, 4).unwrap(), before);
}

/// Offsets at which two ROMs differ.
fn diff(a: &[u8], b: &[u8]) -> Vec<usize> {
    assert_eq!(a.len(), b.len());
    (0..a.len()).filter(|&i| a[i] != b[i]).collect()
}

#[test]
fn bad_signature_breaks_only_the_first_rom_signature() {
    for chip in CHIPS {
        let name = chip.name;
        let good = clean(chip);
        let bad = Vbios::build(chip, Corruption::BadSignatureAa55).unwrap();
        let start = pci_rom_start(good.bytes()).unwrap();
        assert_eq!(
            diff(good.bytes(), bad.bytes()),
            vec![start, start + 1],
            "{name}"
        );
        assert_eq!(rd16(bad.bytes(), start).unwrap(), 0x55aa, "{name}");
        let err = parse(bad.bytes()).unwrap_err();
        assert!(
            err.contains("signature") || err.contains("IFR"),
            "{name}: {err}"
        );
        // The image still sums to zero: only the signature is wrong.
        let len = good.info().images[0].len;
        assert_eq!(sum(&bad.bytes()[start..start + len]), 0, "{name}");
    }
}

#[test]
fn truncated_bit_loses_only_the_falcon_data_token() {
    for chip in CHIPS {
        let name = chip.name;
        let good = clean(chip);
        let bad = Vbios::build(chip, Corruption::TruncatedBit).unwrap();
        let p_good = parse(good.bytes()).unwrap();
        let bit = p_good.bit_offset;
        let changed = diff(good.bytes(), bad.bytes());
        assert!(!changed.is_empty(), "{name}");
        let pcat = &p_good.images[0];
        let biosdata =
            pcat.offset + p_good.tokens.iter().find(|t| t.id == b'B').unwrap().pointer as usize;
        for at in &changed {
            assert!(
                [bit + 10, bit + 11, biosdata + 5].contains(at),
                "{name}: {at:#x}"
            );
        }
        assert_eq!(bad.bytes()[bit + 10] + 1, good.bytes()[bit + 10], "{name}");

        // The chain and the BIT (its checksum included) are still valid; the PC-AT image still
        // sums to zero; the falcon data token is gone.
        let images = walk(bad.bytes(), p_good.pci_rom).unwrap();
        let pcat_bytes = &bad.bytes()[pcat.offset..pcat.offset + pcat.len];
        assert_eq!(sum(pcat_bytes), 0, "{name}");
        let (_, tokens) = parse_bit(pcat_bytes).unwrap();
        assert_eq!(images.len(), p_good.images.len(), "{name}");
        assert_eq!(tokens, p_good.tokens[..tokens.len()], "{name}");
        assert!(tokens.iter().all(|t| t.id != 0x70), "{name}");
        assert_eq!(
            parse(bad.bytes()).unwrap_err(),
            "no falcon data token",
            "{name}"
        );
    }
}

#[test]
fn bad_fwsec_desc_breaks_only_the_production_descriptor() {
    for chip in CHIPS {
        let name = chip.name;
        let good = clean(chip);
        let Some(version) = expected_version(chip) else {
            assert!(
                Vbios::build(chip, Corruption::BadFwsecDesc).is_err(),
                "{name}"
            );
            continue;
        };
        let bad = Vbios::build(chip, Corruption::BadFwsecDesc).unwrap();
        let p_good = parse(good.bytes()).unwrap();
        let desc = p_good.entries.iter().find(|e| e.0 == 0x85).unwrap().2;
        // IMEMLoadSize: word 6 of V2, word 5 of V3.
        let field = desc + if version == 2 { 0x18 } else { 0x14 };
        let changed = diff(good.bytes(), bad.bytes());
        assert!(!changed.is_empty(), "{name}");
        assert!(
            changed.iter().all(|&at| (field..field + 4).contains(&at)),
            "{name}: {changed:?}"
        );

        // Chain, BIT, table and the descriptor header are fine; the bounds are not.
        let rom = bad.bytes();
        let images = walk(rom, p_good.pci_rom).unwrap();
        let end = images.last().map(|i| i.offset + i.len).unwrap();
        assert_eq!((rd32(rom, desc).unwrap() >> 8) & 0xff, u32::from(version));
        let err = parse_fwsec(rom, desc, end).unwrap_err();
        assert!(
            err.contains("outside") || err.contains("past"),
            "{name}: {err}"
        );
        assert!(rd32(rom, field).unwrap() as usize > PROM_SIZE, "{name}");
        // The debug FWSEC is untouched and still valid.
        let debug = p_good.entries.iter().find(|e| e.0 == 0x45).unwrap().2;
        assert!(parse_fwsec(rom, debug, end).is_ok(), "{name}");
    }
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn vbios_dump_writes_the_rom_and_exits() {
    let dir = TempDir::new("vbios-dump");
    for (chip, kind) in [
        ("ad102", Corruption::None),
        ("tu117", Corruption::None),
        ("ga100", Corruption::None),
        ("gb202", Corruption::TruncatedBit),
        ("ga102", Corruption::BadFwsecDesc),
        ("gh100", Corruption::BadSignatureAa55),
    ] {
        let path = dir.path(&format!("{chip}-{kind}.rom"));
        let out = run(&[
            "--chip",
            chip,
            "--vbios-corrupt",
            kind.name(),
            "--vbios-dump",
            path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{chip}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
        let written = std::fs::read(&path).unwrap();
        let chip = nova_sim::chips::find(chip).unwrap();
        assert_eq!(
            written,
            Vbios::build(chip, kind).unwrap().bytes(),
            "{}",
            chip.name
        );
    }
    // Default chip, default corruption.
    let path = dir.path("default.rom");
    let out = run(&["--vbios-dump", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ad102 = nova_sim::chips::find("ad102").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), clean(ad102).bytes());
}

#[test]
fn impossible_vbios_requests_exit_2() {
    let dir = TempDir::new("vbios-bad");
    let path = dir.path("rom");
    let p = path.to_str().unwrap();
    let out = run(&[
        "--chip",
        "gv100",
        "--vbios-corrupt",
        "bad-fwsec-desc",
        "--vbios-dump",
        p,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no FWSEC descriptor"),
        "{}",
        stderr(&out)
    );
    assert!(!path.exists());
    let out = run(&["--vbios-corrupt", "scrambled", "--vbios-dump", p]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--vbios-corrupt: 'scrambled' is not one of none, "),
        "{}",
        stderr(&out)
    );
    let out = run(&["--vbios-dump", dir.path("no/such/dir").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot write the VBIOS"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_client_reads_the_dumped_rom_through_bar0_and_a_write_fails_strict_mode() {
    let dir = TempDir::new("vbios-e2e");
    let socket = dir.path("gpu.sock");
    let rom_path = dir.path("rom");
    let stats = dir.path("stats");
    let mut child = spawn_server(
        &socket,
        &[
            "--chip",
            "ga102",
            "--strict",
            "--vbios-corrupt",
            "truncated-bit",
            "--vbios-dump",
            rom_path.to_str().unwrap(),
            "--stats",
            stats.to_str().unwrap(),
        ],
    );
    let mut client = vfio_user::Client::new(&socket).unwrap();
    let dumped = std::fs::read(&rom_path).unwrap();
    let chip = nova_sim::chips::find("ga102").unwrap();
    assert_eq!(
        dumped,
        Vbios::build(chip, Corruption::TruncatedBit)
            .unwrap()
            .bytes()
    );
    let mut read = Vec::with_capacity(dumped.len());
    for offset in (0..dumped.len() as u64).step_by(4) {
        let mut buf = [0u8; 4];
        client.region_read(0, PROM + offset, &mut buf).unwrap();
        read.extend_from_slice(&buf);
    }
    read.truncate(dumped.len());
    assert_eq!(read, dumped);
    let mut buf = [0u8; 4];
    client
        .region_read(0, PROM + dumped.len() as u64, &mut buf)
        .unwrap();
    assert_eq!(buf, [0xff; 4]);
    // A write to the ROM is accepted by the transport but counted as a violation.
    client.region_write(0, PROM + 0x10, &[0; 4]).unwrap();
    drop(client);
    let status = wait_exit(&mut child);
    assert_eq!(status.code(), Some(3));
    let text = std::fs::read_to_string(&stats).unwrap();
    assert_eq!(value_of(&text, "violations").as_deref(), Some("1"));
    assert_eq!(value_of(&text, "unimplemented_reads").as_deref(), Some("0"));
}
