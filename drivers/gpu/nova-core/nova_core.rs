// SPDX-License-Identifier: GPL-2.0

//! nova-core: the core driver for NVIDIA GPUs of the Turing generation and later.
//!
//! nova-core owns the PCI device. It identifies the chip, checks the GSP firmware files it will
//! boot the GSP with, and registers an auxiliary device through which second-level drivers
//! (nova-drm) reach the GPU; see [`interface`] for what they are given.

mod boot;
mod driver;
mod falcon;
mod fb;
mod firmware;
mod gpu;
mod gsp;
pub mod interface;
mod regs;
mod vbios;

kernel::module_pci_driver! {
    type: driver::NovaCoreDriver,
    name: "nova-core",
    authors: ["The nova developers"],
    description: "Core driver for NVIDIA GPUs with a GSP (Turing and later)",
    license: "GPL v2",
}

kernel::module_firmware!(firmware::ModInfoBuilder);
