// SPDX-License-Identifier: GPL-2.0

//! GA100: booted as Turing is (FWSEC through the generic bootloader), without FWSEC-FRTS: its FB
//! layout has no FRTS.

use super::{BootPath, GspHal, CONFIG_MIRROR_GP100};
use crate::{fb::hal::Ga100, firmware::FwFile::*};

/// The GA100 family.
pub(in crate::gsp) const GA100: GspHal = GspHal {
    family: "GA100",
    boot_path: BootPath::GenBootloader,
    boots: true,
    files: &[Gsp, Bootloader, BooterLoad, BooterUnload, GenBootloader],
    config_mirror: CONFIG_MIRROR_GP100,
    fb: Some(&Ga100),
};
