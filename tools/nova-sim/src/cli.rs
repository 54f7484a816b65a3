// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Command-line parsing and the informational outputs (`--list-chips`, `--describe`).

use std::ffi::OsString;
use std::fmt::{self, Write as _};
use std::path::PathBuf;

use log::LevelFilter;

use crate::bar0::{Identity, BAR0_SIZE};
use crate::chips::{self, Architecture, Chip, CHIPS, NVIDIA_VENDOR_ID};
use crate::device::BAR3_SIZE;

/// The usage text printed by `--help`.
pub const USAGE: &str = "\
Usage: nova-sim [OPTIONS] --socket PATH
       nova-sim [--chip NAME] [--boot0 HEX] [--boot42 HEX] --describe
       nova-sim --list-chips

Serve a simulated NVIDIA GPU to QEMU's vfio-user-pci device.

Options:
  --chip NAME        chip to simulate (default: ad102; see --list-chips)
  --socket PATH      UNIX socket to listen on (a stale socket there is removed)
  --trace FILE       log every BAR0 access to FILE ('-' for stderr)
  --boot0 HEX        override NV_PMC_BOOT_0
  --boot42 HEX       override NV_PMC_BOOT_42
  --stats FILE       write counters as key=value lines to FILE on exit
  --strict           exit with status 3 if any violation was counted
  --log-level LEVEL  error, warn, info (default), debug or trace
                     (the NOVA_SIM_LOG environment variable sets the default)
  --list-chips       print 'name arch chipset boot0 boot42 pci-id' per chip
  --describe         print the selected chip as key=value lines
  -h, --help         print this help
  -V, --version      print the version

Exit status: 0 on a clean exit (client disconnected, SIGTERM or SIGINT), 1 on a runtime
error, 2 on a usage error, 3 with --strict when violations were counted.
";

/// Where the MMIO trace goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceTarget {
    /// Standard error.
    Stderr,
    /// A file, created or truncated.
    File(PathBuf),
}

/// Options shared by serving and `--describe`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The chip to simulate.
    pub chip: &'static Chip,
    /// The socket to serve on.
    pub socket: Option<PathBuf>,
    /// The MMIO trace target.
    pub trace: Option<TraceTarget>,
    /// `NV_PMC_BOOT_0` override.
    pub boot0: Option<u32>,
    /// `NV_PMC_BOOT_42` override.
    pub boot42: Option<u32>,
    /// Where to write the counters on exit.
    pub stats: Option<PathBuf>,
    /// Fail at exit if violations were counted.
    pub strict: bool,
    /// Log verbosity.
    pub log_level: LevelFilter,
}

impl Options {
    /// The identity registers to report: the chip's, with overrides applied.
    pub fn identity(&self) -> Identity {
        Identity {
            boot0: self.boot0.unwrap_or(self.chip.boot0),
            boot42: self.boot42.unwrap_or(self.chip.boot42),
        }
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Print the usage text.
    Help,
    /// Print the version.
    Version,
    /// Print the chip table.
    ListChips,
    /// Print the selected chip.
    Describe(Options),
    /// Serve the device; `socket` is set.
    Serve(Options),
}

/// A command line that cannot be run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage<T>(message: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(message.into()))
}

fn parse_hex_u32(option: &str, text: &str) -> Result<u32, UsageError> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if digits.is_empty() || digits.len() > 8 {
        return usage(format!(
            "{option}: '{text}' is not a 32-bit hexadecimal value"
        ));
    }
    u32::from_str_radix(digits, 16).or_else(|_| {
        usage(format!(
            "{option}: '{text}' is not a 32-bit hexadecimal value"
        ))
    })
}

fn parse_level(text: &str) -> Result<LevelFilter, UsageError> {
    match text.to_ascii_lowercase().as_str() {
        "off" => Ok(LevelFilter::Off),
        "error" => Ok(LevelFilter::Error),
        "warn" | "warning" => Ok(LevelFilter::Warn),
        "info" => Ok(LevelFilter::Info),
        "debug" => Ok(LevelFilter::Debug),
        "trace" => Ok(LevelFilter::Trace),
        _ => usage(format!(
            "--log-level: '{text}' is not one of off, error, warn, info, debug, trace"
        )),
    }
}

/// Options that take a value.
const VALUE_OPTIONS: &[&str] = &[
    "--chip",
    "--socket",
    "--trace",
    "--boot0",
    "--boot42",
    "--stats",
    "--log-level",
];

/// Parses the arguments (without the program name). `default_log` is the log level when
/// `--log-level` is absent (from the environment, typically).
pub fn parse<I>(args: I, default_log: Option<&str>) -> Result<Action, UsageError>
where
    I: IntoIterator<Item = OsString>,
{
    let mut chip_name: Option<String> = None;
    let mut socket = None;
    let mut trace = None;
    let mut boot0 = None;
    let mut boot42 = None;
    let mut stats = None;
    let mut strict = false;
    let mut log_level = None;
    let mut list = false;
    let mut describe = false;
    let mut help = false;
    let mut version = false;

    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let Some(text) = arg.to_str() else {
            return usage(format!("invalid (non-UTF-8) argument {arg:?}"));
        };
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(OsString::from(value))),
            _ => (text, None),
        };
        if VALUE_OPTIONS.contains(&name) {
            let value = match inline.or_else(|| args.next()) {
                Some(value) => value,
                None => return usage(format!("{name} needs a value")),
            };
            let value_str = || {
                value
                    .to_str()
                    .map(str::to_string)
                    .ok_or_else(|| UsageError(format!("{name}: invalid (non-UTF-8) value")))
            };
            match name {
                "--chip" => chip_name = Some(value_str()?),
                "--socket" => {
                    if value.is_empty() {
                        return usage("--socket: empty path");
                    }
                    socket = Some(PathBuf::from(value))
                }
                "--trace" => {
                    trace = Some(if value == "-" {
                        TraceTarget::Stderr
                    } else if value.is_empty() {
                        return usage("--trace: empty path");
                    } else {
                        TraceTarget::File(PathBuf::from(value))
                    })
                }
                "--boot0" => boot0 = Some(parse_hex_u32(name, &value_str()?)?),
                "--boot42" => boot42 = Some(parse_hex_u32(name, &value_str()?)?),
                "--stats" => {
                    if value.is_empty() {
                        return usage("--stats: empty path");
                    }
                    stats = Some(PathBuf::from(value))
                }
                "--log-level" => log_level = Some(parse_level(&value_str()?)?),
                _ => return usage(format!("unknown option '{name}'")),
            }
            continue;
        }
        if inline.is_some() {
            return usage(format!("{name} does not take a value"));
        }
        match name {
            "--strict" => strict = true,
            "--list-chips" => list = true,
            "--describe" => describe = true,
            "-h" | "--help" => help = true,
            "-V" | "--version" => version = true,
            _ if name.starts_with('-') => return usage(format!("unknown option '{name}'")),
            _ => return usage(format!("unexpected argument '{name}'")),
        }
    }

    if help {
        return Ok(Action::Help);
    }
    if version {
        return Ok(Action::Version);
    }
    let chip = match chip_name {
        None => chips::find(chips::DEFAULT_CHIP),
        Some(name) => match chips::find(&name) {
            Some(chip) => Some(chip),
            None => {
                let known: Vec<&str> = CHIPS.iter().map(|c| c.name).collect();
                return usage(format!(
                    "unknown chip '{name}' (known: {})",
                    known.join(", ")
                ));
            }
        },
    };
    let Some(chip) = chip else {
        return usage("the default chip is missing from the chip table");
    };
    let log_level = match log_level {
        Some(level) => level,
        None => match default_log {
            Some(text) => {
                parse_level(text).map_err(|e| UsageError(format!("NOVA_SIM_LOG: {}", e.0)))?
            }
            None => LevelFilter::Info,
        },
    };
    let options = Options {
        chip,
        socket,
        trace,
        boot0,
        boot42,
        stats,
        strict,
        log_level,
    };
    if list && describe {
        return usage("--list-chips and --describe exclude each other");
    }
    if list {
        return Ok(Action::ListChips);
    }
    if describe {
        return Ok(Action::Describe(options));
    }
    if options.socket.is_none() {
        return usage("--socket PATH is required to serve (or use --list-chips / --describe)");
    }
    Ok(Action::Serve(options))
}

/// The `--list-chips` output: `name arch chipset boot0 boot42 pci-id` per line.
pub fn list_chips() -> String {
    let mut out = String::new();
    for chip in CHIPS {
        let _ = writeln!(
            out,
            "{} {} {:#x} {:#010x} {:#010x} {:04x}:{:04x}",
            chip.name,
            chip.arch,
            chip.chipset,
            chip.boot0,
            chip.boot42,
            NVIDIA_VENDOR_ID,
            chip.device_id
        );
    }
    out
}

/// Decodes the chipset (`architecture << 4 | implementation`) from an `NV_PMC_BOOT_42` value.
pub fn chipset_from_boot42(boot42: u32) -> u32 {
    let arch = (boot42 >> 24) & 0x3f;
    let implementation = (boot42 >> 20) & 0xf;
    (arch << 4) | implementation
}

/// Whether nova-core classes an `NV_PMC_BOOT_0` value as older than Fermi
/// (`NV_PMC_BOOT_0::is_older_than_fermi` in `drivers/gpu/nova-core/regs.rs`).
pub fn boot0_is_older_than_fermi(boot0: u32) -> bool {
    let arch_0 = (boot0 >> 24) & 0x1f;
    let arch_1 = (boot0 >> 8) & 0x1;
    arch_1 == 0 && arch_0 < 0xc
}

/// The `--describe` output for `options`, as `key=value` lines.
///
/// Keys: name, arch, arch_code, chipset, boot0, boot42, vendor_id, device_id, class,
/// bar0_size, bar1_size, bar3_size, supported; numbers are 0x-prefixed hexadecimal.
/// `arch`, `arch_code`, `chipset` and `supported` follow the identity registers actually
/// reported, so they reflect `--boot0` / `--boot42` overrides (`arch` is the hex number when
/// the architecture is unknown).
pub fn describe(options: &Options) -> String {
    let chip = options.chip;
    let identity = options.identity();
    let chipset = chipset_from_boot42(identity.boot42);
    let arch = match Architecture::from_id(chipset >> 4) {
        Some(arch) => arch.to_string(),
        None => format!("{:#x}", chipset >> 4),
    };
    let supported = !boot0_is_older_than_fermi(identity.boot0)
        && CHIPS.iter().any(|c| c.chipset == chipset && c.supported);
    let bar3_size = if chip.has_bar3 { BAR3_SIZE } else { 0 };
    let mut out = String::new();
    let lines: [(&str, String); 13] = [
        ("name", chip.name.to_string()),
        ("arch", arch),
        ("arch_code", format!("{:#x}", chipset >> 4)),
        ("chipset", format!("{chipset:#x}")),
        ("boot0", format!("{:#010x}", identity.boot0)),
        ("boot42", format!("{:#010x}", identity.boot42)),
        ("vendor_id", format!("{NVIDIA_VENDOR_ID:#06x}")),
        ("device_id", format!("{:#06x}", chip.device_id)),
        ("class", format!("{:#08x}", chip.class_code)),
        ("bar0_size", format!("{BAR0_SIZE:#x}")),
        ("bar1_size", format!("{:#x}", chip.bar1_size)),
        ("bar3_size", format!("{bar3_size:#x}")),
        ("supported", supported.to_string()),
    ];
    for (key, value) in lines {
        let _ = writeln!(out, "{key}={value}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Action, UsageError> {
        parse(args.iter().map(OsString::from), None)
    }

    fn serve(args: &[&str]) -> Options {
        match run(args) {
            Ok(Action::Serve(options)) => options,
            other => panic!("not a serve action: {other:?}"),
        }
    }

    #[test]
    fn serve_options_parse_in_both_forms() {
        let o = serve(&[
            "--chip",
            "GA102",
            "--socket=/tmp/s",
            "--trace",
            "-",
            "--boot0=0x1c2000a1",
            "--boot42",
            "1c2a1000",
            "--stats",
            "/tmp/stats",
            "--strict",
            "--log-level",
            "debug",
        ]);
        assert_eq!(o.chip.name, "ga102");
        assert_eq!(o.socket, Some(PathBuf::from("/tmp/s")));
        assert_eq!(o.trace, Some(TraceTarget::Stderr));
        assert_eq!(
            o.identity(),
            Identity {
                boot0: 0x1c20_00a1,
                boot42: 0x1c2a_1000
            }
        );
        assert_eq!(o.stats, Some(PathBuf::from("/tmp/stats")));
        assert!(o.strict);
        assert_eq!(o.log_level, LevelFilter::Debug);
    }

    #[test]
    fn defaults() {
        let o = serve(&["--socket", "s"]);
        assert_eq!(o.chip.name, "ad102");
        assert_eq!(o.identity().boot0, 0x1920_00a1);
        assert_eq!(o.trace, None);
        assert!(!o.strict);
        assert_eq!(o.log_level, LevelFilter::Info);
        assert_eq!(
            parse([OsString::from("--socket=s")], Some("trace")).map(|a| match a {
                Action::Serve(o) => o.log_level,
                _ => LevelFilter::Off,
            }),
            Ok(LevelFilter::Trace)
        );
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        for args in [
            &["--bogus"][..],
            &["--socket"],
            &["--chip", "nv50", "--socket", "s"],
            &["--boot0", "0x123456789", "--socket", "s"],
            &["--boot42", "xyz", "--socket", "s"],
            &["--log-level", "loud", "--socket", "s"],
            &["--strict=yes", "--socket", "s"],
            &["stray"],
            &[],
            &["--list-chips", "--describe"],
        ] {
            assert!(run(args).is_err(), "{args:?} should fail");
        }
        let err = run(&["--chip", "nv50", "--describe"]).unwrap_err();
        assert!(err.0.contains("unknown chip 'nv50'"), "{err}");
        assert!(err.0.contains("ad102"));
    }

    #[test]
    fn informational_actions() {
        // Every argument is checked, even with --help.
        assert!(run(&["--help", "--bogus"]).is_err());
        assert_eq!(run(&["--socket", "s", "-h"]), Ok(Action::Help));
        assert_eq!(run(&["--list-chips"]), Ok(Action::ListChips));
        assert!(matches!(run(&["--describe"]), Ok(Action::Describe(_))));
        assert_eq!(run(&["-V"]), Ok(Action::Version));
    }

    #[test]
    fn list_has_one_line_per_chip() {
        let text = list_chips();
        assert_eq!(text.lines().count(), CHIPS.len());
        assert!(text
            .lines()
            .any(|l| l == "ad102 ada 0x192 0x192000a1 0x192a1000 10de:2684"));
        assert!(text
            .lines()
            .any(|l| l == "gv100 volta 0x140 0x140000a1 0x140a1000 10de:1db1"));
    }

    #[test]
    fn describe_reports_overrides() {
        let mut o = serve(&["--socket", "s", "--chip", "gb202"]);
        let text = describe(&o);
        assert!(text.contains("name=gb202\n"));
        assert!(text.contains("arch=blackwell-gb20x\n"));
        assert!(text.contains("arch_code=0x1b\n"));
        assert!(text.contains("chipset=0x1b2\n"));
        assert!(text.contains("device_id=0x2b85\n"));
        assert!(text.contains("class=0x030000\n"));
        assert!(text.contains("bar1_size=0x10000000\n"));
        assert!(text.contains("supported=true\n"));
        // A future architecture nova does not know.
        o.boot42 = Some(0x1c2a_1000);
        o.boot0 = Some(0x1c20_00a1);
        let text = describe(&o);
        assert!(text.contains("arch=0x1c\n"));
        assert!(text.contains("chipset=0x1c2\n"));
        assert!(text.contains("boot42=0x1c2a1000\n"));
        assert!(text.contains("supported=false\n"));
        // Pre-Fermi BOOT_0 is rejected before BOOT_42 is looked at.
        o.boot42 = None;
        o.boot0 = Some(0x0a0000a1);
        assert!(describe(&o).contains("supported=false\n"));
    }
}
