// SPDX-License-Identifier: GPL-2.0

//! The interface nova-core offers to second-level drivers.
//!
//! nova-core owns the PCI device. For every GPU it drives it registers an auxiliary device named
//! [`AUXILIARY_NAME`] under the module name [`MODULE_NAME`], and attaches a [`GpuInfo`] to it as
//! registration data. A second-level driver (nova-drm) binds to that auxiliary device and reads
//! the data with [`kernel::auxiliary::Device::registration_data`], using [`GpuInfoForLt`] as the
//! type key:
//!
//! ```ignore
//! let info = adev.registration_data::<nova_core::interface::GpuInfoForLt>()?;
//! pr_info!("{} with a {} MiB BAR1\n", info.spec(), info.bar1_size() >> 20);
//! ```
//!
//! The auxiliary device is removed before nova-core lets go of the GPU, so the data is valid for
//! as long as the second-level driver is bound.

use kernel::{prelude::*, types::CovariantForLt};

pub use crate::gpu::{Architecture, Chipset, Revision, Spec};

/// The module name under which nova-core registers its auxiliary devices.
pub const MODULE_NAME: &CStr = c"nova-core";

/// The name of the auxiliary device that nova-drm binds to.
pub const AUXILIARY_NAME: &CStr = c"nova-drm";

/// What nova-core tells a second-level driver about the GPU behind an auxiliary device.
#[derive(Clone, Copy, Debug)]
pub struct GpuInfo {
    spec: Spec,
    bar1_size: u64,
    pci_device_id: u16,
}

impl GpuInfo {
    pub(crate) fn new(spec: Spec, bar1_size: u64, pci_device_id: u16) -> Self {
        Self {
            spec,
            bar1_size,
            pci_device_id,
        }
    }

    /// Returns the GPU's identity (chipset, architecture, revision).
    #[inline]
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Returns the size in bytes of BAR1, the CPU's aperture onto the GPU's memory.
    #[inline]
    pub fn bar1_size(&self) -> u64 {
        self.bar1_size
    }

    /// Returns the PCI device id of the board.
    #[inline]
    pub fn pci_device_id(&self) -> u16 {
        self.pci_device_id
    }
}

/// The [`ForLt`](trait@kernel::types::ForLt) key of [`GpuInfo`] as auxiliary registration data.
/// Both sides of the interface must name this alias, so that the type check on the data matches.
pub type GpuInfoForLt = CovariantForLt!(GpuInfo);
