// SPDX-License-Identifier: GPL-2.0

//! The RPCs nova exchanges with GSP-RM during and after boot.
//!
//! Requests are encoded by [`super::fw::Abi`] and queued with [`Queues::send`]; messages are
//! taken with [`Queues::receive`] and sorted here into replies and asynchronous events. Every
//! event is logged in one line; none is dropped silently, including ones nova does not know.

use kernel::{device, prelude::*};

use super::{
    fw::{Abi, EventKind, Function, SeqOp, StaticInfo, SystemInfo, UnloadParams},
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

/// A message from GSP-RM, sorted.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// `GSP_INIT_DONE`.
    InitDone,
    /// `GSP_RUN_CPU_SEQUENCER`; the payload is for [`run_sequencer`].
    Sequencer(KVec<u8>),
    /// An event that was logged and needs nothing else.
    Logged(EventKind),
    /// A reply to a request (function number and result), with its payload.
    Reply(Received),
}

/// Returns the bytes of `s` up to its first NUL, as text if they are UTF-8.
fn c_text(s: &[u8]) -> &str {
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    s.get(..end)
        .and_then(|t| core::str::from_utf8(t).ok())
        .unwrap_or("<not UTF-8>")
}

/// Sorts `msg` and logs it if it is an event: one line for each, at error level for error
/// reports. A message with a function number that is neither a known event nor a reply is
/// logged too and returned as a reply, so that the caller sees it.
pub(crate) fn classify(dev: &device::Device, abi: Abi, msg: Received) -> Incoming {
    let Some(kind) = abi.event(msg.function) else {
        return Incoming::Reply(msg);
    };
    let p = &msg.payload;
    match kind {
        EventKind::InitDone => return Incoming::InitDone,
        EventKind::RunCpuSequencer => return Incoming::Sequencer(msg.payload),
        EventKind::OsErrorLog => match abi.os_error_log(p) {
            Ok((xid, chid, text)) => {
                dev_err!(dev, "GSP: Xid {} on channel {}: {}\n", xid, chid, c_text(&text))
            }
            Err(e) => dev_err!(dev, "GSP: malformed OS_ERROR_LOG ({:?})\n", e),
        },
        EventKind::LibosPrint => match abi.libos_print(p) {
            Ok((engine, text)) => {
                dev_info!(dev, "GSP: LibOS {:#x}: {}\n", engine, c_text(text).trim_end())
            }
            Err(e) => dev_err!(dev, "GSP: malformed UCODE_LIBOS_PRINT ({:?})\n", e),
        },
        EventKind::PostEvent => match abi.post_event(p) {
            Ok((client, event, index, status, size)) => dev_dbg!(
                dev,
                "GSP: event for client {:#x} handle {:#x} notifier {} status {:#x} ({} bytes)\n",
                client,
                event,
                index,
                status,
                size
            ),
            Err(e) => dev_err!(dev, "GSP: malformed POST_EVENT ({:?})\n", e),
        },
        EventKind::RcTriggered => match abi.rc_triggered(p) {
            Ok(rc) => dev_err!(
                dev,
                "GSP: channel recovery: engine {:#x} channel {} Xid {} level {} fault address {:#x}\n",
                rc.engine_type,
                rc.chid,
                rc.except_type,
                rc.except_level,
                rc.mmu_fault_addr
            ),
            Err(e) => dev_err!(dev, "GSP: malformed RC_TRIGGERED ({:?})\n", e),
        },
        EventKind::MmuFaultQueued => {
            dev_warn!(dev, "GSP: MMU fault queued ({} bytes)\n", p.len())
        }
    }
    Incoming::Logged(kind)
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
