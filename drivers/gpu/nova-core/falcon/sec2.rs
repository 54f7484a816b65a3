// SPDX-License-Identifier: GPL-2.0

//! The SEC2 falcon.

use kernel::io::register::RegisterBase;

use crate::falcon::{FalconEngine, PFalcon2Base, PFalconBase};

/// The security engine's falcon, which runs the booter that loads GSP-RM into WPR2.
/// A type-level marker; never instantiated.
pub(crate) struct Sec2(());

// Register ranges: `NV_PSEC` at 0x840000 (`NV_PSEC_FALCON_ENGINE` = 0x8403c0 in
// open-gpu-kernel-modules `ampere/ga102/dev_sec_pri.h`), `NV_FALCON2_SEC_BASE` = 0x841000
// (`ampere/ga102/dev_falcon_second_pri.h`).

impl RegisterBase<PFalconBase> for Sec2 {
    const BASE: usize = 0x0084_0000;
}

impl RegisterBase<PFalcon2Base> for Sec2 {
    const BASE: usize = 0x0084_1000;
}

impl FalconEngine for Sec2 {
    const NAME: &'static str = "SEC2";
}
