// SPDX-License-Identifier: GPL-2.0

//! Per-file state and the ioctls.

use kernel::{
    drm::{self, gem::BaseObject},
    prelude::*,
    uapi,
};

use crate::{
    driver::{NovaDevice, NovaDriver},
    gem::{NovaGem, NovaObject},
};

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
            // Only known once nova-core has booted GSP-RM.
            p if p == u64::from(uapi::NOVA_GETPARAM_VRAM_SIZE) => {
                info.gsp().ok_or(ENODEV)?.vram_size()
            }
            _ => return Err(EINVAL),
        };

        getparam.value = value;
        Ok(0)
    }

    /// `DRM_IOCTL_NOVA_GPU_NAME`: reports the GPU's name as GSP-RM gave it, NUL-terminated.
    pub(crate) fn gpu_name(
        dev: &NovaDevice<drm::Registered>,
        _reg_data: &(),
        req: &mut uapi::drm_nova_gpu_name,
        _file: &drm::File<File>,
    ) -> Result<u32> {
        let info: &nova_core::interface::GpuInfo = dev;
        let name = info.gsp().ok_or(ENODEV)?.gpu_name().as_bytes();
        // Leave room for the NUL; GSP-RM's own field has the same size, so a longer name
        // cannot come from it, but never trust that across the interface.
        let len = name.len().min(req.name.len().saturating_sub(1));
        req.name.fill(0);
        // The kernel's `c_char` is `u8` on every architecture (it builds with -funsigned-char).
        for (dst, src) in req.name.iter_mut().zip(name.iter().take(len)) {
            *dst = *src;
        }
        Ok(0)
    }

    /// `DRM_IOCTL_NOVA_GEM_CREATE`: creates a GEM object and a handle to it in this file.
    pub(crate) fn gem_create(
        dev: &NovaDevice<drm::Registered>,
        _reg_data: &(),
        req: &mut uapi::drm_nova_gem_create,
        file: &drm::File<File>,
    ) -> Result<u32> {
        // Upstream nova's layout: `pad` holds no flags and must be zero.
        if req.pad != 0 {
            return Err(EINVAL);
        }

        let obj = NovaObject::create(dev, req.size)?;
        let handle = obj.create_handle(file)?;

        // The handle holds its own reference; `obj`'s is dropped on return. Lossless: the
        // size was a `u64` before page rounding and rounding is checked.
        req.size = obj.size() as u64;
        req.handle = handle;
        Ok(0)
    }

    /// `DRM_IOCTL_NOVA_GEM_INFO`: reports an object's size and mmap offset.
    pub(crate) fn gem_info(
        _dev: &NovaDevice<drm::Registered>,
        _reg_data: &(),
        req: &mut uapi::drm_nova_gem_info,
        file: &drm::File<File>,
    ) -> Result<u32> {
        if req.pad != 0 {
            return Err(EINVAL);
        }

        let obj = NovaGem::lookup_handle(file, req.handle)?;
        // Objects nova creates have their offset already; imported ones get it here.
        req.mmap_offset = obj.create_mmap_offset()?;
        req.size = obj.size() as u64;
        Ok(0)
    }
}
