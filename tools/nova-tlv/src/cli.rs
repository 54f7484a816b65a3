// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Command-line parsing.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::chips::{Chipset, DEFAULT_VERSION};
use crate::error::Error;

/// The usage text printed by `--help`.
pub const USAGE: &str = "\
nova-tlv: convert NVIDIA's GSP firmware files, as Debian's firmware-nvidia-graphics ships
them (nvidia/<chip>/gsp/<name>-<version>.bin), into the TLV files nova-core requests
(nvidia/<chip>/gsp/<name>.tlv and gsp.bin).

Usage:
  nova-tlv convert --firmware-dir DIR --chip CHIP --out OUTDIR [--fw-version VER]
      Convert one chip's files.
  nova-tlv convert-all --firmware-dir DIR --out OUTDIR [--fw-version VER] [--no-symlinks]
      Convert every chip whose nvidia/<chip>/gsp/ under DIR holds files of VER. Chips that
      share a GSP-RM image get a relative symlink to the first one's gsp.bin unless
      --no-symlinks is given.
  nova-tlv verify FILE...
      Parse TLV files, print their tags and lengths, and check them against what nova-core
      reads (for the file names nova-core requests).
  nova-tlv chips
      List the chips and the files nova-core requests for each.
  nova-tlv --help | --version

DIR is a firmware directory such as /lib/firmware (the one holding nvidia/). OUTDIR gets
the same layout: OUTDIR/nvidia/<chip>/gsp/... VER defaults to 570.144. Nothing is written
unless every input converts; files are written under temporary names and renamed at the end.

Exit status: 0 success, 1 bad or missing input (or failed verification), 2 usage error.
";

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Convert one chip.
    Convert {
        /// The firmware directory (holding `nvidia/`).
        firmware_dir: PathBuf,
        /// The chip.
        chip: Chipset,
        /// The output directory.
        out: PathBuf,
        /// The GSP-RM version of the input files.
        version: String,
    },
    /// Convert every chip present.
    ConvertAll {
        /// The firmware directory (holding `nvidia/`).
        firmware_dir: PathBuf,
        /// The output directory.
        out: PathBuf,
        /// The GSP-RM version of the input files.
        version: String,
        /// Whether chips sharing a GSP-RM image get a symlink to one `gsp.bin`.
        symlinks: bool,
    },
    /// Verify TLV files.
    Verify {
        /// The files.
        files: Vec<PathBuf>,
    },
    /// List the chips.
    Chips,
    /// Print the usage.
    Help,
    /// Print the version.
    Version,
}

fn usage(why: impl Into<String>) -> Error {
    Error::Usage(why.into())
}

/// Options of the convert commands.
#[derive(Default)]
struct Options {
    firmware_dir: Option<PathBuf>,
    chip: Option<String>,
    out: Option<PathBuf>,
    version: Option<String>,
    no_symlinks: bool,
}

fn set<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), Error> {
    if slot.is_some() {
        return Err(usage(format!("{name} given twice")));
    }
    *slot = Some(value);
    Ok(())
}

/// Parses the options after a convert command; `all` for `convert-all`.
fn parse_options(args: Vec<OsString>, all: bool) -> Result<Options, Error> {
    let mut opts = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let text = arg
            .to_str()
            .ok_or_else(|| usage(format!("argument {arg:?} is not valid UTF-8")))?
            .to_string();
        let (name, inline) = match text.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(OsString::from(v))),
            _ => (text.clone(), None),
        };
        let mut value = |name: &str| -> Result<OsString, Error> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args
                    .next()
                    .ok_or_else(|| usage(format!("{name} needs a value"))),
            }
        };
        match name.as_str() {
            "--firmware-dir" => {
                let v = value(&name)?;
                set(&mut opts.firmware_dir, &name, PathBuf::from(v))?
            }
            "--out" => {
                let v = value(&name)?;
                set(&mut opts.out, &name, PathBuf::from(v))?
            }
            "--chip" if !all => {
                let v = value(&name)?;
                let v = v
                    .into_string()
                    .map_err(|_| usage("--chip value is not valid UTF-8"))?;
                set(&mut opts.chip, &name, v)?
            }
            "--fw-version" => {
                let v = value(&name)?;
                let v = v
                    .into_string()
                    .map_err(|_| usage("--fw-version value is not valid UTF-8"))?;
                set(&mut opts.version, &name, v)?
            }
            "--no-symlinks" if all && inline.is_none() => opts.no_symlinks = true,
            _ if name.starts_with('-') => {
                return Err(usage(format!(
                    "unknown option {name} for {}",
                    if all { "convert-all" } else { "convert" }
                )))
            }
            _ => return Err(usage(format!("unexpected argument {text}"))),
        }
    }
    Ok(opts)
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, Error> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.is_empty() {
        return Err(usage("no command given"));
    }
    let command = args.remove(0);
    let command = command
        .to_str()
        .ok_or_else(|| usage("the command is not valid UTF-8"))?;
    match command {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "-V" | "--version" => Ok(Command::Version),
        "chips" => {
            if let Some(extra) = args.first() {
                return Err(usage(format!("unexpected argument {extra:?} for chips")));
            }
            Ok(Command::Chips)
        }
        "verify" => {
            if args.is_empty() {
                return Err(usage("verify needs at least one file"));
            }
            if let Some(opt) = args
                .iter()
                .find(|a| a.to_str().is_some_and(|s| s.starts_with('-') && s != "-"))
            {
                return Err(usage(format!("unknown option {opt:?} for verify")));
            }
            Ok(Command::Verify {
                files: args.into_iter().map(PathBuf::from).collect(),
            })
        }
        "convert" | "convert-all" => {
            let all = command == "convert-all";
            let opts = parse_options(args, all)?;
            let firmware_dir = opts
                .firmware_dir
                .ok_or_else(|| usage(format!("{command} needs --firmware-dir DIR")))?;
            let out = opts
                .out
                .ok_or_else(|| usage(format!("{command} needs --out OUTDIR")))?;
            let version = opts.version.unwrap_or_else(|| DEFAULT_VERSION.to_string());
            if all {
                return Ok(Command::ConvertAll {
                    firmware_dir,
                    out,
                    version,
                    symlinks: !opts.no_symlinks,
                });
            }
            let name = opts
                .chip
                .ok_or_else(|| usage("convert needs --chip CHIP"))?;
            let chip = Chipset::from_name(&name).ok_or_else(|| {
                let known: Vec<&str> = Chipset::ALL.iter().map(|c| c.name()).collect();
                usage(format!(
                    "unknown chip \"{name}\" (nova-core supports {})",
                    known.join(", ")
                ))
            })?;
            Ok(Command::Convert {
                firmware_dir,
                chip,
                out,
                version,
            })
        }
        other => Err(usage(format!("unknown command \"{other}\""))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, Error> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn commands() {
        assert_eq!(
            p(&[
                "convert",
                "--firmware-dir",
                "/fw",
                "--chip",
                "AD102",
                "--out=/o"
            ])
            .unwrap(),
            Command::Convert {
                firmware_dir: "/fw".into(),
                chip: Chipset::AD102,
                out: "/o".into(),
                version: "570.144".into()
            }
        );
        assert_eq!(
            p(&[
                "convert-all",
                "--firmware-dir=/fw",
                "--out",
                "/o",
                "--fw-version",
                "580.1",
                "--no-symlinks"
            ])
            .unwrap(),
            Command::ConvertAll {
                firmware_dir: "/fw".into(),
                out: "/o".into(),
                version: "580.1".into(),
                symlinks: false
            }
        );
        assert_eq!(
            p(&["verify", "a.tlv", "b.tlv"]).unwrap(),
            Command::Verify {
                files: vec!["a.tlv".into(), "b.tlv".into()]
            }
        );
        assert_eq!(p(&["--help"]).unwrap(), Command::Help);
        assert_eq!(p(&["chips"]).unwrap(), Command::Chips);
    }

    #[test]
    fn usage_errors() {
        for args in [
            &[][..],
            &["frobnicate"],
            &["verify"],
            &["verify", "--strict", "x"],
            &["convert", "--firmware-dir", "/fw", "--out", "/o"],
            &[
                "convert",
                "--firmware-dir",
                "/fw",
                "--chip",
                "gv100",
                "--out",
                "/o",
            ],
            &["convert", "--firmware-dir", "/fw", "--chip", "tu102"],
            &["convert", "--chip", "tu102", "--out", "/o"],
            &["convert", "--firmware-dir"],
            &["convert", "--firmware-dir", "/a", "--firmware-dir", "/b"],
            &["convert", "--no-symlinks", "--firmware-dir", "/a"],
            &[
                "convert-all",
                "--firmware-dir",
                "/fw",
                "--out",
                "/o",
                "--chip",
                "tu102",
            ],
            &[
                "convert-all",
                "--firmware-dir",
                "/fw",
                "--out",
                "/o",
                "stray",
            ],
            &["chips", "x"],
        ] {
            let err = p(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}: {err}");
        }
        let err = p(&[
            "convert",
            "--firmware-dir",
            "/fw",
            "--chip",
            "gv100",
            "--out",
            "/o",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown chip \"gv100\""), "{err}");
        assert!(err.contains("tu102"), "{err}");
    }
}
