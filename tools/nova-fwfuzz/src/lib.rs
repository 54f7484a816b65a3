// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Damaged variants of NVIDIA's GSP firmware files, for nova-core's firmware fuzzer.
//!
//! For each chip it is given, the generator reads the files of Debian's
//! `firmware-nvidia-graphics` (`nvidia/<chip>/gsp/<file>-570.144.bin`) and enumerates a fixed
//! set of variants, each one kind of damage to one file:
//!
//! * `field`: one header field set to 0, 1, its maximum, or its value plus or minus one. The
//!   fields are those of NVIDIA's structures the files use: `nvfw_bin_hdr`, the HS header v2,
//!   the words it points at, the signature parameters and the HS load header (booter_load,
//!   booter_unload, scrubber), `RM_RISCV_UCODE_DESC` (bootloader), and the ELF header's
//!   section table fields and every section header's name, type, offset and size (gsp).
//! * `overlap`: a region moved onto another one (a section over another section, the ELF header
//!   or the section table; signatures, load header or parameters over the payload; the payload
//!   over the headers; an application over the data).
//! * `truncate`: the file cut at a structure's boundary.
//! * `flip-payload`, `flip-signature`: one byte inverted at a seeded position of the payload
//!   (the GSP-RM image) or of the signatures; `random-signature`, `random-header`: random bytes
//!   over a whole signature or over the headers.
//!
//! A variant is a list of patches to the intact file (and maybe a length to cut it to), so that
//! the 60 MiB GSP-RM image need not be stored once per variant: the guest applies them with
//! `dd`. [`select`] picks a subset by seed; the same seed always gives the same variants.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt;

/// The GSP-RM release whose files are mutated.
pub const VERSION: &str = "570.144";

/// One change to a file: `bytes` written at `offset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    /// Where in the file.
    pub offset: u64,
    /// What is written there.
    pub bytes: Vec<u8>,
}

/// One damaged file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    /// The chip whose file it is.
    pub chip: String,
    /// The file's base name (`gsp`, `booter_unload`, ...).
    pub file: &'static str,
    /// The kind of damage.
    pub class: &'static str,
    /// What was done, for the log.
    pub what: String,
    /// The length the file is cut to, if any (before the patches).
    pub truncate: Option<u64>,
    /// The changes.
    pub patches: Vec<Patch>,
}

impl Variant {
    /// Whether only the hardware can see the damage, and only when the GPU is stopped: the
    /// signed payload or the signatures of `booter_unload`. nova-core boots GSP-RM with such a
    /// file, SEC2 refuses it at unbind, and the GPU needs a reset; nova-core then keeps
    /// GSP-RM's memory (about 64 MiB) for good, as the GPU may still use it. [`select`] leaves
    /// these variants out of a subset.
    pub fn late(&self) -> bool {
        self.file == "booter_unload"
            && matches!(
                self.class,
                "flip-payload" | "flip-signature" | "random-signature"
            )
    }
}

impl Variant {
    /// Applies the variant to `intact`, as the guest does.
    pub fn apply(&self, intact: &[u8]) -> Vec<u8> {
        let mut out = intact.to_vec();
        if let Some(len) = self.truncate {
            out.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        }
        for p in &self.patches {
            let Ok(at) = usize::try_from(p.offset) else {
                continue;
            };
            let end = at.saturating_add(p.bytes.len()).min(out.len());
            if at < end {
                let n = end - at;
                out[at..end].copy_from_slice(&p.bytes[..n]);
            }
        }
        out
    }
}

/// Why a file could not be read as the format it should have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError(pub String);

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormatError {}

/// A small deterministic generator (SplitMix64), so that variants depend on the seed only.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

fn le(data: &[u8], at: usize, width: usize) -> Result<u64, FormatError> {
    let b = data
        .get(at..at.saturating_add(width))
        .filter(|b| b.len() == width)
        .ok_or_else(|| FormatError(format!("field at {at:#x} past the end")))?;
    Ok(b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

fn u32_at(data: &[u8], at: usize) -> Result<usize, FormatError> {
    le(data, at, 4).map(|v| v as usize)
}

fn encode(value: u64, width: usize) -> Vec<u8> {
    (0..width).map(|i| (value >> (8 * i)) as u8).collect()
}

/// A header field: its name, file offset and width in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Field {
    name: String,
    at: usize,
    width: usize,
}

fn field(name: impl Into<String>, at: usize, width: usize) -> Field {
    Field {
        name: name.into(),
        at,
        width,
    }
}

/// The variants of one file: the bookkeeping shared by the format-specific generators.
struct Builder<'a> {
    chip: &'a str,
    file: &'static str,
    data: &'a [u8],
    out: Vec<Variant>,
}

impl Builder<'_> {
    fn push(
        &mut self,
        class: &'static str,
        what: String,
        truncate: Option<u64>,
        patches: Vec<Patch>,
    ) {
        self.out.push(Variant {
            chip: self.chip.to_string(),
            file: self.file,
            class,
            what,
            truncate,
            patches,
        });
    }

    fn set(&mut self, class: &'static str, what: String, at: usize, value: u64, width: usize) {
        self.push(
            class,
            what,
            None,
            vec![Patch {
                offset: at as u64,
                bytes: encode(value, width),
            }],
        );
    }

    /// Sets each field to 0, 1, its maximum, and its value plus and minus one.
    fn fields(&mut self, fields: &[Field]) -> Result<(), FormatError> {
        for f in fields {
            let orig = le(self.data, f.at, f.width)?;
            let max = if f.width >= 8 {
                u64::MAX
            } else {
                (1u64 << (8 * f.width)) - 1
            };
            for (label, v) in [
                ("0", 0),
                ("1", 1),
                ("max", max),
                ("+1", orig.wrapping_add(1) & max),
                ("-1", orig.wrapping_sub(1) & max),
            ] {
                if v == orig {
                    continue;
                }
                self.set(
                    "field",
                    format!("{} = {v:#x} ({label}; was {orig:#x})", f.name),
                    f.at,
                    v,
                    f.width,
                );
            }
        }
        Ok(())
    }

    fn truncations(&mut self, lengths: &[(&str, usize)]) {
        for &(label, len) in lengths {
            if len < self.data.len() {
                self.push(
                    "truncate",
                    format!("cut to {len:#x} bytes ({label})"),
                    Some(len as u64),
                    Vec::new(),
                );
            }
        }
    }

    /// `n` single-byte inversions at seeded positions of `range`.
    fn flips(
        &mut self,
        class: &'static str,
        label: &str,
        range: std::ops::Range<usize>,
        n: usize,
        rng: &mut Rng,
    ) {
        if range.is_empty() {
            return;
        }
        for _ in 0..n {
            let at = range.start + rng.below(range.len() as u64) as usize;
            let b = self.data.get(at).copied().unwrap_or(0);
            self.push(
                class,
                format!("byte {at:#x} of the {label} inverted"),
                None,
                vec![Patch {
                    offset: at as u64,
                    bytes: vec![!b],
                }],
            );
        }
    }

    fn random_over(
        &mut self,
        class: &'static str,
        label: &str,
        range: std::ops::Range<usize>,
        rng: &mut Rng,
    ) {
        if range.is_empty() {
            return;
        }
        self.push(
            class,
            format!(
                "random bytes over the {label} ({:#x}..{:#x})",
                range.start, range.end
            ),
            None,
            vec![Patch {
                offset: range.start as u64,
                bytes: rng.bytes(range.len()),
            }],
        );
    }
}

/// Offsets of the binary header's words.
fn bin_fields() -> Vec<Field> {
    [
        "bin_magic",
        "bin_ver",
        "bin_size",
        "header_offset",
        "data_offset",
        "data_size",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| field(*n, i * 4, 4))
    .collect()
}

/// Variants of a heavy-secure image (booter_load, booter_unload, scrubber).
fn hs_variants(b: &mut Builder<'_>, rng: &mut Rng) -> Result<(), FormatError> {
    let d = b.data;
    let hs = u32_at(d, 12)?;
    let data_offset = u32_at(d, 16)?;
    let data_size = u32_at(d, 20)?;
    const HS: [&str; 9] = [
        "sig_prod_offset",
        "sig_prod_size",
        "patch_loc",
        "patch_sig",
        "meta_data_offset",
        "meta_data_size",
        "num_sig",
        "header_offset",
        "header_size",
    ];
    let hs_word = |i: usize| u32_at(d, hs + 4 * i);
    let sig_offset = hs_word(0)?;
    let sig_size = hs_word(1)?;
    let patch_loc_at = hs_word(2)?;
    let patch_sig_at = hs_word(3)?;
    let meta = hs_word(4)?;
    let num_sig_at = hs_word(6)?;
    let load = hs_word(7)?;
    let count = u32_at(d, num_sig_at)?.max(1);

    let mut fields = bin_fields();
    fields.extend(
        HS.iter()
            .enumerate()
            .map(|(i, n)| field(format!("HS {n}"), hs + 4 * i, 4)),
    );
    fields.push(field(
        "*patch_loc (signature patch location)",
        patch_loc_at,
        4,
    ));
    fields.push(field(
        "*patch_sig (signature offset adjustment)",
        patch_sig_at,
        4,
    ));
    fields.push(field("*num_sig (signature count)", num_sig_at, 4));
    for (i, n) in ["fuse_ver", "engine_id_mask", "ucode_id"]
        .iter()
        .enumerate()
    {
        fields.push(field(*n, meta + 4 * i, 4));
    }
    for (i, n) in [
        "os_code_offset",
        "os_code_size",
        "os_data_offset",
        "os_data_size",
        "num_apps",
        "app0_offset",
        "app0_size",
    ]
    .iter()
    .enumerate()
    {
        fields.push(field(*n, load + 4 * i, 4));
    }
    b.fields(&fields)?;

    // Regions moved onto others.
    let os_data = u32_at(d, load + 8)? as u64;
    let app0 = u32_at(d, load + 20)? as u64;
    for (what, at, value) in [
        ("signatures moved into the payload", hs, data_offset as u64),
        ("signatures moved onto the binary header", hs, 0),
        ("signatures moved onto the load header", hs, load as u64),
        (
            "load header moved onto the signatures",
            hs + 28,
            sig_offset as u64,
        ),
        (
            "signature parameters moved onto the signatures",
            hs + 16,
            sig_offset as u64,
        ),
        ("payload moved onto the headers", 16, hs as u64),
        ("payload moved onto the signatures", 16, sig_offset as u64),
        ("application 0 moved onto the data", load + 20, os_data),
        ("data moved onto application 0", load + 8, app0),
        ("signature patched into application 0", patch_loc_at, app0),
    ] {
        b.set("overlap", what.to_string(), at, value, 4);
    }
    b.truncations(&[
        ("empty", 0),
        ("one byte", 1),
        ("inside the binary header", 23),
        ("after the binary header", 24),
        ("inside the HS header", hs + 8),
        ("before the signatures end", sig_offset + sig_size - 1),
        ("before the payload", data_offset),
        ("half the payload", data_offset + data_size / 2),
        ("one byte short", d.len() - 1),
    ]);
    b.flips(
        "flip-payload",
        "payload",
        data_offset..data_offset + data_size,
        12,
        rng,
    );
    b.flips(
        "flip-signature",
        "signatures",
        sig_offset..sig_offset + sig_size,
        6,
        rng,
    );
    let one = sig_size / count;
    for i in 0..count {
        b.random_over(
            "random-signature",
            &format!("signature {i}"),
            sig_offset + i * one..sig_offset + (i + 1) * one,
            rng,
        );
    }
    b.random_over("random-header", "HS header", hs..hs + 36, rng);
    b.random_over("random-header", "load header", load..load + 28, rng);
    b.random_over("random-header", "headers", 0..data_offset, rng);
    Ok(())
}

/// Variants of the RISC-V bootloader.
fn bootloader_variants(b: &mut Builder<'_>, rng: &mut Rng) -> Result<(), FormatError> {
    let d = b.data;
    let hdr = u32_at(d, 12)?;
    let data_offset = u32_at(d, 16)?;
    let data_size = u32_at(d, 20)?;
    const DESC: [&str; 15] = [
        "version",
        "bootloaderOffset",
        "bootloaderSize",
        "bootloaderParamOffset",
        "bootloaderParamSize",
        "riscvElfOffset",
        "riscvElfSize",
        "appVersion",
        "manifestOffset",
        "manifestSize",
        "monitorDataOffset",
        "monitorDataSize",
        "monitorCodeOffset",
        "monitorCodeSize",
        "bIsMonitorEnabled",
    ];
    let mut fields = bin_fields();
    fields.extend(
        DESC.iter()
            .enumerate()
            .map(|(i, n)| field(*n, hdr + 4 * i, 4)),
    );
    b.fields(&fields)?;
    let w = |i: usize| u32_at(d, hdr + 4 * i).map(|v| v as u64);
    for (what, at, value) in [
        ("monitor code moved onto its data", hdr + 48, w(10)?),
        ("monitor data moved onto the manifest", hdr + 40, w(8)?),
        ("bootloader moved onto the monitor code", hdr + 4, w(12)?),
        ("payload moved onto the descriptor", 16, hdr as u64),
    ] {
        b.set("overlap", what.to_string(), at, value, 4);
    }
    b.truncations(&[
        ("empty", 0),
        ("inside the binary header", 23),
        ("inside the descriptor", hdr + 20),
        ("before the payload", data_offset),
        ("half the payload", data_offset + data_size / 2),
        ("one byte short", d.len() - 1),
    ]);
    b.flips(
        "flip-payload",
        "payload",
        data_offset..data_offset + data_size,
        12,
        rng,
    );
    b.random_over("random-header", "descriptor", hdr..hdr + 60, rng);
    Ok(())
}

/// An ELF64 section as the generator sees it.
struct Section {
    name: String,
    header: usize,
    offset: u64,
    size: u64,
}

fn elf64_sections(d: &[u8]) -> Result<(u64, Vec<Section>), FormatError> {
    if d.get(..4) != Some(b"\x7fELF") || d.get(4) != Some(&2) {
        return Err(FormatError("not an ELF64 object".into()));
    }
    let shoff = le(d, 0x28, 8)?;
    let shnum = le(d, 0x3c, 2)? as usize;
    let shstrndx = le(d, 0x3e, 2)? as usize;
    let base = usize::try_from(shoff).map_err(|_| FormatError("e_shoff".into()))?;
    let mut raw = Vec::new();
    for i in 0..shnum {
        let h = base + i * 0x40;
        raw.push((
            h,
            le(d, h, 4)? as usize,
            le(d, h + 0x18, 8)?,
            le(d, h + 0x20, 8)?,
        ));
    }
    let strtab = raw
        .get(shstrndx)
        .map(|s| s.2 as usize)
        .ok_or_else(|| FormatError("e_shstrndx".into()))?;
    let mut out = Vec::new();
    for (header, name, offset, size) in raw {
        let start = strtab + name;
        let end = d
            .get(start..)
            .and_then(|r| r.iter().position(|&c| c == 0))
            .map(|p| start + p)
            .ok_or_else(|| FormatError("section name".into()))?;
        out.push(Section {
            name: String::from_utf8_lossy(&d[start..end]).into_owned(),
            header,
            offset,
            size,
        });
    }
    Ok((shoff, out))
}

/// The signature section of `chip`'s family.
fn signature_section(chip: &str) -> &'static str {
    if chip.starts_with("ad") {
        ".fwsignature_ad10x"
    } else if chip == "ga100" {
        ".fwsignature_ga100"
    } else if chip.starts_with("ga") {
        ".fwsignature_ga10x"
    } else if chip == "tu116" || chip == "tu117" {
        ".fwsignature_tu11x"
    } else {
        ".fwsignature_tu10x"
    }
}

/// Variants of the GSP-RM image. `structure` adds the header, overlap and truncation
/// variants (the file is shared between chips: those are made for one of them only).
fn gsp_variants(b: &mut Builder<'_>, rng: &mut Rng, structure: bool) -> Result<(), FormatError> {
    let d = b.data;
    let (shoff, sections) = elf64_sections(d)?;
    let sig_name = signature_section(b.chip);
    let find = |n: &str| sections.iter().find(|s| s.name == n);
    let image = find(".fwimage").ok_or_else(|| FormatError("no .fwimage".into()))?;
    let sig = find(sig_name).ok_or_else(|| FormatError(format!("no {sig_name}")))?;
    let (image_range, sig_range) = (
        image.offset as usize..(image.offset + image.size) as usize,
        sig.offset as usize..(sig.offset + sig.size) as usize,
    );
    if structure {
        let mut fields = vec![
            field("e_shoff", 0x28, 8),
            field("e_shentsize", 0x3a, 2),
            field("e_shnum", 0x3c, 2),
            field("e_shstrndx", 0x3e, 2),
        ];
        for s in &sections {
            let n = if s.name.is_empty() { "(null)" } else { &s.name };
            fields.push(field(format!("{n} sh_name"), s.header, 4));
            fields.push(field(format!("{n} sh_type"), s.header + 4, 4));
            fields.push(field(format!("{n} sh_offset"), s.header + 0x18, 8));
            fields.push(field(format!("{n} sh_size"), s.header + 0x20, 8));
        }
        b.fields(&fields)?;
        b.truncations(&[
            ("empty", 0),
            ("inside the ELF header", 0x3f),
            ("after the ELF header", 0x40),
            ("half the image", (image.offset + image.size / 2) as usize),
            ("at the section table", shoff as usize),
            ("inside the section table", shoff as usize + 0x100),
            ("one byte short", d.len() - 1),
        ]);
        b.set(
            "overlap",
            "section table moved onto .fwimage".into(),
            0x28,
            image.offset,
            8,
        );
        b.set(
            "overlap",
            "section table moved onto the ELF header".into(),
            0x28,
            0,
            8,
        );
    }
    // Sections moved onto each other: the chip's signature and the sections it reads.
    let used = [".fwimage", ".fwversion", sig_name, ".shstrtab"];
    for a in used.iter().filter_map(|n| find(n)) {
        let touches_sig = a.name == sig_name;
        for other in used
            .iter()
            .filter_map(|n| find(n))
            .filter(|o| o.name != a.name)
        {
            if !structure && !touches_sig && other.name != sig_name {
                continue;
            }
            b.set(
                "overlap",
                format!("{} moved onto {}", a.name, other.name),
                a.header + 0x18,
                other.offset,
                8,
            );
            b.push(
                "overlap",
                format!("{} laid over {}, as large", a.name, other.name),
                None,
                vec![
                    Patch {
                        offset: (a.header + 0x18) as u64,
                        bytes: encode(other.offset, 8),
                    },
                    Patch {
                        offset: (a.header + 0x20) as u64,
                        bytes: encode(other.size, 8),
                    },
                ],
            );
        }
        if touches_sig || structure {
            b.set(
                "overlap",
                format!("{} moved onto the ELF header", a.name),
                a.header + 0x18,
                0,
                8,
            );
            b.set(
                "overlap",
                format!("{} moved onto the section table", a.name),
                a.header + 0x18,
                shoff,
                8,
            );
        }
    }
    if structure {
        b.flips("flip-payload", "GSP-RM image", image_range, 12, rng);
    }
    b.flips(
        "flip-signature",
        &format!("{sig_name} section"),
        sig_range.clone(),
        6,
        rng,
    );
    b.random_over(
        "random-signature",
        &format!("{sig_name} section"),
        sig_range,
        rng,
    );
    Ok(())
}

/// The files of `chip` the generator mutates, with the variants of each, from the files in
/// `read(name)` (the intact file called `<name>-570.144.bin`). `gsp_structure` adds the GSP-RM
/// image's structural variants for this chip.
pub fn chip_variants(
    chip: &str,
    read: &mut dyn FnMut(&str) -> Option<Vec<u8>>,
    seed: u64,
    gsp_structure: bool,
) -> Result<Vec<Variant>, FormatError> {
    let mut out = Vec::new();
    for file in [
        "booter_load",
        "booter_unload",
        "scrubber",
        "bootloader",
        "gsp",
    ] {
        let Some(data) = read(file) else {
            continue;
        };
        // Each file has its own stream, so adding a file does not move another's variants.
        let mut rng = Rng::new(seed ^ fnv(chip) ^ fnv(file).rotate_left(17));
        let mut b = Builder {
            chip,
            file,
            data: &data,
            out: Vec::new(),
        };
        let r = match file {
            "bootloader" => bootloader_variants(&mut b, &mut rng),
            "gsp" => gsp_variants(&mut b, &mut rng, gsp_structure),
            _ => hs_variants(&mut b, &mut rng),
        };
        r.map_err(|e| FormatError(format!("{chip} {file}: {e}")))?;
        out.append(&mut b.out);
    }
    Ok(out)
}

/// FNV-1a of `s`, to derive per-file seeds.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Picks `count` of `all` by `seed` (all of them if `count` is `None`), keeping their order;
/// every (chip, file, class) stays represented when `count` is large enough. A subset leaves
/// out the [`Variant::late`] ones.
pub fn select(all: &[Variant], seed: u64, count: Option<usize>) -> Vec<usize> {
    let n = all.len();
    let Some(count) = count else {
        return (0..n).collect();
    };
    let mut rng = Rng::new(seed);
    let mut chosen = vec![false; n];
    // One of each (chip, file, class) first, then the rest at random.
    let mut seen: Vec<(&str, &str, &str)> = Vec::new();
    let mut picked = 0;
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    order.retain(|&i| !all[i].late());
    for &i in &order {
        let key = (all[i].chip.as_str(), all[i].file, all[i].class);
        if picked < count && !seen.contains(&key) {
            seen.push(key);
            chosen[i] = true;
            picked += 1;
        }
    }
    for &i in &order {
        if picked >= count {
            break;
        }
        if !chosen[i] {
            chosen[i] = true;
            picked += 1;
        }
    }
    (0..n).filter(|&i| chosen[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small booter-like file in the layout of Debian's (see nova-core `firmware/hs.rs`).
    fn hs_file() -> Vec<u8> {
        let mut f = vec![0u8; 0x600];
        let mut put = |at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_le_bytes());
        for (i, v) in [0x10de, 1, 0x600, 0x18, 0x200, 0x400]
            .into_iter()
            .enumerate()
        {
            put(i * 4, v);
        }
        for (i, v) in [0x40, 0x20, 0x80, 0x84, 0x90, 12, 0x88, 0xa0, 0x1c]
            .into_iter()
            .enumerate()
        {
            put(0x18 + i * 4, v);
        }
        for (at, v) in [
            (0x80, 0x310),
            (0x84, 0),
            (0x88, 2),
            (0x90, 5),
            (0x94, 1),
            (0x98, 3),
        ] {
            put(at, v);
        }
        for (i, v) in [0, 0x100, 0x300, 0x100, 1, 0x100, 0x200]
            .into_iter()
            .enumerate()
        {
            put(0xa0 + i * 4, v);
        }
        f
    }

    #[test]
    fn variants_are_deterministic_and_change_the_file() {
        let f = hs_file();
        let mut read = |n: &str| (n == "booter_unload").then(|| f.clone());
        let a = chip_variants("ad102", &mut read, 7, true).unwrap_or_default();
        let b = chip_variants("ad102", &mut read, 7, true).unwrap_or_default();
        assert!(a.len() > 150, "{}", a.len());
        assert_eq!(a, b);
        for v in &a {
            assert_ne!(v.apply(&f), f, "{} did nothing", v.what);
        }
        let classes: Vec<_> = a.iter().map(|v| v.class).collect();
        for c in [
            "field",
            "overlap",
            "truncate",
            "flip-payload",
            "flip-signature",
            "random-signature",
            "random-header",
        ] {
            assert!(classes.contains(&c), "no {c}");
        }
        // Another seed moves the random positions, not the structural variants.
        let c = chip_variants("ad102", &mut read, 8, true).unwrap_or_default();
        assert_eq!(a.len(), c.len());
        assert_ne!(a, c);
        assert_eq!(a[0], c[0]);
    }

    #[test]
    fn selection_is_seeded_and_covers_every_class() {
        let f = hs_file();
        let mut read = |n: &str| (n == "booter_load").then(|| f.clone());
        let all = chip_variants("ga102", &mut read, 1, true).unwrap_or_default();
        let s1 = select(&all, 3, Some(20));
        assert_eq!(s1.len(), 20);
        assert_eq!(s1, select(&all, 3, Some(20)));
        assert_ne!(s1, select(&all, 4, Some(20)));
        let classes: std::collections::BTreeSet<_> = s1.iter().map(|&i| all[i].class).collect();
        assert_eq!(classes.len(), 7);
        assert!(s1.iter().all(|&i| !all[i].late()));
        assert_eq!(select(&all, 3, None).len(), all.len());
    }

    #[test]
    fn field_values_are_the_edges() {
        let f = hs_file();
        let mut read = |n: &str| (n == "scrubber").then(|| f.clone());
        let all = chip_variants("ad102", &mut read, 1, true).unwrap_or_default();
        let data_offset: Vec<_> = all
            .iter()
            .filter(|v| v.what.starts_with("data_offset = "))
            .map(|v| u32::from_le_bytes(v.apply(&f)[16..20].try_into().unwrap_or([0; 4])))
            .collect();
        assert_eq!(data_offset, [0, 1, u32::MAX, 0x201, 0x1ff]);
    }
}
