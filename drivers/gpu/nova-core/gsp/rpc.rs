// SPDX-License-Identifier: GPL-2.0

//! The one RPC path to GSP-RM.
//!
//! Every command is a type implementing [`CommandToGsp`], bound at compile time to the type of
//! what GSP-RM answers ([`MessageFromGsp`]). [`Rpc::call`] writes the command in place into
//! the command queue, rings the doorbell and waits for the reply that carries the command's
//! sequence number. While it waits, every other message is handed to the caller's event
//! handler; a reply nobody waits for any more (one that came late, or twice) is dropped with a
//! log line, so that a lost or repeated reply fails only the call it belongs to. A reply whose
//! status is not `NV_OK` fails its call with the status's name in one log line.
//!
//! The commands themselves are in [`super::commands`]; their layouts come from [`super::fw`].

use core::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};

use kernel::fmt;

use kernel::{
    device,
    io::poll::read_poll_timeout,
    prelude::*,
    sync::Arc,
    time::{Delta, Instant, Monotonic},
};

use crate::intr::{MsgSignal, Wait};

use super::{
    fw::{
        Abi, DecodeError, EventKind, Function, OsErrorLog, PostEvent, RcTriggered, SeqOp,
        StaticInfo,
    },
    nvstatus::NvStatus,
    queue::{QueueError, Queues, Received, SharedMem},
};

/// A command to GSP-RM.
pub(crate) trait CommandToGsp {
    /// The RPC function.
    const FUNCTION: Function;
    /// What GSP-RM answers.
    type Reply: MessageFromGsp;

    /// Returns the size of the payload.
    fn size(&self, abi: Abi) -> usize;

    /// Writes the payload into `dst` (exactly [`CommandToGsp::size`] bytes, in the queue).
    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result;

    /// Writes what the command is, for log lines: the function's name, or the class or control
    /// it carries.
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::FUNCTION.name())
    }
}

/// What a message awaited from GSP-RM is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Awaited {
    /// Nothing: the command gets no reply that is waited for.
    Nothing,
    /// The reply to the command.
    Reply,
    /// An event GSP-RM sends on its own.
    Event(EventKind),
}

/// A message from GSP-RM, decoded.
pub(crate) trait MessageFromGsp: Sized {
    /// Which message this is.
    const AWAITED: Awaited;

    /// Returns the smallest payload the message has: a shorter first record is joined with its
    /// continuation records until it is this long.
    fn min_size(_abi: Abi) -> usize {
        0
    }

    /// Decodes the message from its payload and the RPC result.
    fn read(abi: Abi, payload: &[u8], result: NvStatus) -> Result<Self, RpcError>;

    /// Returns the message to a command that is not answered ([`Awaited::Nothing`]).
    fn unanswered() -> Result<Self, RpcError> {
        Err(RpcError::Decode(DecodeError::Short))
    }
}

/// The answer to a command whose reply is not waited for.
#[derive(Debug)]
pub(crate) struct NoReply;

impl MessageFromGsp for NoReply {
    const AWAITED: Awaited = Awaited::Nothing;

    fn read(_abi: Abi, _payload: &[u8], _result: NvStatus) -> Result<Self, RpcError> {
        Ok(Self)
    }

    fn unanswered() -> Result<Self, RpcError> {
        Ok(Self)
    }
}

/// Fails unless `result` is `NV_OK`.
pub(crate) fn check(result: NvStatus) -> Result<(), RpcError> {
    if result.is_ok() {
        Ok(())
    } else {
        Err(RpcError::Status(result))
    }
}

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RpcError {
    /// No reply came in time.
    Timeout,
    /// The message queue holds something that is not a valid message.
    Queue(QueueError),
    /// GSP-RM answered with this status.
    Status(NvStatus),
    /// The reply does not decode.
    Decode(DecodeError),
    /// Another error (memory allocation, or one from the event handler).
    Kernel(Error),
}

impl From<Error> for RpcError {
    fn from(e: Error) -> Self {
        Self::Kernel(e)
    }
}

impl From<QueueError> for RpcError {
    fn from(e: QueueError) -> Self {
        Self::Queue(e)
    }
}

impl From<DecodeError> for RpcError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl From<RpcError> for Error {
    fn from(e: RpcError) -> Error {
        match e {
            RpcError::Timeout => ETIMEDOUT,
            RpcError::Queue(e) => e.into(),
            RpcError::Status(s) => s.to_errno(),
            RpcError::Decode(_) => EPROTO,
            RpcError::Kernel(e) => e,
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("no message in time"),
            Self::Queue(e) => f.write_fmt(fmt!("message queue error {:?}", e)),
            Self::Status(s) => f.write_fmt(fmt!("status {}", s)),
            Self::Decode(e) => f.write_fmt(fmt!("malformed reply ({:?})", e)),
            Self::Kernel(e) => f.write_fmt(fmt!("error {}", e.to_errno())),
        }
    }
}

impl RpcError {
    /// The kernel log tag of this failure (`[rpc-timeout]`, ...): fixed names that tests and
    /// tools match instead of the wording (Documentation/gpu/nova/testing.rst lists them).
    pub(crate) fn tag(&self) -> &'static str {
        match self {
            Self::Timeout => "rpc-timeout",
            Self::Queue(_) => "rpc-queue",
            Self::Status(_) => "rpc-status",
            Self::Decode(_) => "rpc-decode",
            Self::Kernel(_) => "rpc-error",
        }
    }
}

/// Formats a command with [`CommandToGsp::describe`].
struct Described<'a, C: CommandToGsp>(&'a C);

impl<C: CommandToGsp> fmt::Display for Described<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.describe(f)
    }
}

/// Runs the operations of a `GSP_RUN_CPU_SEQUENCER` message on the hardware. The falcon code
/// implements it; the GSP code only decodes.
pub(crate) trait SequencerExecutor {
    /// Carries out one operation.
    fn execute(&mut self, op: &SeqOp) -> Result;
}

/// Decodes `payload` (a `GSP_RUN_CPU_SEQUENCER` message) and runs its operations in order,
/// stopping at the first that fails. Nothing is executed if the message does not decode.
pub(crate) fn run_sequencer(
    abi: Abi,
    payload: &[u8],
    exec: &mut impl SequencerExecutor,
) -> Result<usize> {
    let mut ops = KVec::new();
    abi.sequencer_ops(payload, &mut ops)?;
    for op in ops.iter() {
        exec.execute(op)?;
    }
    Ok(ops.len())
}

/// An asynchronous event from GSP-RM, decoded.
#[derive(Debug)]
pub(crate) enum Event {
    /// `OS_ERROR_LOG` (boxed: its text makes it much larger than the other events).
    OsErrorLog(KBox<OsErrorLog>),
    /// `UCODE_LIBOS_PRINT`: the engine and the printed text.
    LibosPrint {
        /// The engine (`ucodeEngDesc`).
        engine: u32,
        /// The text, as printed (not necessarily NUL-terminated).
        text: KVec<u8>,
    },
    /// `POST_EVENT`.
    PostEvent(PostEvent),
    /// `RC_TRIGGERED`.
    RcTriggered(RcTriggered),
    /// `MMU_FAULT_QUEUED`, with the size of its payload.
    MmuFaultQueued(usize),
    /// An event whose payload did not decode.
    Malformed(EventKind, DecodeError),
    /// An event of the release that nova has no handler for yet (the GSP's error-report
    /// records, lockdown notices and the like, which nouveau also ignores).
    Unhandled {
        /// The event number.
        function: u32,
        /// Its name in the release.
        name: &'static str,
    },
}

/// A message from GSP-RM that no call waits for, sorted.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// `GSP_INIT_DONE`.
    InitDone,
    /// `GSP_RUN_CPU_SEQUENCER`; the payload is for [`run_sequencer`].
    Sequencer(KVec<u8>),
    /// An event to be logged with [`log_event`].
    Event(Event),
    /// A reply no call waits for: to a call that already ended (it timed out), a repeated
    /// reply, or one GSP-RM sent unasked. It is dropped; the handler logs it.
    StaleReply {
        /// The function number.
        function: u32,
        /// The RPC sequence number.
        seq: u32,
    },
}

/// Sorts `msg` if it is an event, decoding it; hands back anything else.
fn sort(abi: Abi, msg: Received) -> Result<Result<Incoming, Received>> {
    let Some(kind) = abi.event(msg.function) else {
        return Ok(match abi.event_name(msg.function) {
            Some(name) => Ok(Incoming::Event(Event::Unhandled {
                function: msg.function,
                name,
            })),
            None => Err(msg),
        });
    };
    let p = &msg.payload;
    let decoded = match kind {
        EventKind::InitDone => return Ok(Ok(Incoming::InitDone)),
        EventKind::RunCpuSequencer => return Ok(Ok(Incoming::Sequencer(msg.payload))),
        EventKind::OsErrorLog => match abi.os_error_log(p) {
            Ok(log) => Ok(Event::OsErrorLog(KBox::new(log, GFP_KERNEL)?)),
            Err(e) => Err(e),
        },
        EventKind::LibosPrint => match abi.libos_print(p) {
            Ok((engine, text)) => {
                let mut copy = KVec::new();
                copy.extend_from_slice(text, GFP_KERNEL)?;
                Ok(Event::LibosPrint { engine, text: copy })
            }
            Err(e) => Err(e),
        },
        EventKind::PostEvent => abi.post_event(p).map(Event::PostEvent),
        EventKind::RcTriggered => abi.rc_triggered(p).map(Event::RcTriggered),
        EventKind::MmuFaultQueued => Ok(Event::MmuFaultQueued(p.len())),
    };
    Ok(Ok(Incoming::Event(
        decoded.unwrap_or_else(|e| Event::Malformed(kind, e)),
    )))
}

/// The event handler of a call: gets every message that arrives while the call waits and is
/// not its reply. An error from it fails the call.
pub(crate) type Handler<'a> = &'a mut dyn FnMut(Incoming) -> Result;

/// The RPC channel: the queues, the ABI that encodes what goes through them, and the GSP's
/// interrupt, which tells a waiter when to look at the message queue.
pub(crate) struct Rpc<M: SharedMem> {
    queues: Queues<M>,
    abi: Abi,
    signal: Option<Arc<MsgSignal>>,
    /// Whether calls poll even when the GSP's interrupt drives the queue ([`Rpc::polling`]).
    force_poll: bool,
}

/// How long a wait for a message sleeps on the GSP's interrupt before it looks at the queue
/// anyway.
// TIMEOUT: the backstop for a lost interrupt; a message whose interrupt is lost is found this
// late, and counted (`MsgSignal::lost`).
const LOST_IRQ_BACKSTOP: Delta = Delta::from_millis(100);

impl<M: SharedMem> Rpc<M> {
    /// Wraps the queues, which `abi` encodes. Messages are polled for.
    pub(crate) fn new(queues: Queues<M>, abi: Abi) -> Self {
        Self {
            queues,
            abi,
            signal: None,
            force_poll: false,
        }
    }

    /// Waits for messages on `signal` whenever it is armed, polling otherwise.
    pub(crate) fn with_signal(self, signal: Arc<MsgSignal>) -> Self {
        Self {
            signal: Some(signal),
            ..self
        }
    }

    /// Runs `f` with every wait polling the queue, as with the `gsp_poll` parameter, even if
    /// the GSP's interrupt drives it: the old path, for the RPC benchmark
    /// ([`super::bench`]) to compare against the interrupt.
    #[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
    pub(crate) fn polling<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let was = core::mem::replace(&mut self.force_poll, true);
        let r = f(self);
        self.force_poll = was;
        r
    }

    /// Returns whether waits sleep on the GSP's interrupt (rather than poll).
    #[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
    pub(crate) fn signalled(&self) -> bool {
        !self.force_poll && self.signal.as_ref().is_some_and(|s| s.is_armed())
    }

    /// Returns the queues for modification (the tests play GSP-RM through them).
    #[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
    pub(crate) fn queues_mut(&mut self) -> &mut Queues<M> {
        &mut self.queues
    }

    /// Writes `cmd` into the command queue, calls `ring` (the doorbell) and returns the
    /// command's sequence number.
    fn send<C: CommandToGsp>(&mut self, cmd: &C, ring: impl FnOnce()) -> Result<u32, RpcError> {
        let abi = self.abi;
        let seq = self
            .queues
            .send_with(abi.function(C::FUNCTION), cmd.size(abi), |dst| {
                cmd.write(abi, dst)
            })?;
        ring();
        Ok(seq)
    }

    /// Takes the next message, waiting until `timeout` after `start`: on the GSP's interrupt
    /// if it drives the queue, else polling every 100 µs.
    fn receive(&mut self, start: Instant<Monotonic>, timeout: Delta) -> Result<Received, RpcError> {
        match self.signal.clone() {
            Some(signal) if signal.is_armed() && !self.force_poll => {
                self.receive_signalled(&signal, start, timeout)
            }
            _ => self.receive_polled(start, timeout),
        }
    }

    /// [`Rpc::receive`] on the GSP's interrupt, with [`LOST_IRQ_BACKSTOP`] as the backstop.
    fn receive_signalled(
        &mut self,
        signal: &MsgSignal,
        start: Instant<Monotonic>,
        timeout: Delta,
    ) -> Result<Received, RpcError> {
        loop {
            let seen = signal.count();
            if let Some(msg) = self.queues.receive()? {
                return Ok(msg);
            }
            let left = timeout - start.elapsed();
            if left.is_negative() {
                return Err(RpcError::Timeout);
            }
            let step = if left < LOST_IRQ_BACKSTOP {
                left
            } else {
                LOST_IRQ_BACKSTOP
            };
            match signal.wait(seen, step) {
                Wait::Interrupted => {}
                Wait::TimedOut => {
                    if let Some(msg) = self.queues.receive()? {
                        signal.lost();
                        return Ok(msg);
                    }
                }
                // The task cannot sleep interruptibly while a signal is pending: poll.
                Wait::Signalled => kernel::time::delay::fsleep(Delta::from_micros(100)),
            }
        }
    }

    /// [`Rpc::receive`] by polling every 100 µs.
    fn receive_polled(
        &mut self,
        start: Instant<Monotonic>,
        timeout: Delta,
    ) -> Result<Received, RpcError> {
        let q = &mut self.queues;
        let mut queue_error = None;
        let left = timeout - start.elapsed();
        if left.is_negative() {
            return Err(RpcError::Timeout);
        }
        // TIMEOUT: the backstop of the message queue, which is polled until the GSP's
        // interrupt drives it; `left` is what remains of the call's timeout.
        let polled = read_poll_timeout(
            || {
                q.receive().map_err(|e| {
                    queue_error = Some(e);
                    Error::from(e)
                })
            },
            |r: &Option<Received>| r.is_some(),
            Delta::from_micros(100),
            left,
        );
        match (polled, queue_error) {
            (Ok(Some(msg)), _) => Ok(msg),
            (_, Some(e)) => Err(RpcError::Queue(e)),
            (Ok(None), None) => Err(RpcError::Timeout),
            (Err(e), None) if e == ETIMEDOUT => Err(RpcError::Timeout),
            (Err(e), None) => Err(RpcError::Kernel(e)),
        }
    }

    /// Joins the continuation records of `first` until its payload is `size` bytes long, for
    /// up to `timeout` after `start`.
    fn join(
        &mut self,
        first: Received,
        size: usize,
        start: Instant<Monotonic>,
        timeout: Delta,
    ) -> Result<Received, RpcError> {
        let mut partial = Some(first);
        loop {
            if let Some(done) = self.queues.receive_large(&mut partial, size)? {
                return Ok(done);
            }
            // TIMEOUT: the records follow each other at once; the call's timeout bounds them.
            if (timeout - start.elapsed()).is_negative() {
                return Err(RpcError::Timeout);
            }
            kernel::time::delay::fsleep(Delta::from_micros(100));
        }
    }

    /// Waits up to `timeout` for the message `R`, the reply to the command with sequence
    /// number `seq` if `R` is a reply to `function`. Events go to `events`; replies to anything
    /// else are dropped and counted.
    fn wait<R: MessageFromGsp>(
        &mut self,
        function: Option<(u32, u32)>,
        timeout: Delta,
        events: Handler<'_>,
    ) -> Result<R, RpcError> {
        let start = Instant::<Monotonic>::now();
        let event_number = match R::AWAITED {
            Awaited::Event(kind) => Some(self.abi.event_number(kind)),
            _ => None,
        };
        loop {
            let msg = self.receive(start, timeout)?;
            let wanted = match (event_number, function) {
                (Some(ev), _) => msg.function == ev,
                (None, Some((f, seq))) => msg.function == f && msg.rpc_seq == seq,
                (None, None) => false,
            };
            if wanted {
                let result = NvStatus(msg.result);
                let msg = if msg.payload.len() < R::min_size(self.abi) {
                    self.join(msg, R::min_size(self.abi), start, timeout)?
                } else {
                    msg
                };
                return R::read(self.abi, &msg.payload, result);
            }
            match sort(self.abi, msg)? {
                Ok(incoming) => events(incoming)?,
                Err(reply) => {
                    events(Incoming::StaleReply {
                        function: reply.function,
                        seq: reply.rpc_seq,
                    })?;
                }
            }
        }
    }

    /// Sends `cmd`, rings the doorbell with `ring` and waits up to `timeout` for its reply,
    /// handing every other message to `events`.
    pub(crate) fn exchange<C: CommandToGsp>(
        &mut self,
        cmd: &C,
        ring: impl FnOnce(),
        timeout: Delta,
        events: Handler<'_>,
    ) -> Result<C::Reply, RpcError> {
        let function = self.abi.function(C::FUNCTION);
        let seq = self.send(cmd, ring)?;
        match C::Reply::AWAITED {
            Awaited::Nothing => C::Reply::unanswered(),
            _ => self.wait(Some((function, seq)), timeout, events),
        }
    }

    /// As [`Rpc::exchange`]; a failure is logged in one line naming the command and why (the
    /// status's name for a refusal).
    pub(crate) fn call<C: CommandToGsp>(
        &mut self,
        dev: &device::Device,
        cmd: &C,
        ring: impl FnOnce(),
        timeout: Delta,
        events: Handler<'_>,
    ) -> Result<C::Reply, RpcError> {
        self.exchange(cmd, ring, timeout, events)
            .inspect_err(|e| match e {
                RpcError::Status(status) => {
                    dev_err!(
                        dev,
                        "[rpc-status] GSP-RM failed {} with status {}\n",
                        Described(cmd),
                        status
                    )
                }
                RpcError::Timeout => {
                    dev_err!(
                        dev,
                        "[rpc-timeout] GSP-RM did not answer {}\n",
                        Described(cmd)
                    )
                }
                e => dev_err!(
                    dev,
                    "[{}] GSP-RM failed {}: {}\n",
                    e.tag(),
                    Described(cmd),
                    e
                ),
            })
    }

    /// Hands every message already in the queue to `events`, without waiting: for when no
    /// call waits (the GSP's interrupt thread).
    pub(crate) fn take_pending(&mut self, events: Handler<'_>) -> Result<(), RpcError> {
        while let Some(msg) = self.queues.receive()? {
            match sort(self.abi, msg)? {
                Ok(incoming) => events(incoming)?,
                Err(reply) => events(Incoming::StaleReply {
                    function: reply.function,
                    seq: reply.rpc_seq,
                })?,
            }
        }
        Ok(())
    }

    /// Waits up to `timeout` for the event `E`, handing every other message to `events`.
    /// Failures are the caller's to log.
    pub(crate) fn wait_event<E: MessageFromGsp>(
        &mut self,
        timeout: Delta,
        events: Handler<'_>,
    ) -> Result<E, RpcError> {
        self.wait(None, timeout, events)
    }
}

/// Logs a reply no call waited for (see [`Incoming::StaleReply`]): a late reply to a call that
/// timed out, or a second copy of one already taken.
pub(crate) fn log_stale_reply(dev: &device::Device, function: u32, seq: u32) {
    dev_warn!(
        dev,
        "[rpc-stale] GSP-RM: dropped a reply to function {} (sequence {}) that no call waits for\n",
        function,
        seq
    );
}

/// Returns the bytes of `s` up to its first NUL, as text if they are UTF-8.
pub(crate) fn c_text(s: &[u8]) -> &str {
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    s.get(..end)
        .and_then(|t| core::str::from_utf8(t).ok())
        .unwrap_or("<not UTF-8>")
}

/// What [`RateLimit::check`] decided about one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Log it; `suppressed` lines of the same kind were dropped since the last one logged.
    Log {
        /// Lines dropped before this one.
        suppressed: u64,
    },
    /// Drop it (it is counted).
    Drop,
}

/// Lets through at most [`RateLimit::BURST`] lines in each [`RateLimit::INTERVAL_MS`] window
/// and counts the rest, as the kernel's `printk_ratelimited()` does (`lib/ratelimit.c`): a
/// GSP-RM that floods its message queue with prints or error reports must not flood the
/// kernel log. The first line let through in a new window reports how many were dropped.
/// Races between CPUs only blur the counts.
pub(crate) struct RateLimit {
    /// Start of the current window, in milliseconds since the limiter was made.
    window: AtomicI64,
    /// Lines let through in the current window.
    passed: AtomicU32,
    /// Lines dropped since the last one let through.
    suppressed: AtomicU64,
}

impl RateLimit {
    /// Lines let through per window.
    pub(crate) const BURST: u32 = 10;
    /// The window, in milliseconds.
    pub(crate) const INTERVAL_MS: i64 = 5000;

    /// A limiter whose first window starts at 0.
    pub(crate) const fn new() -> Self {
        Self {
            window: AtomicI64::new(0),
            passed: AtomicU32::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Decides about a line at `now_ms` (milliseconds on the limiter's clock).
    pub(crate) fn check(&self, now_ms: i64) -> Verdict {
        let start = self.window.load(Ordering::Relaxed);
        if now_ms.saturating_sub(start) >= Self::INTERVAL_MS
            && self
                .window
                .compare_exchange(start, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.passed.store(0, Ordering::Relaxed);
        }
        if self.passed.fetch_add(1, Ordering::Relaxed) < Self::BURST {
            Verdict::Log {
                suppressed: self.suppressed.swap(0, Ordering::Relaxed),
            }
        } else {
            // Saturates rather than wraps in a window of 2^32 lines.
            self.passed.store(Self::BURST, Ordering::Relaxed);
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            Verdict::Drop
        }
    }
}

/// The events of one GSP-RM: how many came, which of the release's events nova has no
/// handler for were seen (each is logged once), and the rate limits of the frequent ones.
pub(crate) struct EventLog {
    /// When the log was made: the clock of the rate limits.
    origin: Instant<Monotonic>,
    /// Bit `n`: unhandled event `0x1000 + n` was logged.
    unhandled_seen: AtomicU64,
    /// Unhandled events received.
    unhandled: AtomicU64,
    /// `UCODE_LIBOS_PRINT` lines.
    prints: RateLimit,
    /// `OS_ERROR_LOG` reports.
    errors: RateLimit,
}

impl EventLog {
    /// A log that has seen nothing.
    pub(crate) fn new() -> Self {
        Self {
            origin: Instant::<Monotonic>::now(),
            unhandled_seen: AtomicU64::new(0),
            unhandled: AtomicU64::new(0),
            prints: RateLimit::new(),
            errors: RateLimit::new(),
        }
    }

    /// Handles `event`: logs it (see [`log_event`]), the frequent kinds rate-limited; an
    /// event nova has no handler for is counted, and logged the first time its number comes.
    pub(crate) fn handle(&self, dev: &device::Device, event: &Event) {
        let limit = match event {
            Event::Unhandled { function, name } => {
                self.unhandled.fetch_add(1, Ordering::Relaxed);
                let bit = function
                    .checked_sub(0x1000)
                    .filter(|n| *n < 64)
                    .map_or(0, |n| 1u64 << n);
                if bit == 0 || self.unhandled_seen.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
                    dev_info!(
                        dev,
                        "GSP: event {} ({:#x}) has no handler yet; counted, and not logged again\n",
                        name,
                        function
                    );
                }
                return;
            }
            Event::LibosPrint { .. } => Some(&self.prints),
            Event::OsErrorLog(_) => Some(&self.errors),
            _ => None,
        };
        if let Some(limit) = limit {
            match limit.check(self.origin.elapsed().as_millis()) {
                Verdict::Drop => return,
                Verdict::Log { suppressed: 0 } => {}
                Verdict::Log { suppressed } => dev_warn!(
                    dev,
                    "[gsp-event-flood] GSP: {} {} events not logged (rate limit)\n",
                    suppressed,
                    if matches!(event, Event::LibosPrint { .. }) {
                        "UCODE_LIBOS_PRINT"
                    } else {
                        "OS_ERROR_LOG"
                    }
                ),
            }
        }
        log_event(dev, event);
    }
}

/// Logs `event` in one line: at error level for error reports and malformed events, at debug
/// level for the frequent client notifications.
pub(crate) fn log_event(dev: &device::Device, event: &Event) {
    match event {
        Event::OsErrorLog(log) => dev_err!(
            dev,
            "GSP: Xid {} on channel {}: {}\n",
            log.xid,
            log.chid,
            c_text(&log.text)
        ),
        Event::LibosPrint { engine, text } => {
            dev_info!(
                dev,
                "GSP: LibOS {:#x}: {}\n",
                engine,
                c_text(text).trim_end()
            )
        }
        Event::PostEvent(ev) => dev_dbg!(
            dev,
            "GSP: event for client {:#x} handle {:#x} notifier {} status {:#x} ({} bytes)\n",
            ev.client,
            ev.event,
            ev.notify_index,
            ev.status,
            ev.data_size
        ),
        Event::RcTriggered(rc) => dev_err!(
            dev,
            "GSP: channel recovery: engine {:#x} channel {} Xid {} level {} fault address {:#x}\n",
            rc.engine_type,
            rc.chid,
            rc.except_type,
            rc.except_level,
            rc.mmu_fault_addr
        ),
        Event::MmuFaultQueued(size) => {
            dev_warn!(dev, "GSP: MMU fault queued ({} bytes)\n", size)
        }
        Event::Malformed(kind, e) => dev_err!(dev, "GSP: malformed {:?} event ({:?})\n", kind, e),
        Event::Unhandled { function, name } => {
            dev_dbg!(dev, "GSP: event {} ({:#x})\n", name, function)
        }
    }
}

/// Logs the static information in one line.
pub(crate) fn log_static_info(dev: &device::Device, info: &StaticInfo) {
    dev_dbg!(
        dev,
        "GSP: {}, {} MiB, {} FB regions, BAR1/2 PDE {:#x}/{:#x}, internal {:#x}/{:#x}/{:#x}\n",
        info.name(),
        info.vram_size >> 20,
        info.fb_regions().len(),
        info.bar1_pde_base,
        info.bar2_pde_base,
        info.internal.client,
        info.internal.device,
        info.internal.subdevice
    );
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_gsp_rpc)]
mod tests {
    use super::*;
    use crate::gsp::{
        commands::{GetGspStaticInfo, GpuNameString, RmControl, RmFree, SetRegistry},
        queue::{fake_gsp, CMD_QUEUE_OFFSET, SHARED_SIZE},
    };

    const ABI: Abi = Abi::R570_144;

    /// Records the operations it is asked to run, failing on the `fail_at`-th.
    struct Recorder {
        ops: KVec<SeqOp>,
        fail_at: usize,
    }

    impl SequencerExecutor for Recorder {
        fn execute(&mut self, op: &SeqOp) -> Result {
            if self.ops.len() == self.fail_at {
                return Err(ETIMEDOUT);
            }
            self.ops.push(*op, GFP_KERNEL)?;
            Ok(())
        }
    }

    fn words(w: &[u32]) -> Result<KVec<u8>> {
        let mut b = KVec::new();
        for x in w {
            b.extend_from_slice(&x.to_le_bytes(), GFP_KERNEL)?;
        }
        Ok(b)
    }

    fn program(ops: &[u32]) -> Result<KVec<u8>> {
        let len = u32::try_from(ops.len()).map_err(|_| EINVAL)?;
        let mut b = words(&[64, len])?;
        b.resize(0x28, 0, GFP_KERNEL)?;
        b.extend_from_slice(&words(ops)?, GFP_KERNEL)?;
        Ok(b)
    }

    fn received(function: u32, payload: &[u8]) -> Result<Received> {
        let mut p = KVec::new();
        p.extend_from_slice(payload, GFP_KERNEL)?;
        Ok(Received {
            function,
            result: 0,
            seq: 0,
            rpc_seq: 0,
            payload: p,
        })
    }

    fn sorted(function: u32, payload: &[u8]) -> Result<Incoming> {
        sort(ABI, received(function, payload)?)?.map_err(|_| EINVAL)
    }

    #[test]
    fn messages_are_sorted_and_events_decoded() -> Result {
        assert!(matches!(sorted(0x1001, &[])?, Incoming::InitDone));
        assert!(matches!(
            sorted(0x1002, &[1, 2, 3])?,
            Incoming::Sequencer(p) if p[..] == [1, 2, 3]
        ));
        // A reply, and a number the release does not know: both handed back, never dropped.
        assert!(matches!(sort(ABI, received(65, &[9])?)?, Err(r) if r.function == 65));
        assert!(matches!(sort(ABI, received(0x1030, &[])?)?, Err(r) if r.function == 0x1030));
        // An event of the release nova has no handler for: named, for the event log.
        assert!(matches!(
            sorted(0x1020, &[])?,
            Incoming::Event(Event::Unhandled {
                function: 0x1020,
                name: "GSP_POST_NOCAT_RECORD"
            })
        ));

        let mut print = words(&[0x15, 3])?;
        print.extend_from_slice(b"hi\n", GFP_KERNEL)?;
        assert!(matches!(
            &sorted(0x100c, &print)?,
            Incoming::Event(Event::LibosPrint { engine: 0x15, text }) if text[..] == b"hi\n"[..]
        ));
        let mut rc = KVec::from_elem(0u8, 0x30, GFP_KERNEL)?;
        rc[4] = 3;
        assert!(matches!(
            sorted(0x1004, &rc)?,
            Incoming::Event(Event::RcTriggered(r)) if r.chid == 3
        ));
        let post = KVec::from_elem(0u8, 0x1d, GFP_KERNEL)?;
        assert!(matches!(
            sorted(0x1003, &post)?,
            Incoming::Event(Event::PostEvent(e)) if e.data_size == 0
        ));
        assert!(matches!(
            sorted(0x1005, &[0; 12])?,
            Incoming::Event(Event::MmuFaultQueued(12))
        ));
        let log = KVec::from_elem(0u8, 0x110, GFP_KERNEL)?;
        assert!(matches!(
            sorted(0x1006, &log)?,
            Incoming::Event(Event::OsErrorLog(l)) if l.xid == 0
        ));
        // Short payloads are reported as malformed events, not dropped.
        for (f, kind) in [
            (0x1006, EventKind::OsErrorLog),
            (0x1004, EventKind::RcTriggered),
            (0x1003, EventKind::PostEvent),
            (0x100c, EventKind::LibosPrint),
        ] {
            assert!(matches!(
                sorted(f, &[0; 4])?,
                Incoming::Event(Event::Malformed(k, _)) if k == kind
            ));
        }
        Ok(())
    }

    fn channel() -> Result<Rpc<KVec<u8>>> {
        let mem = KVec::from_elem(0u8, SHARED_SIZE, GFP_KERNEL)?;
        let mut q = Queues::new(mem, ABI, 0)?;
        fake_gsp::link(q.mem_mut())?;
        Ok(Rpc::new(q, ABI))
    }

    /// Plays GSP-RM: queues a message at status slot `slot`, as element `seq`, for the request
    /// with RPC sequence number `rpc_seq`; returns the next slot.
    fn gsp(
        rpc: &mut Rpc<KVec<u8>>,
        slot: u32,
        seq: u32,
        rpc_seq: u32,
        function: u32,
        result: u32,
        payload: &[u8],
    ) -> Result<u32> {
        fake_gsp::send_reply(
            rpc.queues_mut().mem_mut(),
            slot,
            seq,
            rpc_seq,
            function,
            result,
            payload,
        )
    }

    /// What an event handler saw: 1 for a print, 2 for a sequencer program, 3 for a stale
    /// reply (with its sequence number in the upper half).
    fn recorder(seen: &mut KVec<u32>) -> impl FnMut(Incoming) -> Result + '_ {
        move |m| {
            let code = match m {
                Incoming::Event(Event::LibosPrint { .. }) => 1,
                Incoming::Sequencer(_) => 2,
                Incoming::StaleReply { seq, .. } => 3 | (seq << 16),
                _ => 0,
            };
            seen.push(code, GFP_KERNEL)?;
            Ok(())
        }
    }

    const FREE: RmFree = RmFree {
        client: 0xc1d0_0000,
        object: 0x5d1d_0000,
    };

    #[test]
    fn rate_limit_lets_a_burst_through_per_window_and_counts_the_rest() -> Result {
        let r = RateLimit::new();
        for _ in 0..RateLimit::BURST {
            assert_eq!(r.check(1), Verdict::Log { suppressed: 0 });
        }
        // A storm in the same window: every line is dropped.
        for t in 0..10_000 {
            assert_eq!(r.check(2 + t / 10), Verdict::Drop);
        }
        // The next window's first line reports the drops; the count starts again.
        assert_eq!(
            r.check(RateLimit::INTERVAL_MS + 2),
            Verdict::Log { suppressed: 10_000 }
        );
        assert_eq!(
            r.check(RateLimit::INTERVAL_MS + 3),
            Verdict::Log { suppressed: 0 }
        );
        Ok(())
    }

    #[test]
    fn call_returns_its_reply_and_passes_on_everything_else() -> Result {
        let mut rpc = channel()?;
        // GSP-RM has already queued an event, a sequencer program and the reply to FREE.
        let print = [1, 0, 0, 0, 2, 0, 0, 0, b'o', b'k'];
        let mut slot = gsp(&mut rpc, 0, 0, 0, 0x100c, 0, &print)?;
        slot = gsp(&mut rpc, slot, 1, 0, 0x1002, 0, &[0; 0x28])?;
        gsp(&mut rpc, slot, 2, 0, 10, 0, &[0; 0x10])?;

        let mut rang = false;
        let mut seen = KVec::new();
        let r = rpc.exchange(
            &FREE,
            || rang = true,
            Delta::from_millis(100),
            &mut recorder(&mut seen),
        );
        assert!(r.is_ok());
        assert!(rang);
        assert_eq!(&seen[..], &[1, 2]);
        // The request went out: one element, the write pointer past it.
        assert_eq!(
            rpc.queues_mut()
                .mem_mut()
                .read_u32(CMD_QUEUE_OFFSET + 0x10)?,
            1
        );
        Ok(())
    }

    #[test]
    fn a_refusal_names_the_status() -> Result {
        let mut rpc = channel()?;
        // The status in FREE's parameters, as rpcRmApiFree_GSP reads it.
        let mut reply = words(&[0xc1d0_0000, 0, 0x5d1d_0000, 0x57])?;
        gsp(&mut rpc, 0, 0, 0, 10, 0x57, &reply)?;
        let r = rpc.exchange(&FREE, || (), Delta::from_millis(100), &mut |_| Ok(()));
        assert!(matches!(r, Err(RpcError::Status(NvStatus(0x57)))));
        assert_eq!(NvStatus(0x57).name(), Some("NV_ERR_OBJECT_NOT_FOUND"));
        // Only the RPC result says so, with a reply too short for parameters.
        gsp(&mut rpc, 1, 1, 1, 10, 0x33, &[])?;
        let r = rpc.exchange(&FREE, || (), Delta::from_millis(100), &mut |_| Ok(()));
        assert!(matches!(r, Err(RpcError::Status(NvStatus(0x33)))));
        // A short reply with NV_OK is malformed.
        gsp(&mut rpc, 2, 2, 2, 10, 0, &[0; 4])?;
        let r = rpc.exchange(&FREE, || (), Delta::from_millis(100), &mut |_| Ok(()));
        assert!(matches!(r, Err(RpcError::Decode(_))));
        // OK in both.
        reply[12] = 0;
        gsp(&mut rpc, 3, 3, 3, 10, 0, &reply)?;
        let r = rpc.exchange(&FREE, || (), Delta::from_millis(100), &mut |_| Ok(()));
        assert!(r.is_ok());
        Ok(())
    }

    #[test]
    fn lost_late_and_repeated_replies_fail_only_their_call() -> Result {
        let mut rpc = channel()?;
        let ok = [0u8; 0x10];
        let mut seen = KVec::new();
        // Call 0 gets no reply: it times out.
        let r = rpc.exchange(
            &FREE,
            || (),
            Delta::from_millis(2),
            &mut recorder(&mut seen),
        );
        assert!(matches!(r, Err(RpcError::Timeout)));
        // Its reply comes late, before call 1's, which then succeeds; the late one is handed
        // to the handler as stale.
        let mut slot = gsp(&mut rpc, 0, 0, 0, 10, 0, &ok)?;
        slot = gsp(&mut rpc, slot, 1, 1, 10, 0, &ok)?;
        let r = rpc.exchange(
            &FREE,
            || (),
            Delta::from_millis(100),
            &mut recorder(&mut seen),
        );
        assert!(r.is_ok());
        assert_eq!(&seen[..], &[3]);
        // Call 1's reply comes again, then call 2's: the repeat is stale.
        slot = gsp(&mut rpc, slot, 2, 1, 10, 0, &ok)?;
        slot = gsp(&mut rpc, slot, 3, 2, 10, 0, &ok)?;
        let r = rpc.exchange(
            &FREE,
            || (),
            Delta::from_millis(100),
            &mut recorder(&mut seen),
        );
        assert!(r.is_ok());
        assert_eq!(&seen[..], &[3, 3 | (1 << 16)]);
        // A reply to another function with this call's number is not this call's either.
        slot = gsp(&mut rpc, slot, 4, 3, 76, 0, &ok)?;
        gsp(&mut rpc, slot, 5, 3, 10, 0, &ok)?;
        let r = rpc.exchange(
            &FREE,
            || (),
            Delta::from_millis(100),
            &mut recorder(&mut seen),
        );
        assert!(r.is_ok());
        assert_eq!(seen.len(), 3);
        // An error from the handler ends the wait.
        gsp(&mut rpc, 6, 6, 0, 0x1001, 0, &[])?;
        let r = rpc.exchange(&FREE, || (), Delta::from_millis(100), &mut |_| Err(EPROTO));
        assert!(matches!(r, Err(RpcError::Kernel(e)) if e == EPROTO));
        Ok(())
    }

    #[test]
    fn a_control_returns_its_parameters() -> Result {
        let mut rpc = channel()?;
        let mut reply = words(&[0xc1d0_0000, 0x5d1d_0000, 0x2080_0110, 0, 0x84, 0, 0])?;
        reply.extend_from_slice(b"NVIDIA AD102", GFP_KERNEL)?;
        reply.resize(0x18 + 0x84, 0, GFP_KERNEL)?;
        gsp(&mut rpc, 0, 0, 0, 76, 0, &reply)?;
        let ctrl = RmControl {
            client: 0xc1d0_0000,
            object: 0x5d1d_0000,
            params: &GpuNameString,
        };
        let name = rpc.exchange(&ctrl, || (), Delta::from_millis(100), &mut |_| Ok(()));
        assert!(matches!(name, Ok(n) if &n.0[..13] == b"NVIDIA AD102\0"));
        Ok(())
    }

    #[test]
    fn sequencer_runs_in_order_and_stops_on_error() -> Result {
        let p = program(&[0, 0x100, 1, 3, 20, 6, 7])?;
        let mut r = Recorder {
            ops: KVec::new(),
            fail_at: usize::MAX,
        };
        assert_eq!(run_sequencer(ABI, &p, &mut r), Ok(4));
        assert_eq!(
            &r.ops[..],
            &[
                SeqOp::RegWrite {
                    addr: 0x100,
                    val: 1
                },
                SeqOp::DelayUs(20),
                SeqOp::CoreStart,
                SeqOp::CoreWaitForHalt
            ]
        );
        let mut r = Recorder {
            ops: KVec::new(),
            fail_at: 1,
        };
        assert_eq!(run_sequencer(ABI, &p, &mut r), Err(ETIMEDOUT));
        assert_eq!(r.ops.len(), 1);
        // A malformed program runs nothing.
        let bad = program(&[0, 0x100, 1, 42])?;
        let mut r = Recorder {
            ops: KVec::new(),
            fail_at: usize::MAX,
        };
        assert_eq!(run_sequencer(ABI, &bad, &mut r), Err(EIO));
        assert!(r.ops.is_empty());
        Ok(())
    }

    /// Reads the element at command slot `slot`: (function, payload length, payload start).
    fn element(rpc: &mut Rpc<KVec<u8>>, slot: usize) -> Result<(u32, usize, KVec<u8>)> {
        let mut page = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        rpc.queues_mut()
            .mem_mut()
            .read(CMD_QUEUE_OFFSET + 0x1000 + slot * 4096, &mut page)?;
        let h = ABI.read_headers(&page).map_err(Error::from)?;
        let len = usize::try_from(h.rpc_length).map_err(|_| EINVAL)? - 0x20;
        let mut head = KVec::new();
        head.extend_from_slice(&page[0x50..0x50 + len.min(4096 - 0x50)], GFP_KERNEL)?;
        Ok((h.function, len, head))
    }

    #[test]
    fn commands_are_written_in_place() -> Result {
        let mut rpc = channel()?;
        let registry = [("RMForcePcieConfigSave", 1)];
        let none = &mut |_: Incoming| -> Result { Ok(()) };
        // Not answered: the call returns once the command is queued.
        assert!(rpc
            .exchange(&SetRegistry(&registry), || (), Delta::from_millis(1), none)
            .is_ok());
        // Answered: GetGspStaticInfo times out without a reply, after it was queued.
        let r = rpc.exchange(&GetGspStaticInfo, || (), Delta::from_millis(1), none);
        assert!(matches!(r, Err(RpcError::Timeout)));

        let (f, len, head) = element(&mut rpc, 0)?;
        assert_eq!((f, len), (73, 8 + 16 + 22));
        assert_eq!(&head[..8], &[46, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&head[24..], b"RMForcePcieConfigSave\0");
        let (f, len, head) = element(&mut rpc, 1)?;
        assert_eq!((f, len), (65, 0x678));
        assert!(head.iter().all(|&b| b == 0));
        Ok(())
    }
}
