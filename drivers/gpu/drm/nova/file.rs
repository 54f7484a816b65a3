// SPDX-License-Identifier: GPL-2.0

//! Per-file state and the ioctls.

use kernel::{drm, prelude::*, uapi};

use crate::driver::{NovaDevice, NovaDriver};

/// The state of one open file of the DRM device.
pub(crate) struct File;

impl drm::file::DriverFile for File {
    type Driver = NovaDriver;

    fn open(_dev: &NovaDevice) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::new(Self, GFP_KERNEL)?.into())
    }
}

impl File {
    /// `DRM_IOCTL_NOVA_GETPARAM`: reports one device parameter, in full 64 bits.
    pub(crate) fn get_param(
        dev: &NovaDevice<drm::Registered>,
        _reg_data: &(),
        getparam: &mut uapi::drm_nova_getparam,
        _file: &drm::File<File>,
    ) -> Result<u32> {
        let info: &nova_core::interface::GpuInfo = dev;
        let spec = info.spec();

        // Compare in 64 bits: a parameter that only matches after truncation is unknown.
        let value: u64 = match getparam.param {
            p if p == u64::from(uapi::NOVA_GETPARAM_VRAM_BAR_SIZE) => info.bar1_size(),
            p if p == u64::from(uapi::NOVA_GETPARAM_CHIPSET) => spec.chipset().as_raw().into(),
            p if p == u64::from(uapi::NOVA_GETPARAM_ARCHITECTURE) => spec.arch().as_raw().into(),
            p if p == u64::from(uapi::NOVA_GETPARAM_REVISION) => spec.revision().as_raw().into(),
            p if p == u64::from(uapi::NOVA_GETPARAM_PCI_DEVICE_ID) => info.pci_device_id().into(),
            _ => return Err(EINVAL),
        };

        getparam.value = value;
        Ok(0)
    }
}
