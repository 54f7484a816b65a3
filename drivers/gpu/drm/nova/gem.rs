// SPDX-License-Identifier: GPL-2.0

//! GEM objects.
//!
//! The DRM core needs a GEM object type for every GEM driver. nova has no ioctl that creates
//! objects yet (that is uAPI v1's GEM work), so this type carries no driver data.

use kernel::{drm::gem, prelude::*};

use crate::driver::{NovaDevice, NovaDriver};

/// nova's driver data in a GEM object.
#[pin_data]
pub(crate) struct NovaObject {}

impl gem::DriverObject for NovaObject {
    type Driver = NovaDriver;
    type Args = ();

    fn new(_dev: &NovaDevice, _size: usize, _args: Self::Args) -> impl PinInit<Self, Error> {
        try_pin_init!(NovaObject {})
    }
}
