// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Command-line parsing and the informational outputs (`--list-chips`, `--describe`).
//!
//! The options are listed in [`USAGE`]. `--bar1-size` models a board with Resizable BAR
//! enabled, whose BAR1 (the VRAM aperture) is as large as the VRAM instead of the chip's
//! default window; its bounds are [`BAR1_SIZE_MIN`] and [`BAR1_SIZE_MAX`].
//!
//! `--vbios-dump FILE` writes the ROM the PROM window shows (see [`crate::vbios`]) to a file:
//! alone it is an action of its own, with `--socket` it is done before serving.
//! `--vbios-corrupt KIND` applies a [`Corruption`] to that ROM.

use std::ffi::OsString;
use std::fmt::{self, Write as _};
use std::path::PathBuf;

use log::LevelFilter;

use crate::bar0::{Identity, BAR0_SIZE};
use crate::chips::{self, Architecture, Chip, CHIPS, NVIDIA_VENDOR_ID};
use crate::device::BAR3_SIZE;
use crate::gpu::Faults;
use crate::timing::Timing;
use crate::vbios::Corruption;

/// Smallest BAR1 size `--bar1-size` accepts: 32 MiB.
pub const BAR1_SIZE_MIN: u64 = 32 << 20;

/// Largest BAR1 size `--bar1-size` accepts: 256 GiB.
pub const BAR1_SIZE_MAX: u64 = 256 << 30;

/// The usage text printed by `--help`.
pub const USAGE: &str = "\
Usage: nova-sim [OPTIONS] --socket PATH
       nova-sim [--chip NAME] [--boot0 HEX] [--boot42 HEX] [--bar1-size SIZE] --describe
       nova-sim [--chip NAME] [--vbios-corrupt KIND] --vbios-dump FILE
       nova-sim --list-chips

Serve a simulated NVIDIA GPU to QEMU's vfio-user-pci device.

Options:
  --chip NAME        chip to simulate (default: ad102; see --list-chips)
  --socket PATH      UNIX socket to listen on (a stale socket there is removed)
  --trace FILE       log every BAR0 access to FILE ('-' for stderr)
  --boot0 HEX        override NV_PMC_BOOT_0
  --boot42 HEX       override NV_PMC_BOOT_42
  --bar1-size SIZE   override the BAR1 (VRAM aperture) size, modelling Resizable BAR
                     (e.g. 32G on an RTX 4090); a power of two from 32M to 256G inclusive,
                     given in bytes, in 0x-hex, or with a K, M or G suffix (binary units:
                     32G = 32 GiB); default: the chip's own (see --describe)
  --stats FILE       write counters as key=value lines to FILE on exit
  --vbios-dump FILE  write the chip's VBIOS, as the BAR0 PROM window shows it, to FILE
                     (without --socket: write it and exit)
  --vbios-corrupt KIND
                     damage the VBIOS for fault-injection tests: none (default),
                     bad-signature-0xaa55 (first image's ROM signature reads 0x55aa),
                     truncated-bit (BIT token list ends before the falcon data token),
                     bad-fwsec-desc (FWSEC descriptor's IMEM size runs past the ROM)
  --firmware DIR     firmware root holding Debian's nvidia/<chip>/gsp/booter_{load,unload}-
                     570.144.bin, so that the SEC2 model recognises booter (without it,
                     starting booter is an unknown image)
  --fault NAME       make the board fail (repeatable): fwsec-frts-error (FWSEC-FRTS reports
                     an error, no WPR2), booter-error (booter_load fails), wpr2-preset (WPR2
                     already exists at power-on, as after a crashed driver), scrubber-pending
                     (Ada: the VBIOS did not scrub the FB; the scrubber ucode must run first)
  --gsp-fault NAME   make GSP-RM misbehave (repeatable; needs --firmware): never-answer,
                     error-status (rpc_result NV_ERR_GENERIC), bad-checksum, no-interrupt
                     (every message), or KIND[=STATUS]@TARGET[#N] for one command: KIND
                     error-status[=STATUS] (refused, not carried out; STATUS a number or
                     NV_ERR_ name, default NV_ERR_GENERIC), never-answer, late-reply (held
                     until GSP-RM next reads its queue), duplicate-reply, event-storm (10000
                     UCODE_LIBOS_PRINT events before the reply); TARGET an RPC function
                     (GSP_RM_ALLOC, GSP_RM_CONTROL, FREE, UNLOADING_GUEST_DRIVER,
                     GET_GSP_STATIC_INFO or a number), ctrl:CMD (0x20800a5c or its
                     NV2080_CTRL_CMD_ name) or class:CLASS (0x2080 or NV20_SUBDEVICE_0);
                     #N: the Nth match only (one-shot), else every match
  --timing MODE      how long the hardware's work takes (scrubbing, falcon programs, FWSEC,
                     booter, GSP-RM's start and replies): fast (default; small but nonzero),
                     realistic (the orders of magnitude of real boards), or random:SEED
                     (random within those bounds, repeatable from SEED)
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
    /// BAR1 size override (`--bar1-size`), in bytes: a power of two within
    /// [`BAR1_SIZE_MIN`]..=[`BAR1_SIZE_MAX`].
    pub bar1_size: Option<u64>,
    /// Where to write the counters on exit.
    pub stats: Option<PathBuf>,
    /// Fail at exit if violations were counted.
    pub strict: bool,
    /// Log verbosity.
    pub log_level: LevelFilter,
    /// Where to write the VBIOS (`--vbios-dump`).
    pub vbios_dump: Option<PathBuf>,
    /// The damage to apply to the VBIOS (`--vbios-corrupt`).
    pub vbios_corrupt: Corruption,
    /// The firmware root with Debian's booter files (`--firmware`).
    pub firmware: Option<PathBuf>,
    /// The failures to show (`--fault`).
    pub faults: Faults,
    /// The GSP-RM failures to show (`--gsp-fault`).
    pub gsp_faults: crate::gsp::Faults,
    /// How long the hardware's work takes (`--timing`).
    pub timing: Timing,
}

impl Options {
    /// The identity registers to report: the chip's, with overrides applied.
    pub fn identity(&self) -> Identity {
        Identity {
            boot0: self.boot0.unwrap_or(self.chip.boot0),
            boot42: self.boot42.unwrap_or(self.chip.boot42),
        }
    }

    /// The BAR1 size to present: the `--bar1-size` override, or the chip's default.
    pub fn bar1_size(&self) -> u64 {
        self.bar1_size.unwrap_or(self.chip.bar1_size)
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
    /// Write the selected chip's VBIOS to `options.vbios_dump` and exit.
    DumpVbios(Options),
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

/// Formats a byte count in the largest binary unit that divides it exactly, e.g. `32 GiB`.
fn human_size(bytes: u64) -> String {
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        let scale = 1u64 << shift;
        if bytes >= scale && bytes % scale == 0 {
            return format!("{} {unit}", bytes / scale);
        }
    }
    format!("{bytes} bytes")
}

/// Parses a size for `option`: a byte count in decimal or `0x`-prefixed hexadecimal,
/// optionally followed by `K`, `M` or `G` (binary units, either case: `32G` is 32 GiB).
///
/// Signs, spaces and empty digit strings are refused, as are sizes that do not fit in 64 bits.
pub fn parse_size(option: &str, text: &str) -> Result<u64, UsageError> {
    let (number, shift) = if let Some(number) = text.strip_suffix(['k', 'K']) {
        (number, 10)
    } else if let Some(number) = text.strip_suffix(['m', 'M']) {
        (number, 20)
    } else if let Some(number) = text.strip_suffix(['g', 'G']) {
        (number, 30)
    } else {
        (text, 0)
    };
    let (digits, radix) = match number
        .strip_prefix("0x")
        .or_else(|| number.strip_prefix("0X"))
    {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    // Checked here because `from_str_radix` would also take a leading '+'.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return usage(format!(
            "{option}: '{text}' is not a size (a byte count in decimal or 0x-hexadecimal, \
             optionally followed by K, M or G)"
        ));
    }
    // With only digits left, the one possible failure is overflow.
    let bytes = u64::from_str_radix(digits, radix)
        .ok()
        .and_then(|value| value.checked_mul(1u64 << shift));
    match bytes {
        Some(bytes) => Ok(bytes),
        None => usage(format!("{option}: '{text}' does not fit in 64 bits")),
    }
}

/// Parses the `--bar1-size` value: a size as [`parse_size`] takes it that is a power of two
/// (as PCI memory BARs are) within [`BAR1_SIZE_MIN`]..=[`BAR1_SIZE_MAX`].
pub fn parse_bar1_size(text: &str) -> Result<u64, UsageError> {
    const OPTION: &str = "--bar1-size";
    let size = parse_size(OPTION, text)?;
    if size < BAR1_SIZE_MIN {
        return usage(format!(
            "{OPTION}: '{text}' ({size:#x} bytes) is below the minimum of {}",
            human_size(BAR1_SIZE_MIN)
        ));
    }
    if size > BAR1_SIZE_MAX {
        return usage(format!(
            "{OPTION}: '{text}' ({size:#x} bytes) is above the maximum of {}",
            human_size(BAR1_SIZE_MAX)
        ));
    }
    if !size.is_power_of_two() {
        return usage(format!(
            "{OPTION}: '{text}' ({size:#x} bytes) is not a power of two, as PCI BAR sizes are"
        ));
    }
    Ok(size)
}

fn parse_corruption(text: &str) -> Result<Corruption, UsageError> {
    Corruption::from_name(text).map_or_else(
        || {
            let known: Vec<&str> = Corruption::ALL.iter().map(|c| c.name()).collect();
            usage(format!(
                "--vbios-corrupt: '{text}' is not one of {}",
                known.join(", ")
            ))
        },
        Ok,
    )
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
    "--bar1-size",
    "--stats",
    "--log-level",
    "--vbios-dump",
    "--vbios-corrupt",
    "--firmware",
    "--fault",
    "--gsp-fault",
    "--timing",
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
    let mut bar1_size = None;
    let mut stats = None;
    let mut strict = false;
    let mut log_level = None;
    let mut vbios_dump = None;
    let mut vbios_corrupt = Corruption::None;
    let mut firmware = None;
    let mut faults = Faults::default();
    let mut gsp_faults = crate::gsp::Faults::default();
    let mut timing = Timing::default();
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
                "--bar1-size" => bar1_size = Some(parse_bar1_size(&value_str()?)?),
                "--stats" => {
                    if value.is_empty() {
                        return usage("--stats: empty path");
                    }
                    stats = Some(PathBuf::from(value))
                }
                "--log-level" => log_level = Some(parse_level(&value_str()?)?),
                "--vbios-dump" => {
                    if value.is_empty() {
                        return usage("--vbios-dump: empty path");
                    }
                    vbios_dump = Some(PathBuf::from(value))
                }
                "--vbios-corrupt" => vbios_corrupt = parse_corruption(&value_str()?)?,
                "--firmware" => {
                    if value.is_empty() {
                        return usage("--firmware: empty path");
                    }
                    firmware = Some(PathBuf::from(value))
                }
                "--fault" => {
                    let name = value_str()?;
                    if !faults.set(&name) {
                        return usage(format!(
                            "--fault: unknown fault '{name}' (known: {})",
                            Faults::NAMES.join(", ")
                        ));
                    }
                }
                "--gsp-fault" => {
                    if let Err(err) = gsp_faults.enable(&value_str()?) {
                        return usage(format!("--gsp-fault: {err}"));
                    }
                }
                "--timing" => {
                    timing = Timing::parse(&value_str()?)
                        .map_err(|err| UsageError(format!("--timing: {err}")))?
                }
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
        bar1_size,
        stats,
        strict,
        log_level,
        vbios_dump,
        vbios_corrupt,
        firmware,
        faults,
        gsp_faults,
        timing,
    };
    if list && describe {
        return usage("--list-chips and --describe exclude each other");
    }
    if options.gsp_faults != crate::gsp::Faults::default() && options.firmware.is_none() {
        return usage("--gsp-fault needs --firmware (GSP-RM runs only with the firmware files)");
    }
    if (list || describe) && options.vbios_dump.is_some() {
        return usage("--vbios-dump cannot be combined with --list-chips or --describe");
    }
    if list {
        return Ok(Action::ListChips);
    }
    if describe {
        return Ok(Action::Describe(options));
    }
    if options.socket.is_none() {
        if options.vbios_dump.is_some() {
            return Ok(Action::DumpVbios(options));
        }
        return usage(
            "--socket PATH is required to serve (or use --list-chips / --describe / --vbios-dump)",
        );
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
/// bar0_size, bar1_size, bar3_size, vram_size; numbers are 0x-prefixed hexadecimal. The
/// description is of the hardware only (no driver policy). `arch`, `arch_code` and `chipset`
/// follow the identity registers actually
/// reported, so they reflect `--boot0` / `--boot42` overrides (`arch` is the hex number when
/// the architecture is unknown); `bar1_size` reflects `--bar1-size`.
pub fn describe(options: &Options) -> String {
    let chip = options.chip;
    let identity = options.identity();
    let chipset = chipset_from_boot42(identity.boot42);
    let arch = match Architecture::from_id(chipset >> 4) {
        Some(arch) => arch.to_string(),
        None => format!("{:#x}", chipset >> 4),
    };
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
        ("bar1_size", format!("{:#x}", options.bar1_size())),
        ("bar3_size", format!("{bar3_size:#x}")),
        ("vram_size", format!("{:#x}", chip.vram_size())),
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
            &["--bar1-size", "3G", "--socket", "s"],
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
    fn firmware_and_fault_options() {
        let o = serve(&["--socket", "s"]);
        assert_eq!((o.firmware, o.faults), (None, Faults::default()));
        let o = serve(&[
            "--socket",
            "s",
            "--firmware",
            "/lib/firmware",
            "--fault",
            "booter-error",
            "--fault=wpr2-preset",
        ]);
        assert_eq!(o.firmware, Some(PathBuf::from("/lib/firmware")));
        assert!(o.faults.booter_error && o.faults.wpr2_preset && !o.faults.fwsec_frts_error);
        let err = run(&["--socket", "s", "--fault", "meteor"]).unwrap_err();
        assert!(err.0.contains("fwsec-frts-error"), "{err}");
        assert!(run(&["--socket", "s", "--firmware", ""]).is_err());
    }

    #[test]
    fn gsp_fault_options() {
        let o = serve(&["--socket", "s"]);
        assert_eq!(o.gsp_faults, crate::gsp::Faults::default());
        let o = serve(&[
            "--socket",
            "s",
            "--firmware",
            "/lib/firmware",
            "--gsp-fault",
            "bad-checksum",
            "--gsp-fault=never-answer",
        ]);
        assert!(o.gsp_faults.bad_checksum && o.gsp_faults.never_answer);
        assert!(!o.gsp_faults.error_status && !o.gsp_faults.no_interrupt);
        // GSP-RM only runs with the firmware files, so its faults need them.
        let err = run(&["--socket", "s", "--gsp-fault", "never-answer"]).unwrap_err();
        assert!(err.0.contains("needs --firmware"), "{err}");
        let err = run(&["--socket", "s", "--firmware", "/f", "--gsp-fault", "x"]).unwrap_err();
        assert!(err.0.contains("--gsp-fault"), "{err}");
    }

    #[test]
    fn timing_option() {
        assert_eq!(serve(&["--socket", "s"]).timing, Timing::Fast);
        let o = serve(&["--socket", "s", "--timing", "random:99"]);
        assert_eq!(o.timing, Timing::Random(99));
        let o = serve(&["--socket", "s", "--timing=realistic"]);
        assert_eq!(o.timing, Timing::Realistic);
        let err = run(&["--socket", "s", "--timing", "instant"]).unwrap_err();
        assert!(err.0.starts_with("--timing: "), "{err}");
    }

    #[test]
    fn vbios_options() {
        let o = serve(&["--socket", "s"]);
        assert_eq!((o.vbios_dump, o.vbios_corrupt), (None, Corruption::None));
        let o = serve(&[
            "--socket",
            "s",
            "--vbios-dump",
            "/tmp/rom",
            "--vbios-corrupt=truncated-bit",
        ]);
        assert_eq!(o.vbios_dump, Some(PathBuf::from("/tmp/rom")));
        assert_eq!(o.vbios_corrupt, Corruption::TruncatedBit);
        match run(&["--chip", "tu102", "--vbios-dump", "rom"]) {
            Ok(Action::DumpVbios(o)) => {
                assert_eq!(o.chip.name, "tu102");
                assert_eq!(o.vbios_dump, Some(PathBuf::from("rom")));
            }
            other => panic!("not a dump action: {other:?}"),
        }
        for kind in Corruption::ALL {
            let o = serve(&["--socket", "s", "--vbios-corrupt", kind.name()]);
            assert_eq!(o.vbios_corrupt, *kind);
        }
        let err = run(&["--vbios-corrupt", "all", "--socket", "s"]).unwrap_err();
        assert!(err.0.contains("bad-fwsec-desc"), "{err}");
        for args in [
            &["--vbios-dump", "", "--socket", "s"][..],
            &["--vbios-dump"],
            &["--vbios-dump", "rom", "--describe"],
            &["--vbios-dump", "rom", "--list-chips"],
            &["--vbios-corrupt", "truncated-bit"],
        ] {
            assert!(run(args).is_err(), "{args:?} should fail");
        }
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
    fn sizes_parse_in_every_form() {
        let size = |text| parse_size("--size", text);
        assert_eq!(size("0"), Ok(0));
        assert_eq!(size("268435456"), Ok(256 << 20));
        assert_eq!(size("0x10000000"), Ok(256 << 20));
        assert_eq!(size("0X800000000"), Ok(32 << 30));
        assert_eq!(size("4K"), Ok(4096));
        assert_eq!(size("4k"), Ok(4096));
        assert_eq!(size("256M"), Ok(256 << 20));
        assert_eq!(size("32G"), Ok(32 << 30));
        assert_eq!(size("32g"), Ok(0x8_0000_0000));
        assert_eq!(size("0x20G"), Ok(32 << 30));
        // The largest value that fits, with and without a suffix.
        assert_eq!(size("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(size("17179869183G"), Ok(0x3_ffff_ffff << 30));
    }

    #[test]
    fn malformed_sizes_are_refused() {
        for text in [
            "", "G", "0x", "0xG", "+32G", "-1", " 32G", "32G ", "32 G", "32GB", "32GiB", "32T",
            "1.5G", "0x1g0", "abc", "0xfz", "32GG", "٣٢G",
        ] {
            let err = parse_size("--size", text).unwrap_err();
            assert_eq!(
                err.0,
                format!(
                    "--size: '{text}' is not a size (a byte count in decimal or \
                     0x-hexadecimal, optionally followed by K, M or G)"
                )
            );
        }
        for text in [
            "99999999999G",
            "17179869184G",
            "18446744073709551616",
            "0x10000000000000000",
            "18014398509481984K",
        ] {
            let err = parse_size("--size", text).unwrap_err();
            assert_eq!(err.0, format!("--size: '{text}' does not fit in 64 bits"));
        }
    }

    #[test]
    fn bar1_sizes_are_powers_of_two_within_bounds() {
        assert_eq!(parse_bar1_size("32M"), Ok(BAR1_SIZE_MIN));
        assert_eq!(parse_bar1_size("256G"), Ok(BAR1_SIZE_MAX));
        assert_eq!(parse_bar1_size("0x4000000000"), Ok(256 << 30));
        assert_eq!(parse_bar1_size("33554432"), Ok(32 << 20));
        assert_eq!(parse_bar1_size("32G"), Ok(0x8_0000_0000));
        assert_eq!(parse_bar1_size("1024m"), Ok(1 << 30));
        // The bounds in the help text are the enforced ones.
        assert!(USAGE.contains("a power of two from 32M to 256G inclusive"));
        assert_eq!(BAR1_SIZE_MIN, 32 << 20);
        assert_eq!(BAR1_SIZE_MAX, 256 << 30);

        let err = |text| match parse_bar1_size(text) {
            Err(UsageError(message)) => message,
            Ok(size) => panic!("{text} accepted as {size:#x}"),
        };
        assert_eq!(
            err("48M"),
            "--bar1-size: '48M' (0x3000000 bytes) is not a power of two, as PCI BAR sizes are"
        );
        assert!(err("0x800000001").contains("is not a power of two"));
        assert!(err("24G").contains("is not a power of two"));
        assert_eq!(
            err("16M"),
            "--bar1-size: '16M' (0x1000000 bytes) is below the minimum of 32 MiB"
        );
        assert!(err("33554431").contains("below the minimum of 32 MiB"));
        assert!(err("0").contains("below the minimum of 32 MiB"));
        assert_eq!(
            err("512G"),
            "--bar1-size: '512G' (0x8000000000 bytes) is above the maximum of 256 GiB"
        );
        assert!(err("0x4000000001").contains("above the maximum of 256 GiB"));
        assert!(err("big").contains("'big' is not a size"));
        assert!(err("-32G").contains("is not a size"));
        assert_eq!(
            err("99999999999G"),
            "--bar1-size: '99999999999G' does not fit in 64 bits"
        );
    }

    #[test]
    fn bar1_size_option_overrides_the_chip() {
        let o = serve(&["--socket", "s", "--bar1-size", "32G"]);
        assert_eq!(o.bar1_size, Some(32 << 30));
        assert_eq!(o.bar1_size(), 32 << 30);
        let o = serve(&["--socket", "s", "--chip", "tu102", "--bar1-size=0x2000000"]);
        assert_eq!(o.bar1_size(), 32 << 20);
        // Without the option, the chip's window.
        let o = serve(&["--socket", "s"]);
        assert_eq!(o.bar1_size, None);
        assert_eq!(o.bar1_size(), o.chip.bar1_size);
        // Bad sizes are usage errors whatever else the command line asks for.
        for args in [
            &["--bar1-size", "24G", "--socket", "s"][..],
            &["--bar1-size", "16M", "--describe"],
            &["--bar1-size", "512G", "--describe"],
            &["--bar1-size", "lots", "--describe"],
            &["--bar1-size", "99999999999G", "--describe"],
            &["--bar1-size=", "--describe"],
            &["--describe", "--bar1-size"],
            &["--help", "--bar1-size", "3"],
        ] {
            let err = run(args).unwrap_err();
            assert!(err.0.starts_with("--bar1-size"), "{args:?}: {err}");
        }
    }

    #[test]
    fn describe_reports_the_bar1_override() {
        let o = match run(&["--describe", "--bar1-size", "32G"]) {
            Ok(Action::Describe(o)) => o,
            other => panic!("not a describe action: {other:?}"),
        };
        let text = describe(&o);
        assert!(text.contains("name=ad102\n"), "{text}");
        assert!(text.contains("bar1_size=0x800000000\n"), "{text}");
        // Only BAR1 changes.
        assert!(text.contains("bar0_size=0x1000000\n"), "{text}");
        assert!(text.contains("bar3_size=0x2000000\n"), "{text}");
        let o = serve(&["--socket", "s", "--chip", "gh100", "--bar1-size", "256G"]);
        assert!(describe(&o).contains("bar1_size=0x4000000000\n"));
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
        // A future architecture nova does not know.
        o.boot42 = Some(0x1c2a_1000);
        o.boot0 = Some(0x1c20_00a1);
        let text = describe(&o);
        assert!(text.contains("arch=0x1c\n"));
        assert!(text.contains("chipset=0x1c2\n"));
        assert!(text.contains("boot42=0x1c2a1000\n"));
        // The description is of the hardware only: what a driver makes of it is the test
        // harness's statement (scripts/nova/chips.py), not the simulator's.
        assert!(!text.contains("supported"));
    }
}
