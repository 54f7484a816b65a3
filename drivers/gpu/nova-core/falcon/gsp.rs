// SPDX-License-Identifier: GPL-2.0

//! The GSP's falcon.

use kernel::io::register::RegisterBase;

use crate::falcon::{FalconEngine, PFalcon2Base, PFalconBase};

/// The GPU System Processor's falcon engine, which runs FWSEC and, on its RISC-V core, GSP-RM.
/// A type-level marker; never instantiated.
pub(crate) struct Gsp(());

// Register ranges: `NV_PGSP` at 0x110000 (`NV_PGSP_FALCON_ENGINE` = 0x1103c0 in
// open-gpu-kernel-modules `ampere/ga102/dev_gsp.h`), `NV_FALCON2_GSP_BASE` = 0x111000
// (`ampere/ga102/dev_falcon_second_pri.h`, the same on Turing in `turing/tu102/dev_riscv_pri.h`).

impl RegisterBase<PFalconBase> for Gsp {
    const BASE: usize = 0x0011_0000;
}

impl RegisterBase<PFalcon2Base> for Gsp {
    const BASE: usize = 0x0011_1000;
}

impl FalconEngine for Gsp {
    const NAME: &'static str = "GSP";
}
