// SPDX-License-Identifier: GPL-2.0

//! The RPC benchmark: `nova_core/<pci-name>/rpc-bench` in debugfs
//! (`CONFIG_NOVA_CORE_DEBUG_RPC_BENCH`).
//!
//! Writing `N irq` or `N poll` to the file makes nova-core call
//! `NV2080_CTRL_CMD_GPU_GET_NAME_STRING` on its subdevice `N` times (at most [`MAX_CALLS`]),
//! one call after the other, in the writer's context, and time each round trip in the kernel:
//! from writing the command into the queue to the reply's decoding. With `irq` each call waits
//! for its reply as every call does (on the GSP's interrupt, when it drives the queue); with
//! `poll` it polls the queue every 100 µs, the path of the `gsp_poll` module parameter, without
//! a rebind. GSP-RM answers that control from its own state, so the round trip is the RPC
//! path's own cost. Reading the file gives the last run's figures as one line:
//!
//! ```text
//! mode=irq calls=N signalled=S total_ns=T min_ns=A max_ns=B
//! ```
//!
//! where `signalled` counts the calls that waited on the interrupt (0 for `poll`, and for
//! `irq` when the queue is polled). A run stops at the first failed call, which is logged by
//! the call and returned to the writer; reading then shows no figures (`mode=none`).
//!
//! The file exists while GSP-RM runs. The driver lends it its RPC channel and subdevice once
//! the objects are allocated, and takes them back (waiting for a run to end) before it frees
//! them: see [`Lease`].

use core::{fmt, ptr::NonNull};

use kernel::{
    debugfs::ScopedDir,
    new_mutex,
    prelude::*,
    str::CString,
    sync::Mutex,
    time::{Delta, Instant, Monotonic},
    uaccess::UserSliceReader,
};

use super::{
    commands::{GpuNameString, RmControl},
    rm::RmChannel,
};

/// The most calls one write may ask for: a run holds the RPC channel, so that other calls
/// wait for it; at a few hundred microseconds per call under emulation, 10,000 take seconds.
pub(crate) const MAX_CALLS: u32 = 10_000;

/// The longest request a write may hold (`"10000 poll\n"` is 11 bytes).
const MAX_REQUEST: usize = 32;

/// How the calls of a run wait for their replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// As every call waits: on the GSP's interrupt if it drives the message queue.
    Irq,
    /// Polling the message queue, as with `gsp_poll=1`.
    Poll,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Irq => "irq",
            Mode::Poll => "poll",
        }
    }
}

/// A request written to the file: `calls` calls in `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    calls: u32,
    mode: Mode,
}

impl Request {
    /// Parses `"N irq"` or `"N poll"` (surrounding white space allowed), with `N` from 1 to
    /// [`MAX_CALLS`].
    pub(crate) fn parse(text: &[u8]) -> Result<Self> {
        let text = core::str::from_utf8(text).map_err(|_| EINVAL)?;
        let mut words = text.split_ascii_whitespace();
        let (Some(calls), Some(mode), None) = (words.next(), words.next(), words.next()) else {
            return Err(EINVAL);
        };
        let calls: u32 = calls.parse().map_err(|_| EINVAL)?;
        if calls == 0 || calls > MAX_CALLS {
            return Err(EINVAL);
        }
        let mode = match mode {
            "irq" => Mode::Irq,
            "poll" => Mode::Poll,
            _ => return Err(EINVAL),
        };
        Ok(Self { calls, mode })
    }
}

/// The figures of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Report {
    mode: Mode,
    calls: u32,
    /// The calls that waited on the GSP's interrupt.
    signalled: u32,
    total_ns: i64,
    min_ns: i64,
    max_ns: i64,
}

impl Report {
    fn new(mode: Mode) -> Self {
        Self {
            mode,
            calls: 0,
            signalled: 0,
            total_ns: 0,
            min_ns: i64::MAX,
            max_ns: 0,
        }
    }

    /// Adds one call that took `ns` (and waited on the interrupt if `signalled`).
    /// On an overflow, nothing is added.
    fn add(&mut self, ns: i64, signalled: bool) -> Result {
        let calls = self.calls.checked_add(1).ok_or(EOVERFLOW)?;
        let total_ns = self.total_ns.checked_add(ns).ok_or(EOVERFLOW)?;
        // At most `calls`, which did not overflow.
        let signalled = self
            .signalled
            .checked_add(u32::from(signalled))
            .ok_or(EOVERFLOW)?;
        *self = Self {
            calls,
            signalled,
            total_ns,
            min_ns: self.min_ns.min(ns),
            max_ns: self.max_ns.max(ns),
            ..*self
        };
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "mode={} calls={} signalled={} total_ns={} min_ns={} max_ns={}",
            self.mode.name(),
            self.calls,
            self.signalled,
            self.total_ns,
            self.min_ns,
            self.max_ns
        )
    }
}

/// What the driver lends the benchmark: its RPC channel, and the client and subdevice to call.
struct Target {
    /// The channel, with its lifetime erased.
    ///
    /// # Invariants
    ///
    /// Points to a live [`RmChannel`] for as long as the target is in [`RpcBench::target`]:
    /// the [`Lease`] that put it there keeps the channel alive, and takes the target out
    /// before the channel can go.
    channel: NonNull<RmChannel<'static>>,
    client: u32,
    subdevice: u32,
}

// SAFETY: `Target` only shares an `&RmChannel`, which the driver already shares with the GSP's
// interrupt thread (`RmChannel` is `Sync`: every mutable part of it is behind its mutex); the
// rest are numbers.
unsafe impl Send for Target {}

/// The benchmark's state, shown in the GPU's debugfs directory.
#[pin_data]
pub(crate) struct RpcBench {
    #[pin]
    state: Mutex<State>,
}

struct State {
    /// What the driver lends, while it does.
    target: Option<Target>,
    /// The figures of the last run.
    last: Option<Report>,
}

impl RpcBench {
    /// Returns a benchmark with nothing lent.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            state <- new_mutex!(State {
                target: None,
                last: None,
            }),
        })
    }

    /// Adds the `rpc-bench` file to `dir`.
    pub(crate) fn show<'data>(&'data self, dir: &ScopedDir<'data, '_>) {
        dir.read_write_callback_file(c"rpc-bench", self, &Self::read, &Self::write);
    }

    fn read(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state.lock().last {
            Some(report) => write!(f, "{report}"),
            None => writeln!(f, "mode=none"),
        }
    }

    fn write(&self, reader: &mut UserSliceReader) -> Result {
        let len = reader.len();
        if len > MAX_REQUEST {
            return Err(EINVAL);
        }
        let mut buf = [0u8; MAX_REQUEST];
        reader.read_slice(&mut buf[..len])?;
        let request = Request::parse(&buf[..len])?;
        let mut state = self.state.lock();
        state.last = None;
        let target = state.target.as_ref().ok_or(ENODEV)?;
        let report = run(target, request)?;
        state.last = Some(report);
        Ok(())
    }

    /// Lends `channel` and the subdevice `subdevice` of `client` to the benchmark.
    ///
    /// # Safety
    ///
    /// `channel` must stay alive until [`RpcBench::revoke`] is called, and `subdevice` allocated.
    unsafe fn lend(&self, channel: &RmChannel<'_>, client: u32, subdevice: u32) {
        // INVARIANT: the caller keeps `channel` alive until `revoke`, which takes it out.
        let target = Target {
            channel: NonNull::from(channel).cast(),
            client,
            subdevice,
        };
        self.state.lock().target = Some(target);
    }

    /// Takes back what [`RpcBench::lend`] lent, after the run in progress, if any.
    fn revoke(&self) {
        self.state.lock().target = None;
    }
}

/// Runs `request` on `target`.
fn run(target: &Target, request: Request) -> Result<Report> {
    // SAFETY: the target is in `RpcBench::state`, whose lock the caller holds, so that the
    // channel is alive (type invariant); it is used only within this function, with its
    // lifetime shortened to the borrow of `target`.
    let channel: &RmChannel<'_> = unsafe { target.channel.as_ref() };
    let control = RmControl {
        client: target.client,
        object: target.subdevice,
        params: &GpuNameString,
    };
    let poll = request.mode == Mode::Poll;
    let mut report = Report::new(request.mode);
    for _ in 0..request.calls {
        let start = Instant::<Monotonic>::now();
        let (_, signalled) = channel.call_waiting(&control, poll)?;
        let took: Delta = start.elapsed();
        report.add(took.as_nanos(), signalled)?;
    }
    Ok(report)
}

/// The driver's loan of its channel and subdevice to the benchmark of the GPU named `name`: it
/// takes them back when dropped.
pub(crate) struct Lease {
    name: CString,
}

impl Lease {
    /// Lends `channel` and the subdevice `subdevice` of `client` to the benchmark of the GPU
    /// named `name`, if it has one.
    ///
    /// # Safety
    ///
    /// `channel` must outlive the returned lease, and `subdevice` must stay allocated while
    /// the lease exists.
    pub(crate) unsafe fn new(
        name: &CStr,
        channel: &RmChannel<'_>,
        client: u32,
        subdevice: u32,
    ) -> Result<Self> {
        let name = CString::try_from(name)?;
        super::logs::with_bench(&name, |bench| {
            // SAFETY: the lease revokes the loan when dropped, before the channel goes and
            // while the subdevice is allocated (the caller's guarantee).
            unsafe { bench.lend(channel, client, subdevice) }
        });
        Ok(Self { name })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        super::logs::with_bench(&self.name, RpcBench::revoke);
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_gsp_bench)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_parsed_and_bounded() {
        assert_eq!(
            Request::parse(b"100 irq\n"),
            Ok(Request {
                calls: 100,
                mode: Mode::Irq
            })
        );
        assert_eq!(
            Request::parse(b"  10000\tpoll "),
            Ok(Request {
                calls: MAX_CALLS,
                mode: Mode::Poll
            })
        );
        for bad in [
            &b"0 irq"[..],
            b"10001 irq",
            b"4294967296 irq",
            b"-1 irq",
            b"10 fast",
            b"10",
            b"irq 10",
            b"10 irq extra",
            b"",
            b"\xff irq",
        ] {
            assert_eq!(Request::parse(bad), Err(EINVAL));
        }
    }

    #[test]
    fn reports_add_up() -> Result {
        let mut r = Report::new(Mode::Irq);
        r.add(300, true)?;
        r.add(100, false)?;
        r.add(200, true)?;
        assert_eq!((r.calls, r.signalled, r.total_ns), (3, 2, 600));
        assert_eq!((r.min_ns, r.max_ns), (100, 300));
        // An overflow of the total adds nothing.
        assert_eq!(r.add(i64::MAX, true), Err(EOVERFLOW));
        assert_eq!((r.calls, r.signalled, r.total_ns), (3, 2, 600));
        assert_eq!((r.min_ns, r.max_ns), (100, 300));
        Ok(())
    }
}
