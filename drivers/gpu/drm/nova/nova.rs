// SPDX-License-Identifier: GPL-2.0

//! nova-drm: the DRM driver for NVIDIA GPUs of the Turing generation and later.
//!
//! nova-drm binds to the auxiliary device that nova-core registers for each GPU and registers a
//! DRM device with a card and a render node. Its uAPI is `include/uapi/drm/nova_drm.h`.

mod driver;
mod file;
mod gem;

kernel::module_auxiliary_driver! {
    type: driver::NovaDriver,
    name: "nova-drm",
    authors: ["The nova developers"],
    description: "DRM driver for NVIDIA GPUs with a GSP (Turing and later)",
    license: "GPL v2",
}
