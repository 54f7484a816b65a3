// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The CPU interrupt tree of `NV_VIRTUAL_FUNCTION` (BAR0 0xb80000, Turing and later): leaf
//! status registers, their enables, the top-level summary and its enables.
//!
//! [`IntrTree`] is register state only; it is not yet wired into [`crate::bar0`] or
//! [`crate::irq`] (see Documentation/gpu/nova/todo.rst, issue 9 item 4).
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

/// Number of leaf registers per function.
pub const LEAVES: usize = 16;

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
}
