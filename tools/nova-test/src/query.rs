// SPDX-License-Identifier: GPL-2.0

//! Checks of `DRM_IOCTL_NOVA_QUERY` and the GPC/TPC GETPARAMs against what the harness expects
//! of the chip (scripts/nova/chips.py): the engine list, the class list, the graphics units.

use crate::drm::{param, uapi, Node, NovaGetparam, NovaQuery};
use crate::report::Report;

/// The expectation keys this module checks, none of them a GETPARAM of its own.
pub const KEYS: &[&str] = &[
    "engines",
    "grs",
    "copies",
    "classes",
    "class3d",
    "classcompute",
    "classcopy",
    "classchannel",
];

/// The expectation `key` of `exp`, if given.
fn want(exp: &[(String, u64, u64)], key: &str) -> Option<u64> {
    exp.iter().find(|(k, _, _)| k == key).map(|&(_, _, v)| v)
}

/// Compares `got` with the expectation `key`, if there is one.
fn compare(exp: &[(String, u64, u64)], key: &str, got: u64) -> Result<(), String> {
    match want(exp, key) {
        Some(w) if w == got => Ok(()),
        Some(w) => Err(format!("{key}: got {got}, expected {w}")),
        None => Ok(()),
    }
}

/// Runs the query checks with `exp` (nova-test KEY=VALUE expectations) on `node`.
pub fn run(prefix: &str, node: &Node, exp: &[(String, u64, u64)], report: &mut Report) {
    engines(prefix, node, exp, report);
    classes(prefix, node, exp, report);
    units(prefix, node, exp, report);
    misuse(prefix, node, report);
}

fn engines(prefix: &str, node: &Node, exp: &[(String, u64, u64)], report: &mut Report) {
    let list = node.query_list::<uapi::drm_nova_engine>(uapi::NOVA_QUERY_ENGINES);
    report.check(
        &format!("{prefix}query-engines"),
        list.map_err(|e| e.to_string()).and_then(|list| {
            for e in &list {
                println!(
                    "nova-test: {prefix}engine kind {} instance {} runlist {}",
                    e.kind, e.instance, e.runlist
                );
            }
            compare(exp, "engines", list.len() as u64)?;
            if list.iter().any(|e| e.pad != 0) {
                return Err("an engine's pad is not zero".to_owned());
            }
            // Within a kind, the instances are distinct.
            for (i, e) in list.iter().enumerate() {
                if list[..i]
                    .iter()
                    .any(|o| o.kind == e.kind && o.instance == e.instance)
                {
                    return Err(format!("kind {} instance {} twice", e.kind, e.instance));
                }
            }
            let count = |kind| list.iter().filter(|e| e.kind == kind).count() as u64;
            compare(exp, "grs", count(uapi::NOVA_ENGINE_GRAPHICS))?;
            compare(exp, "copies", count(uapi::NOVA_ENGINE_COPY))?;
            // Copy engines are numbered from 0 without gaps.
            let copies = count(uapi::NOVA_ENGINE_COPY);
            for i in 0..copies {
                if !list
                    .iter()
                    .any(|e| e.kind == uapi::NOVA_ENGINE_COPY && u64::from(e.instance) == i)
                {
                    return Err(format!("no copy engine {i} of {copies}"));
                }
            }
            Ok(())
        }),
    );
}

fn classes(prefix: &str, node: &Node, exp: &[(String, u64, u64)], report: &mut Report) {
    let list = node.query_list::<u32>(uapi::NOVA_QUERY_CLASSES);
    report.check(
        &format!("{prefix}query-classes"),
        list.map_err(|e| e.to_string()).and_then(|list| {
            let shown: Vec<String> = list.iter().map(|c| format!("{c:#x}")).collect();
            println!("nova-test: {prefix}classes {}", shown.join(" "));
            compare(exp, "classes", list.len() as u64)?;
            for (i, c) in list.iter().enumerate() {
                if list[..i].contains(c) {
                    return Err(format!("class {c:#x} listed twice"));
                }
            }
            for key in ["class3d", "classcompute", "classcopy", "classchannel"] {
                if let Some(class) = want(exp, key) {
                    if !list.iter().any(|&c| u64::from(c) == class) {
                        return Err(format!("{key} {class:#x} is not in the list"));
                    }
                }
            }
            Ok(())
        }),
    );
}

fn units(prefix: &str, node: &Node, exp: &[(String, u64, u64)], report: &mut Report) {
    report.check(
        &format!("{prefix}getparam-gpc-mask"),
        node.getparam(param::GPC_MASK)
            .map_err(|e| e.to_string())
            .and_then(|mask| {
                let gpcs = node.getparam(param::GPC_COUNT).map_err(|e| e.to_string())?;
                let tpcs = node.getparam(param::TPC_COUNT).map_err(|e| e.to_string())?;
                println!("nova-test: {prefix}gpc mask {mask:#x}, {gpcs} GPCs, {tpcs} TPCs");
                if u64::from(mask.count_ones()) != gpcs {
                    return Err(format!("mask {mask:#x} does not hold {gpcs} GPCs"));
                }
                if tpcs < gpcs {
                    return Err(format!("{tpcs} TPCs for {gpcs} GPCs"));
                }
                compare(exp, "gpcs", gpcs)?;
                compare(exp, "tpcs", tpcs)
            }),
    );
}

/// Malformed queries fail with EINVAL or EFAULT and write nothing.
fn misuse(prefix: &str, node: &Node, report: &mut Report) {
    for query in [0, 3, u32::MAX] {
        let mut arg = NovaQuery {
            query,
            count: 0,
            data: 0,
        };
        // SAFETY: `count` is 0; nothing is written.
        let r = unsafe { node.query_raw(&mut arg) };
        report.check(
            &format!("{prefix}query-unknown-{query:#x}"),
            match r {
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(()),
                Err(e) => Err(format!("expected EINVAL, got {e}")),
                Ok(()) => Err(format!("succeeded with count {}", arg.count)),
            },
        );
    }
    let n = node
        .query_count(uapi::NOVA_QUERY_CLASSES)
        .unwrap_or_default();
    // An array too small by one: EINVAL, and the array untouched.
    let mut small = vec![0x5a5a_5a5au32; (n as usize).saturating_sub(1) + 4];
    let mut arg = NovaQuery {
        query: uapi::NOVA_QUERY_CLASSES,
        count: n.saturating_sub(1),
        data: small.as_mut_ptr() as u64,
    };
    // SAFETY: `data` holds more than `count` u32s.
    let r = unsafe { node.query_raw(&mut arg) };
    report.check(
        &format!("{prefix}query-too-small"),
        match r {
            _ if n < 2 => Err(format!("only {n} classes to test with")),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                if small.iter().all(|&c| c == 0x5a5a_5a5a) {
                    Ok(())
                } else {
                    Err("the array was written".to_owned())
                }
            }
            Err(e) => Err(format!("expected EINVAL, got {e}")),
            Ok(()) => Err("succeeded".to_owned()),
        },
    );
    // A larger array: the list, then untouched elements.
    let mut big = vec![0x5a5a_5a5au32; n as usize + 4];
    let mut arg = NovaQuery {
        query: uapi::NOVA_QUERY_CLASSES,
        count: n + 4,
        data: big.as_mut_ptr() as u64,
    };
    // SAFETY: `data` holds `count` u32s.
    let r = unsafe { node.query_raw(&mut arg) };
    report.check(
        &format!("{prefix}query-larger-array"),
        r.map_err(|e| e.to_string()).and_then(|()| {
            let (list, rest) = big.split_at(n as usize);
            if arg.count != n {
                Err(format!("count {} for {n} classes", arg.count))
            } else if list.contains(&0x5a5a_5a5a) || rest.iter().any(|&c| c != 0x5a5a_5a5a) {
                Err("the list or the elements after it are wrong".to_owned())
            } else {
                Ok(())
            }
        }),
    );
    // An address nothing is mapped at: EFAULT.
    let mut arg = NovaQuery {
        query: uapi::NOVA_QUERY_ENGINES,
        count: 64,
        data: 8,
    };
    // SAFETY: nothing is mapped at address 8 (the first page never is).
    let r = unsafe { node.query_raw(&mut arg) };
    report.check(
        &format!("{prefix}query-bad-address"),
        match r {
            Err(e) if e.raw_os_error() == Some(libc::EFAULT) => Ok(()),
            Err(e) => Err(format!("expected EFAULT, got {e}")),
            Ok(()) => Err("succeeded".to_owned()),
        },
    );
}

/// Where nova-core does not boot GSP-RM, the queries and the GPC/TPC GETPARAMs fail with
/// ENODEV.
pub fn without_gsp(prefix: &str, node: &Node, report: &mut Report) {
    for (name, query) in [
        ("engines", uapi::NOVA_QUERY_ENGINES),
        ("classes", uapi::NOVA_QUERY_CLASSES),
    ] {
        report.check(
            &format!("{prefix}query-{name}-without-gsp"),
            match node.query_count(query) {
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
                Err(e) => Err(format!("expected ENODEV, got {e}")),
                Ok(n) => Err(format!("succeeded with {n} elements")),
            },
        );
    }
    for (name, p) in [
        ("gpcs", param::GPC_COUNT),
        ("tpcs", param::TPC_COUNT),
        ("gpc-mask", param::GPC_MASK),
    ] {
        let mut arg = NovaGetparam { param: p, value: 0 };
        report.check(
            &format!("{prefix}getparam-{name}-without-gsp"),
            match node.getparam_raw(&mut arg) {
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(()),
                Err(e) => Err(format!("expected ENODEV, got {e}")),
                Ok(()) => Err(format!("succeeded with {}", arg.value)),
            },
        );
    }
}
