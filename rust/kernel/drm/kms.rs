// SPDX-License-Identifier: GPL-2.0 OR MIT

//! DRM kernel mode setting (KMS).
//!
//! A driver declares itself a KMS driver by setting [`Driver::MODE_CONFIG`] to the fixed
//! properties of its display hardware. The DRM device then gets the `DRIVER_MODESET` and
//! `DRIVER_ATOMIC` features, and its mode configuration is set up with the atomic helpers:
//!
//! - [`UnregisteredDevice::new()`] initializes the mode configuration (`drmm_mode_config_init()`,
//!   released with the device), with the limits from [`ModeConfigInfo`] and
//!   `struct drm_mode_config_funcs` from the atomic and GEM framebuffer helpers;
//! - [`Registration::new()`] resets the mode configuration (`drm_mode_config_reset()`), which
//!   gives every KMS object its initial atomic state, before it registers the device;
//! - dropping the [`Registration`] shuts the display pipes down (`drm_atomic_helper_shutdown()`)
//!   after unplugging the device.
//!
//! There are no abstractions for CRTCs, planes, encoders or connectors yet, so a KMS device
//! presents no display pipes: user space sees the device's mode configuration (its limits) with
//! empty resource lists, as for a board without display outputs. Framebuffers are made of the
//! driver's GEM objects by the GEM framebuffer helper, which only accepts formats that a plane
//! of the device supports; without planes, `DRM_IOCTL_MODE_ADDFB2` fails with `EINVAL`.
//!
//! C header: [`include/drm/drm_mode_config.h`](srctree/include/drm/drm_mode_config.h)
//!
//! [`Driver::MODE_CONFIG`]: drm::Driver::MODE_CONFIG
//! [`UnregisteredDevice::new()`]: drm::UnregisteredDevice::new
//! [`Registration::new()`]: drm::Registration::new
//! [`Registration`]: drm::Registration

use crate::{
    bindings,
    drm,
    error::to_result,
    prelude::*, //
};

/// Driver supports mode setting interfaces (KMS).
pub(crate) const FEAT_MODESET: u32 = bindings::drm_driver_feature_DRIVER_MODESET;
/// Driver supports the atomic mode setting interfaces.
pub(crate) const FEAT_ATOMIC: u32 = bindings::drm_driver_feature_DRIVER_ATOMIC;

/// The fixed properties of a KMS device's mode configuration.
///
/// The sizes are in pixels and bound the framebuffers user space can create
/// (`DRM_IOCTL_MODE_ADDFB2` checks them) and the modes the device reports. They are also what
/// `DRM_IOCTL_MODE_GETRESOURCES` reports as the device's limits.
#[derive(Clone, Copy, Debug)]
pub struct ModeConfigInfo {
    /// The smallest framebuffer width.
    pub min_width: u32,
    /// The largest framebuffer width.
    pub max_width: u32,
    /// The smallest framebuffer height.
    pub min_height: u32,
    /// The largest framebuffer height.
    pub max_height: u32,
    /// The preferred colour depth in bits per pixel (for example 24 for XRGB8888), a hint for
    /// user space and the framebuffer emulation; 0 if the driver has no preference.
    pub preferred_depth: u32,
}

impl ModeConfigInfo {
    /// Returns whether the limits are consistent: minimum no larger than maximum in each
    /// dimension, and a non-zero maximum.
    pub const fn is_valid(&self) -> bool {
        self.min_width <= self.max_width
            && self.min_height <= self.max_height
            && self.max_width != 0
            && self.max_height != 0
    }
}

/// The mode configuration callbacks of every KMS device: atomic modesetting through the atomic
/// helpers, and framebuffers made of the driver's GEM objects.
static MODE_CONFIG_FUNCS: bindings::drm_mode_config_funcs = bindings::drm_mode_config_funcs {
    fb_create: Some(bindings::drm_gem_fb_create),
    atomic_check: Some(bindings::drm_atomic_helper_check),
    atomic_commit: Some(bindings::drm_atomic_helper_commit),
    ..pin_init::zeroed()
};

/// Initializes the mode configuration of a new DRM device.
///
/// The mode configuration is released together with the device (`drmm_mode_config_init()`
/// registers its cleanup as a managed action).
///
/// # Safety
///
/// `dev` must point to a valid `struct drm_device` of a driver with the `DRIVER_MODESET` feature
/// that has not been registered yet, and to which no other thread has access.
pub(crate) unsafe fn init(dev: *mut bindings::drm_device, info: &ModeConfigInfo) -> Result {
    if !info.is_valid() {
        return Err(EINVAL);
    }

    // SAFETY: `dev` is a valid, unregistered DRM device by the safety requirements of this
    // function.
    to_result(unsafe { bindings::drmm_mode_config_init(dev) })?;

    // SAFETY: `dev` is valid and no other thread accesses it (safety requirements of this
    // function); `drmm_mode_config_init()` initialized `mode_config`.
    let config = unsafe { &mut (*dev).mode_config };
    config.min_width = info.min_width;
    config.max_width = info.max_width;
    config.min_height = info.min_height;
    config.max_height = info.max_height;
    config.preferred_depth = info.preferred_depth;
    config.funcs = &MODE_CONFIG_FUNCS;

    Ok(())
}

/// Resets the mode configuration: gives every KMS object of the device its initial state.
///
/// # Safety
///
/// `dev` must point to a valid `struct drm_device` whose mode configuration was initialized by
/// [`init()`] and which has not been registered yet.
pub(crate) unsafe fn reset(dev: *mut bindings::drm_device) {
    // SAFETY: By the safety requirements of this function, `dev`'s mode configuration is
    // initialized, and the device is not registered, so no atomic commit can run concurrently.
    unsafe { bindings::drm_mode_config_reset(dev) };
}

/// Shuts down the display pipes of a device that is being unbound.
///
/// # Safety
///
/// `dev` must point to a valid `struct drm_device` whose mode configuration was initialized by
/// [`init()`] and which has been unplugged (`drm_dev_unplug()`) while its parent device is still
/// bound.
pub(crate) unsafe fn shutdown(dev: *mut bindings::drm_device) {
    // SAFETY: By the safety requirements of this function, `dev`'s mode configuration is
    // initialized and the device is unplugged, so no new atomic commits come from user space.
    unsafe { bindings::drm_atomic_helper_shutdown(dev) };
}

/// Returns the `driver_features` bits for a driver with the given mode configuration.
pub(crate) const fn features(info: &Option<ModeConfigInfo>) -> u32 {
    match info {
        Some(_) => FEAT_MODESET | FEAT_ATOMIC,
        None => 0,
    }
}

/// Initializes the mode configuration of a new device of driver `T`, if `T` is a KMS driver.
///
/// # Safety
///
/// Same as [`init()`], for the device behind `dev`.
pub(crate) unsafe fn init_for<T: drm::Driver>(dev: *mut bindings::drm_device) -> Result {
    match &T::MODE_CONFIG {
        // SAFETY: Forwarded from the safety requirements of this function.
        Some(info) => unsafe { init(dev, info) },
        None => Ok(()),
    }
}
