// SPDX-License-Identifier: GPL-2.0

//! GEM objects: buffers in system memory.
//!
//! Objects are shmem-backed: their pages are allocated on first access and can be swapped. User
//! space maps them through the DRM file (the core's GEM mmap path) and shares them through PRIME,
//! which the DRM core implements for every GEM driver.

use kernel::{
    drm::gem::{self, shmem, BaseObject},
    page,
    prelude::*,
    sync::aref::ARef,
};

use crate::driver::{NovaDevice, NovaDriver};

/// nova's driver data in a GEM object. None is needed yet.
#[pin_data]
pub(crate) struct NovaObject {}

/// A nova GEM object.
pub(crate) type NovaGem = shmem::Object<NovaObject>;

impl gem::DriverObject for NovaObject {
    type Driver = NovaDriver;
    type Args = ();

    fn new(_dev: &NovaDevice, _size: usize, _args: Self::Args) -> impl PinInit<Self, Error> {
        try_pin_init!(NovaObject {})
    }

    /// Objects the DRM core creates itself (dma-bufs imported from other devices, dumb buffers)
    /// carry the same driver data as nova's own.
    fn new_from_helper(_dev: &NovaDevice, _size: usize) -> Result<Self> {
        Ok(NovaObject {})
    }
}

impl NovaObject {
    /// Creates an object of at least `size` bytes (rounded up to whole pages) for user space.
    ///
    /// Fails with `EINVAL` for a size of 0 or one that cannot be rounded up. The object's mmap
    /// offset is set up here, so that an object that could never be mapped is refused now
    /// rather than at its first `GEM_INFO`.
    pub(crate) fn create(dev: &NovaDevice, size: u64) -> Result<ARef<NovaGem>> {
        if size == 0 {
            return Err(EINVAL);
        }
        let size = usize::try_from(size).map_err(|_| EINVAL)?;
        let size = page::page_align(size).ok_or(EINVAL)?;

        let obj = NovaGem::new(dev, size, shmem::ObjectConfig::default(), ())?;
        obj.create_mmap_offset()?;
        Ok(obj)
    }
}
