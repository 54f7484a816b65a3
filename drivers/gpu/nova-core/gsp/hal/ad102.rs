// SPDX-License-Identifier: GPL-2.0

//! Ada (AD10x): booted as GA102 is; the package adds the FB scrubber.

use super::{BootPath, GspHal, CONFIG_MIRROR_GP100};
use crate::{fb::hal::Ga102, firmware::FwFile::*};

/// The AD102 family.
pub(in crate::gsp) const AD102: GspHal = GspHal {
    family: "AD102",
    boot_path: BootPath::FwsecBooter,
    boots: true,
    files: &[Gsp, Bootloader, BooterLoad, BooterUnload, Scrubber],
    config_mirror: CONFIG_MIRROR_GP100,
    fb: Some(&Ga102),
};
