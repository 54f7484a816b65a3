// SPDX-License-Identifier: GPL-2.0

//! Registers only the boot sequence reads.

use kernel::io::register;

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
}
