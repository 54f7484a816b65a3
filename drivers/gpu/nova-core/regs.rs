// SPDX-License-Identifier: GPL-2.0

//! Register definitions.
//!
//! Offsets and layouts follow NVIDIA's reference manuals (open-gpu-doc) for the units nova
//! touches. Registers are grouped by unit; each unit's registers are declared in one
//! `register!` block.

use kernel::io::register;

// PMC: the master control unit, which holds the chip's identity.

register! {
    /// Chip identity, as every NVIDIA GPU has reported it since NV04.
    pub(crate) NV_PMC_BOOT_0(u32) @ 0x00000000 {
        /// Low five bits of the architecture code.
        28:24   architecture_0;
        /// Implementation (chip) within the architecture.
        23:20   implementation;
        /// High bit of the architecture code, zero on every chip up to Blackwell.
        8:8     architecture_1;
        /// Major revision (stepping letter; 0xa is A).
        7:4     major_revision;
        /// Minor revision (stepping digit).
        3:0     minor_revision;
    }

    /// Chip identity on Fermi and later: the register NVIDIA documents for identifying
    /// current chips.
    pub(crate) NV_PMC_BOOT_42(u32) @ 0x00000a00 {
        /// Architecture code (0x16 Turing ... 0x1b Blackwell GB20x).
        29:24   architecture;
        /// Implementation (chip) within the architecture.
        23:20   implementation;
        /// Major revision (stepping letter).
        19:16   major_revision;
        /// Minor revision (stepping digit).
        15:12   minor_revision;
    }
}

impl NV_PMC_BOOT_0 {
    /// Returns whether this chip predates Fermi (architecture 0xc), which means it has no
    /// `NV_PMC_BOOT_42`: such chips leave `architecture_1` clear and report an architecture
    /// below 0xc in `architecture_0`.
    pub(crate) fn is_older_than_fermi(self) -> bool {
        const ARCHITECTURE_GF100: u32 = 0xc;

        self.architecture_1().get() == 0 && self.architecture_0().get() < ARCHITECTURE_GF100
    }
}
