// SPDX-License-Identifier: GPL-2.0

//! Ampere GA10x but GA100: FWSEC and the booter on SEC2.

use super::{BootPath, GspHal, CONFIG_MIRROR_GP100};
use crate::{fb::hal::Ga102, firmware::FwFile::*};

/// The GA102 family.
pub(in crate::gsp) const GA102: GspHal = GspHal {
    family: "GA102",
    boot_path: BootPath::FwsecBooter,
    boots: true,
    files: &[Gsp, Bootloader, BooterLoad, BooterUnload],
    config_mirror: CONFIG_MIRROR_GP100,
    fb: Some(&Ga102),
};
