// SPDX-License-Identifier: GPL-2.0

//! The RPCs nova exchanges with GSP-RM during and after boot.
//!
//! Requests are encoded by [`super::fw::Abi`] and queued with [`Queues::send`]; messages are
//! taken with [`Queues::receive`] and sorted here into replies and asynchronous events. Every
//! event is logged in one line; none is dropped silently, including ones nova does not know.

use kernel::{
    device,
    prelude::*,
    time::{Delta, Instant, Monotonic},
};

use super::{
    fw::{
        Abi, DecodeError, EventKind, Function, OsErrorLog, PostEvent, RcTriggered, SeqOp,
        StaticInfo, SystemInfo, UnloadParams,
    },
    queue::{QueueError, Queues, Received, SharedMem},
};

/// `NV_OK`: the RPC result of a request GSP-RM carried out.
pub(crate) const RESULT_OK: u32 = 0;

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

/// Queues `GSP_SET_SYSTEM_INFO`.
pub(crate) fn send_system_info<M: SharedMem>(
    q: &mut Queues<M>,
    abi: Abi,
    info: &SystemInfo,
) -> Result<u32> {
    let payload = abi.system_info(info)?;
    Ok(q.send(abi.function(Function::SetSystemInfo), &payload)?)
}

/// Queues `SET_REGISTRY` with 32-bit `entries`.
pub(crate) fn send_registry<M: SharedMem>(
    q: &mut Queues<M>,
    abi: Abi,
    entries: &[(&str, u32)],
) -> Result<u32> {
    let payload = abi.registry(entries)?;
    Ok(q.send(abi.function(Function::SetRegistry), &payload)?)
}

/// Queues `GET_GSP_STATIC_INFO`. GSP-RM replies with the same function and the static
/// information, which [`Abi::static_info`] decodes; the request carries a zeroed buffer of the
/// reply's size for GSP-RM to fill.
pub(crate) fn send_get_static_info<M: SharedMem>(
    q: &mut Queues<M>,
    abi: Abi,
    reply_size: usize,
) -> Result<u32> {
    let payload = KVec::from_elem(0u8, reply_size, GFP_KERNEL)?;
    Ok(q.send(abi.function(Function::GetGspStaticInfo), &payload)?)
}

/// Queues `UNLOADING_GUEST_DRIVER`.
pub(crate) fn send_unloading<M: SharedMem>(
    q: &mut Queues<M>,
    abi: Abi,
    p: &UnloadParams,
) -> Result<u32> {
    let payload = abi.unloading_guest_driver(p)?;
    Ok(q.send(abi.function(Function::UnloadingGuestDriver), &payload)?)
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
}

/// A message from GSP-RM, sorted.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// `GSP_INIT_DONE`.
    InitDone,
    /// `GSP_RUN_CPU_SEQUENCER`; the payload is for [`run_sequencer`].
    Sequencer(KVec<u8>),
    /// An event to be logged with [`log_event`].
    Event(Event),
    /// Anything else: a reply to a request, or a message nova does not know, which the caller
    /// must not drop silently.
    Reply(Received),
}

/// Sorts `msg`, decoding events.
pub(crate) fn sort(abi: Abi, msg: Received) -> Result<Incoming> {
    let Some(kind) = abi.event(msg.function) else {
        return Ok(Incoming::Reply(msg));
    };
    let p = &msg.payload;
    let decoded = match kind {
        EventKind::InitDone => return Ok(Incoming::InitDone),
        EventKind::RunCpuSequencer => return Ok(Incoming::Sequencer(msg.payload)),
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
    Ok(Incoming::Event(
        decoded.unwrap_or_else(|e| Event::Malformed(kind, e)),
    ))
}

/// Receives messages for up to `timeout` until `want` accepts one, which is returned; every
/// other message is handed to `other` (which logs events and runs sequencer programs), so that
/// nothing GSP-RM sends while the driver waits is lost. Queue errors end the wait.
pub(crate) fn wait_for<M: SharedMem>(
    q: &mut Queues<M>,
    abi: Abi,
    timeout: Delta,
    mut want: impl FnMut(&Incoming) -> bool,
    mut other: impl FnMut(Incoming) -> Result,
) -> Result<Incoming> {
    let start = Instant::<Monotonic>::now();
    loop {
        let left = timeout - start.elapsed();
        if left.is_negative() {
            return Err(ETIMEDOUT);
        }
        let msg = sort(abi, q.receive_timeout(left)?)?;
        if want(&msg) {
            return Ok(msg);
        }
        other(msg)?;
    }
}

/// Sends the request `function` with `payload`, rings the doorbell with `ring`, and waits up
/// to `timeout` for GSP-RM's reply (the message with the same function number), handing
/// everything else to `other` as [`wait_for`] does. A reply whose result is not `NV_OK` fails
/// with `EREMOTEIO`.
pub(crate) fn call<M: SharedMem>(
    q: &mut Queues<M>,
    abi: Abi,
    function: Function,
    payload: &[u8],
    ring: impl FnOnce(),
    timeout: Delta,
    other: impl FnMut(Incoming) -> Result,
) -> Result<Received> {
    let number = abi.function(function);
    q.send(number, payload)?;
    ring();
    let reply = wait_for(
        q,
        abi,
        timeout,
        |m| matches!(m, Incoming::Reply(r) if r.function == number),
        other,
    )?;
    match reply {
        Incoming::Reply(r) if r.result == RESULT_OK => Ok(r),
        _ => Err(EREMOTEIO),
    }
}

/// Returns the bytes of `s` up to its first NUL, as text if they are UTF-8.
fn c_text(s: &[u8]) -> &str {
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    s.get(..end)
        .and_then(|t| core::str::from_utf8(t).ok())
        .unwrap_or("<not UTF-8>")
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
    }
}

/// Logs the static information in one line.
pub(crate) fn log_static_info(dev: &device::Device, info: &StaticInfo) {
    dev_info!(
        dev,
        "GSP: {}, {} MiB VRAM, {} FB regions\n",
        info.name(),
        info.vram_size >> 20,
        info.fb_regions().len()
    );
}

/// Logs a receive error in one line. Errors are never swallowed: the caller decides whether the
/// queue can still be used.
pub(crate) fn log_queue_error(dev: &device::Device, e: &QueueError) {
    dev_err!(dev, "GSP: message queue error: {:?}\n", e);
}

#[kunit_tests(nova_core_gsp_rpc)]
mod tests {
    use super::*;
    use crate::gsp::queue::{fake_gsp, CMD_QUEUE_OFFSET, SHARED_SIZE};

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

    fn program(words: &[u32]) -> Result<KVec<u8>> {
        let mut b = KVec::from_elem(0u8, 0x28, GFP_KERNEL)?;
        b[0..4].copy_from_slice(&64u32.to_le_bytes());
        b[4..8].copy_from_slice(&(words.len() as u32).to_le_bytes());
        for w in words {
            b.extend_from_slice(&w.to_le_bytes(), GFP_KERNEL)?;
        }
        Ok(b)
    }

    fn received(function: u32, payload: &[u8]) -> Result<Received> {
        let mut p = KVec::new();
        p.extend_from_slice(payload, GFP_KERNEL)?;
        Ok(Received {
            function,
            result: 0,
            seq: 0,
            payload: p,
        })
    }

    #[test]
    fn messages_are_sorted_and_events_decoded() -> Result {
        assert!(matches!(
            sort(ABI, received(0x1001, &[])?)?,
            Incoming::InitDone
        ));
        assert!(matches!(
            sort(ABI, received(0x1002, &[1, 2, 3])?)?,
            Incoming::Sequencer(p) if p[..] == [1, 2, 3]
        ));
        // A reply, and a number nova does not know: both handed back, never dropped.
        assert!(matches!(sort(ABI, received(65, &[9])?)?, Incoming::Reply(r) if r.function == 65));
        assert!(matches!(
            sort(ABI, received(0x1010, &[])?)?,
            Incoming::Reply(r) if r.function == 0x1010
        ));

        let mut print = KVec::new();
        print.extend_from_slice(&[0x15, 0, 0, 0, 3, 0, 0, 0], GFP_KERNEL)?;
        print.extend_from_slice(b"hi\n", GFP_KERNEL)?;
        let sorted = sort(ABI, received(0x100c, &print)?)?;
        assert!(matches!(
            &sorted,
            Incoming::Event(Event::LibosPrint { engine: 0x15, text }) if text[..] == b"hi\n"[..]
        ));
        let mut rc = KVec::from_elem(0u8, 0x30, GFP_KERNEL)?;
        rc[4] = 3;
        assert!(matches!(
            sort(ABI, received(0x1004, &rc)?)?,
            Incoming::Event(Event::RcTriggered(r)) if r.chid == 3
        ));
        let post = KVec::from_elem(0u8, 0x1d, GFP_KERNEL)?;
        assert!(matches!(
            sort(ABI, received(0x1003, &post)?)?,
            Incoming::Event(Event::PostEvent(e)) if e.data_size == 0
        ));
        assert!(matches!(
            sort(ABI, received(0x1005, &[0; 12])?)?,
            Incoming::Event(Event::MmuFaultQueued(12))
        ));
        let log = KVec::from_elem(0u8, 0x110, GFP_KERNEL)?;
        assert!(matches!(
            sort(ABI, received(0x1006, &log)?)?,
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
                sort(ABI, received(f, &[0; 4])?)?,
                Incoming::Event(Event::Malformed(k, _)) if k == kind
            ));
        }
        Ok(())
    }

    fn linked_queues() -> Result<Queues<KVec<u8>>> {
        let mem = KVec::from_elem(0u8, SHARED_SIZE, GFP_KERNEL)?;
        let mut q = Queues::new(mem, ABI, 0)?;
        fake_gsp::link(q.mem_mut())?;
        Ok(q)
    }

    #[test]
    fn call_returns_the_reply_and_passes_on_everything_else() -> Result {
        let mut q = linked_queues()?;
        // GSP-RM has already queued an event, a sequencer program and the reply.
        let mut print = KVec::new();
        print.extend_from_slice(&[1, 0, 0, 0, 2, 0, 0, 0, b'o', b'k'], GFP_KERNEL)?;
        let mut slot = fake_gsp::send(q.mem_mut(), 0, 0, 0x100c, 0, &print)?;
        slot = fake_gsp::send(q.mem_mut(), slot, 1, 0x1002, 0, &[0; 0x28])?;
        fake_gsp::send(q.mem_mut(), slot, 2, 72, 0, &[5])?;

        let mut rang = false;
        let mut seen = KVec::new();
        let reply = call(
            &mut q,
            ABI,
            Function::SetSystemInfo,
            &[1, 2, 3],
            || rang = true,
            Delta::from_millis(100),
            |m| {
                seen.push(
                    match m {
                        Incoming::Event(Event::LibosPrint { .. }) => 1,
                        Incoming::Sequencer(_) => 2,
                        _ => 0,
                    },
                    GFP_KERNEL,
                )?;
                Ok(())
            },
        )?;
        assert!(rang);
        assert_eq!(&seen[..], &[1, 2]);
        assert_eq!(
            (reply.function, reply.seq, &reply.payload[..]),
            (72, 2, &[5u8][..])
        );
        // The request went out.
        assert_eq!(q.mem().read_u32(CMD_QUEUE_OFFSET + 0x10)?, 1);
        Ok(())
    }

    #[test]
    fn call_fails_on_error_result_and_timeout() -> Result {
        let mut q = linked_queues()?;
        fake_gsp::send(q.mem_mut(), 0, 0, 73, 0x1f, &[])?;
        assert_eq!(
            call(
                &mut q,
                ABI,
                Function::SetRegistry,
                &[],
                || (),
                Delta::from_millis(100),
                |_| Ok(())
            )
            .map(|_| ()),
            Err(EREMOTEIO)
        );
        // No reply at all.
        assert_eq!(
            call(
                &mut q,
                ABI,
                Function::SetRegistry,
                &[],
                || (),
                Delta::from_millis(2),
                |_| Ok(())
            )
            .map(|_| ()),
            Err(ETIMEDOUT)
        );
        // An error from the handler of other messages ends the wait.
        fake_gsp::send(q.mem_mut(), 1, 1, 0x1001, 0, &[])?;
        assert_eq!(
            wait_for(
                &mut q,
                ABI,
                Delta::from_millis(100),
                |_| false,
                |_| Err(EPROTO)
            )
            .map(|_| ()),
            Err(EPROTO)
        );
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
    fn element(q: &Queues<KVec<u8>>, slot: usize) -> Result<(u32, usize, KVec<u8>)> {
        let mut page = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        q.mem()
            .read(CMD_QUEUE_OFFSET + 0x1000 + slot * 4096, &mut page)?;
        let h = ABI.read_headers(&page).map_err(Error::from)?;
        let len = h.rpc_length as usize - 0x20;
        let mut head = KVec::new();
        head.extend_from_slice(&page[0x50..0x50 + len.min(4096 - 0x50)], GFP_KERNEL)?;
        Ok((h.function, len, head))
    }

    #[test]
    fn requests_are_queued_with_their_payloads() -> Result {
        let mem = KVec::from_elem(0u8, SHARED_SIZE, GFP_KERNEL)?;
        let mut q = Queues::new(mem, ABI, 0)?;
        let info = SystemInfo {
            bar0_addr: 0xfb00_0000,
            ..Default::default()
        };
        assert_eq!(send_system_info(&mut q, ABI, &info), Ok(0));
        assert_eq!(
            send_registry(&mut q, ABI, &[("RMForcePcieConfigSave", 1)]),
            Ok(1)
        );
        assert_eq!(
            send_get_static_info(&mut q, ABI, ABI.static_info_size()),
            Ok(2)
        );
        let unload = UnloadParams {
            in_pm_transition: false,
            gc6_entering: false,
            new_level: 0,
        };
        assert_eq!(send_unloading(&mut q, ABI, &unload), Ok(3));

        let (f, len, head) = element(&q, 0)?;
        assert_eq!((f, len), (72, 0x3a0));
        assert_eq!(&head[..8], &0xfb00_0000u64.to_le_bytes());
        let (f, len, head) = element(&q, 1)?;
        let expected = ABI.registry(&[("RMForcePcieConfigSave", 1)])?;
        assert_eq!((f, len), (73, expected.len()));
        assert_eq!(&head[..], &expected[..]);
        let (f, len, _) = element(&q, 2)?;
        assert_eq!((f, len), (65, 0x678));
        let (f, len, head) = element(&q, 3)?;
        assert_eq!((f, len, &head[..]), (47, 8, &[0u8; 8][..]));
        Ok(())
    }
}
