// SPDX-License-Identifier: GPL-2.0

//! The auxiliary driver and the DRM driver description.

use kernel::{
    auxiliary,
    device::{Bound, Core, DeviceContext},
    drm::{self, ioctl, kms},
    pci,
    prelude::*,
};

use nova_core::interface::{GpuInfo, GpuInfoForLt, AUXILIARY_NAME, MODULE_NAME};

use crate::{file::File, gem::NovaGem};

/// The nova DRM driver.
pub(crate) struct NovaDriver;

/// The driver state of one bound auxiliary device.
#[pin_data]
pub(crate) struct Nova<'bound> {
    /// The DRM device's registration; dropping it unplugs the device.
    _reg: drm::Registration<'bound, NovaDriver>,
}

/// The DRM device of this driver.
pub(crate) type NovaDevice<Ctx = drm::Normal> = drm::Device<NovaDriver, Ctx>;

kernel::auxiliary_device_table!(
    AUX_TABLE,
    <NovaDriver as auxiliary::Driver>::IdInfo,
    [(auxiliary::DeviceId::new(MODULE_NAME, AUXILIARY_NAME), ())]
);

impl auxiliary::Driver for NovaDriver {
    type IdInfo = ();
    type Data<'bound> = Nova<'bound>;
    const ID_TABLE: auxiliary::IdTable<Self::IdInfo> = &AUX_TABLE;

    fn probe<'bound>(
        adev: &'bound auxiliary::Device<Core<'_>>,
        _info: &'bound Self::IdInfo,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        pin_init::pin_init_scope(move || {
            // nova-core guarantees the data for as long as the auxiliary device is bound; keep a
            // copy in the DRM device, which may outlive the binding while files are open.
            let info: GpuInfo = adev.registration_data::<GpuInfoForLt>()?.get_ref().clone();
            let chipset = info.spec().chipset();

            // The DRM device hangs off the PCI function, as every PCI GPU's does, so that user
            // space (libdrm's drmGetDevices2(), Mesa) sees a PCI device with its ids. The PCI
            // device stays bound for as long as its auxiliary child is.
            let pdev: &pci::Device<Bound> = adev.parent().try_into()?;
            let drm = drm::UnregisteredDevice::<Self>::new(pdev, Ok::<_, Error>(info))?;

            // SAFETY: The registration is stored in `Nova` and dropped on unbind; it is never
            // leaked with `mem::forget()`.
            let reg = unsafe { drm::Registration::new(pdev.as_ref(), drm, (), 0)? };

            dev_info!(adev, "DRM device registered for {}\n", chipset);

            Ok(try_pin_init!(Nova { _reg: reg }))
        })
    }
}

/// The DRM driver description.
const INFO: drm::DriverInfo = drm::DriverInfo {
    major: 0,
    minor: 1,
    patchlevel: 0,
    name: c"nova",
    desc: c"NVIDIA GPUs with a GSP (Turing and later)",
};

/// The mode configuration of the card node.
///
/// nova does not drive the display engine yet, so the device has no CRTCs, planes or connectors:
/// it presents itself as a board without display outputs would. The limits are those of the
/// display engine of every GPU nova supports: 16384x16384 pixels for Fermi and later
/// (nouveau_display.c, nouveau_display_create()), which also prefers a depth of 24 bits.
const MODE_CONFIG: kms::ModeConfigInfo = kms::ModeConfigInfo {
    min_width: 0,
    max_width: 16384,
    min_height: 0,
    max_height: 16384,
    preferred_depth: 24,
};

#[vtable]
impl drm::Driver for NovaDriver {
    type Data = GpuInfo;
    type RegistrationData<'a> = ();
    type File = File;
    type Object = NovaGem;
    type ParentDevice<Ctx: DeviceContext> = pci::Device<Ctx>;

    const INFO: drm::DriverInfo = INFO;
    const FEAT_RENDER: bool = true;
    const MODE_CONFIG: Option<kms::ModeConfigInfo> = Some(MODE_CONFIG);

    kernel::declare_drm_ioctls! {
        (NOVA_GETPARAM, drm_nova_getparam, ioctl::RENDER_ALLOW, File::get_param),
        (NOVA_GEM_CREATE, drm_nova_gem_create, ioctl::RENDER_ALLOW, File::gem_create),
        (NOVA_GEM_INFO, drm_nova_gem_info, ioctl::RENDER_ALLOW, File::gem_info),
        (NOVA_GPU_NAME, drm_nova_gpu_name, ioctl::RENDER_ALLOW, File::gpu_name),
        (NOVA_QUERY, drm_nova_query, ioctl::RENDER_ALLOW, File::query),
    }
}
