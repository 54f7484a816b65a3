// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! nova-sim: a simulated NVIDIA GPU that QEMU's `vfio-user-pci` device presents to a guest as
//! a PCI device, for testing the nova driver without hardware.
//!
//! The register and configuration-space models ([`bar0`], [`pci`]), the VBIOS ROM
//! ([`vbios`]) and the engines a driver boots the GSP with ([`gpu`]: the [`falcon`]s, the
//! firmware they recognise ([`firmware`]) and the [`gsp_core`] boundary to the GSP-RM model,
//! [`idle_gsp`] until that is wired in) know nothing of the transport; [`device`] puts them together behind the
//! [`vfio::VfioDevice`] trait, and [`vfio`] serves that trait over vfio-user.

#![warn(missing_docs)]

pub mod bar0;
pub mod chips;
pub mod cli;
pub mod device;
pub mod falcon;
pub mod firmware;
pub mod gpu;
pub mod gsp;
pub mod gsp_core;
pub mod idle_gsp;
pub mod irq;
pub mod logger;
pub mod memory;
pub mod pci;
pub mod signals;
pub mod stats;
pub mod timing;
pub mod vbios;
pub mod vfio;
pub mod vfn;
