// SPDX-License-Identifier: GPL-2.0

//! Interrupts: the CPU interrupt tree of Turing and later, and the GSP's message interrupt.
//!
//! Every GPU interrupt reaches the CPU through the tree at `NV_VIRTUAL_FUNCTION` (see
//! [`crate::regs`]): a unit raises a vector, the vector's leaf bit latches, and the tree sends
//! the function's MSI when an enabled vector under an enabled TOP subtree becomes pending. The
//! vectors are not fixed: GSP-RM reports them with
//! `NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE` (Open RM `intrInitInterruptTable_KERNEL()`,
//! nouveau `r535_gsp_intr_get_table()`), so nova enables nothing before it has asked.
//!
//! The one interrupt nova services so far is the GSP's: GSP-RM raises `SWGEN0` on the GSP
//! falcon when it has put messages in the message queue. [`GspIrq`] acknowledges it and wakes
//! the threads waiting for a message ([`MsgSignal`]), which otherwise poll; its thread then
//! handles the messages no call waits for (GSP-RM's events, [`RmChannel::drain`]), so that they
//! neither wait for the next call nor fill the queue.
//!
//! The handler follows nouveau's order (`nvkm_intr()`, `r535_gsp_intr()`): disarm the subtree,
//! acknowledge the leaf, acknowledge the falcon, retrigger the falcon (GA100 and later) so that
//! a message that arrived meanwhile is not lost, re-arm the subtree (which sends a new MSI if
//! anything is still pending).

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use kernel::{
    device,
    io::{register::Array, Io},
    irq::{self, IrqReturn, ThreadedIrqReturn},
    new_condvar, new_spinlock_irq,
    num::casts::FromSafeCast,
    pci,
    prelude::*,
    sync::{aref::ARef, Arc, CondVar, CondVarTimeoutResult, SpinLockIrq},
    time::{msecs_to_jiffies, Delta},
};

use crate::{
    driver::{Bar0, Bar0Owner},
    falcon::{gsp::Gsp, FalconIrq},
    gpu::Chipset,
    gsp::rm::RmChannel,
    regs,
};

/// A vector of the CPU interrupt tree: bit `v % 32` of leaf `v / 32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Vector(u32);

impl Vector {
    /// Returns vector `raw`, as GSP-RM reports it, if the tree has it.
    pub(crate) fn new(raw: u32) -> Option<Self> {
        let leaves = u32::try_from(regs::NV_CPU_INTR_LEAVES).ok()?;
        (raw < leaves.checked_mul(32)?).then_some(Self(raw))
    }

    /// Returns the vector's number.
    pub(crate) fn raw(self) -> u32 {
        self.0
    }

    /// Returns the index of the leaf register that holds the vector.
    pub(crate) fn leaf(self) -> usize {
        usize::from_safe_cast(self.0 / 32)
    }

    /// Returns the vector's bit in its leaf.
    pub(crate) fn bit(self) -> u32 {
        1 << (self.0 % 32)
    }

    /// Returns the vector's bit in `TOP`: one subtree summarises two leaves.
    pub(crate) fn subtree(self) -> u32 {
        1 << (self.0 / 64)
    }

    /// Acknowledges the vector: writes its bit to its leaf.
    fn acknowledge(self, bar: Bar0<'_>) {
        if let Some(leaf) = regs::NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF::try_at(self.leaf()) {
            bar.write(
                leaf,
                regs::NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF::zeroed().with_vectors(self.bit()),
            );
        }
    }
}

/// How a wait for a GSP-RM message ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The GSP interrupted since the waiter looked: there may be a message.
    Interrupted,
    /// The time ran out with no interrupt.
    TimedOut,
    /// A signal is pending for the waiting task: the wait could not sleep.
    Signalled,
}

/// What the GSP's interrupt tells the threads that wait for GSP-RM's messages: a count of
/// interrupts, which a waiter compares with the count it saw before it last looked at the
/// queue, so that an interrupt between its look and its sleep is not missed.
#[pin_data]
pub(crate) struct MsgSignal {
    dev: ARef<device::Device>,
    #[pin]
    count: SpinLockIrq<u64>,
    #[pin]
    wake: CondVar,
    /// Whether the interrupt drives the message queue (it is enabled in the tree).
    armed: AtomicBool,
    /// Messages found only by the backstop: their interrupt never came.
    lost: AtomicU64,
}

impl MsgSignal {
    /// Returns a signal for `dev`, not armed: waiters poll until [`GspIrq::enable`].
    pub(crate) fn new(dev: &device::Device) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                dev: dev.into(),
                count <- new_spinlock_irq!(0, "nova_core_gsp_msg"),
                wake <- new_condvar!("nova_core_gsp_msg"),
                armed: AtomicBool::new(false),
                lost: AtomicU64::new(0),
            }),
            GFP_KERNEL,
        )
    }

    /// Returns whether the GSP's interrupt drives the message queue.
    pub(crate) fn is_armed(&self) -> bool {
        self.armed.load(Ordering::Acquire)
    }

    /// Returns the number of interrupts so far; pass it to [`MsgSignal::wait`] after looking
    /// at the queue.
    pub(crate) fn count(&self) -> u64 {
        *self.count.lock()
    }

    /// Counts an interrupt and wakes every waiter. Callable from the hard interrupt handler.
    fn notify(&self) {
        {
            let mut count = self.count.lock();
            *count = count.wrapping_add(1);
        }
        self.wake.notify_all();
    }

    /// Sleeps until an interrupt after `seen` (a value of [`MsgSignal::count`]), for at most
    /// `timeout`.
    pub(crate) fn wait(&self, seen: u64, timeout: Delta) -> Wait {
        let ms = u32::try_from(timeout.as_millis_ceil().max(1)).unwrap_or(u32::MAX);
        let mut left = msecs_to_jiffies(ms);
        let mut count = self.count.lock();
        loop {
            if *count != seen {
                return Wait::Interrupted;
            }
            match self.wake.wait_interruptible_timeout(&mut count, left) {
                CondVarTimeoutResult::Woken { jiffies } => left = jiffies,
                CondVarTimeoutResult::Timeout => {
                    return if *count != seen {
                        Wait::Interrupted
                    } else {
                        Wait::TimedOut
                    }
                }
                CondVarTimeoutResult::Signal { .. } => return Wait::Signalled,
            }
        }
    }

    /// Records a message the backstop found with no interrupt for it, and logs it: the first
    /// time and then at every power of two, so that a dead interrupt line cannot flood the log.
    pub(crate) fn lost(&self) {
        let n = self.lost.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        if n.is_power_of_two() {
            dev_warn!(
                self.dev,
                "[irq-lost] GSP-RM sent a message without raising its interrupt ({} so far); \
                 the backstop timeout found it\n",
                n
            );
        }
    }
}

/// The GPU interrupt's handler: the GSP's message interrupt.
pub(crate) struct GspIrq<'b> {
    bar: Bar0Owner<'b>,
    signal: Arc<MsgSignal>,
    channel: Arc<RmChannel<'b>>,
    falcon: FalconIrq<Gsp>,
    /// The GSP's vector once enabled, `u32::MAX` before and after.
    vector: AtomicU32,
    /// Falcon interrupts other than SWGEN0 that were found enabled, then disabled.
    unexpected: AtomicU64,
}

/// No vector: the handler does nothing.
const NO_VECTOR: u32 = u32::MAX;

impl<'b> GspIrq<'b> {
    /// Returns the handler for a `chipset` GPU, with nothing enabled yet.
    /// The handler's thread hands GSP-RM's events to `channel`.
    pub(crate) fn new(
        bar: Bar0Owner<'b>,
        signal: Arc<MsgSignal>,
        channel: Arc<RmChannel<'b>>,
        chipset: Chipset,
    ) -> Result<Self> {
        Ok(Self {
            bar,
            signal,
            channel,
            falcon: FalconIrq::new(chipset)?,
            vector: AtomicU32::new(NO_VECTOR),
            unexpected: AtomicU64::new(0),
        })
    }

    /// Enables `vector`, the GSP's, in the tree, and lets the interrupt drive the message
    /// queue.
    pub(crate) fn enable(&self, vector: Vector) {
        let bar = &*self.bar;
        self.vector.store(vector.raw(), Ordering::Release);
        // While the queue was polled, SWGEN0 stayed latched: the falcon sends its interrupt
        // message on a rising edge only, so it must be cleared before it can fire again.
        // Messages it announced are in the queue, where a waiter looks first.
        self.falcon.clear(
            bar,
            regs::NV_PFALCON_FALCON_IRQSTAT::zeroed().with_swgen0(true),
        );
        // A stale bit from before would count as raised the moment it is enabled.
        vector.acknowledge(bar);
        if let Some(en) = regs::NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET::try_at(vector.leaf())
        {
            bar.write(
                en,
                regs::NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_SET::zeroed()
                    .with_vectors(vector.bit()),
            );
        }
        self.signal.armed.store(true, Ordering::Release);
        bar.write_reg(
            regs::NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP_EN_SET::zeroed()
                .with_subtrees(vector.subtree()),
        );
        // A message GSP-RM announced between the clear and the enable is sent again.
        self.falcon.retrigger(bar);
    }

    /// Disables the GSP's vector and acknowledges whatever it left pending; waiters poll
    /// again. The caller then waits for a running handler to finish
    /// ([`Interrupts::disable`]).
    fn disable(&self) {
        let bar = &*self.bar;
        self.signal.armed.store(false, Ordering::Release);
        let Some(vector) = Vector::new(self.vector.swap(NO_VECTOR, Ordering::AcqRel)) else {
            return;
        };
        if let Some(en) =
            regs::NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR::try_at(vector.leaf())
        {
            bar.write(
                en,
                regs::NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF_EN_CLEAR::zeroed()
                    .with_vectors(vector.bit()),
            );
        }
        vector.acknowledge(bar);
        // Waiters that sleep now look at the queue again.
        self.signal.notify();
    }

    /// Returns how many unexpected falcon interrupts were disabled.
    pub(crate) fn unexpected(&self) -> u64 {
        self.unexpected.load(Ordering::Relaxed)
    }
}

impl irq::ThreadedHandler for GspIrq<'_> {
    fn handle(&self) -> ThreadedIrqReturn {
        let Some(vector) = Vector::new(self.vector.load(Ordering::Acquire)) else {
            return ThreadedIrqReturn::None;
        };
        let bar = &*self.bar;
        let top = bar.read(regs::NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP);
        if top.subtrees().get() & vector.subtree() == 0 {
            return ThreadedIrqReturn::None;
        }
        let Some(status) = regs::NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF::try_at(vector.leaf())
        else {
            return ThreadedIrqReturn::None;
        };
        // Disarmed while handled; re-arming below sends a new MSI if something is pending then.
        bar.write_reg(
            regs::NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP_EN_CLEAR::zeroed()
                .with_subtrees(vector.subtree()),
        );
        let mut handled = ThreadedIrqReturn::None;
        if bar.read(status).vectors().get() & vector.bit() != 0 {
            handled = ThreadedIrqReturn::Handled;
            vector.acknowledge(bar);
            let pending = self.falcon.pending(bar);
            if pending.swgen0() {
                self.falcon.clear(
                    bar,
                    regs::NV_PFALCON_FALCON_IRQSTAT::zeroed().with_swgen0(true),
                );
                self.signal.notify();
                // Messages no call waits for are handled in process context.
                handled = ThreadedIrqReturn::WakeThread;
            }
            let others = u32::from(pending)
                & !u32::from(regs::NV_PFALCON_FALCON_IRQSTAT::zeroed().with_swgen0(true));
            if others != 0 {
                // Nothing handles them: disabled, so that they cannot storm (nouveau does the
                // same). The count is reported at unbind.
                let others = regs::NV_PFALCON_FALCON_IRQSTAT::from(others);
                self.falcon.disable(bar, others);
                self.falcon.clear(bar, others);
                self.unexpected.fetch_add(1, Ordering::Relaxed);
            }
            self.falcon.retrigger(bar);
        }
        bar.write_reg(
            regs::NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP_EN_SET::zeroed()
                .with_subtrees(vector.subtree()),
        );
        handled
    }

    fn handle_threaded(&self) -> IrqReturn {
        self.channel.drain();
        IrqReturn::Handled
    }
}

/// The GPU's interrupt: one MSI vector and its handler.
#[pin_data(PinnedDrop)]
pub(crate) struct Interrupts<'b> {
    // Declared first so that it is dropped (the handler unregistered) before `vectors`, which
    // it borrows.
    #[pin]
    registration: irq::ThreadedRegistration<'b, GspIrq<'b>>,
    vectors: pci::IrqVectorRegistration<'b>,
}

impl<'b> Interrupts<'b> {
    /// Allocates one MSI (or MSI-X) vector of `pdev` and registers `handler` for it.
    pub(crate) fn new(
        pdev: &'b pci::Device<device::Bound>,
        handler: GspIrq<'b>,
    ) -> Result<Pin<KBox<Self>>> {
        let types = pci::IrqTypes::default()
            .with(pci::IrqType::MsiX)
            .with(pci::IrqType::Msi);
        KBox::try_pin_init(
            try_pin_init!(&this in Self {
                vectors: pdev.alloc_irq_vectors(1, 1, types)?,
                registration <- {
                    // SAFETY: `vectors` is initialised (it comes first above) and lives in the
                    // pinned allocation `this` points to, so it does not move; `registration`,
                    // the only user of this reference, is declared before it and is therefore
                    // dropped before it, and `Self` is never forgotten (see the next comment).
                    let vectors: &'b pci::IrqVectorRegistration<'b> =
                        unsafe { &*core::ptr::addr_of!((*this.as_ptr()).vectors) };
                    let request = vectors.index(0)?.into();
                    // SAFETY: the registration is a field of `Self`, which lives in a pinned
                    // box that its owner drops; nothing calls `mem::forget` on it.
                    unsafe {
                        irq::ThreadedRegistration::new(
                            request,
                            irq::Flags::TRIGGER_NONE,
                            c"nova-core",
                            Ok::<_, Error>(handler),
                        )
                    }
                },
            }),
            GFP_KERNEL,
        )
    }

    /// Enables the GSP's `vector`: from now on its interrupt drives the message queue.
    pub(crate) fn enable(&self, vector: Vector) {
        self.registration.handler().enable(vector);
    }

    /// Disables the GSP's vector and waits for a handler that is running to finish; from then
    /// on GSP-RM's messages are polled for.
    pub(crate) fn disable(&self, dev: &device::Device) {
        let handler = self.registration.handler();
        handler.disable();
        self.registration.synchronize();
        let unexpected = handler.unexpected();
        if unexpected > 0 {
            dev_warn!(
                dev,
                "the GSP raised {} interrupts other than its message interrupt; they were disabled\n",
                unexpected
            );
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Interrupts<'_> {
    fn drop(self: Pin<&mut Self>) {
        // The vector must not stay enabled in the tree without a handler behind it.
        self.registration.handler().disable();
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_intr)]
mod tests {
    use super::*;

    #[test]
    fn vector_arithmetic() -> Result {
        let v = Vector::new(0x99).ok_or(EINVAL)?;
        assert_eq!(v.leaf(), 4);
        assert_eq!(v.bit(), 1 << 25);
        assert_eq!(v.subtree(), 1 << 2);
        assert_eq!(Vector::new(63).ok_or(EINVAL)?.subtree(), 1);
        assert_eq!(Vector::new(64).ok_or(EINVAL)?.subtree(), 2);
        // 16 leaves of 32 vectors.
        assert!(Vector::new(511).is_some());
        assert_eq!(Vector::new(512), None);
        assert_eq!(Vector::new(u32::MAX), None);
        Ok(())
    }
}
