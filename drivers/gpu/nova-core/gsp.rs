// SPDX-License-Identifier: GPL-2.0

//! GSP-RM: the firmware that runs the GPU on its GSP (GPU System Processor).
//!
//! The driver builds GSP-RM's boot structures in system memory ([`boot`]), maps the GSP-RM image
//! through a radix-3 page table ([`radix3`]), and then talks to GSP-RM through a pair of message
//! queues in shared memory ([`queue`]) carrying RPCs ([`rpc`]). Every structure layout belongs to
//! one GSP-RM release and lives in [`fw`], behind a version-neutral interface.
//!
//! Nothing here starts the GSP yet; the falcon code will, using what this module builds.

// Until probe boots the GSP, only the KUnit tests use most of this module.
#![allow(
    dead_code,
    reason = "the GSP boot sequence is not wired into probe yet"
)]

pub(crate) mod boot;
pub(crate) mod fw;
pub(crate) mod queue;
pub(crate) mod radix3;
pub(crate) mod regs;
pub(crate) mod rpc;

use kernel::{device, prelude::*};

use crate::firmware::gsp::GspImage;

/// Selects the ABI of the GSP-RM release in `image`, or fails with `ENOTSUPP` after one log line
/// naming the release if nova does not speak its ABI.
pub(crate) fn abi_of(dev: &device::Device, image: &GspImage<'_>) -> Result<fw::Abi> {
    fw::Abi::from_version(image.version).ok_or_else(|| {
        dev_err!(
            dev,
            "GSP-RM release {} is not supported\n",
            core::str::from_utf8(image.version).unwrap_or("<not UTF-8>")
        );
        ENOTSUPP
    })
}
