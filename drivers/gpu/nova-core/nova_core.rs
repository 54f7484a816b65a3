// SPDX-License-Identifier: GPL-2.0

//! nova-core: the core driver for NVIDIA GPUs of the Turing generation and later.
//!
//! nova-core owns the PCI device. It identifies the chip, checks the GSP firmware files it will
//! boot the GSP with, and registers an auxiliary device through which second-level drivers
//! (nova-drm) reach the GPU; see [`interface`] for what they are given.

use kernel::prelude::*;

mod boot;
mod driver;
mod falcon;
mod fb;
mod firmware;
mod gpu;
mod gsp;
pub mod interface;
mod intr;
mod num;
mod regs;
mod vbios;

/// The module: the PCI driver, and the GSP-RM log registry ([`gsp::logs`]) that outlives its
/// devices.
#[pin_data]
struct NovaCoreModule {
    // Fields are dropped in declaration order: the driver is unregistered (every GPU unbound)
    // before the log registry is emptied.
    #[pin]
    _driver: kernel::driver::Registration<kernel::pci::Adapter<driver::NovaCoreDriver>>,
    _logs: LogRegistry,
}

/// Empties the GSP-RM log registry when dropped.
struct LogRegistry;

impl Drop for LogRegistry {
    fn drop(&mut self) {
        gsp::logs::exit();
    }
}

impl kernel::InPlaceModule for NovaCoreModule {
    fn init(module: &'static kernel::ThisModule) -> impl PinInit<Self, Error> {
        // SAFETY: This is the module initialiser, which runs once, and the PCI driver (the only
        // user of the registry) is registered after this.
        unsafe { gsp::logs::init() };
        // `_logs` is initialised first, so that it empties the registry if registering the
        // driver fails.
        try_pin_init!(Self {
            _logs: LogRegistry,
            _driver <- kernel::driver::Registration::new(
                <Self as kernel::ModuleMetadata>::NAME,
                module,
            ),
        })
    }
}

kernel::prelude::module! {
    type: NovaCoreModule,
    name: "nova-core",
    authors: ["The nova developers"],
    description: "Core driver for NVIDIA GPUs with a GSP (Turing and later)",
    license: "GPL v2",
    params: {
        gsp_poll: bool {
            default: false,
            description: "Poll GSP-RM's message queue instead of waiting for the GSP's interrupt",
        },
    },
}

kernel::module_firmware!(firmware::ModInfoBuilder);
