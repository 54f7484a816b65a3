// SPDX-License-Identifier: GPL-2.0

//! Hopper and Blackwell: GSP-RM booted by the FMC that the FSP starts; not booted yet.

use super::{BootPath, GspHal, CONFIG_MIRROR_GH100};
use crate::firmware::FwFile::*;

/// The GH100 family.
pub(in crate::gsp) const GH100: GspHal = GspHal {
    family: "GH100",
    boot_path: BootPath::Fsp,
    boots: false,
    files: &[Gsp, Bootloader, Fmc],
    config_mirror: CONFIG_MIRROR_GH100,
    fb: None,
};
