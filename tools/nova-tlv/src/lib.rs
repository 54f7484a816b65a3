// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! nova-tlv converts NVIDIA's GSP firmware files, as distributions ship them
//! (`nvidia/<chip>/gsp/<name>-<version>.bin`, Debian's `firmware-nvidia-graphics`), into the TLV
//! files nova-core requests (`nvidia/<chip>/gsp/<name>.tlv`, plus the GSP-RM image `gsp.bin`).
//!
//! The modules follow the data: [`binhdr`] and [`elf`] read NVIDIA's containers, [`convert`]
//! turns one input into one TLV, [`expect`] checks a TLV the way nova-core reads it, [`plan`]
//! converts a chip's whole file set in memory, and [`output`] writes it all or nothing.
//! `Documentation/gpu/nova/tlv-converter.rst` documents every field mapping and its source.

#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

use std::io::Write;

pub mod binhdr;
pub mod chips;
pub mod cli;
pub mod convert;
pub mod crc32;
pub mod elf;
pub mod error;
pub mod expect;
pub mod output;
pub mod plan;
pub mod tlv;
pub mod verify;

#[cfg(test)]
#[path = "../tests/common/synth.rs"]
#[allow(dead_code)]
mod synth;

use chips::Chipset;
use cli::Command;
use error::Error;
use output::Written;

/// Prints what was written.
fn report(out: &mut dyn Write, written: &[Written]) -> Result<(), Error> {
    let io_out = |e| Error::io("standard output", "write to", e);
    for w in written {
        match w {
            Written::File { path, size } => {
                writeln!(out, "wrote {} ({size} bytes)", path.display())
            }
            Written::Link { path, target } => {
                writeln!(out, "linked {} -> {}", path.display(), target.display())
            }
            Written::Shared { path, same_as } => writeln!(
                out,
                "kept {} (same file as {})",
                path.display(),
                same_as.display()
            ),
        }
        .map_err(io_out)?;
    }
    Ok(())
}

/// Runs `command`, writing its normal output to `out` and per-file failures of `verify` to
/// `err`.
pub fn run(command: Command, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let io_out = |e| Error::io("standard output", "write to", e);
    match command {
        Command::Help => out.write_all(cli::USAGE.as_bytes()).map_err(io_out),
        Command::Version => writeln!(out, "nova-tlv {}", env!("CARGO_PKG_VERSION")).map_err(io_out),
        Command::Chips => {
            for &chip in Chipset::ALL {
                writeln!(
                    out,
                    "{:<6} {}/{{{}}}  (signatures: {})",
                    chip.name(),
                    chip.gsp_dir(),
                    chip.output_files().join(","),
                    chip.signature_section()
                )
                .map_err(io_out)?;
            }
            Ok(())
        }
        Command::Convert {
            firmware_dir,
            chip,
            out: out_dir,
            version,
        } => {
            let mut converter = plan::Converter::new(&firmware_dir, &version)?;
            let plan = converter.plan_chip(chip)?;
            let written = output::write(&out_dir, &plan, false)?;
            report(out, &written)
        }
        Command::ConvertAll {
            firmware_dir,
            out: out_dir,
            version,
            symlinks,
        } => {
            let mut converter = plan::Converter::new(&firmware_dir, &version)?;
            let (present, skipped) = converter.present_chips()?;
            if present.is_empty() {
                return Err(Error::BadInput {
                    path: firmware_dir.join("nvidia"),
                    reason: format!(
                        "no nvidia/<chip>/gsp/ directory holds GSP-RM {version} files; install \
                         the Debian package {}",
                        chips::DEBIAN_PACKAGE
                    ),
                });
            }
            for chip in &skipped {
                writeln!(
                    out,
                    "skipping {chip}: no {version} files in {}",
                    chip.gsp_dir()
                )
                .map_err(io_out)?;
            }
            let mut plan = Vec::new();
            for &chip in &present {
                plan.extend(converter.plan_chip(chip)?);
            }
            let written = output::write(&out_dir, &plan, symlinks)?;
            report(out, &written)?;
            let names: Vec<&str> = present.iter().map(|c| c.name()).collect();
            writeln!(
                out,
                "converted {} chip(s): {}",
                present.len(),
                names.join(" ")
            )
            .map_err(io_out)
        }
        Command::Verify { files } => {
            let total = files.len();
            let mut failed = 0usize;
            for file in &files {
                if let Err(e) = verify::verify_path(file, out) {
                    failed = failed.saturating_add(1);
                    writeln!(err, "nova-tlv: error: {e}")
                        .map_err(|e| Error::io("standard error", "write to", e))?;
                }
            }
            if failed > 0 {
                return Err(Error::VerifyFailed { failed, total });
            }
            Ok(())
        }
    }
}
