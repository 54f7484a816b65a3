// SPDX-License-Identifier: GPL-2.0

//! nova-test: the guest-side test client for nova-drm's uAPI.
//!
//! Usage:
//!   nova-test device [KEY=VALUE ...]   test the nova device; each KEY=VALUE is an expected
//!                                      GETPARAM value (chipset, arch, revision, bar1, device,
//!                                      vram, gpcs, tpcs) or query expectation (engines, grs,
//!                                      copies, classes, class3d, classcompute, classcopy,
//!                                      classchannel);
//!                                      then the GEM, mmap and PRIME uAPI suite and the KMS
//!                                      checks of the card node (needs root)
//!   nova-test identity GROUP...        several GPUs: each GROUP is `label=NAME,KEY=VALUE,...`;
//!                                      the nova render node whose `device` and `bar1` match is
//!                                      found and its GETPARAM values checked
//!   nova-test absent                   check that no nova DRM device exists
//!   nova-test bench                    benchmark nova against the DRM core and vgem (prints
//!                                      `nova-bench: NAME VALUE UNIT` lines; never fails on
//!                                      timing)
//!   nova-test host-tsc-khz             print the TSC frequency of the machine it runs on, in
//!                                      kHz (run on the host: the guest's TSC under TCG is the
//!                                      host's, so the guest kernel is told this frequency)
//!   nova-test qemu-exit STATUS         end the guest with STATUS through QEMU's isa-debug-exit
//!
//! Every check prints `nova-test: ok NAME` or `nova-test: not ok NAME: REASON`, and the run ends
//! with `nova-test: N passed, M failed`. The exit status is 0 only if nothing failed. Lines
//! `nova-test: skip NAME: REASON` say that a check could not run and are not counted.

mod bench;
mod clock;
mod drm;
mod gem;
mod kms;
mod query;
mod report;

use std::path::Path;
use std::process::ExitCode;

use drm::{param, Node, NovaGetparam};
use report::Report;

const DRI: &str = "/dev/dri";
const DRIVER: &str = "nova";

/// The parameter of the expectation keys that are not GETPARAMs but query checks
/// ([`query::KEYS`]); 0 is no GETPARAM parameter.
const QUERY: u64 = 0;

/// Maps an expectation key to its GETPARAM parameter ([`QUERY`] for a query check).
fn param_of(key: &str) -> Option<u64> {
    if query::KEYS.contains(&key) {
        return Some(QUERY);
    }
    Some(match key {
        "bar1" => param::VRAM_BAR_SIZE,
        "chipset" => param::CHIPSET,
        "arch" => param::ARCHITECTURE,
        "revision" => param::REVISION,
        "device" => param::PCI_DEVICE_ID,
        "vram" => param::VRAM_SIZE,
        "gpcs" => param::GPC_COUNT,
        "tpcs" => param::TPC_COUNT,
        _ => return None,
    })
}

/// Parses a decimal or 0x-prefixed hexadecimal number.
fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Parses `KEY=VALUE` expectations.
fn parse_expectations(args: &[String]) -> Result<Vec<(String, u64, u64)>, String> {
    args.iter()
        .map(|a| {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| format!("expectation '{a}' is not KEY=VALUE"))?;
            let p = param_of(k).ok_or_else(|| format!("unknown key '{k}'"))?;
            let v = parse_number(v).ok_or_else(|| format!("bad value in '{a}'"))?;
            Ok((k.to_owned(), p, v))
        })
        .collect()
}

fn expect_errno(node: &Node, param: u64, errno: i32) -> Result<(), String> {
    let mut arg = NovaGetparam {
        param,
        value: 0x5a5a_5a5a_5a5a_5a5a,
    };
    match node.getparam_raw(&mut arg) {
        Ok(()) => Err(format!("param {param:#x} succeeded with {:#x}", arg.value)),
        Err(e) if e.raw_os_error() == Some(errno) => {
            if arg.value == 0x5a5a_5a5a_5a5a_5a5a {
                Ok(())
            } else {
                Err(format!("value changed to {:#x} on error", arg.value))
            }
        }
        Err(e) => Err(format!("param {param:#x}: expected errno {errno}, got {e}")),
    }
}

/// Checks what nova-drm reports from GSP-RM: with `want_vram` 0, nova-core does not boot
/// GSP-RM on this GPU, so the VRAM size and the name must fail with ENODEV; otherwise the
/// VRAM size must be `want_vram` and the name an NVIDIA product name, NUL-terminated. The
/// engine, class and GPC/TPC queries are checked against `exp` too (and must fail with ENODEV
/// without GSP-RM).
fn check_gsp_info(
    prefix: &str,
    node: &Node,
    want_vram: u64,
    exp: &[(String, u64, u64)],
    report: &mut Report,
) {
    if want_vram == 0 {
        query::without_gsp(prefix, node, report);
        report.check(
            &format!("{prefix}getparam-vram-without-gsp"),
            expect_errno(node, param::VRAM_SIZE, libc::ENODEV),
        );
        report.check(
            &format!("{prefix}gpu-name-without-gsp"),
            match node.gpu_name_raw() {
                Ok(_) => Err("GPU_NAME succeeded without GSP-RM".to_owned()),
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
                Err(e) => Err(format!("expected ENODEV, got {e}")),
            },
        );
        return;
    }
    let got = node.getparam(param::VRAM_SIZE);
    if let Ok(v) = &got {
        println!(
            "nova-test: {prefix}getparam vram = {v:#x} ({} MiB)",
            v >> 20
        );
    }
    report.check(
        &format!("{prefix}getparam-vram"),
        match got {
            Ok(v) if v == want_vram => Ok(()),
            Ok(v) => Err(format!("got {v:#x}, expected {want_vram:#x}")),
            Err(e) => Err(e.to_string()),
        },
    );
    report.check(
        &format!("{prefix}gpu-name"),
        node.gpu_name_raw()
            .map_err(|e| e.to_string())
            .and_then(|raw| {
                let len = raw
                    .iter()
                    .position(|&b| b == 0)
                    .ok_or("the name is not NUL-terminated")?;
                if raw[len..].iter().any(|&b| b != 0) {
                    return Err("bytes after the NUL are not zeroed".to_owned());
                }
                let name = std::str::from_utf8(&raw[..len]).map_err(|e| e.to_string())?;
                println!("nova-test: {prefix}gpu name \"{name}\"");
                if name.starts_with("NVIDIA ") && name.len() > "NVIDIA ".len() {
                    Ok(())
                } else {
                    Err(format!("unexpected name {name:?}"))
                }
            }),
    );
    query::run(prefix, node, exp, report);
}

fn test_device(expectations: &[(String, u64, u64)], report: &mut Report) {
    let dri = Path::new(DRI);
    let render = drm::find_nodes(dri, "renderD", DRIVER);
    let cards = drm::find_nodes(dri, "card", DRIVER);

    report.check(
        "render-node",
        match render.len() {
            1 => Ok(()),
            n => Err(format!("expected one nova render node, found {n}")),
        },
    );
    report.check(
        "card-node",
        match cards.len() {
            1 => Ok(()),
            n => Err(format!("expected one nova card node, found {n}")),
        },
    );
    let Some(node) = render.first() else {
        return;
    };
    println!("nova-test: render node {}", node.path().display());

    report.check(
        "version",
        node.version().map_err(|e| e.to_string()).and_then(|v| {
            if v.name == DRIVER && !v.desc.is_empty() {
                println!(
                    "nova-test: driver {} {}.{} \"{}\"",
                    v.name, v.major, v.minor, v.desc
                );
                Ok(())
            } else {
                Err(format!("unexpected version {v:?}"))
            }
        }),
    );

    for (key, p, want) in expectations {
        if key == "vram" {
            check_gsp_info("", node, *want, expectations, report);
            continue;
        }
        if *p == QUERY {
            continue;
        }
        let got = node.getparam(*p);
        if let Ok(v) = &got {
            println!("nova-test: getparam {key} = {v:#x}");
        }
        report.check(
            &format!("getparam-{key}"),
            match got {
                Ok(v) if v == *want => Ok(()),
                Ok(v) => Err(format!("got {v:#x}, expected {want:#x}")),
                Err(e) => Err(e.to_string()),
            },
        );
        // The primary node answers the same.
        if let Some(card) = cards.first() {
            report.check(
                &format!("getparam-{key}-card"),
                match card.getparam(*p) {
                    Ok(v) if v == *want => Ok(()),
                    Ok(v) => Err(format!("got {v:#x}, expected {want:#x}")),
                    Err(e) => Err(e.to_string()),
                },
            );
        }
    }

    // Unknown parameters, including ones that would alias a known one if the kernel truncated
    // the 64-bit parameter to 32 bits.
    for p in [
        0u64,
        0xa,
        0xffff,
        0x1_0000_0001,
        0x1_0000_0006,
        0x8000_0000_0000_0002,
        u64::MAX,
    ] {
        report.check(
            &format!("getparam-unknown-{p:#x}"),
            expect_errno(node, p, libc::EINVAL),
        );
    }

    gem::run(node, cards.first(), report);
    match cards.first() {
        Some(card) => kms::run(card.path(), report),
        None => println!("nova-test: skip kms: no nova primary node"),
    }
}

/// One GPU's expectations in `nova-test identity`: its label and GETPARAM values.
type Group = (String, Vec<(String, u64, u64)>);

/// Parses `label=NAME,KEY=VALUE,...`.
fn parse_group(group: &str) -> Result<Group, String> {
    let mut label = None;
    let mut rest = Vec::new();
    for kv in group.split(',') {
        match kv.strip_prefix("label=") {
            Some(l) if !l.is_empty() => label = Some(l.to_owned()),
            _ => rest.push(kv.to_owned()),
        }
    }
    let label = label.ok_or_else(|| format!("group '{group}' has no label=NAME"))?;
    let exp = parse_expectations(&rest)?;
    if !exp.iter().any(|(k, _, _)| k == "device") {
        return Err(format!(
            "group '{group}' has no device=ID to find its node by"
        ));
    }
    Ok((label, exp))
}

/// Checks several GPUs at once: each group's node is the one whose PCI device id and BAR1 size
/// (when given) match, and every expected GETPARAM value must match.
fn test_identity(groups: &[Group], report: &mut Report) {
    let render = drm::find_nodes(Path::new(DRI), "renderD", DRIVER);
    report.check(
        "render-nodes",
        if render.len() == groups.len() {
            Ok(())
        } else {
            Err(format!(
                "expected {} nova render nodes, found {}",
                groups.len(),
                render.len()
            ))
        },
    );
    let mut used = vec![false; render.len()];
    for (label, exp) in groups {
        let keys = exp.iter().filter(|(k, _, _)| k == "device" || k == "bar1");
        let keys: Vec<_> = keys.collect();
        let found = render.iter().enumerate().find(|(i, n)| {
            !used[*i] && keys.iter().all(|(_, p, v)| n.getparam(*p).ok() == Some(*v))
        });
        let Some((i, node)) = found else {
            report.check(
                &format!("{label}/node"),
                Err("no nova render node with this device id and BAR1 size".to_owned()),
            );
            continue;
        };
        used[i] = true;
        report.check(&format!("{label}/node"), Ok(()));
        println!("nova-test: {label}: render node {}", node.path().display());
        for (key, p, want) in exp {
            if key == "vram" {
                check_gsp_info(&format!("{label}/"), node, *want, exp, report);
                continue;
            }
            if *p == QUERY {
                continue;
            }
            report.check(
                &format!("{label}/getparam-{key}"),
                match node.getparam(*p) {
                    Ok(v) if v == *want => Ok(()),
                    Ok(v) => Err(format!("got {v:#x}, expected {want:#x}")),
                    Err(e) => Err(e.to_string()),
                },
            );
        }
        report.check(
            &format!("{label}/getparam-unknown"),
            expect_errno(node, 0x1_0000_0001, libc::EINVAL),
        );
    }
}

fn test_absent(report: &mut Report) {
    let dri = Path::new(DRI);
    let n =
        drm::find_nodes(dri, "renderD", DRIVER).len() + drm::find_nodes(dri, "card", DRIVER).len();
    report.check(
        "no-nova-device",
        if n == 0 {
            Ok(())
        } else {
            Err(format!("{n} nova DRM nodes exist"))
        },
    );
}

/// The I/O port of QEMU's isa-debug-exit device, as the test harness configures it.
const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Makes QEMU exit with `(status << 1) | 1` through its isa-debug-exit device.
fn qemu_exit(status: u8) -> ExitCode {
    // SAFETY: ioperm only changes this process's I/O permission bitmap.
    if unsafe { libc::ioperm(DEBUG_EXIT_PORT.into(), 4, 1) } != 0 {
        eprintln!("nova-test: ioperm: {}", std::io::Error::last_os_error());
        return ExitCode::FAILURE;
    }
    // SAFETY: the port was granted above; writing it makes QEMU exit (or, without the device,
    // is ignored by the machine).
    unsafe {
        core::arch::asm!("out dx, al", in("dx") DEBUG_EXIT_PORT, in("al") status, options(nomem, nostack));
    }
    eprintln!("nova-test: isa-debug-exit did not stop the machine");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut report = Report::default();
    match args.first().map(String::as_str) {
        Some("device") => match parse_expectations(&args[1..]) {
            Ok(exp) => test_device(&exp, &mut report),
            Err(e) => {
                eprintln!("nova-test: {e}");
                return ExitCode::from(2);
            }
        },
        Some("identity") => {
            match args[1..]
                .iter()
                .map(|g| parse_group(g))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(groups) if !groups.is_empty() => test_identity(&groups, &mut report),
                Ok(_) => {
                    eprintln!("nova-test: identity needs at least one GROUP");
                    return ExitCode::from(2);
                }
                Err(e) => {
                    eprintln!("nova-test: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        Some("absent") => test_absent(&mut report),
        Some("bench") => return bench::run(),
        Some("host-tsc-khz") => return clock::print_tsc_khz(),
        Some("qemu-exit") => {
            let status = args.get(1).and_then(|s| s.parse::<u8>().ok()).unwrap_or(1);
            return qemu_exit(status);
        }
        _ => {
            eprintln!(
                "usage: nova-test device [KEY=VALUE ...] | identity GROUP... | absent | bench | \
                 qemu-exit STATUS"
            );
            return ExitCode::from(2);
        }
    }
    report.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_parse() {
        let args = vec!["chipset=0x192".to_owned(), "bar1=268435456".to_owned()];
        let exp = parse_expectations(&args).unwrap();
        assert_eq!(exp[0], ("chipset".to_owned(), param::CHIPSET, 0x192));
        assert_eq!(
            exp[1],
            ("bar1".to_owned(), param::VRAM_BAR_SIZE, 268_435_456)
        );
    }

    #[test]
    fn groups_parse() {
        let (label, exp) = parse_group("label=tu102,chipset=0x162,device=0x1e04").unwrap();
        assert_eq!(label, "tu102");
        assert_eq!(exp.len(), 2);
        assert_eq!(exp[1], ("device".to_owned(), param::PCI_DEVICE_ID, 0x1e04));
        assert!(parse_group("chipset=0x162,device=0x1e04").is_err());
        assert!(parse_group("label=x,chipset=0x162").is_err());
        assert!(parse_group("label=,device=1").is_err());
    }

    #[test]
    fn bad_expectations_are_rejected() {
        assert!(parse_expectations(&["chipset".to_owned()]).is_err());
        assert!(parse_expectations(&["colour=1".to_owned()]).is_err());
        assert!(parse_expectations(&["arch=0xzz".to_owned()]).is_err());
    }
}
