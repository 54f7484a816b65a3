// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The CPU interrupt tree of `NV_VIRTUAL_FUNCTION` (BAR0 0xb80000, Turing and later): leaf
//! status registers, their enables, the top-level summary and its enables.
//!
//! [`IntrTree`] is register state only. [`IntrHub`] shares it between its register unit
//! ([`Vfn`], the bus glue) and the interrupt sources (the GSP falcon, [`crate::gpu`]), and
//! drives the function's MSI from the tree's line: an MSI is sent each time the line goes
//! from deasserted to asserted, so a driver that never re-arms (`TOP_EN_CLEAR` then
//! `TOP_EN_SET`, as nouveau's `nvkm_intr()` does around its handlers) while something is still
//! pending gets no further interrupt.
//!
//! # Sources
//!
//! Offsets relative to 0xb80000 are NVIDIA's
//! `src/common/inc/swref/published/ampere/ga100/dev_vm.h` (`NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_*`)
//! and open-gpu-doc `manuals/ampere/ga102/dev_vm.ref.txt`; nouveau `nvkm/subdev/vfn/tu102.c`
//! uses the same layout:
//!
//! | register | offset |
//! |---|---|
//! | `CPU_INTR_LEAF(i)` (write 1 to clear) | 0x1000 + 4i |
//! | `CPU_INTR_LEAF_EN_SET(i)` | 0x1200 + 4i |
//! | `CPU_INTR_LEAF_EN_CLEAR(i)` | 0x1400 + 4i |
//! | `CPU_INTR_TOP(0)` (read-only) | 0x1600 |
//! | `CPU_INTR_TOP_EN_SET(0)` | 0x1608 |
//! | `CPU_INTR_TOP_EN_CLEAR(0)` | 0x1610 |
//!
//! Vector `v` is leaf `v / 32`, bit `v % 32`; TOP bit `t` summarises leaves `2t` and `2t + 1`
//! (`NV_CTRL_CPU_INTR_LEAF_ARRAY_SIZE_PER_FN` is 16 leaves, `NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_TOP`
//! has one 32-bit register of which 8 subtrees are in use per function).
//!
//! # Modelling choices
//!
//! * Level semantics: a leaf bit stays set while its source asserts it and until the driver
//!   writes 1 to it; the line to the CPU is asserted while any enabled leaf bit under an
//!   enabled TOP bit is set.
//! * Every vector that was raised while enabled is remembered until acknowledged; in strict
//!   mode [`IntrTree::unacked`] at shutdown is a violation.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use log::{debug, warn};

use crate::bar0::{Ctx, RegRead, RegWrite, Unit};
use crate::chips::Architecture;
use crate::stats::bump;

/// Number of leaf registers per function.
pub const LEAVES: usize = 16;

/// The vector the GSP falcon's host interrupt (`IRQSTAT & IRQMASK & IRQDEST`) is routed to.
///
/// NVIDIA publishes no fixed vector for the GSP in open-gpu-doc or in Open RM's public
/// register headers: kernel RM learns every engine's vector from GSP-RM through
/// `NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE` (Open RM `intrInitInterruptTable_KERNEL()`,
/// `src/nvidia/src/kernel/gpu/intr/intr.c`), and nouveau does the same
/// (`r535_gsp_intr_get_table()`). The values here are the simulator's own choice, different
/// per architecture and in different leaves and TOP subtrees, so that a driver that hard-codes
/// a vector, or ignores the leaf or TOP index, fails on some chip.
pub fn gsp_vector(arch: Architecture) -> Vector {
    Vector(match arch {
        Architecture::Volta | Architecture::Turing => 0x84,
        Architecture::Ampere => 0x99,
        Architecture::Ada => 0xa6,
        Architecture::Hopper => 0xb3,
        _ => 0xc5,
    })
}

/// The registers of the tree, decoded from an offset relative to 0xb80000.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    /// `CPU_INTR_LEAF(i)`.
    Leaf(usize),
    /// `CPU_INTR_LEAF_EN_SET(i)`.
    LeafEnSet(usize),
    /// `CPU_INTR_LEAF_EN_CLEAR(i)`.
    LeafEnClear(usize),
    /// `CPU_INTR_TOP(0)`.
    Top,
    /// `CPU_INTR_TOP_EN_SET(0)`.
    TopEnSet,
    /// `CPU_INTR_TOP_EN_CLEAR(0)`.
    TopEnClear,
}

impl Reg {
    /// Base of `NV_VIRTUAL_FUNCTION` in BAR0.
    pub const BASE: u32 = 0xb8_0000;

    /// Decodes `offset` (relative to [`Reg::BASE`]).
    pub fn decode(offset: u32) -> Option<Reg> {
        let array = |base: u32| -> Option<usize> {
            let rel = offset.checked_sub(base)?;
            let idx = usize::try_from(rel / 4).ok()?;
            (rel % 4 == 0 && idx < LEAVES).then_some(idx)
        };
        match offset {
            0x1000..=0x103f => array(0x1000).map(Reg::Leaf),
            0x1200..=0x123f => array(0x1200).map(Reg::LeafEnSet),
            0x1400..=0x143f => array(0x1400).map(Reg::LeafEnClear),
            0x1600 => Some(Reg::Top),
            0x1608 => Some(Reg::TopEnSet),
            0x1610 => Some(Reg::TopEnClear),
            _ => None,
        }
    }
}

/// A vector of the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Vector(pub u32);

impl Vector {
    /// The leaf register holding this vector.
    pub fn leaf(self) -> usize {
        // CAST: u32 to usize never truncates on the hosts the simulator runs on.
        (self.0 / 32) as usize
    }

    /// The bit of this vector in its leaf.
    pub fn bit(self) -> u32 {
        1 << (self.0 % 32)
    }

    /// The TOP bit summarising this vector's leaf.
    pub fn top(self) -> u32 {
        1 << (self.leaf() / 2)
    }
}

/// State of the interrupt tree.
#[derive(Debug, Default)]
pub struct IntrTree {
    leaf: [u32; LEAVES],
    leaf_en: [u32; LEAVES],
    top_en: u32,
    /// Vectors raised while enabled and not acknowledged since.
    unacked: std::collections::BTreeSet<u32>,
}

impl IntrTree {
    /// A tree with nothing pending and everything disabled.
    pub fn new() -> Self {
        Self::default()
    }

    /// The source of `v` asserts it. Returns `false` if `v` is outside the tree.
    pub fn raise(&mut self, v: Vector) -> bool {
        let Some(l) = self.leaf.get_mut(v.leaf()) else {
            return false;
        };
        *l |= v.bit();
        if self.enabled(v) {
            self.unacked.insert(v.0);
        }
        true
    }

    fn enabled(&self, v: Vector) -> bool {
        self.leaf_en.get(v.leaf()).is_some_and(|e| e & v.bit() != 0) && self.top_en & v.top() != 0
    }

    /// The TOP summary: bit `t` set while leaf `2t` or `2t + 1` has an enabled bit set.
    pub fn top(&self) -> u32 {
        let mut top = 0;
        for (i, (l, e)) in self.leaf.iter().zip(self.leaf_en.iter()).enumerate() {
            if l & e != 0 {
                top |= 1 << (i / 2);
            }
        }
        top
    }

    /// Whether the line to the CPU (the MSI) is asserted.
    pub fn line(&self) -> bool {
        self.top() & self.top_en != 0
    }

    /// A register read.
    pub fn read(&self, reg: Reg) -> u32 {
        match reg {
            Reg::Leaf(i) => self.leaf[i],
            Reg::LeafEnSet(i) | Reg::LeafEnClear(i) => self.leaf_en[i],
            Reg::Top => self.top(),
            Reg::TopEnSet | Reg::TopEnClear => self.top_en,
        }
    }

    /// A register write. Returns `true` if the line went from deasserted to asserted (an
    /// MSI is to be sent).
    pub fn write(&mut self, reg: Reg, val: u32) -> bool {
        let before = self.line();
        match reg {
            Reg::Leaf(i) => {
                self.leaf[i] &= !val;
                for b in 0..32 {
                    if val & (1 << b) != 0 {
                        // CAST: `i < LEAVES` (16), so `i * 32 + b` fits in u32.
                        self.unacked.remove(&((i as u32) * 32 + b));
                    }
                }
            }
            Reg::LeafEnSet(i) => self.leaf_en[i] |= val,
            Reg::LeafEnClear(i) => self.leaf_en[i] &= !val,
            Reg::Top => {}
            Reg::TopEnSet => self.top_en |= val,
            Reg::TopEnClear => self.top_en &= !val,
        }
        // Pending bits that become enabled count as raised.
        for (i, (l, e)) in self.leaf.iter().zip(self.leaf_en.iter()).enumerate() {
            let live = l & e;
            if live != 0 && self.top_en & (1 << (i / 2)) != 0 {
                for b in 0..32 {
                    if live & (1 << b) != 0 {
                        // CAST: as above.
                        self.unacked.insert((i as u32) * 32 + b);
                    }
                }
            }
        }
        !before && self.line()
    }

    /// Vectors raised while enabled and never acknowledged (a strict-mode violation at shutdown).
    pub fn unacked(&self) -> Vec<Vector> {
        self.unacked.iter().copied().map(Vector).collect()
    }
}

/// How long an enabled interrupt may stay pending before strict mode calls it
/// unacknowledged at shutdown (a driver services its interrupts in microseconds; this leaves
/// room for a guest that powers off while one is in flight).
pub const ACK_GRACE: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct HubState {
    tree: IntrTree,
    /// The MSI trigger eventfd (vector 0), while the client has one connected.
    msi: Option<File>,
    /// When each unacknowledged vector was first raised while enabled.
    since: BTreeMap<u32, Duration>,
}

impl HubState {
    fn track(&mut self, now: Duration) {
        let unacked = self.tree.unacked();
        self.since.retain(|v, _| unacked.contains(&Vector(*v)));
        for v in unacked {
            self.since.entry(v.0).or_insert(now);
        }
    }
}

/// The interrupt tree of one function, shared by [`Vfn`] and the units that raise vectors,
/// and the MSI its line drives.
#[derive(Debug, Default)]
pub struct IntrHub {
    state: Mutex<HubState>,
}

impl IntrHub {
    /// A hub with nothing pending, everything disabled and no MSI connected.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Connects (or, with `None`, disconnects) the MSI trigger eventfd.
    pub fn connect_msi(&self, fd: Option<File>) {
        self.lock().msi = fd;
    }

    /// Sends the MSI if one is connected; returns whether one was sent.
    fn send_msi(state: &mut HubState, ctx: &Ctx<'_>) -> bool {
        let Some(fd) = state.msi.as_mut() else {
            debug!("VFN: line asserted with no MSI connected");
            return false;
        };
        match fd.write_all(&1u64.to_ne_bytes()) {
            Ok(()) => {
                bump(&ctx.counters.interrupts);
                true
            }
            Err(e) => {
                warn!("VFN: cannot signal the MSI eventfd: {e}");
                false
            }
        }
    }

    /// The source of `v` asserts it (an interrupt message from an engine). Sends the MSI if
    /// that asserts the line.
    pub fn raise(&self, v: Vector, ctx: &Ctx<'_>) {
        let mut state = self.lock();
        let before = state.tree.line();
        if !state.tree.raise(v) {
            ctx.violation(
                "VFN",
                &format!("interrupt vector {} is outside the tree", v.0),
            );
            return;
        }
        state.track(ctx.now);
        if !before && state.tree.line() {
            Self::send_msi(&mut state, ctx);
        }
    }

    /// Vectors that have been pending while enabled, unacknowledged, for at least `grace` at
    /// time `now`.
    pub fn unacknowledged(&self, now: Duration, grace: Duration) -> Vec<Vector> {
        self.lock()
            .since
            .iter()
            .filter(|(_, at)| now.saturating_sub(**at) >= grace)
            .map(|(v, _)| Vector(*v))
            .collect()
    }

    /// Back to the power-on state (a function-level reset); the MSI stays connected.
    pub fn reset(&self) {
        let mut state = self.lock();
        state.tree = IntrTree::new();
        state.since.clear();
    }
}

/// `NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_*`: the bus glue of the tree.
#[derive(Debug)]
pub struct Vfn {
    hub: Arc<IntrHub>,
}

impl Vfn {
    /// The registers of `hub`'s tree.
    pub fn new(hub: Arc<IntrHub>) -> Self {
        Self { hub }
    }
}

impl Unit for Vfn {
    fn name(&self) -> &'static str {
        "VFN"
    }

    fn ranges(&self) -> Vec<Range<u32>> {
        let b = Reg::BASE;
        // CAST: LEAVES is 16.
        let leaves = 4 * LEAVES as u32;
        vec![
            b + 0x1000..b + 0x1000 + leaves,
            b + 0x1200..b + 0x1200 + leaves,
            b + 0x1400..b + 0x1400 + leaves,
            b + 0x1600..b + 0x1614,
        ]
    }

    fn read(&mut self, addr: u32, _ctx: &mut Ctx<'_>) -> RegRead {
        match Reg::decode(addr - Reg::BASE) {
            Some(reg) => RegRead::Value(self.hub.lock().tree.read(reg)),
            None => RegRead::Unimplemented,
        }
    }

    fn write(&mut self, addr: u32, value: u32, mask: u32, ctx: &mut Ctx<'_>) -> RegWrite {
        let Some(reg) = Reg::decode(addr - Reg::BASE) else {
            return RegWrite::Unimplemented;
        };
        if reg == Reg::Top {
            return RegWrite::ReadOnly;
        }
        if mask != u32::MAX {
            // The set/clear registers act on every bit written: a partial write would act
            // on bytes the driver did not mean to write.
            return RegWrite::Violation(format!(
                "partial write (byte mask {mask:#x}) to {reg:?}; the interrupt tree takes \
                 32-bit writes"
            ));
        }
        let mut state = self.hub.lock();
        let rising = state.tree.write(reg, value);
        state.track(ctx.now);
        if rising {
            IntrHub::send_msi(&mut state, ctx);
        }
        RegWrite::Done
    }

    fn reset(&mut self) {
        self.hub.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enable(t: &mut IntrTree, v: Vector) {
        t.write(Reg::LeafEnSet(v.leaf()), v.bit());
        t.write(Reg::TopEnSet, v.top());
    }

    #[test]
    fn decode_offsets() {
        assert_eq!(Reg::decode(0x1000), Some(Reg::Leaf(0)));
        assert_eq!(Reg::decode(0x103c), Some(Reg::Leaf(15)));
        assert_eq!(Reg::decode(0x1204), Some(Reg::LeafEnSet(1)));
        assert_eq!(Reg::decode(0x1408), Some(Reg::LeafEnClear(2)));
        assert_eq!(Reg::decode(0x1600), Some(Reg::Top));
        assert_eq!(Reg::decode(0x1608), Some(Reg::TopEnSet));
        assert_eq!(Reg::decode(0x1610), Some(Reg::TopEnClear));
        assert_eq!(Reg::decode(0x1002), None);
        assert_eq!(Reg::decode(0x1040), None);
    }

    #[test]
    fn vector_arithmetic() {
        let v = Vector(0x83);
        assert_eq!(v.leaf(), 4);
        assert_eq!(v.bit(), 1 << 3);
        assert_eq!(v.top(), 1 << 2);
        assert_eq!(Vector(63).top(), 1);
        assert_eq!(Vector(64).top(), 2);
    }

    #[test]
    fn disabled_vector_raises_no_msi() {
        let mut t = IntrTree::new();
        assert!(t.raise(Vector(40)));
        assert!(!t.line());
        assert_eq!(t.read(Reg::Top), 0);
        assert!(t.unacked().is_empty());
    }

    #[test]
    fn enable_without_top_raises_no_msi() {
        // A buggy driver that enables the leaf but forgets TOP_EN_SET gets no interrupt.
        let mut t = IntrTree::new();
        t.write(Reg::LeafEnSet(1), Vector(40).bit());
        t.raise(Vector(40));
        assert!(!t.line());
        assert!(t.write(Reg::TopEnSet, Vector(40).top()));
        assert!(t.line());
    }

    #[test]
    fn level_until_cleared() {
        let mut t = IntrTree::new();
        let v = Vector(40);
        enable(&mut t, v);
        t.raise(v);
        assert!(t.line());
        // Clearing another bit does not deassert.
        t.write(Reg::Leaf(v.leaf()), 1);
        assert!(t.line());
        t.write(Reg::Leaf(v.leaf()), v.bit());
        assert!(!t.line());
        assert!(t.unacked().is_empty());
    }

    #[test]
    fn strict_unacked_at_shutdown() {
        // A buggy driver that handles the event but never writes the leaf.
        let mut t = IntrTree::new();
        let v = Vector(40);
        enable(&mut t, v);
        t.raise(v);
        t.write(Reg::LeafEnClear(v.leaf()), v.bit());
        assert_eq!(t.unacked(), vec![v]);
    }

    #[test]
    fn pending_then_enabled_counts_as_raised() {
        let mut t = IntrTree::new();
        let v = Vector(3);
        t.raise(v);
        assert!(t.unacked().is_empty());
        enable(&mut t, v);
        assert!(t.line());
        assert_eq!(t.unacked(), vec![v]);
    }

    fn eventfd() -> File {
        use std::os::fd::FromRawFd;
        // SAFETY: eventfd(2) with valid flags; the descriptor is owned by the File from here.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        assert!(fd >= 0);
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        unsafe { File::from_raw_fd(fd) }
    }

    fn msis(fd: &mut File) -> u64 {
        use std::io::Read;
        let mut buf = [0u8; 8];
        match fd.read(&mut buf) {
            Ok(8) => u64::from_ne_bytes(buf),
            _ => 0,
        }
    }

    #[test]
    fn the_line_sends_an_msi_per_rising_edge_through_the_unit() {
        let mem = crate::memory::GuestMemory::new();
        let counters = crate::stats::Counters::default();
        let mut ctx = Ctx::new(&mem, &counters);
        let hub = IntrHub::new();
        let mut fd = eventfd();
        hub.connect_msi(Some(fd.try_clone().unwrap()));
        let mut unit = Vfn::new(hub.clone());
        let v = gsp_vector(Architecture::Ampere);
        let reg = |r: u32| Reg::BASE + r;
        // Enabled through the registers, as a driver does.
        assert_eq!(
            unit.write(
                reg(0x1200) + 4 * v.leaf() as u32,
                v.bit(),
                u32::MAX,
                &mut ctx
            ),
            RegWrite::Done
        );
        unit.write(reg(0x1608), v.top(), u32::MAX, &mut ctx);
        hub.raise(v, &ctx);
        assert_eq!(msis(&mut fd), 1);
        assert!(matches!(unit.read(reg(0x1600), &mut ctx), RegRead::Value(t) if t == v.top()));
        // Still pending: a second message sends no MSI until the driver re-arms.
        hub.raise(v, &ctx);
        assert_eq!(msis(&mut fd), 0);
        unit.write(reg(0x1610), v.top(), u32::MAX, &mut ctx);
        unit.write(reg(0x1608), v.top(), u32::MAX, &mut ctx);
        assert_eq!(
            msis(&mut fd),
            1,
            "re-arming with a vector pending sends an MSI"
        );
        // Acknowledged: nothing is left for strict mode.
        unit.write(
            reg(0x1000) + 4 * v.leaf() as u32,
            v.bit(),
            u32::MAX,
            &mut ctx,
        );
        ctx.now = Duration::from_secs(5);
        assert!(hub.unacknowledged(ctx.now, ACK_GRACE).is_empty());
        assert_eq!(
            counters
                .interrupts
                .load(std::sync::atomic::Ordering::Relaxed),
            2
        );
        // TOP is read-only, partial writes are refused.
        assert_eq!(
            unit.write(reg(0x1600), 1, u32::MAX, &mut ctx),
            RegWrite::ReadOnly
        );
        assert!(matches!(
            unit.write(reg(0x1608), 1, 0xff, &mut ctx),
            RegWrite::Violation(_)
        ));
    }

    #[test]
    fn an_interrupt_left_pending_is_reported_after_the_grace_time() {
        let mem = crate::memory::GuestMemory::new();
        let counters = crate::stats::Counters::default();
        let mut ctx = Ctx::new(&mem, &counters);
        let hub = IntrHub::new();
        let mut unit = Vfn::new(hub.clone());
        let v = Vector(0xa6);
        unit.write(
            Reg::BASE + 0x1200 + 4 * v.leaf() as u32,
            v.bit(),
            u32::MAX,
            &mut ctx,
        );
        unit.write(Reg::BASE + 0x1608, v.top(), u32::MAX, &mut ctx);
        ctx.now = Duration::from_millis(10);
        hub.raise(v, &ctx);
        assert!(hub
            .unacknowledged(Duration::from_millis(500), ACK_GRACE)
            .is_empty());
        assert_eq!(
            hub.unacknowledged(Duration::from_secs(2), ACK_GRACE),
            vec![v]
        );
    }
}
