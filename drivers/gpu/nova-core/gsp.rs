// SPDX-License-Identifier: GPL-2.0

//! GSP-RM: the firmware that runs the GPU on its GSP (GPU System Processor).
//!
//! The driver builds GSP-RM's boot structures in system memory ([`boot`]), maps the GSP-RM image
//! through a radix-3 page table ([`radix3`]), and then talks to GSP-RM through a pair of message
//! queues in shared memory ([`queue`]) carrying RPCs ([`rpc`]). Every structure layout belongs to
//! one GSP-RM release and lives in [`fw`], behind a version-neutral interface.
//!
//! Every command is a type bound to its reply ([`rpc::CommandToGsp`], [`commands`]); once
//! GSP-RM runs, the driver's RM objects live in it ([`rm`]). GSP-RM's status codes are named
//! by [`nvstatus`]. The boot sequence that uses all this is in [`crate::boot`].

#[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
pub(crate) mod bench;
pub(crate) mod boot;
pub(crate) mod commands;
pub(crate) mod fw;
pub(crate) mod hal;
pub(crate) mod logs;
pub(crate) mod nvstatus;
pub(crate) mod query;
pub(crate) mod queue;
pub(crate) mod radix3;
pub(crate) mod regs;
pub(crate) mod rm;
pub(crate) mod rpc;

use kernel::{device, num::casts::FromSafeCast, page::PAGE_SIZE, pci, prelude::*};

use crate::{firmware::gsp::GspImage, gpu::Chipset};

/// Selects the ABI of the GSP-RM release in `image`, or fails with `ENOTSUPP` after one log line
/// naming the release if nova does not speak its ABI.
pub(crate) fn abi_of(dev: &device::Device, image: &GspImage<'_>) -> Result<fw::Abi> {
    fw::Abi::from_version(image.version).ok_or_else(|| {
        dev_err!(
            dev,
            "GSP-RM release {} is not supported\n",
            core::str::from_utf8(image.version).unwrap_or("<not UTF-8>")
        );
        ENOTSUPP
    })
}

/// Describes `pdev` for `GSP_SET_SYSTEM_INFO` (the fields nouveau's `r535_gsp_set_system_info`
/// fills): the bus addresses of BAR0, BAR1 and BAR3, the IDs, the bus position and the
/// configuration space mirror of `chipset` ([`hal::GspHal::config_mirror`]). `max_user_va` is
/// the top of user address space (`TASK_SIZE`), which the caller knows.
pub(crate) fn system_info(
    pdev: &pci::Device,
    chipset: Chipset,
    max_user_va: u64,
) -> Result<fw::SystemInfo> {
    let mirror = hal::GspHal::of(chipset).config_mirror;
    Ok(fw::SystemInfo {
        bar0_addr: pdev.resource_start(0)?,
        bar1_addr: pdev.resource_start(1)?,
        bar3_addr: pdev.resource_start(3)?,
        bus_device_function: u64::from(pdev.dev_id()),
        vendor_id: pdev.vendor_id().as_raw(),
        device_id: pdev.device_id(),
        subsystem_vendor_id: pdev.subsystem_vendor_id(),
        subsystem_id: pdev.subsystem_device_id(),
        revision_id: pdev.revision_id(),
        config_mirror_base: mirror.base,
        config_mirror_size: mirror.size,
        max_user_va,
        host_page_size: u64::from_safe_cast(PAGE_SIZE),
        // Whether the GPU is the boot display is not detected yet.
        is_primary: false,
    })
}
