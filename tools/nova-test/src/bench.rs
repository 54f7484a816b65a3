// SPDX-License-Identifier: GPL-2.0

//! `nova-test bench`: a benchmark of nova's uAPI against the DRM core and vgem, measured in one
//! run. It only prints, as `nova-bench: NAME VALUE UNIT` lines (ratios have the unit `ratio`,
//! errors are `nova-bench: error WHAT: WHY`); it never fails on timing. Every measurement stops
//! after `BUDGET` even if its count is not reached, so a slow (TCG) guest finishes in well under
//! a minute.

use std::fmt::Display;
use std::hint::black_box;
use std::io;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::drm::{self, param, Mapping, Node};
use crate::gem::describe;

/// The time any one measurement may take.
const BUDGET: Duration = Duration::from_secs(3);
/// Calls per timed batch in the latency measurement.
const BATCH: usize = 1000;
/// Calls of each ioctl in the latency measurement.
const CALLS: usize = 200_000;
/// Object creations in the create+close measurement.
const CREATES: usize = 20_000;
/// The size of the objects mapped in the first-touch measurement.
const BIG: u64 = 64 << 20;
/// Objects created in the memory-per-object measurement.
const OBJECTS: usize = 4096;
/// The size of small objects.
const SMALL: u64 = 4096;
const MIB: f64 = (1u64 << 20) as f64;

fn line(name: &str, value: impl Display, unit: &str) {
    println!("nova-bench: {name} {value} {unit}");
}

fn ratio(name: &str, a: Option<f64>, b: Option<f64>) {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 && a.is_finite() && b.is_finite() => {
            line(name, format!("{:.3}", a / b), "ratio")
        }
        _ => line(name, "n/a", "ratio"),
    }
}

fn error(what: &str, why: impl Display) {
    println!("nova-bench: error {what}: {why}");
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// Runs the benchmark against the nova render node (and vgem's primary node, if present).
pub fn run() -> ExitCode {
    let dri = Path::new(crate::DRI);
    let render = drm::find_nodes(dri, "renderD", crate::DRIVER);
    let Some(nova) = render.first() else {
        error("nova", "no nova render node in /dev/dri");
        return ExitCode::FAILURE;
    };
    // vgem's dumb-buffer ioctls are refused on render nodes; its primary node takes them.
    let vgem_nodes = drm::find_nodes(dri, "card", "vgem");
    let vgem = vgem_nodes.first();
    if vgem.is_none() {
        error(
            "vgem",
            "no vgem primary node in /dev/dri; vgem comparisons skipped",
        );
    }
    let start = Instant::now();
    ioctl_latency(nova);
    create_close(nova, vgem);
    first_touch(nova, vgem);
    memory_per_object(nova, vgem);
    line(
        "total-time",
        format!("{:.2}", start.elapsed().as_secs_f64()),
        "s",
    );
    ExitCode::SUCCESS
}

/// Median ns per call of `op` over batches of `BATCH` calls, alternating with `other` so that
/// both see the same conditions; returns the medians and the calls made of each.
fn interleaved_latency(
    mut op: impl FnMut() -> io::Result<()>,
    mut other: impl FnMut() -> io::Result<()>,
) -> io::Result<(Option<f64>, Option<f64>, usize)> {
    for _ in 0..BATCH {
        op()?;
        other()?;
    }
    let deadline = Instant::now() + BUDGET;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    while a.len() * BATCH < CALLS && Instant::now() < deadline {
        let t = Instant::now();
        for _ in 0..BATCH {
            op()?;
        }
        a.push(t.elapsed().as_nanos() as f64 / BATCH as f64);
        let t = Instant::now();
        for _ in 0..BATCH {
            other()?;
        }
        b.push(t.elapsed().as_nanos() as f64 / BATCH as f64);
    }
    let calls = a.len() * BATCH;
    Ok((median(&mut a), median(&mut b), calls))
}

fn ioctl_latency(nova: &Node) {
    let r = interleaved_latency(
        || {
            nova.getparam(param::CHIPSET).map(|v| {
                black_box(v);
            })
        },
        || {
            nova.version_lengths().map(|v| {
                black_box(v);
            })
        },
    );
    match r {
        Ok((g, v, calls)) => {
            line("getparam-latency", fmt(g, 1), "ns");
            line("version-latency", fmt(v, 1), "ns");
            line("latency-calls", calls, "calls");
            ratio("getparam/version-latency", g, v);
        }
        Err(e) => error("ioctl-latency", describe(&e)),
    }
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(v) => format!("{v:.digits$}"),
        None => "n/a".to_owned(),
    }
}

/// Runs `op` up to `count` times or for `BUDGET`; returns the calls made and the time taken.
fn timed(count: usize, mut op: impl FnMut() -> io::Result<()>) -> io::Result<(usize, Duration)> {
    let start = Instant::now();
    let deadline = start + BUDGET;
    let mut n = 0;
    while n < count {
        op()?;
        n += 1;
        if n % 64 == 0 && Instant::now() >= deadline {
            break;
        }
    }
    Ok((n, start.elapsed()))
}

fn nova_create_close(nova: &Node) -> io::Result<()> {
    let (h, _) = nova.gem_create(SMALL)?;
    nova.gem_close(h)
}

fn vgem_create_close(vgem: &Node) -> io::Result<()> {
    // 1024 pixels of 32 bits, one line: 4 KiB.
    let d = vgem.create_dumb(1024, 1, 32)?;
    vgem.gem_close(d.handle)
}

fn create_close(nova: &Node, vgem: Option<&Node>) {
    let rate = |name: &str, r: io::Result<(usize, Duration)>| -> Option<(f64, usize)> {
        match r {
            Ok((n, t)) => {
                let per_s = n as f64 / t.as_secs_f64().max(1e-9);
                line(
                    &format!("gem-create-close-{name}"),
                    format!("{per_s:.0}"),
                    "ops/s",
                );
                line(&format!("gem-create-close-{name}-count"), n, "ops");
                Some((per_s, n))
            }
            Err(e) => {
                error(&format!("gem-create-close-{name}"), describe(&e));
                None
            }
        }
    };
    let warm = timed(64, || nova_create_close(nova));
    let n = match warm {
        Ok(_) => rate("nova", timed(CREATES, || nova_create_close(nova))),
        Err(e) => {
            error("gem-create-close-nova", describe(&e));
            None
        }
    };
    let Some(vgem) = vgem else {
        return;
    };
    // The same count as nova's (which may have been cut short by the time limit).
    let count = n.map_or(CREATES, |(_, c)| c);
    let v = match timed(64, || vgem_create_close(vgem)) {
        Ok(_) => rate("vgem", timed(count, || vgem_create_close(vgem))),
        Err(e) => {
            error("gem-create-close-vgem", describe(&e));
            None
        }
    };
    ratio(
        "gem-create-close-nova/vgem",
        n.map(|(r, _)| r),
        v.map(|(r, _)| r),
    );
}

/// First-touch and memset bandwidth (MiB/s) through a mapping, each bounded by `BUDGET`.
fn touch_and_fill(m: &Mapping) -> io::Result<(f64, f64)> {
    let ps = drm::page_size();
    let pages = m.len() / ps;
    let start = Instant::now();
    let deadline = start + BUDGET;
    let mut touched = 0;
    while touched < pages {
        m.touch(touched * ps, 1)?;
        touched += 1;
        if touched % 64 == 0 && Instant::now() >= deadline {
            break;
        }
    }
    let touch = (touched * ps) as f64 / MIB / start.elapsed().as_secs_f64().max(1e-9);

    // A memset of the (now populated) mapping, in 1 MiB steps so that it too can stop early.
    const STEP: usize = 1 << 20;
    let start = Instant::now();
    let deadline = start + BUDGET;
    let mut filled = 0;
    while filled < m.len() {
        let n = STEP.min(m.len() - filled);
        m.fill(filled, n, 0x5a)?;
        filled += n;
        if Instant::now() >= deadline {
            break;
        }
    }
    let fill = filled as f64 / MIB / start.elapsed().as_secs_f64().max(1e-9);
    Ok((touch, fill))
}

fn nova_big(nova: &Node) -> io::Result<(f64, f64)> {
    let (h, size) = nova.gem_create(BIG)?;
    let r = (|| {
        let info = nova.gem_info(h)?;
        let len = usize::try_from(size).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let m = nova.mmap(info.mmap_offset, len)?;
        touch_and_fill(&m)
    })();
    let closed = nova.gem_close(h);
    let r = r?;
    closed?;
    Ok(r)
}

fn vgem_big(vgem: &Node) -> io::Result<(f64, f64)> {
    // 4096 x 4096 pixels of 32 bits: 64 MiB.
    let d = vgem.create_dumb(4096, 4096, 32)?;
    let r = (|| {
        let off = vgem.map_dumb(d.handle)?;
        let len =
            usize::try_from(d.size).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let m = vgem.mmap(off, len)?;
        touch_and_fill(&m)
    })();
    let closed = vgem.gem_close(d.handle);
    let r = r?;
    closed?;
    Ok(r)
}

fn first_touch(nova: &Node, vgem: Option<&Node>) {
    let show = |name: &str, r: io::Result<(f64, f64)>| -> Option<(f64, f64)> {
        match r {
            Ok((touch, fill)) => {
                line(
                    &format!("first-touch-{name}"),
                    format!("{touch:.1}"),
                    "MiB/s",
                );
                line(&format!("memset-{name}"), format!("{fill:.1}"), "MiB/s");
                Some((touch, fill))
            }
            Err(e) => {
                error(&format!("first-touch-{name}"), describe(&e));
                None
            }
        }
    };
    let n = show("nova", nova_big(nova));
    let Some(vgem) = vgem else {
        return;
    };
    let v = show("vgem", vgem_big(vgem));
    ratio("first-touch-nova/vgem", n.map(|x| x.0), v.map(|x| x.0));
    ratio("memset-nova/vgem", n.map(|x| x.1), v.map(|x| x.1));
}

/// `Slab:` and `MemAvailable:` from /proc/meminfo, in KiB.
fn meminfo() -> io::Result<(i64, i64)> {
    // Folds the per-CPU counter deltas into the totals /proc/meminfo shows (root only; best
    // effort).
    let _ = std::fs::write("/proc/sys/vm/stat_refresh", "1");
    let text = std::fs::read_to_string("/proc/meminfo")?;
    parse_meminfo(&text)
        .ok_or_else(|| io::Error::other("no Slab: or MemAvailable: in /proc/meminfo"))
}

fn parse_meminfo(text: &str) -> Option<(i64, i64)> {
    let field = |key: &str| -> Option<i64> {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    Some((field("Slab:")?, field("MemAvailable:")?))
}

/// Creates up to `OBJECTS` objects (touching no pages) and reports the kernel memory they took.
fn per_object(
    name: &str,
    mut create: impl FnMut() -> io::Result<u32>,
    mut close: impl FnMut(u32) -> io::Result<()>,
) -> Option<f64> {
    let before = match meminfo() {
        Ok(m) => m,
        Err(e) => {
            error(&format!("objects-{name}"), describe(&e));
            return None;
        }
    };
    let mut handles = Vec::with_capacity(OBJECTS);
    let start = Instant::now();
    let mut failure = None;
    while handles.len() < OBJECTS {
        match create() {
            Ok(h) => handles.push(h),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
        if handles.len() % 64 == 0 && start.elapsed() >= BUDGET {
            break;
        }
    }
    let after = meminfo();
    let n = handles.len();
    let mut result = None;
    if let Some(e) = failure {
        error(
            &format!("objects-{name}"),
            format!("create #{n}: {}", describe(&e)),
        );
    }
    match after {
        Ok(after) if n > 0 => {
            let slab = (after.0 - before.0) * 1024 / n as i64;
            let avail = (before.1 - after.1) * 1024 / n as i64;
            line(&format!("objects-{name}"), n, "objects");
            line(&format!("slab-per-object-{name}"), slab, "B/object");
            line(
                &format!("memavailable-per-object-{name}"),
                avail,
                "B/object",
            );
            result = Some(slab as f64);
        }
        Ok(_) => {}
        Err(e) => error(&format!("objects-{name}"), describe(&e)),
    }
    let mut close_failures = 0;
    for h in handles {
        if close(h).is_err() {
            close_failures += 1;
        }
    }
    if close_failures > 0 {
        error(
            &format!("objects-{name}"),
            format!("{close_failures} GEM_CLOSE calls failed"),
        );
    }
    result
}

fn memory_per_object(nova: &Node, vgem: Option<&Node>) {
    let n = per_object(
        "nova",
        || nova.gem_create(SMALL).map(|(h, _)| h),
        |h| nova.gem_close(h),
    );
    let Some(vgem) = vgem else {
        return;
    };
    let v = per_object(
        "vgem",
        || vgem.create_dumb(1024, 1, 32).map(|d| d.handle),
        |h| vgem.gem_close(h),
    );
    ratio("slab-per-object-nova/vgem", n, v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn meminfo_parses() {
        let text = "MemTotal:        1000 kB\nSlab:             123 kB\nMemAvailable:     456 kB\n";
        assert_eq!(parse_meminfo(text), Some((123, 456)));
        assert_eq!(parse_meminfo("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn timed_loops_stop_at_the_count_or_on_error() {
        let mut calls = 0;
        let (n, _) = timed(100, || {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((n, calls), (100, 100));
        let r = timed(100, || Err(io::Error::from_raw_os_error(libc::ENOTTY)));
        assert_eq!(r.unwrap_err().raw_os_error(), Some(libc::ENOTTY));
    }
}
