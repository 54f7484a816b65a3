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

// PROM: the VBIOS flash, visible in BAR0.

/// Number of 32-bit words in the PROM window (1 MiB; open-gpu-kernel-modules
/// `kernel_gsp_vbios_tu102.c`, `s_getBaseBiosMaxSize_TU102`).
pub(crate) const NV_PROM_DATA_WORDS: usize = 0x4_0000;

register! {
    /// The VBIOS flash, read a 32-bit word at a time: word `i` holds bytes `4 * i` to
    /// `4 * i + 3`, the first in the low bits. NVIDIA's manual declares the window as the byte
    /// array `NV_PROM_DATA(i)` at `0x300000 + i` (open-gpu-kernel-modules
    /// `src/common/inc/swref/published/turing/tu102/dev_ext_devices.h`); drivers read it in
    /// aligned words (`s_promRead32` in `kernel_gsp_vbios_tu102.c`).
    pub(crate) NV_PROM_DATA_WORD(u32)[NV_PROM_DATA_WORDS] @ 0x00300000 {
        31:0    value;
    }
}

// FUSE: the ucode version fuses that select a signed ucode's signature.

/// Number of ucode version fuse registers per engine (ucode ids 1 to 16).
pub(crate) const NV_FUSE_OPT_FPF_UCODE_VERSIONS: usize = 16;

register! {
    /// Ucode version fuses of the GSP falcon, one register per ucode id starting with id 1: the
    /// version is the position of the highest set bit of `data`, plus one (0 when none is
    /// set). Offset and field from open-gpu-kernel-modules
    /// `src/common/inc/swref/published/ampere/ga100/dev_fuse.h`
    /// (`NV_FUSE_OPT_FPF_GSP_UCODE1_VERSION`), decoding from `kgspReadUcodeFuseVersion_GA100`
    /// in `kernel_gsp_ga100.c`. Hopper and Blackwell moved these fuses.
    pub(crate) NV_FUSE_OPT_FPF_GSP_UCODE_VERSION(u32)[NV_FUSE_OPT_FPF_UCODE_VERSIONS] @ 0x008241c0 {
        15:0    data;
    }
}
