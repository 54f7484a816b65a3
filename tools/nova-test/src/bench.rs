// SPDX-License-Identifier: GPL-2.0

//! `nova-test bench`: a benchmark of nova's uAPI against the DRM core and vgem, and of
//! nova-core's RPC round trip on the GSP's interrupt against polling (timed in the kernel, through
//! nova-core's debugfs benchmark), measured in one run. It only prints; it never fails on
//! timing.
//!
//! Every figure is measured in repeated batches and printed as the median over the batches,
//! with their minimum and maximum:
//!
//! ```text
//! nova-bench: figure NAME UNIT median=M min=A max=B n=K
//! ```
//!
//! A figure that has a reference (nova's GETPARAM against the DRM core's VERSION, nova's GEM
//! objects against vgem's) is measured in batches that alternate with the reference's, and the
//! ratio is computed pair by pair, so that drift of a noisy host cancels out of it:
//!
//! ```text
//! nova-bench: ratio NAME of=FIGURE ref=REFERENCE median=M min=A max=B n=K
//! ```
//!
//! The run starts by measuring the clock it times with (`nova-bench: clock SOURCE
//! resolution=NS getres=NS`). A latency whose batch took less than `MIN_BATCH_RESOLUTIONS`
//! times that resolution is not reported: it would be a count of clock ticks, not a time.
//! Errors are `nova-bench: error WHAT: WHY`. `scripts/nova/bench.py` reads these lines, prints
//! them as a table and writes them as JSON.

use std::fmt::Display;
use std::hint::black_box;
use std::io;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::drm::{self, param, Mapping, Node};
use crate::gem::describe;

/// The time the batches of any one measurement may take in all.
const BUDGET: Duration = Duration::from_secs(6);
/// A batch must take at least this many clock resolutions for its time to count.
const MIN_BATCH_RESOLUTIONS: u32 = 100;
/// The fewest calls per latency batch; more are made if the clock needs it.
const MIN_BATCH: usize = 200;
/// The most latency batch pairs.
const MAX_PAIRS: usize = 101;
/// Create+close calls per batch.
const CREATE_BATCH: usize = 128;
/// The most create+close batch pairs.
const MAX_CREATE_PAIRS: usize = 41;
/// The size of the objects of the first-touch and memset measurement.
const BIG: u64 = 16 << 20;
/// Rounds of the first-touch and memset measurement.
const TOUCH_ROUNDS: usize = 5;
/// Objects created per batch of the memory-per-object measurement.
const OBJECT_BATCH: usize = 1024;
/// Batches of the memory-per-object measurement.
const OBJECT_ROUNDS: usize = 4;
/// The size of small objects.
const SMALL: u64 = 4096;
/// Where nova-core's per-GPU debugfs directories are.
const DEBUGFS_NOVA_CORE: &str = "/sys/kernel/debug/nova_core";
/// RM_CONTROL calls per batch of the RPC round-trip measurement.
const RPC_BATCH: u32 = 50;
/// The most batch pairs (interrupt, polled) of the RPC round-trip measurement.
const MAX_RPC_PAIRS: usize = 21;
const MIB: f64 = (1u64 << 20) as f64;

/// The median, minimum and maximum of a set of measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
    n: usize,
}

impl Spread {
    /// The spread of `v` (reordered), or `None` if it is empty or holds a value that is not a
    /// finite number.
    fn of(v: &mut [f64]) -> Option<Spread> {
        if v.is_empty() || v.iter().any(|x| !x.is_finite()) {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[v.len() - 1],
            n: v.len(),
        })
    }

    /// The spread of the pair-by-pair ratios `a[i] / b[i]`.
    fn of_ratios(a: &[f64], b: &[f64]) -> Option<Spread> {
        let mut r: Vec<f64> = a
            .iter()
            .zip(b)
            .filter(|(_, &b)| b != 0.0)
            .map(|(a, b)| a / b)
            .collect();
        Spread::of(&mut r)
    }
}

fn figure(name: &str, unit: &str, s: Option<Spread>, digits: usize) {
    match s {
        Some(s) => println!(
            "nova-bench: figure {name} {unit} median={:.digits$} min={:.digits$} max={:.digits$} n={}",
            s.median, s.min, s.max, s.n
        ),
        None => error(name, "no measurement"),
    }
}

fn ratio(name: &str, of: &str, reference: &str, s: Option<Spread>) {
    match s {
        Some(s) => println!(
            "nova-bench: ratio {name} of={of} ref={reference} median={:.3} min={:.3} max={:.3} n={}",
            s.median, s.min, s.max, s.n
        ),
        None => error(name, "no pair of measurements"),
    }
}

fn error(what: &str, why: impl Display) {
    println!("nova-bench: error {what}: {why}");
}

/// The clock every figure is timed with.
#[derive(Debug, Clone, Copy)]
struct Clock {
    /// The smallest nonzero step between two readings of `Instant::now()`.
    resolution: Duration,
}

impl Clock {
    /// Measures the clock: the smallest nonzero difference between consecutive readings, over
    /// at most 200 ms or 100,000 readings. A clock that never moves in that time has the whole
    /// time as its resolution.
    fn measure() -> Clock {
        let start = Instant::now();
        let mut last = start;
        let mut best: Option<Duration> = None;
        for _ in 0..100_000 {
            let now = Instant::now();
            let d = now - last;
            if !d.is_zero() {
                best = Some(best.map_or(d, |b| b.min(d)));
            }
            last = now;
            if now - start >= Duration::from_millis(200) {
                break;
            }
        }
        Clock {
            resolution: best.unwrap_or_else(|| start.elapsed()),
        }
    }

    /// Whether a batch that took `t` is long enough to be timed with this clock.
    fn times(&self, t: Duration) -> bool {
        t >= self.resolution * MIN_BATCH_RESOLUTIONS
    }
}

/// What `clock_getres(CLOCK_MONOTONIC)` claims, in ns.
fn getres() -> Option<i64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let r = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC, &mut ts) };
    (r == 0).then(|| ts.tv_sec * 1_000_000_000 + ts.tv_nsec)
}

fn clocksource() -> String {
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
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
    let clock = Clock::measure();
    println!(
        "nova-bench: clock {} resolution={} getres={}",
        clocksource(),
        clock.resolution.as_nanos(),
        getres().map_or("n/a".to_owned(), |r| r.to_string())
    );
    let start = Instant::now();
    ioctl_latency(&clock, nova);
    create_close(&clock, nova, vgem);
    first_touch(nova, vgem);
    memory_per_object(nova, vgem);
    rpc_round_trip();
    println!(
        "nova-bench: total-time {:.2} s",
        start.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

/// Batches of `op` alternating with batches of `other`, `batch` calls each, until `pairs` pairs
/// or `BUDGET`. Returns each batch's time, a pair at a time.
fn interleaved(
    batch: usize,
    pairs: usize,
    mut op: impl FnMut() -> io::Result<()>,
    mut other: impl FnMut() -> io::Result<()>,
) -> io::Result<Vec<(Duration, Duration)>> {
    let deadline = Instant::now() + BUDGET;
    let mut out = Vec::new();
    while out.len() < pairs && (out.len() < 3 || Instant::now() < deadline) {
        let t = Instant::now();
        for _ in 0..batch {
            op()?;
        }
        let a = t.elapsed();
        let t = Instant::now();
        for _ in 0..batch {
            other()?;
        }
        out.push((a, t.elapsed()));
    }
    Ok(out)
}

/// The calls per batch that make a batch of `op` last at least `MIN_BATCH_RESOLUTIONS`
/// resolutions of `clock` (twice that, for a margin), and at least `MIN_BATCH`.
fn batch_size(clock: &Clock, op: impl FnMut() -> io::Result<()>) -> io::Result<usize> {
    batch_size_with(clock, Instant::now, op)
}

/// [`batch_size`] with the time read from `now` (the tests give it a clock of their own, so
/// that the result does not depend on how loaded the machine is).
fn batch_size_with(
    clock: &Clock,
    mut now: impl FnMut() -> Instant,
    mut op: impl FnMut() -> io::Result<()>,
) -> io::Result<usize> {
    let mut n = MIN_BATCH;
    loop {
        let t = now();
        for _ in 0..n {
            op()?;
        }
        let took = now().saturating_duration_since(t);
        if clock.times(took / 2) || n >= 1 << 22 {
            return Ok(n);
        }
        n *= 2;
    }
}

/// Nanoseconds per call of each batch whose time the clock can measure; the pairs with a batch
/// too short are dropped (and counted in the second value).
fn per_call(
    clock: &Clock,
    batch: usize,
    pairs: &[(Duration, Duration)],
) -> (Vec<(f64, f64)>, usize) {
    let mut kept = Vec::new();
    let mut dropped = 0;
    for &(a, b) in pairs {
        if clock.times(a) && clock.times(b) {
            // CAST: batch is at most 1 << 23 calls, exactly representable in an f64.
            let n = batch as f64;
            kept.push((a.as_nanos() as f64 / n, b.as_nanos() as f64 / n));
        } else {
            dropped += 1;
        }
    }
    (kept, dropped)
}

fn ioctl_latency(clock: &Clock, nova: &Node) {
    let getparam = || {
        nova.getparam(param::CHIPSET).map(|v| {
            black_box(v);
        })
    };
    let version = || {
        nova.version_lengths().map(|v| {
            black_box(v);
        })
    };
    let r = batch_size(clock, getparam).and_then(|batch| {
        let b = batch_size(clock, version)?.max(batch);
        Ok((b, interleaved(b, MAX_PAIRS, getparam, version)?))
    });
    let (batch, pairs) = match r {
        Ok(r) => r,
        Err(e) => return error("ioctl-latency", describe(&e)),
    };
    let (kept, dropped) = per_call(clock, batch, &pairs);
    if dropped > 0 {
        error(
            "ioctl-latency",
            format!(
                "{dropped} of {} batch pairs of {batch} calls took less than {MIN_BATCH_RESOLUTIONS} \
                 clock resolutions ({} ns) and are not counted",
                pairs.len(),
                clock.resolution.as_nanos()
            ),
        );
    }
    let g: Vec<f64> = kept.iter().map(|p| p.0).collect();
    let v: Vec<f64> = kept.iter().map(|p| p.1).collect();
    println!("nova-bench: latency-batch {batch} calls");
    figure("getparam-latency", "ns", Spread::of(&mut g.clone()), 1);
    figure("version-latency", "ns", Spread::of(&mut v.clone()), 1);
    ratio(
        "getparam/version-latency",
        "getparam-latency",
        "version-latency",
        Spread::of_ratios(&g, &v),
    );
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

/// Operations per second of each batch of `n` operations that took `t`.
fn rate(n: usize, t: Duration) -> f64 {
    // CAST: n is at most CREATE_BATCH, exactly representable in an f64.
    n as f64 / t.as_secs_f64().max(1e-9)
}

fn create_close(clock: &Clock, nova: &Node, vgem: Option<&Node>) {
    let Some(vgem) = vgem else {
        // nova alone: batches of nova's, no reference.
        match interleaved(
            CREATE_BATCH,
            MAX_CREATE_PAIRS,
            || nova_create_close(nova),
            || Ok(()),
        ) {
            Ok(p) => {
                let mut n: Vec<f64> = p.iter().map(|p| rate(CREATE_BATCH, p.0)).collect();
                figure("gem-create-close-nova", "ops/s", Spread::of(&mut n), 0);
            }
            Err(e) => error("gem-create-close-nova", describe(&e)),
        }
        return;
    };
    let pairs = interleaved(
        CREATE_BATCH,
        MAX_CREATE_PAIRS,
        || nova_create_close(nova),
        || vgem_create_close(vgem),
    );
    let pairs = match pairs {
        Ok(p) => p,
        Err(e) => return error("gem-create-close", describe(&e)),
    };
    let kept: Vec<_> = pairs
        .iter()
        .filter(|(a, b)| clock.times(*a) && clock.times(*b))
        .collect();
    if kept.len() < pairs.len() {
        error(
            "gem-create-close",
            format!(
                "{} of {} batch pairs too short for the clock, not counted",
                pairs.len() - kept.len(),
                pairs.len()
            ),
        );
    }
    let n: Vec<f64> = kept.iter().map(|p| rate(CREATE_BATCH, p.0)).collect();
    let v: Vec<f64> = kept.iter().map(|p| rate(CREATE_BATCH, p.1)).collect();
    figure(
        "gem-create-close-nova",
        "ops/s",
        Spread::of(&mut n.clone()),
        0,
    );
    figure(
        "gem-create-close-vgem",
        "ops/s",
        Spread::of(&mut v.clone()),
        0,
    );
    ratio(
        "gem-create-close-nova/vgem",
        "gem-create-close-nova",
        "gem-create-close-vgem",
        Spread::of_ratios(&n, &v),
    );
}

/// First-touch and memset bandwidth (MiB/s) through a mapping.
fn touch_and_fill(m: &Mapping) -> io::Result<(f64, f64)> {
    let ps = drm::page_size();
    let pages = m.len() / ps;
    let start = Instant::now();
    for p in 0..pages {
        m.touch(p * ps, 1)?;
    }
    // CAST: a mapping's length is far below 2^53 bytes.
    let touch = m.len() as f64 / MIB / start.elapsed().as_secs_f64().max(1e-9);
    let start = Instant::now();
    m.fill(0, m.len(), 0x5a)?;
    // CAST: as above.
    let fill = m.len() as f64 / MIB / start.elapsed().as_secs_f64().max(1e-9);
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
    // 2048 x 2048 pixels of 32 bits: 16 MiB.
    let d = vgem.create_dumb(2048, 2048, 32)?;
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
    let (mut nt, mut nf, mut vt, mut vf) = (vec![], vec![], vec![], vec![]);
    for _ in 0..TOUCH_ROUNDS {
        match nova_big(nova) {
            Ok((t, f)) => {
                nt.push(t);
                nf.push(f);
            }
            Err(e) => return error("first-touch-nova", describe(&e)),
        }
        if let Some(vgem) = vgem {
            match vgem_big(vgem) {
                Ok((t, f)) => {
                    vt.push(t);
                    vf.push(f);
                }
                Err(e) => return error("first-touch-vgem", describe(&e)),
            }
        }
    }
    figure("first-touch-nova", "MiB/s", Spread::of(&mut nt.clone()), 1);
    figure("memset-nova", "MiB/s", Spread::of(&mut nf.clone()), 1);
    if vgem.is_none() {
        return;
    }
    figure("first-touch-vgem", "MiB/s", Spread::of(&mut vt.clone()), 1);
    figure("memset-vgem", "MiB/s", Spread::of(&mut vf.clone()), 1);
    ratio(
        "first-touch-nova/vgem",
        "first-touch-nova",
        "first-touch-vgem",
        Spread::of_ratios(&nt, &vt),
    );
    ratio(
        "memset-nova/vgem",
        "memset-nova",
        "memset-vgem",
        Spread::of_ratios(&nf, &vf),
    );
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

/// Creates `OBJECT_BATCH` objects (touching no pages), and returns the slab and the available
/// memory they took, in bytes per object, then closes them.
fn per_object(
    mut create: impl FnMut() -> io::Result<u32>,
    mut close: impl FnMut(u32) -> io::Result<()>,
) -> io::Result<(f64, f64)> {
    let before = meminfo()?;
    let mut handles = Vec::with_capacity(OBJECT_BATCH);
    let mut failure = None;
    while handles.len() < OBJECT_BATCH {
        match create() {
            Ok(h) => handles.push(h),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let after = meminfo();
    let mut close_failures = 0;
    for h in handles {
        if close(h).is_err() {
            close_failures += 1;
        }
    }
    if let Some(e) = failure {
        return Err(io::Error::other(format!("create: {}", describe(&e))));
    }
    if close_failures > 0 {
        return Err(io::Error::other(format!(
            "{close_failures} GEM_CLOSE calls failed"
        )));
    }
    let after = after?;
    // CAST: OBJECT_BATCH and KiB counts of a guest's memory are exactly representable.
    let n = OBJECT_BATCH as f64;
    Ok((
        (after.0 - before.0) as f64 * 1024.0 / n,
        (before.1 - after.1) as f64 * 1024.0 / n,
    ))
}

fn memory_per_object(nova: &Node, vgem: Option<&Node>) {
    let (mut ns, mut na, mut vs, mut va) = (vec![], vec![], vec![], vec![]);
    for _ in 0..OBJECT_ROUNDS {
        match per_object(
            || nova.gem_create(SMALL).map(|(h, _)| h),
            |h| nova.gem_close(h),
        ) {
            Ok((s, a)) => {
                ns.push(s);
                na.push(a);
            }
            Err(e) => return error("objects-nova", describe(&e)),
        }
        if let Some(vgem) = vgem {
            match per_object(
                || vgem.create_dumb(1024, 1, 32).map(|d| d.handle),
                |h| vgem.gem_close(h),
            ) {
                Ok((s, a)) => {
                    vs.push(s);
                    va.push(a);
                }
                Err(e) => return error("objects-vgem", describe(&e)),
            }
        }
    }
    figure(
        "slab-per-object-nova",
        "B/object",
        Spread::of(&mut ns.clone()),
        0,
    );
    figure(
        "memavailable-per-object-nova",
        "B/object",
        Spread::of(&mut na),
        0,
    );
    if vgem.is_none() {
        return;
    }
    figure(
        "slab-per-object-vgem",
        "B/object",
        Spread::of(&mut vs.clone()),
        0,
    );
    figure(
        "memavailable-per-object-vgem",
        "B/object",
        Spread::of(&mut va),
        0,
    );
    ratio(
        "slab-per-object-nova/vgem",
        "slab-per-object-nova",
        "slab-per-object-vgem",
        Spread::of_ratios(&ns, &vs),
    );
}

/// One run of nova-core's RPC benchmark, as its debugfs file reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct RpcRun {
    calls: u64,
    /// The calls that waited on the GSP's interrupt.
    signalled: u64,
    total_ns: u64,
}

impl RpcRun {
    /// Parses `mode=M calls=N signalled=S total_ns=T ...`; `None` for anything else (a run
    /// that failed reads `mode=none`).
    fn parse(text: &str) -> Option<RpcRun> {
        let field = |key: &str| -> Option<u64> {
            text.split_whitespace()
                .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
        };
        let run = RpcRun {
            calls: field("calls")?,
            signalled: field("signalled")?,
            total_ns: field("total_ns")?,
        };
        (run.calls > 0 && run.total_ns > 0).then_some(run)
    }

    /// The mean round trip, in ns.
    fn mean_ns(&self) -> f64 {
        // CAST: both are far below 2^53.
        self.total_ns as f64 / self.calls as f64
    }
}

/// The RPC benchmark file of the first GPU that has one.
fn rpc_bench_file() -> Option<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(DEBUGFS_NOVA_CORE)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("rpc-bench"))
        .filter(|p| p.exists())
        .collect();
    files.sort();
    files.into_iter().next()
}

/// Runs `calls` calls in `mode` (`irq` or `poll`) through `file` and reads the figures back.
fn rpc_run(file: &Path, calls: u32, mode: &str) -> io::Result<RpcRun> {
    std::fs::write(file, format!("{calls} {mode}\n"))?;
    let text = std::fs::read_to_string(file)?;
    RpcRun::parse(&text)
        .ok_or_else(|| io::Error::other(format!("unexpected figures {:?}", text.trim())))
}

/// The RPC round trip, timed in the kernel by nova-core's debugfs benchmark
/// (`CONFIG_NOVA_CORE_DEBUG_RPC_BENCH`): batches of RM_CONTROL calls that wait on the GSP's
/// interrupt alternate with batches that poll, and the ratio is taken pair by pair.
fn rpc_round_trip() {
    let Some(file) = rpc_bench_file() else {
        return error(
            "rpc-round-trip",
            format!("no {DEBUGFS_NOVA_CORE}/*/rpc-bench (CONFIG_NOVA_CORE_DEBUG_RPC_BENCH off?)"),
        );
    };
    let deadline = Instant::now() + BUDGET;
    let (mut irq, mut poll) = (Vec::new(), Vec::new());
    let mut polled_irq_calls = 0;
    while irq.len() < MAX_RPC_PAIRS && (irq.len() < 3 || Instant::now() < deadline) {
        let pair = rpc_run(&file, RPC_BATCH, "irq")
            .and_then(|i| Ok((i, rpc_run(&file, RPC_BATCH, "poll")?)));
        match pair {
            Ok((i, p)) => {
                polled_irq_calls += i.calls - i.signalled;
                irq.push(i.mean_ns());
                poll.push(p.mean_ns());
            }
            Err(e) => return error("rpc-round-trip", describe(&e)),
        }
    }
    if polled_irq_calls > 0 {
        error(
            "rpc-round-trip-irq",
            format!(
                "{polled_irq_calls} calls of the interrupt batches polled: the GSP's interrupt \
                 does not drive the queue"
            ),
        );
    }
    println!("nova-bench: rpc-batch {RPC_BATCH} calls");
    figure("rpc-round-trip-irq", "ns", Spread::of(&mut irq.clone()), 1);
    figure(
        "rpc-round-trip-poll",
        "ns",
        Spread::of(&mut poll.clone()),
        1,
    );
    ratio(
        "rpc-round-trip-irq/poll",
        "rpc-round-trip-irq",
        "rpc-round-trip-poll",
        Spread::of_ratios(&irq, &poll),
    );
    let per_s = |v: &[f64]| -> Vec<f64> { v.iter().map(|ns| 1e9 / ns).collect() };
    let (irq_rate, poll_rate) = (per_s(&irq), per_s(&poll));
    figure(
        "rm-control-rate-irq",
        "calls/s",
        Spread::of(&mut irq_rate.clone()),
        0,
    );
    figure(
        "rm-control-rate-poll",
        "calls/s",
        Spread::of(&mut poll_rate.clone()),
        0,
    );
    ratio(
        "rm-control-rate-irq/poll",
        "rm-control-rate-irq",
        "rm-control-rate-poll",
        Spread::of_ratios(&irq_rate, &poll_rate),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads() {
        assert_eq!(Spread::of(&mut []), None);
        assert_eq!(Spread::of(&mut [1.0, f64::NAN]), None);
        let s = Spread::of(&mut [3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
        let s = Spread::of(&mut [4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.5, 1.0, 4.0, 4));
    }

    #[test]
    fn ratios_are_taken_pair_by_pair() {
        // A drift that doubles both figures from the first pair to the last leaves the ratio
        // alone; a ratio of medians would not see the pairs at all.
        let a = [10.0, 20.0, 40.0];
        let b = [5.0, 10.0, 20.0];
        let s = Spread::of_ratios(&a, &b).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 2.0, 2.0, 3));
        // A reference of zero has no ratio; the pair is left out.
        let s = Spread::of_ratios(&[1.0, 3.0], &[0.0, 1.0]).unwrap();
        assert_eq!((s.median, s.n), (3.0, 1));
        assert_eq!(Spread::of_ratios(&[], &[]), None);
    }

    #[test]
    fn short_batches_are_not_timed() {
        let clock = Clock {
            resolution: Duration::from_millis(4),
        };
        assert!(!clock.times(Duration::from_millis(399)));
        assert!(clock.times(Duration::from_millis(400)));
        let pairs = [
            (Duration::from_millis(500), Duration::from_millis(600)),
            (Duration::from_millis(100), Duration::from_millis(600)),
        ];
        let (kept, dropped) = per_call(&clock, 1000, &pairs);
        assert_eq!(dropped, 1);
        assert_eq!(kept, vec![(500_000.0, 600_000.0)]);
    }

    #[test]
    fn the_clock_moves() {
        let c = Clock::measure();
        assert!(!c.resolution.is_zero());
        assert!(c.resolution < Duration::from_millis(200));
    }

    #[test]
    fn rpc_figures_parse() {
        let r = RpcRun::parse(
            "mode=irq calls=50 signalled=48 total_ns=1000000 min_ns=10000 max_ns=40000\n",
        )
        .unwrap();
        assert_eq!(
            r,
            RpcRun {
                calls: 50,
                signalled: 48,
                total_ns: 1_000_000
            }
        );
        assert_eq!(r.mean_ns(), 20_000.0);
        assert_eq!(RpcRun::parse("mode=none\n"), None);
        assert_eq!(
            RpcRun::parse("mode=irq calls=0 signalled=0 total_ns=0"),
            None
        );
        // A key is a whole word: `xcalls=` is not `calls=`.
        assert_eq!(RpcRun::parse("xcalls=5 signalled=1 total_ns=9"), None);
    }

    #[test]
    fn meminfo_parses() {
        let text = "MemTotal:        1000 kB\nSlab:             123 kB\nMemAvailable:     456 kB\n";
        assert_eq!(parse_meminfo(text), Some((123, 456)));
        assert_eq!(parse_meminfo("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn batch_sizes_grow_until_the_clock_can_time_them() {
        let clock = Clock {
            resolution: Duration::from_micros(10),
        };
        // Each call takes 5 us of the test's own clock: 200 calls (1 ms) are enough for
        // 100 x 10 us only twice over at 400 calls.
        let base = Instant::now();
        let spent = std::cell::Cell::new(Duration::ZERO);
        let n = batch_size_with(
            &clock,
            || base + spent.get(),
            || {
                spent.set(spent.get() + Duration::from_micros(5));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(n, 400);
        let r = batch_size(&clock, || Err(io::Error::from_raw_os_error(libc::ENOTTY)));
        assert_eq!(r.unwrap_err().raw_os_error(), Some(libc::ENOTTY));
    }
}
