// SPDX-License-Identifier: GPL-2.0

//! Per-file state and the ioctls.

use kernel::{
    drm::{self, gem::BaseObject},
    prelude::*,
    uaccess::{UserPtr, UserSlice, UserSliceWriter},
    uapi,
};

use nova_core::interface::{EngineKind, GspInfo};

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
            p if p == u64::from(uapi::NOVA_GETPARAM_GPC_COUNT) => {
                info.gsp().ok_or(ENODEV)?.facts().gpc_count().into()
            }
            p if p == u64::from(uapi::NOVA_GETPARAM_TPC_COUNT) => {
                info.gsp().ok_or(ENODEV)?.facts().tpc_count().into()
            }
            p if p == u64::from(uapi::NOVA_GETPARAM_GPC_MASK) => {
                info.gsp().ok_or(ENODEV)?.facts().gpc_mask().into()
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

    /// `DRM_IOCTL_NOVA_QUERY`: reports the engines or the classes, as an array at a user
    /// address.
    pub(crate) fn query(
        dev: &NovaDevice<drm::Registered>,
        _reg_data: &(),
        req: &mut uapi::drm_nova_query,
        _file: &drm::File<File>,
    ) -> Result<u32> {
        let info: &nova_core::interface::GpuInfo = dev;
        match req.query {
            uapi::NOVA_QUERY_ENGINES => {
                let gsp = info.gsp().ok_or(ENODEV)?;
                let len = gsp.facts().engines().len();
                write_list(req, gsp, len, ENGINE_SIZE, write_engines)
            }
            uapi::NOVA_QUERY_CLASSES => {
                let gsp = info.gsp().ok_or(ENODEV)?;
                let len = gsp.facts().classes().len();
                write_list(req, gsp, len, size_of::<u32>(), write_classes)
            }
            _ => Err(EINVAL),
        }
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

/// The size of one `struct drm_nova_engine`: `kind`, `instance`, `runlist`, `pad`.
const ENGINE_SIZE: usize = size_of::<[u32; 4]>();

kernel::static_assert!(ENGINE_SIZE == size_of::<uapi::drm_nova_engine>());

/// The `NOVA_ENGINE_*` value of `kind`.
fn engine_kind(kind: Option<EngineKind>) -> u32 {
    match kind {
        None => uapi::NOVA_ENGINE_UNKNOWN,
        Some(EngineKind::Graphics) => uapi::NOVA_ENGINE_GRAPHICS,
        Some(EngineKind::Copy) => uapi::NOVA_ENGINE_COPY,
        Some(EngineKind::Nvdec) => uapi::NOVA_ENGINE_NVDEC,
        Some(EngineKind::Nvenc) => uapi::NOVA_ENGINE_NVENC,
        Some(EngineKind::Nvjpg) => uapi::NOVA_ENGINE_NVJPG,
        Some(EngineKind::Ofa) => uapi::NOVA_ENGINE_OFA,
        Some(EngineKind::Sec2) => uapi::NOVA_ENGINE_SEC2,
        Some(EngineKind::Software) => uapi::NOVA_ENGINE_SW,
    }
}

/// Writes the engines, as `struct drm_nova_engine`s.
fn write_engines(gsp: &GspInfo, out: &mut UserSliceWriter) -> Result {
    for e in gsp.facts().engines() {
        // `kind`, `instance`, `runlist`, `pad`, in the CPU's byte order as user space reads
        // them.
        for field in [engine_kind(e.kind), e.instance, e.runlist, 0] {
            out.write_slice(&field.to_ne_bytes())?;
        }
    }
    Ok(())
}

/// Writes the class numbers, as `__u32`s.
fn write_classes(gsp: &GspInfo, out: &mut UserSliceWriter) -> Result {
    for class in gsp.facts().classes() {
        out.write_slice(&class.to_ne_bytes())?;
    }
    Ok(())
}

/// Answers a `DRM_IOCTL_NOVA_QUERY` for a list of `len` elements of `elem_size` bytes each,
/// written by `write`: reports the count, and writes the list if the caller's array holds it.
fn write_list(
    req: &mut uapi::drm_nova_query,
    gsp: &GspInfo,
    len: usize,
    elem_size: usize,
    write: fn(&GspInfo, &mut UserSliceWriter) -> Result,
) -> Result<u32> {
    let count = u32::try_from(len).map_err(|_| EOVERFLOW)?;
    if req.count != 0 {
        if req.count < count {
            return Err(EINVAL);
        }
        let bytes = len.checked_mul(elem_size).ok_or(EINVAL)?;
        let addr = usize::try_from(req.data).map_err(|_| EFAULT)?;
        let mut out = UserSlice::new(UserPtr::from_addr(addr), bytes).writer();
        write(gsp, &mut out)?;
    }
    req.count = count;
    Ok(0)
}
