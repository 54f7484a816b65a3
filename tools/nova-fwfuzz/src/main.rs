// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! nova-fwfuzz: writes damaged variants of Debian's GSP firmware files as patches.
//!
//! ```text
//! nova-fwfuzz --firmware-dir DIR --chips ga102,ad102 --seed N [--count N] --out DIR
//! nova-fwfuzz --firmware-dir DIR --chips ga102,ad102 --seed N --summary
//! ```
//!
//! `--out` gets `list` (one line per variant: `ID CHIP FILE TRUNCATE CLASS WHAT...`, with
//! TRUNCATE `-` or the length to cut the file to), and per variant `ID.patches` (lines
//! `OFFSET LENGTH`: the next LENGTH bytes of `ID.bin` go to OFFSET of the file) and `ID.bin`.
//! Without `--count` every variant is written. `--summary` prints the number of variants per
//! class instead.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nova_fwfuzz::{chip_variants, select, Variant, VERSION};

struct Args {
    firmware: PathBuf,
    chips: Vec<String>,
    seed: u64,
    count: Option<usize>,
    out: Option<PathBuf>,
    summary: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        firmware: PathBuf::new(),
        chips: Vec::new(),
        seed: 1,
        count: None,
        out: None,
        summary: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--firmware-dir" => a.firmware = PathBuf::from(value()?),
            "--chips" => a.chips = value()?.split(',').map(str::to_string).collect(),
            "--seed" => a.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--count" => a.count = Some(value()?.parse().map_err(|e| format!("--count: {e}"))?),
            "--out" => a.out = Some(PathBuf::from(value()?)),
            "--summary" => a.summary = true,
            "--help" | "-h" => {
                return Err(
                    "usage: nova-fwfuzz --firmware-dir DIR --chips C1,C2 --seed N \
                            [--count N] (--out DIR | --summary)"
                        .into(),
                )
            }
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    if a.firmware.as_os_str().is_empty() || a.chips.is_empty() {
        return Err("--firmware-dir and --chips are required".into());
    }
    if a.out.is_none() && !a.summary {
        return Err("give --out DIR or --summary".into());
    }
    Ok(a)
}

fn file_path(root: &Path, chip: &str, file: &str) -> PathBuf {
    root.join("nvidia")
        .join(chip)
        .join("gsp")
        .join(format!("{file}-{VERSION}.bin"))
}

fn variants(a: &Args) -> Result<Vec<Variant>, String> {
    let mut all = Vec::new();
    for chip in &a.chips {
        // The GSP-RM image is shared (AD10x link to GA102's): its structure is mutated for the
        // chip that holds the file itself, its signature for each chip.
        let gsp = file_path(&a.firmware, chip, "gsp");
        let own = fs::symlink_metadata(&gsp).is_ok_and(|m| !m.file_type().is_symlink());
        let mut read = |file: &str| fs::read(file_path(&a.firmware, chip, file)).ok();
        let mut v = chip_variants(chip, &mut read, a.seed, own).map_err(|e| e.to_string())?;
        if v.is_empty() {
            return Err(format!(
                "no firmware files for {chip} in {}",
                a.firmware.display()
            ));
        }
        all.append(&mut v);
    }
    Ok(all)
}

fn write(out: &Path, all: &[Variant], chosen: &[usize]) -> std::io::Result<()> {
    fs::create_dir_all(out)?;
    let mut list = fs::File::create(out.join("list"))?;
    for (id, &i) in chosen.iter().enumerate() {
        let v = &all[i];
        let trunc = v.truncate.map_or("-".to_string(), |t| t.to_string());
        writeln!(
            list,
            "{id} {} {} {trunc} {} {}",
            v.chip, v.file, v.class, v.what
        )?;
        let mut patches = String::new();
        let mut bin = Vec::new();
        for p in &v.patches {
            patches.push_str(&format!("{} {}\n", p.offset, p.bytes.len()));
            bin.extend_from_slice(&p.bytes);
        }
        fs::write(out.join(format!("{id}.patches")), patches)?;
        fs::write(out.join(format!("{id}.bin")), bin)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("nova-fwfuzz: {e}");
            return ExitCode::from(2);
        }
    };
    let all = match variants(&a) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("nova-fwfuzz: {e}");
            return ExitCode::FAILURE;
        }
    };
    let chosen = select(&all, a.seed, a.count);
    if a.summary {
        let mut by: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
        for &i in &chosen {
            *by.entry((all[i].chip.as_str(), all[i].file, all[i].class))
                .or_default() += 1;
        }
        for ((chip, file, class), n) in by {
            println!("{chip} {file} {class} {n}");
        }
        println!("total {} of {}", chosen.len(), all.len());
    }
    if let Some(out) = &a.out {
        if let Err(e) = write(out, &all, &chosen) {
            eprintln!("nova-fwfuzz: {}: {e}", out.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
