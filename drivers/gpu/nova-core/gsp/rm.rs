// SPDX-License-Identifier: GPL-2.0

//! RM objects: the client, device and subdevice nova allocates in GSP-RM once it runs.
//!
//! GSP-RM is a resource server (open-gpu-kernel-modules `src/nvidia/src/libraries/resserv/`):
//! a driver allocates objects in a tree under a client (`NV01_ROOT`), a device
//! (`NV01_DEVICE_0`) under the client and a subdevice (`NV20_SUBDEVICE_0`) under the device,
//! in the order nouveau allocates them (`r535/client.c`, `r535/device.c`), and frees them
//! again. Each object here is one Rust type that owns its handle and frees its object when it
//! is dropped. A child holds an [`Arc`] of its parent, so that no child outlives its parent and
//! the parent is freed only after its last child: children go first.
//!
//! Every object reaches GSP-RM through the [`RmChannel`], which serialises the calls.

use core::sync::atomic::{AtomicU32, Ordering};

use kernel::{device, new_mutex, prelude::*, sync::Arc, sync::Mutex, time::Delta};

use super::commands::ControlParams;
use super::{
    boot::DmaMem,
    commands::{
        DeviceParams, GpuNameString, RmAlloc, RmControl, RmFree, RootParams, SubdeviceParams,
    },
    queue::ring_doorbell,
    rpc::{log_stale_reply, CommandToGsp, EventLog, Incoming, Rpc},
};
use crate::driver::Bar0Owner;

/// How long GSP-RM may take to answer an RM call (nouveau waits up to 2 s per RPC by default,
/// Open RM's GSP RPC timeout is several seconds).
// TIMEOUT: a backstop for a GSP-RM that stopped answering; a healthy one answers in
// microseconds.
pub(crate) const RM_TIMEOUT: Delta = Delta::from_secs(5);

/// The first handle of each kind nova gives its objects (nouveau `rm/handles.h`: clients
/// 0xc1d0xxxx, devices 0xde1dxxxx, subdevices 0x5d1dxxxx).
const CLIENT_BASE: u32 = 0xc1d0_0000;
const DEVICE_BASE: u32 = 0xde1d_0000;
const SUBDEVICE_BASE: u32 = 0x5d1d_0000;
/// How many handles of one kind there are.
const HANDLES_PER_KIND: u32 = 0x1_0000;

/// The kinds of handle [`HandleAllocator`] gives out, each from its own range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandleKind {
    /// A client (`NV01_ROOT`).
    Client,
    /// A device.
    Device,
    /// A subdevice.
    Subdevice,
}

/// Gives out RM handles: never zero, never the same twice, each kind from its own range of
/// 2^16 handles. Handles are not reused, so that a late reply or a double free can never hit
/// a newer object with the same handle.
pub(crate) struct HandleAllocator {
    next: [AtomicU32; 3],
}

impl HandleAllocator {
    /// Returns an allocator that has given out nothing.
    pub(crate) const fn new() -> Self {
        Self {
            next: [AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)],
        }
    }

    /// Returns a new handle of `kind`, or `ENOSPC` once its range is used up.
    pub(crate) fn alloc(&self, kind: HandleKind) -> Result<u32> {
        let (counter, base) = match kind {
            HandleKind::Client => (&self.next[0], CLIENT_BASE),
            HandleKind::Device => (&self.next[1], DEVICE_BASE),
            HandleKind::Subdevice => (&self.next[2], SUBDEVICE_BASE),
        };
        let index = counter
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < HANDLES_PER_KIND).then_some(n + 1)
            })
            .map_err(|_| ENOSPC)?;
        // The ranges leave out 0: the lowest handle is a base.
        Ok(base | index)
    }
}

/// The channel to GSP-RM that RM objects use: the RPC queues, and BAR0 for the doorbell.
#[pin_data]
pub(crate) struct RmChannel<'b> {
    dev: &'b device::Device,
    bar: Bar0Owner<'b>,
    #[pin]
    rpc: Mutex<Rpc<DmaMem>>,
    handles: HandleAllocator,
    events: EventLog,
}

impl<'b> RmChannel<'b> {
    /// Wraps `rpc`, whose doorbell is rung through `bar`.
    pub(crate) fn new(
        dev: &'b device::Device,
        bar: Bar0Owner<'b>,
        rpc: Rpc<DmaMem>,
    ) -> Result<Arc<Self>> {
        Arc::pin_init(
            try_pin_init!(Self {
                dev,
                bar,
                rpc <- new_mutex!(rpc),
                handles: HandleAllocator::new(),
                events: EventLog::new(),
            }),
            GFP_KERNEL,
        )
    }

    /// Runs `f` with the RPC channel and the doorbell, for the boot and stop sequences.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Rpc<DmaMem>, &dyn Fn()) -> R) -> R {
        let mut rpc = self.rpc.lock();
        f(&mut rpc, &|| ring_doorbell(&self.bar))
    }

    /// Returns the channel's event log, which handles GSP-RM's events.
    pub(crate) fn events(&self) -> &EventLog {
        &self.events
    }

    /// Handles the messages GSP-RM has queued while no call waits (from the GSP's interrupt
    /// thread). If a call waits, it handles them itself.
    pub(crate) fn drain(&self) {
        let Some(mut rpc) = self.rpc.try_lock() else {
            return;
        };
        let dev = self.dev;
        let mut events = |m: Incoming| {
            match m {
                Incoming::Event(e) => self.events.handle(dev, &e),
                Incoming::StaleReply { function, seq } => log_stale_reply(dev, function, seq),
                Incoming::InitDone | Incoming::Sequencer(_) => dev_err!(
                    dev,
                    "unexpected boot message from GSP-RM after GSP_INIT_DONE\n"
                ),
            }
            Ok(())
        };
        if let Err(e) = rpc.take_pending(&mut events) {
            dev_err!(dev, "GSP-RM's message queue: {}\n", e);
        }
    }

    /// Calls `cmd` once GSP-RM runs: events that arrive meanwhile are handled, and a boot
    /// message at this point fails the call.
    pub(crate) fn call<C: CommandToGsp>(&self, cmd: &C) -> Result<C::Reply> {
        self.call_with(cmd, &mut self.rpc.lock())
    }

    /// As [`RmChannel::call`], polling for the reply even if the GSP's interrupt drives the
    /// message queue (the RPC benchmark's old path). Returns the reply, and whether the call
    /// waited on the interrupt.
    #[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
    pub(crate) fn call_waiting<C: CommandToGsp>(
        &self,
        cmd: &C,
        poll: bool,
    ) -> Result<(C::Reply, bool)> {
        let mut rpc = self.rpc.lock();
        if poll {
            rpc.polling(|rpc| Ok((self.call_with(cmd, rpc)?, false)))
        } else {
            let signalled = rpc.signalled();
            Ok((self.call_with(cmd, &mut rpc)?, signalled))
        }
    }

    /// [`RmChannel::call`] on the locked channel `rpc`.
    fn call_with<C: CommandToGsp>(&self, cmd: &C, rpc: &mut Rpc<DmaMem>) -> Result<C::Reply> {
        let dev = self.dev;
        let mut events = |m: Incoming| match m {
            Incoming::Event(e) => {
                self.events.handle(dev, &e);
                Ok(())
            }
            Incoming::StaleReply { function, seq } => {
                log_stale_reply(dev, function, seq);
                Ok(())
            }
            Incoming::InitDone | Incoming::Sequencer(_) => {
                dev_err!(
                    dev,
                    "unexpected boot message from GSP-RM after GSP_INIT_DONE\n"
                );
                Err(EPROTO)
            }
        };
        rpc.call(
            dev,
            cmd,
            || ring_doorbell(&self.bar),
            RM_TIMEOUT,
            &mut events,
        )
        .map_err(Error::from)
    }

    /// Frees `object` of `client`; a failure is logged by the call.
    fn free(&self, client: u32, object: u32) {
        let _ = self.call(&RmFree { client, object });
    }
}

/// A client (`NV01_ROOT`): the root of nova's objects.
pub(crate) struct RmClient<'b> {
    channel: Arc<RmChannel<'b>>,
    handle: u32,
}

impl<'b> RmClient<'b> {
    /// Allocates a client.
    pub(crate) fn new(channel: &Arc<RmChannel<'b>>) -> Result<Arc<Self>> {
        let handle = channel.handles.alloc(HandleKind::Client)?;
        // The client is its own parent (`serverAllocClient`).
        channel
            .call(&RmAlloc {
                client: handle,
                parent: handle,
                object: handle,
                params: &RootParams { client: handle },
            })
            .inspect_err(|e| {
                // Without a reply GSP-RM may still have allocated the client (its reply can
                // be late or lost): free the handle, so that nothing is left in GSP-RM. The
                // children need no such care: freeing their parent frees them.
                if *e == ETIMEDOUT {
                    channel.free(handle, handle);
                }
            })?;
        // From here on, dropping the client frees it.
        Arc::new(
            Self {
                channel: channel.clone(),
                handle,
            },
            GFP_KERNEL,
        )
        .inspect_err(|_| channel.free(handle, handle))
        .map_err(Error::from)
    }

    /// Returns the client's handle.
    pub(crate) fn handle(&self) -> u32 {
        self.handle
    }
}

impl Drop for RmClient<'_> {
    fn drop(&mut self) {
        // Freeing the client frees whatever is left under it; its children hold `Arc`s of it,
        // so they have been freed already.
        self.channel.free(self.handle, self.handle);
    }
}

/// A device (`NV01_DEVICE_0`) under a client.
pub(crate) struct RmDevice<'b> {
    client: Arc<RmClient<'b>>,
    handle: u32,
}

impl<'b> RmDevice<'b> {
    /// Allocates device 0 under `client`, shared with it (`hClientShare`).
    pub(crate) fn new(client: &Arc<RmClient<'b>>) -> Result<Arc<Self>> {
        let channel = &client.channel;
        let handle = channel.handles.alloc(HandleKind::Device)?;
        channel.call(&RmAlloc {
            client: client.handle,
            parent: client.handle,
            object: handle,
            params: &DeviceParams {
                client_share: client.handle,
            },
        })?;
        Arc::new(
            Self {
                client: client.clone(),
                handle,
            },
            GFP_KERNEL,
        )
        .inspect_err(|_| channel.free(client.handle, handle))
        .map_err(Error::from)
    }

    /// Returns the device's handle.
    pub(crate) fn handle(&self) -> u32 {
        self.handle
    }
}

impl Drop for RmDevice<'_> {
    fn drop(&mut self) {
        self.client.channel.free(self.client.handle, self.handle);
    }
}

/// A subdevice (`NV20_SUBDEVICE_0`) under a device: the target of most GPU controls.
pub(crate) struct RmSubdevice<'b> {
    device: Arc<RmDevice<'b>>,
    handle: u32,
}

impl<'b> RmSubdevice<'b> {
    /// Allocates subdevice 0 under `device`.
    pub(crate) fn new(device: &Arc<RmDevice<'b>>) -> Result<Self> {
        let client = &device.client;
        let handle = client.channel.handles.alloc(HandleKind::Subdevice)?;
        client.channel.call(&RmAlloc {
            client: client.handle,
            parent: device.handle,
            object: handle,
            params: &SubdeviceParams { id: 0 },
        })?;
        Ok(Self {
            device: device.clone(),
            handle,
        })
    }

    /// Returns the subdevice's handle.
    pub(crate) fn handle(&self) -> u32 {
        self.handle
    }

    /// Returns the GPU's name, as `NV2080_CTRL_CMD_GPU_GET_NAME_STRING` reports it.
    pub(crate) fn name_string(&self) -> Result<[u8; 64]> {
        let client = &self.device.client;
        Ok(client
            .channel
            .call(&RmControl {
                client: client.handle,
                object: self.handle,
                params: &GpuNameString,
            })?
            .0)
    }
}

impl Drop for RmSubdevice<'_> {
    fn drop(&mut self) {
        let client = &self.device.client;
        client.channel.free(client.handle, self.handle);
    }
}

/// The objects nova keeps for the whole time GSP-RM runs: a client with device 0 and its
/// subdevice 0. Dropping them frees the subdevice, then the device, then the client.
pub(crate) struct RmObjects<'b> {
    /// The subdevice; it holds the device, which holds the client.
    pub(crate) subdevice: RmSubdevice<'b>,
}

impl<'b> RmObjects<'b> {
    /// Allocates the client, the device and the subdevice, in that order; on failure, frees
    /// what was allocated.
    pub(crate) fn new(channel: &Arc<RmChannel<'b>>) -> Result<Self> {
        let client = RmClient::new(channel)?;
        let device = RmDevice::new(&client)?;
        let subdevice = RmSubdevice::new(&device)?;
        Ok(Self { subdevice })
    }

    /// Returns the handles of the client, the device and the subdevice.
    pub(crate) fn handles(&self) -> (u32, u32, u32) {
        let device = &self.subdevice.device;
        (
            device.client.handle(),
            device.handle(),
            self.subdevice.handle(),
        )
    }
}

/// Controls on the device and the subdevice, for the queries of `query.rs`.
impl<'b> RmObjects<'b> {
    /// Runs control `P` on the device.
    pub(crate) fn device_control<P: ControlParams>(&self, params: &P) -> Result<P::Out> {
        let device = &self.subdevice.device;
        let client = &device.client;
        Ok(client
            .channel
            .call(&RmControl {
                client: client.handle,
                object: device.handle,
                params,
            })?
            .0)
    }

    /// Runs control `P` on the subdevice.
    pub(crate) fn subdevice_control<P: ControlParams>(&self, params: &P) -> Result<P::Out> {
        let client = &self.subdevice.device.client;
        Ok(client
            .channel
            .call(&RmControl {
                client: client.handle,
                object: self.subdevice.handle,
                params,
            })?
            .0)
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_gsp_rm)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_unique_and_bounded() -> Result {
        let h = HandleAllocator::new();
        assert_eq!(h.alloc(HandleKind::Client), Ok(0xc1d0_0000));
        assert_eq!(h.alloc(HandleKind::Client), Ok(0xc1d0_0001));
        assert_eq!(h.alloc(HandleKind::Device), Ok(0xde1d_0000));
        assert_eq!(h.alloc(HandleKind::Subdevice), Ok(0x5d1d_0000));
        // A kind's range runs out on its own, without touching the others.
        for i in 2..HANDLES_PER_KIND {
            assert_eq!(h.alloc(HandleKind::Client), Ok(CLIENT_BASE | i));
        }
        assert_eq!(h.alloc(HandleKind::Client), Err(ENOSPC));
        assert_eq!(h.alloc(HandleKind::Client), Err(ENOSPC));
        assert_eq!(h.alloc(HandleKind::Device), Ok(0xde1d_0001));
        Ok(())
    }
}
