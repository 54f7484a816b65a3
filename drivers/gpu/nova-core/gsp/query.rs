// SPDX-License-Identifier: GPL-2.0

//! The GPU's engines, classes and graphics units, asked of GSP-RM once the driver's objects
//! exist.
//!
//! - The engines: `NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE` on the subdevice, page by page
//!   from entry 0 while GSP-RM sets `bMore`, as open-gpu-kernel-modules'
//!   `kfifoGetHostDeviceInfoTable_KERNEL()` (`kernel_fifo.c`) reads it; nouveau's
//!   `r535_fifo_runl_ctor()` reads the first page only.
//! - The classes: `NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2` on the device.
//! - The graphics units: `NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO` for the enabled GPCs, then
//!   `NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO` for each of them, as nouveau's
//!   `r570_gsp_get_static_info()` counts them.
//!
//! A control that fails is logged by the RPC layer in one line naming it and the status; the
//! query then fails as a whole.

use kernel::{
    prelude::*,
    sync::{Arc, UniqueArc},
};

use super::{
    commands::{FifoDeviceInfoTable, GpcMask, GpuClassList, TpcMask},
    fw::DEVICE_INFO_PAGE,
    rm::RmObjects,
};
use crate::interface::{DeviceFacts, Engine, MAX_ENGINES};

/// The most pages of the device info table read: enough for [`MAX_ENGINES`], and a bound on
/// a GSP-RM that keeps setting `bMore`.
const MAX_PAGES: usize = MAX_ENGINES.div_ceil(DEVICE_INFO_PAGE);

/// Asks GSP-RM, through `objects`, for the GPU's engines, classes and graphics units.
pub(crate) fn device_facts(
    dev: &kernel::device::Device,
    objects: &RmObjects<'_>,
) -> Result<Arc<DeviceFacts>> {
    // On the heap: the facts are too large for the stack of the boot path.
    let mut facts = UniqueArc::new(DeviceFacts::empty(), GFP_KERNEL)?;

    let mut base: u32 = 0;
    for page_index in 0.. {
        if page_index == MAX_PAGES {
            dev_err!(
                dev,
                "NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE lists more than {} engines\n",
                MAX_ENGINES
            );
            return Err(EOVERFLOW);
        }
        let page = objects.subdevice_control(&FifoDeviceInfoTable { base_index: base })?;
        for entry in page.entries.iter().take(page.count) {
            let engine = Engine {
                kind: entry.engine.map(|(kind, _)| kind),
                instance: entry.engine.map_or(0, |(_, instance)| instance),
                runlist: entry.runlist,
            };
            if engine.kind.is_none() {
                dev_dbg!(
                    dev,
                    "GSP-RM engine type {:#x} unknown to nova\n",
                    entry.raw_type
                );
            }
            facts.push_engine(engine).inspect_err(|_| {
                dev_err!(
                    dev,
                    "NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE lists more than {} engines\n",
                    MAX_ENGINES
                )
            })?;
        }
        if !page.more {
            break;
        }
        let step = u32::try_from(DEVICE_INFO_PAGE).map_err(|_| EOVERFLOW)?;
        base = base.checked_add(step).ok_or(EOVERFLOW)?;
    }

    let classes = objects.device_control(&GpuClassList)?;
    facts.set_classes(classes.classes.get(..classes.count).ok_or(EPROTO)?)?;

    let gpc_mask = objects.subdevice_control(&GpcMask)?;
    let mut tpcs: u32 = 0;
    for gpc in (0..u32::BITS).filter(|g| gpc_mask & (1 << g) != 0) {
        let mask = objects.subdevice_control(&TpcMask { gpc })?;
        tpcs = tpcs.checked_add(mask.count_ones()).ok_or(EOVERFLOW)?;
    }
    facts.set_units(gpc_mask, tpcs);
    Ok(facts.into())
}
