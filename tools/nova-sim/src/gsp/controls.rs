// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The GSP-RM controls that report the GPU's engines, classes and graphics units:
//!
//! - `NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE` on a subdevice (`ctrl2080fifo.h`): up to
//!   `MAX_ENTRIES` (32) entries of the device info table from `baseIndex`, which "must be a
//!   multiple of MAX_ENTRIES", with `bMore` set while entries follow. A `baseIndex` that is not
//!   such a multiple, or that lies at or past `MAX_DEVICES` (256), is `NV_ERR_INVALID_ARGUMENT`
//!   (as `subdeviceCtrlCmdFifoGetDeviceInfoTable_VF` in `kernel_fifo_ctrl.c` answers an index
//!   past its table). Nouveau's `r535_fifo_runl_ctor()` reads the first page once.
//! - `NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2` on a device (`ctrl0080gpu.h`): the classes the GPU
//!   offers ([`super::classes`]).
//! - `NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO` and `_TPC_INFO` on a subdevice (`ctrl2080gpu.h`):
//!   the enabled GPCs, and the enabled TPCs of one GPC (zero for a GPC that is not enabled).
//!
//! For each, parameters of another size than the control's structure are
//! `NV_ERR_INVALID_ARGUMENT` (`rmapiParamsCopyIn` checks `paramsSize` against the size in the
//! control's export table, `g_subdevice_nvoc.c` / `g_device_nvoc.c`), and a control sent to an
//! object of another class is `NV_ERR_NOT_SUPPORTED` (`resControlLookup` does not find it).

use super::classes::Offer;
use super::profile::GspProfile;
use super::r570::{get_u32, put_u32, rm_control as c, status};
use super::rmserver::{NV01_DEVICE_0, NV20_SUBDEVICE_0};

/// The class whose objects have control `cmd`, and the size of its parameters, for the
/// controls of this module.
fn signature(cmd: u32) -> Option<(u32, usize)> {
    match cmd {
        c::NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE => {
            Some((NV20_SUBDEVICE_0, c::DEVICE_INFO_PARAMS_SIZE))
        }
        c::NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2 => {
            Some((NV01_DEVICE_0, c::CLASSLIST_V2_PARAMS_SIZE))
        }
        c::NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO => {
            Some((NV20_SUBDEVICE_0, c::GPC_INFO_PARAMS_SIZE))
        }
        c::NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO => {
            Some((NV20_SUBDEVICE_0, c::TPC_INFO_PARAMS_SIZE))
        }
        _ => None,
    }
}

/// Whether `cmd` is one of this module's controls.
pub fn handles(cmd: u32) -> bool {
    signature(cmd).is_some()
}

/// Runs control `cmd` on an object of `class` with `params` (exactly the bytes the driver
/// sent after the `GSP_RM_CONTROL` header), writing the answer into `params`; returns the
/// status.
pub fn run(profile: &GspProfile, offer: &Offer, class: u32, cmd: u32, params: &mut [u8]) -> u32 {
    let Some((target, size)) = signature(cmd) else {
        return status::NOT_SUPPORTED;
    };
    if class != target {
        return status::NOT_SUPPORTED;
    }
    if params.len() != size {
        return status::INVALID_ARGUMENT;
    }
    match cmd {
        c::NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE => device_info(offer, params),
        c::NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2 => {
            params.fill(0);
            put_u32(params, 0, offer.classes.len() as u32);
            for (i, &(class, _)) in offer.classes.iter().take(c::CLASSLIST_MAX_SIZE).enumerate() {
                put_u32(params, 4 + 4 * i, class);
            }
            status::OK
        }
        c::NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO => {
            put_u32(params, 0, profile.gpc_mask());
            status::OK
        }
        c::NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO => {
            let gpc = get_u32(params, 0).unwrap_or(u32::MAX);
            put_u32(params, 4, profile.tpc_mask(gpc));
            status::OK
        }
        _ => status::NOT_SUPPORTED,
    }
}

/// `NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE`: one page of the table.
fn device_info(offer: &Offer, params: &mut [u8]) -> u32 {
    let base = get_u32(params, c::DEVICE_INFO_BASE_INDEX).unwrap_or(u32::MAX) as usize;
    if base % c::DEVICE_INFO_MAX_ENTRIES != 0 || base >= c::DEVICE_INFO_MAX_DEVICES {
        return status::INVALID_ARGUMENT;
    }
    // Out parameters: everything after `baseIndex`.
    params[c::DEVICE_INFO_NUM_ENTRIES..].fill(0);
    let engines = offer.engines.get(base..).unwrap_or(&[]);
    let page = engines.len().min(c::DEVICE_INFO_MAX_ENTRIES);
    put_u32(params, c::DEVICE_INFO_NUM_ENTRIES, page as u32);
    params[c::DEVICE_INFO_MORE] = u8::from(engines.len() > page);
    for (i, &rm_type) in engines.iter().take(page).enumerate() {
        let entry = c::DEVICE_INFO_ENTRIES + i * c::DEVICE_ENTRY_SIZE;
        let runlist = (base + i) as u32;
        let data = |index: usize| entry + 4 * index;
        put_u32(params, data(c::ENGINE_INFO_TYPE_RM_ENGINE_TYPE), rm_type);
        put_u32(params, data(c::ENGINE_INFO_TYPE_RUNLIST), runlist);
        put_u32(
            params,
            data(c::ENGINE_INFO_TYPE_INSTANCE_ID),
            instance(rm_type),
        );
        put_u32(params, entry + c::DEVICE_ENTRY_PBDMA_IDS, runlist);
        put_u32(params, entry + c::DEVICE_ENTRY_NUM_PBDMAS, 1);
    }
    status::OK
}

/// The instance of an engine of its type: `COPY3` is copy engine 3.
fn instance(rm_type: u32) -> u32 {
    use super::classes::*;
    [
        RM_ENGINE_TYPE_OFA0,
        RM_ENGINE_TYPE_NVJPEG0,
        RM_ENGINE_TYPE_NVENC0,
        RM_ENGINE_TYPE_NVDEC0,
        RM_ENGINE_TYPE_COPY0,
        RM_ENGINE_TYPE_GR0,
    ]
    .into_iter()
    .find(|&first| rm_type >= first)
    .map_or(0, |first| rm_type - first)
}

#[cfg(test)]
mod tests {
    use super::super::{classes, profile};
    use super::*;

    fn ga102() -> (&'static GspProfile, &'static Offer) {
        (
            profile::find("ga102").unwrap(),
            classes::offer("ga102").unwrap(),
        )
    }

    #[test]
    fn the_device_info_table_lists_every_engine_once() {
        for p in profile::PROFILES {
            let o = classes::offer(p.chip).unwrap();
            let mut params = vec![0xa5u8; c::DEVICE_INFO_PARAMS_SIZE];
            put_u32(&mut params, 0, 0);
            let cmd = c::NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE;
            assert_eq!(run(p, o, NV20_SUBDEVICE_0, cmd, &mut params), status::OK);
            let n = get_u32(&params, c::DEVICE_INFO_NUM_ENTRIES).unwrap() as usize;
            assert_eq!(n, o.engines.len(), "{}", p.chip);
            assert_eq!(params[c::DEVICE_INFO_MORE], 0);
            for (i, &e) in o.engines.iter().enumerate() {
                let entry = c::DEVICE_INFO_ENTRIES + i * c::DEVICE_ENTRY_SIZE;
                let data = |k: usize| get_u32(&params, entry + 4 * k).unwrap();
                assert_eq!(data(c::ENGINE_INFO_TYPE_RM_ENGINE_TYPE), e);
                assert_eq!(data(c::ENGINE_INFO_TYPE_RUNLIST), i as u32);
            }
            // Unused entries are zeroed, not left as they came.
            let past = c::DEVICE_INFO_ENTRIES + n * c::DEVICE_ENTRY_SIZE;
            assert!(params[past..].iter().all(|&b| b == 0));
            // The next page is empty.
            put_u32(&mut params, 0, 32);
            assert_eq!(run(p, o, NV20_SUBDEVICE_0, cmd, &mut params), status::OK);
            assert_eq!(get_u32(&params, c::DEVICE_INFO_NUM_ENTRIES), Some(0));
        }
    }

    #[test]
    fn instances_count_within_a_type() {
        use classes::*;
        assert_eq!(instance(RM_ENGINE_TYPE_GR0), 0);
        assert_eq!(instance(RM_ENGINE_TYPE_COPY0 + 4), 4);
        assert_eq!(instance(RM_ENGINE_TYPE_NVDEC0 + 3), 3);
        assert_eq!(instance(RM_ENGINE_TYPE_NVENC0 + 2), 2);
        assert_eq!(instance(RM_ENGINE_TYPE_NVJPEG0 + 1), 1);
        assert_eq!(instance(RM_ENGINE_TYPE_OFA0), 0);
    }

    #[test]
    fn the_class_list_is_the_chips() {
        let (p, o) = ga102();
        let mut params = vec![0u8; c::CLASSLIST_V2_PARAMS_SIZE];
        let cmd = c::NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2;
        assert_eq!(run(p, o, NV01_DEVICE_0, cmd, &mut params), status::OK);
        assert_eq!(get_u32(&params, 0), Some(50));
        let list: Vec<u32> = (0..50)
            .map(|i| get_u32(&params, 4 + 4 * i).unwrap())
            .collect();
        assert!(list.contains(&0xc797) && list.contains(&0xc7c0) && list.contains(&0xc56f));
        // A device control, not a subdevice one.
        assert_eq!(
            run(p, o, NV20_SUBDEVICE_0, cmd, &mut params),
            status::NOT_SUPPORTED
        );
    }

    #[test]
    fn gpc_and_tpc_masks_are_the_boards() {
        let p = profile::find("ad102").unwrap();
        let o = classes::offer("ad102").unwrap();
        let mut gpc = vec![0u8; c::GPC_INFO_PARAMS_SIZE];
        let cmd = c::NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO;
        assert_eq!(run(p, o, NV20_SUBDEVICE_0, cmd, &mut gpc), status::OK);
        let mask = get_u32(&gpc, 0).unwrap();
        assert_eq!(mask.count_ones(), 11);
        let mut tpcs = 0;
        for g in 0..32 {
            let mut tpc = vec![0u8; c::TPC_INFO_PARAMS_SIZE];
            put_u32(&mut tpc, 0, g);
            let cmd = c::NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO;
            assert_eq!(run(p, o, NV20_SUBDEVICE_0, cmd, &mut tpc), status::OK);
            let m = get_u32(&tpc, 4).unwrap();
            assert_eq!(m != 0, mask & (1 << g) != 0, "GPC {g}");
            tpcs += m.count_ones();
        }
        assert_eq!(tpcs, 64);
    }

    #[test]
    fn mistakes_get_open_rms_statuses() {
        let (p, o) = ga102();
        for cmd in [
            c::NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE,
            c::NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO,
            c::NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO,
        ] {
            let (_, size) = signature(cmd).unwrap();
            // Too short, too long.
            for len in [size - 1, size + 4] {
                let mut params = vec![0u8; len];
                assert_eq!(
                    run(p, o, NV20_SUBDEVICE_0, cmd, &mut params),
                    status::INVALID_ARGUMENT,
                    "{cmd:#x}"
                );
            }
            // On the device.
            let mut params = vec![0u8; size];
            assert_eq!(
                run(p, o, NV01_DEVICE_0, cmd, &mut params),
                status::NOT_SUPPORTED
            );
        }
        let mut params = vec![0u8; c::CLASSLIST_V2_PARAMS_SIZE - 4];
        let cmd = c::NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2;
        assert_eq!(
            run(p, o, NV01_DEVICE_0, cmd, &mut params),
            status::INVALID_ARGUMENT
        );
        // A base index that is not a page's, or past the table.
        let cmd = c::NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE;
        for base in [1, 31, 256, u32::MAX] {
            let mut params = vec![0u8; c::DEVICE_INFO_PARAMS_SIZE];
            put_u32(&mut params, 0, base);
            assert_eq!(
                run(p, o, NV20_SUBDEVICE_0, cmd, &mut params),
                status::INVALID_ARGUMENT,
                "{base}"
            );
        }
    }
}
