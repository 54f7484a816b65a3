// SPDX-License-Identifier: GPL-2.0

//! Registers only the boot sequence reads.

use kernel::{io::register, num::Bounded};

/// Where the FB scrubber handoff stands (`NV_PGC6_BSI_VPR_SECURE_SCRATCH_15_SCRUBBER_HANDOFF`,
/// open-gpu-kernel-modules `ada/ad102/dev_gc6_island_addendum.h`): Open RM takes any value from
/// `_DONE` (3) up as done (`_kgspIsScrubberCompleted` in `kernel_gsp_ad102.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ScrubberHandoff {
    /// The FB has not been scrubbed: the driver must run the `scrubber` ucode on SEC2.
    Pending,
    /// The scrubber has run (the VBIOS's or the driver's).
    Done,
}

impl From<Bounded<u32, 3>> for ScrubberHandoff {
    fn from(v: Bounded<u32, 3>) -> Self {
        if v.get() >= 3 {
            Self::Done
        } else {
            Self::Pending
        }
    }
}

impl From<ScrubberHandoff> for Bounded<u32, 3> {
    fn from(h: ScrubberHandoff) -> Self {
        match h {
            ScrubberHandoff::Pending => Bounded::<u32, 3>::new::<0>(),
            ScrubberHandoff::Done => Bounded::<u32, 3>::new::<3>(),
        }
    }
}

register! {
    /// Software scratch register 14 of the bus unit (`NV_PBUS_SW_SCRATCH(0xe)`, 0x1400 + 4 * 0xe
    /// in open-gpu-kernel-modules `ampere/ga102/dev_bus.h`). FWSEC-FRTS leaves its error code in
    /// the upper half (upstream nova-core `gsp/regs.rs`, `NV_PBUS_SW_SCRATCH_0E_FRTS_ERR`).
    pub(super) NV_PBUS_SW_SCRATCH_0E(u32) @ 0x00001438 {
        /// FRTS error code; zero on success.
        31:16   frts_err_code;
    }

    /// Secure scratch register 14 of the always-on island (`NV_PGC6_BSI_SECURE_SCRATCH_14` in
    /// open-gpu-kernel-modules `ampere/ga102/dev_gc6_island.h`). Booter sets bit 26 once it
    /// handed the GSP over to GSP-RM again after a resume (upstream nova-core `regs.rs`,
    /// `boot_stage_3_handoff`).
    pub(super) NV_PGC6_BSI_SECURE_SCRATCH_14(u32) @ 0x001180f8 {
        /// Boot stage 3 handoff done.
        26:26   boot_stage_3_handoff => bool;
    }

    /// Secure scratch register 15 of the always-on island, on Ada the VPR scratch that holds
    /// the FB scrubber's handoff (`NV_PGC6_BSI_VPR_SECURE_SCRATCH_15`, open-gpu-kernel-modules
    /// `ada/ad102/dev_gc6_island_addendum.h`).
    pub(super) NV_PGC6_BSI_VPR_SECURE_SCRATCH_15(u32) @ 0x001180fc {
        /// Whether the FB scrubber has run.
        31:29   scrubber_handoff => ScrubberHandoff;
    }
}
