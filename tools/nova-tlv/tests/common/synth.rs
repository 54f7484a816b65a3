// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Synthetic firmware files in the layout of NVIDIA's 570.144 files, for tests.
//!
//! Shared by the unit tests (included with `#[path]`) and the integration tests. The layouts
//! mirror the real files (header offsets, field order), with small payloads.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

/// `SHT_PROGBITS`.
pub const SHT_PROGBITS: u32 = 1;
/// `SHT_STRTAB`.
pub const SHT_STRTAB: u32 = 3;
/// `SHT_NOTE`.
pub const SHT_NOTE: u32 = 7;

/// One section of a synthetic ELF file.
pub struct Sec<'a> {
    pub name: &'a str,
    pub ty: u32,
    pub flags: u64,
    pub info: u32,
    pub data: &'a [u8],
}

/// A `PROGBITS` section without flags.
pub fn sec<'a>(name: &'a str, data: &'a [u8]) -> Sec<'a> {
    Sec {
        name,
        ty: SHT_PROGBITS,
        flags: 0,
        info: 0,
        data,
    }
}

fn put(data: &mut [u8], off: usize, bytes: &[u8]) {
    data[off..off + bytes.len()].copy_from_slice(bytes);
}

/// Builds a little-endian ELF file: a null section, `secs`, then `.shstrtab`.
pub fn elf(class64: bool, secs: &[Sec<'_>]) -> Vec<u8> {
    let (ehsize, entsize) = if class64 { (64, 64) } else { (52, 40) };
    let mut names = vec![0u8];
    let mut name_offs = Vec::new();
    for s in secs {
        name_offs.push(names.len());
        names.extend_from_slice(s.name.as_bytes());
        names.push(0);
    }
    let shstrtab_name = names.len();
    names.extend_from_slice(b".shstrtab\0");

    let mut data = vec![0u8; ehsize];
    let mut placed = Vec::new();
    for s in secs {
        placed.push(data.len());
        data.extend_from_slice(s.data);
        while data.len() % 4 != 0 {
            data.push(0);
        }
    }
    let names_off = data.len();
    data.extend_from_slice(&names);
    while data.len() % 8 != 0 {
        data.push(0);
    }
    let shoff = data.len();
    let shnum = secs.len() + 2;
    data.resize(shoff + shnum * entsize, 0);
    let mut header =
        |idx: usize, name: usize, ty: u32, flags: u64, info: u32, off: usize, size: usize| {
            let b = shoff + idx * entsize;
            put(&mut data, b, &(name as u32).to_le_bytes());
            put(&mut data, b + 4, &ty.to_le_bytes());
            if class64 {
                put(&mut data, b + 8, &flags.to_le_bytes());
                put(&mut data, b + 24, &(off as u64).to_le_bytes());
                put(&mut data, b + 32, &(size as u64).to_le_bytes());
                put(&mut data, b + 44, &info.to_le_bytes());
            } else {
                put(&mut data, b + 8, &(flags as u32).to_le_bytes());
                put(&mut data, b + 16, &(off as u32).to_le_bytes());
                put(&mut data, b + 20, &(size as u32).to_le_bytes());
                put(&mut data, b + 28, &info.to_le_bytes());
            }
        };
    for (i, s) in secs.iter().enumerate() {
        header(
            i + 1,
            name_offs[i],
            s.ty,
            s.flags,
            s.info,
            placed[i],
            s.data.len(),
        );
    }
    header(
        shnum - 1,
        shstrtab_name,
        SHT_STRTAB,
        0,
        0,
        names_off,
        names.len(),
    );

    put(&mut data, 0, b"\x7fELF");
    data[5] = 1;
    data[6] = 1;
    if class64 {
        data[4] = 2;
        put(&mut data, 0x28, &(shoff as u64).to_le_bytes());
        put(&mut data, 0x3a, &(entsize as u16).to_le_bytes());
        put(&mut data, 0x3c, &(shnum as u16).to_le_bytes());
        put(&mut data, 0x3e, &((shnum - 1) as u16).to_le_bytes());
    } else {
        data[4] = 1;
        put(&mut data, 0x20, &(shoff as u32).to_le_bytes());
        put(&mut data, 0x2e, &(entsize as u16).to_le_bytes());
        put(&mut data, 0x30, &(shnum as u16).to_le_bytes());
        put(&mut data, 0x32, &((shnum - 1) as u16).to_le_bytes());
    }
    data
}

/// The offset of ELF64 section `index`'s header.
pub fn elf64_section_header(file: &[u8], index: usize) -> usize {
    let shoff = u64::from_le_bytes(file[0x28..0x30].try_into().unwrap()) as usize;
    shoff + index * 64
}

/// The families whose signatures are in NVIDIA's `gsp_tu10x.bin` ELF.
pub const TU_FAMILIES: &[&str] = &["ga100", "tu11x", "tu10x"];
/// The families whose signatures are in NVIDIA's `gsp_ga10x.bin` ELF.
pub const GA_FAMILIES: &[&str] = &["gb20x", "gb10x", "gh100", "ad10x", "ga10x"];

/// The signature section contents of `family` in the synthetic GSP files.
pub fn gsp_signature(family: &str) -> Vec<u8> {
    let seed = family.bytes().fold(0u8, |a, b| a.wrapping_add(b));
    (0..4096u32).map(|i| seed.wrapping_add(i as u8)).collect()
}

/// The `.fwimage` of the synthetic GSP file for `families`.
pub fn gsp_image(families: &[&str]) -> Vec<u8> {
    let seed = families.len() as u8;
    (0..8192u32).map(|i| (i as u8) ^ seed).collect()
}

/// A build-ID note with the 20-byte ID `01 02 .. 14`.
pub fn build_id_note() -> Vec<u8> {
    let mut n = Vec::new();
    n.extend_from_slice(&4u32.to_le_bytes());
    n.extend_from_slice(&20u32.to_le_bytes());
    n.extend_from_slice(&3u32.to_le_bytes());
    n.extend_from_slice(b"GNU\0");
    n.extend((1..=20u8).collect::<Vec<_>>());
    n
}

/// A GSP-RM ELF64 file like NVIDIA's, with `version` in `.fwversion` and the signature
/// sections of `families`.
pub fn gsp_elf(version: &str, families: &[&str]) -> Vec<u8> {
    let image = gsp_image(families);
    let note = build_id_note();
    let mut fwversion = version.as_bytes().to_vec();
    fwversion.push(0);
    let names: Vec<String> = families
        .iter()
        .map(|f| format!(".fwsignature_{f}"))
        .collect();
    let sigs: Vec<Vec<u8>> = families.iter().map(|f| gsp_signature(f)).collect();
    let mut secs = vec![
        Sec {
            name: ".fwimage",
            ty: SHT_PROGBITS,
            flags: 3,
            info: 0,
            data: &image,
        },
        Sec {
            name: ".note.gnu.build-id",
            ty: SHT_NOTE,
            flags: 0,
            info: 0,
            data: &note,
        },
        sec(".fwversion", &fwversion),
    ];
    for (n, s) in names.iter().zip(&sigs) {
        secs.push(sec(n, s));
    }
    elf(true, &secs)
}

/// Writes NVIDIA's binary header at the start of `file`.
pub fn bin_header(file: &mut [u8], header_offset: u32, data_offset: u32, data_size: u32) {
    let words = [
        0x10de,
        1,
        (file.len() as u32).next_multiple_of(256),
        header_offset,
        data_offset,
        data_size,
    ];
    for (i, w) in words.iter().enumerate() {
        put(file, i * 4, &w.to_le_bytes());
    }
}

/// A file with the binary header, the format header `desc` at 0x18 and a payload of
/// `payload_len` patterned bytes right after it.
pub fn bin_with_desc(desc: &[u32], payload_len: usize) -> Vec<u8> {
    let data_offset = 0x18 + desc.len() * 4;
    let mut f = vec![0u8; data_offset + payload_len];
    bin_header(&mut f, 0x18, data_offset as u32, payload_len as u32);
    for (i, w) in desc.iter().enumerate() {
        put(&mut f, 0x18 + i * 4, &w.to_le_bytes());
    }
    for (i, b) in f[data_offset..].iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    f
}

/// A RISC-V bootloader file like AD102's (`RM_RISCV_UCODE_DESC` version 5).
pub fn riscv_bootloader() -> Vec<u8> {
    // version, bootloader off/size, param off/size, ELF off/size, appVersion, manifest
    // off/size, monitor data off/size, monitor code off/size, bIsMonitorEnabled, swbrom code
    // and data off/size, fbReservedSize, bSignedAsCode: AD102's values, with an appVersion.
    let desc = [
        5, 0x8000, 0x880, 0x8880, 0x10, 0, 0, 0x1234, 0, 0x800, 0x800, 0x4000, 0x4800, 0x2900, 1,
        0, 0, 0, 0, 0x9000, 0,
    ];
    bin_with_desc(&desc, 0x9000)
}

/// A generic bootloader file like TU102's (`nvfw_bl_desc`).
pub fn gen_bootloader() -> Vec<u8> {
    bin_with_desc(&[253, 0, 0, 512, 512, 256], 0x300)
}

/// Parameters of a synthetic Booter file.
#[derive(Clone, Copy)]
pub struct Booter {
    pub num_sig: u32,
    pub sig_size: u32,
    pub patch_loc: u32,
    pub fuse: u32,
    pub engine: u32,
    pub ucode: u32,
    pub os_code: (u32, u32),
    pub os_data: (u32, u32),
    pub app0: (u32, u32),
    pub payload: u32,
}

impl Booter {
    /// AD102's booter_load, with a shorter payload.
    pub fn ad102() -> Self {
        Self {
            num_sig: 2,
            sig_size: 384,
            patch_loc: 0x1e10,
            fuse: 1,
            engine: 1,
            ucode: 3,
            os_code: (0, 0x100),
            os_data: (0x1e00, 0x800),
            app0: (0x100, 0x1d00),
            payload: 0x2600,
        }
    }

    /// TU102's booter_load (one 16-byte signature), with a shorter payload.
    pub fn tu102() -> Self {
        Self {
            num_sig: 1,
            sig_size: 16,
            patch_loc: 0x1e00,
            fuse: 0,
            engine: 1,
            ucode: 13,
            ..Self::ad102()
        }
    }

    /// The file. Signature `i` is filled with byte `0xa0 + i`.
    pub fn build(&self) -> Vec<u8> {
        let sigs_off = 0x3c_usize;
        let sigs_len = (self.num_sig * self.sig_size) as usize;
        let patch_loc_ptr = sigs_off + sigs_len;
        let patch_sig_ptr = patch_loc_ptr + 4;
        let meta_ptr = patch_sig_ptr + 4;
        let num_sig_ptr = meta_ptr + 12;
        let load_ptr = num_sig_ptr + 4;
        let data_offset = load_ptr + 36;
        let mut f = vec![0u8; data_offset + self.payload as usize];
        bin_header(&mut f, 0x18, data_offset as u32, self.payload);
        let hs = [
            sigs_off as u32,
            sigs_len as u32,
            patch_loc_ptr as u32,
            patch_sig_ptr as u32,
            meta_ptr as u32,
            12,
            num_sig_ptr as u32,
            load_ptr as u32,
            36,
        ];
        for (i, w) in hs.iter().enumerate() {
            put(&mut f, 0x18 + i * 4, &w.to_le_bytes());
        }
        for i in 0..self.num_sig {
            let start = sigs_off + (i * self.sig_size) as usize;
            f[start..start + self.sig_size as usize].fill(0xa0 + i as u8);
        }
        put(&mut f, patch_loc_ptr, &self.patch_loc.to_le_bytes());
        put(&mut f, patch_sig_ptr, &0u32.to_le_bytes());
        for (i, w) in [self.fuse, self.engine, self.ucode].iter().enumerate() {
            put(&mut f, meta_ptr + i * 4, &w.to_le_bytes());
        }
        put(&mut f, num_sig_ptr, &self.num_sig.to_le_bytes());
        let load = [
            self.os_code.0,
            self.os_code.1,
            self.os_data.0,
            self.os_data.1,
            1,
            self.app0.0,
            self.app0.1,
            self.app0.0,
            0,
        ];
        for (i, w) in load.iter().enumerate() {
            put(&mut f, load_ptr + i * 4, &w.to_le_bytes());
        }
        for (i, b) in f[data_offset..].iter_mut().enumerate() {
            *b = (i % 253) as u8;
        }
        f
    }
}

/// `SHF_MASKPROC | SHF_MASKOS | SHF_OS_NONCONFORMING | SHF_ALLOC`, the flags of the FMC's
/// sections.
pub const FMC_FLAGS: u64 = 0xf000_0000 | 0x0ff0_0000 | 0x100 | 0x2;

/// An FMC ELF32 file like NVIDIA's, with CRC-32s in `sh_info`. `crc` computes a CRC-32.
pub fn fmc_elf(sig_len: usize, pkey_len: usize, crc: fn(&[u8]) -> u32) -> Vec<u8> {
    let hash = vec![0x48u8; 48];
    let sig = vec![0x53u8; sig_len];
    let pkey = vec![0x50u8; pkey_len];
    let image: Vec<u8> = (0..3000u32).map(|i| (i % 256) as u8).collect();
    let s = |name, data| Sec {
        name,
        ty: SHT_PROGBITS,
        flags: FMC_FLAGS,
        info: crc(data),
        data,
    };
    elf(
        false,
        &[
            s("hash", &hash),
            s("signature", &sig),
            s("publickey", &pkey),
            s("image", &image),
        ],
    )
}

/// The architecture group of a chip name, for the synthetic tree.
fn group(chip: &str) -> &'static str {
    match chip {
        "tu102" | "tu104" | "tu106" | "tu116" | "tu117" | "ga100" => "tu",
        c if c.starts_with("ga") => "ga",
        c if c.starts_with("ad") => "ad",
        _ => "fsp",
    }
}

/// Writes a Debian-like tree for `chips` under `root` (a firmware directory): the two
/// GSP-RM ELF files once under `nvidia/shared/`, symlinked from each chip, like Debian's
/// `gsp-570.144.bin -> ../../ga102/gsp/gsp-570.144.bin`. `crc` computes a CRC-32.
pub fn debian_tree(root: &Path, chips: &[&str], crc: fn(&[u8]) -> u32) {
    let v = "570.144";
    let shared = root.join("nvidia/shared");
    fs::create_dir_all(&shared).unwrap();
    fs::write(shared.join("gsp-tu.bin"), gsp_elf(v, TU_FAMILIES)).unwrap();
    fs::write(shared.join("gsp-ga.bin"), gsp_elf(v, GA_FAMILIES)).unwrap();
    for chip in chips {
        let dir = root.join(format!("nvidia/{chip}/gsp"));
        fs::create_dir_all(&dir).unwrap();
        let g = group(chip);
        let target = if g == "tu" {
            "gsp-tu.bin"
        } else {
            "gsp-ga.bin"
        };
        symlink(
            format!("../../shared/{target}"),
            dir.join(format!("gsp-{v}.bin")),
        )
        .unwrap();
        let w = |name: &str, data: Vec<u8>| {
            fs::write(dir.join(format!("{name}-{v}.bin")), data).unwrap()
        };
        w("bootloader", riscv_bootloader());
        match g {
            "tu" => {
                w("booter_load", Booter::tu102().build());
                w("booter_unload", Booter::tu102().build());
                w("gen_bootloader", gen_bootloader());
            }
            "ga" | "ad" => {
                w("booter_load", Booter::ad102().build());
                w("booter_unload", Booter::ad102().build());
                if g == "ad" {
                    w("scrubber", Booter::ad102().build());
                }
            }
            _ => w("fmc", fmc_elf(384, 384, crc)),
        }
    }
}
