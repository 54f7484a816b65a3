// SPDX-License-Identifier: GPL-2.0

//! Turing (TU10x, TU11x): FWSEC through the generic bootloader, LibOS 2 heap limits.

use super::{BootPath, GspHal, CONFIG_MIRROR_GP100};
use crate::{fb::hal::Tu102, firmware::FwFile::*};

/// The TU102 family.
pub(in crate::gsp) const TU102: GspHal = GspHal {
    family: "TU102",
    boot_path: BootPath::GenBootloader,
    boots: true,
    files: &[Gsp, Bootloader, BooterLoad, BooterUnload, GenBootloader],
    config_mirror: CONFIG_MIRROR_GP100,
    fb: Some(&Tu102),
};
