// SPDX-License-Identifier: GPL-2.0

//! The GSP-RM 570.144 firmware ABI.
//!
//! Every structure the driver shares with GSP-RM 570.144, laid out as that release expects it.
//! The layouts are facts taken from NVIDIA's open-gpu-kernel-modules at tag 570.144; each
//! structure names the header it comes from. Padding that the C compiler inserts implicitly is
//! spelled out as `_pad` fields, so that every structure is free of uninitialised bytes, and
//! every size and field offset is checked at compile time.
//!
//! Nothing outside [`super`] uses these types: the version-neutral interface in [`super`] converts
//! from and to them, so that another release can be added as a sibling module.

use core::mem::{offset_of, size_of};

use kernel::{
    prelude::*,
    transmute::{AsBytes, FromBytes},
};

use super::{ClassList, DeviceEngine, DeviceInfoPage, MAX_CLASSES};
use super::{
    DecodeError, ElementHeader, EventKind, FbRegion, Function, GspAbi, InternalHandles,
    LibosRegion, MsgqInitParams, QueueHeader, RcTriggered, RmAllocHeader, RmClass, RmControlCmd,
    SeqOp, StaticInfo, SystemInfo, UnloadParams, WprMetaParams,
};
use crate::interface::EngineKind;

/// Marks a `#[repr(C)]` structure whose fields are all integers or arrays of integers and
/// which has no implicit padding, so that it may be converted from and to bytes.
macro_rules! plain_old_data {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: `$t` is `#[repr(C)]`, consists of integers and integer arrays only (every bit
        // pattern is valid) and has no implicit padding: the size assertion next to its
        // definition checks that the sum of its fields equals its size.
        unsafe impl FromBytes for $t {}
        // SAFETY: As above; no byte of `$t` is uninitialised and it has no interior mutability.
        unsafe impl AsBytes for $t {}
    )*};
}

// --- Function and event numbers (`src/nvidia/inc/kernel/vgpu/rpc_global_enums.h`). ---

/// `NV_VGPU_MSG_FUNCTION_FREE`.
pub(super) const FN_FREE: u32 = 10;
/// `NV_VGPU_MSG_FUNCTION_UNLOADING_GUEST_DRIVER`.
pub(super) const FN_UNLOADING_GUEST_DRIVER: u32 = 47;
/// `NV_VGPU_MSG_FUNCTION_GET_GSP_STATIC_INFO`.
pub(super) const FN_GET_GSP_STATIC_INFO: u32 = 65;
/// `NV_VGPU_MSG_FUNCTION_CONTINUATION_RECORD`.
pub(super) const FN_CONTINUATION_RECORD: u32 = 71;
/// `NV_VGPU_MSG_FUNCTION_GSP_SET_SYSTEM_INFO`.
pub(super) const FN_GSP_SET_SYSTEM_INFO: u32 = 72;
/// `NV_VGPU_MSG_FUNCTION_SET_REGISTRY`.
pub(super) const FN_SET_REGISTRY: u32 = 73;
/// `NV_VGPU_MSG_FUNCTION_GSP_RM_CONTROL`.
pub(super) const FN_GSP_RM_CONTROL: u32 = 76;
/// `NV_VGPU_MSG_FUNCTION_GSP_RM_ALLOC`.
pub(super) const FN_GSP_RM_ALLOC: u32 = 103;
/// `NV_VGPU_MSG_EVENT_GSP_INIT_DONE`.
pub(super) const EV_GSP_INIT_DONE: u32 = 0x1001;
/// `NV_VGPU_MSG_EVENT_GSP_RUN_CPU_SEQUENCER`.
pub(super) const EV_GSP_RUN_CPU_SEQUENCER: u32 = 0x1002;
/// `NV_VGPU_MSG_EVENT_POST_EVENT`.
pub(super) const EV_POST_EVENT: u32 = 0x1003;
/// `NV_VGPU_MSG_EVENT_RC_TRIGGERED`.
pub(super) const EV_RC_TRIGGERED: u32 = 0x1004;
/// `NV_VGPU_MSG_EVENT_MMU_FAULT_QUEUED`.
pub(super) const EV_MMU_FAULT_QUEUED: u32 = 0x1005;
/// `NV_VGPU_MSG_EVENT_OS_ERROR_LOG`.
pub(super) const EV_OS_ERROR_LOG: u32 = 0x1006;
/// `NV_VGPU_MSG_EVENT_UCODE_LIBOS_PRINT`.
pub(super) const EV_UCODE_LIBOS_PRINT: u32 = 0x100c;

/// Every event of r570.144 (`NV_VGPU_MSG_EVENT_*`, `rpc_global_enums.h`), by number, from
/// `FIRST_EVENT + 1` (0x1001) up to `NUM_EVENTS` (0x1023).
const EVENT_NAMES: [&str; 0x22] = [
    "GSP_INIT_DONE",
    "GSP_RUN_CPU_SEQUENCER",
    "POST_EVENT",
    "RC_TRIGGERED",
    "MMU_FAULT_QUEUED",
    "OS_ERROR_LOG",
    "RG_LINE_INTR",
    "GPUACCT_PERFMON_UTIL_SAMPLES",
    "SIM_READ",
    "SIM_WRITE",
    "SEMAPHORE_SCHEDULE_CALLBACK",
    "UCODE_LIBOS_PRINT",
    "VGPU_GSP_PLUGIN_TRIGGERED",
    "PERF_GPU_BOOST_SYNC_LIMITS_CALLBACK",
    "PERF_BRIDGELESS_INFO_UPDATE",
    "VGPU_CONFIG",
    "DISPLAY_MODESET",
    "EXTDEV_INTR_SERVICE",
    "NVLINK_INBAND_RECEIVED_DATA_256",
    "NVLINK_INBAND_RECEIVED_DATA_512",
    "NVLINK_INBAND_RECEIVED_DATA_1024",
    "NVLINK_INBAND_RECEIVED_DATA_2048",
    "NVLINK_INBAND_RECEIVED_DATA_4096",
    "TIMED_SEMAPHORE_RELEASE",
    "NVLINK_IS_GPU_DEGRADED",
    "PFM_REQ_HNDLR_STATE_SYNC_CALLBACK",
    "NVLINK_FAULT_UP",
    "GSP_LOCKDOWN_NOTICE",
    "MIG_CI_CONFIG_UPDATE",
    "UPDATE_GSP_TRACE",
    "NVLINK_FATAL_ERROR_RECOVERY",
    "GSP_POST_NOCAT_RECORD",
    "FECS_ERROR",
    "RECOVERY_ACTION",
];

// --- `src/nvidia/arch/nvalloc/common/inc/gsp/gsp_fw_wpr_meta.h` ---

/// `GSP_FW_WPR_META_MAGIC`.
pub(super) const WPR_META_MAGIC: u64 = 0xdc3a_ae21_371a_60b3;
/// `GSP_FW_WPR_META_REVISION`.
pub(super) const WPR_META_REVISION: u64 = 1;

/// `GspFwWprMeta`: where the GSP bootloader finds the GSP-RM image, and the layout of the
/// write-protected region (WPR2) it builds in FB. The two unions of the C structure are kept as
/// their first (boot-time) member.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct GspFwWprMeta {
    pub(super) magic: u64,
    pub(super) revision: u64,
    pub(super) sysmem_addr_of_radix3_elf: u64,
    pub(super) size_of_radix3_elf: u64,
    pub(super) sysmem_addr_of_bootloader: u64,
    pub(super) size_of_bootloader: u64,
    pub(super) bootloader_code_offset: u64,
    pub(super) bootloader_data_offset: u64,
    pub(super) bootloader_manifest_offset: u64,
    pub(super) sysmem_addr_of_signature: u64,
    pub(super) size_of_signature: u64,
    pub(super) gsp_fw_rsvd_start: u64,
    pub(super) non_wpr_heap_offset: u64,
    pub(super) non_wpr_heap_size: u64,
    pub(super) gsp_fw_wpr_start: u64,
    pub(super) gsp_fw_heap_offset: u64,
    pub(super) gsp_fw_heap_size: u64,
    pub(super) gsp_fw_offset: u64,
    pub(super) boot_bin_offset: u64,
    pub(super) frts_offset: u64,
    pub(super) frts_size: u64,
    pub(super) gsp_fw_wpr_end: u64,
    pub(super) fb_size: u64,
    pub(super) vga_workspace_offset: u64,
    pub(super) vga_workspace_size: u64,
    pub(super) boot_count: u64,
    pub(super) partition_rpc_addr: u64,
    pub(super) partition_rpc_request_offset: u16,
    pub(super) partition_rpc_reply_offset: u16,
    pub(super) elf_code_offset: u32,
    pub(super) elf_data_offset: u32,
    pub(super) elf_code_size: u32,
    pub(super) elf_data_size: u32,
    pub(super) ls_ucode_version: u32,
    pub(super) gsp_fw_heap_vf_partition_count: u8,
    pub(super) flags: u8,
    pub(super) padding: [u8; 2],
    pub(super) pmu_reserved_size: u32,
    pub(super) verified: u64,
}
static_assert!(size_of::<GspFwWprMeta>() == 0x100);
static_assert!(offset_of!(GspFwWprMeta, sysmem_addr_of_signature) == 0x48);
static_assert!(offset_of!(GspFwWprMeta, gsp_fw_rsvd_start) == 0x58);
static_assert!(offset_of!(GspFwWprMeta, boot_count) == 0xc8);
static_assert!(offset_of!(GspFwWprMeta, gsp_fw_heap_vf_partition_count) == 0xf0);
static_assert!(offset_of!(GspFwWprMeta, pmu_reserved_size) == 0xf4);
static_assert!(offset_of!(GspFwWprMeta, verified) == 0xf8);

impl GspFwWprMeta {
    /// Builds the structure from the version-neutral parameters.
    pub(super) fn new(p: &WprMetaParams) -> Self {
        let fb = &p.fb;
        Self {
            magic: WPR_META_MAGIC,
            revision: WPR_META_REVISION,
            sysmem_addr_of_radix3_elf: p.radix3_addr,
            size_of_radix3_elf: p.image_size,
            sysmem_addr_of_bootloader: p.bootloader_addr,
            size_of_bootloader: p.bootloader_size,
            bootloader_code_offset: p.bootloader_code_offset,
            bootloader_data_offset: p.bootloader_data_offset,
            bootloader_manifest_offset: p.bootloader_manifest_offset,
            sysmem_addr_of_signature: p.signature_addr,
            size_of_signature: p.signature_size,
            gsp_fw_rsvd_start: fb.non_wpr_heap.start,
            non_wpr_heap_offset: fb.non_wpr_heap.start,
            non_wpr_heap_size: fb.non_wpr_heap.size,
            gsp_fw_wpr_start: fb.wpr2.start,
            gsp_fw_heap_offset: fb.wpr2_heap.start,
            gsp_fw_heap_size: fb.wpr2_heap.size,
            gsp_fw_offset: fb.elf.start,
            boot_bin_offset: fb.boot_bin.start,
            frts_offset: fb.frts.start,
            frts_size: fb.frts.size,
            gsp_fw_wpr_end: fb.wpr2.start.saturating_add(fb.wpr2.size),
            fb_size: fb.fb_size,
            vga_workspace_offset: fb.vga_workspace.start,
            vga_workspace_size: fb.vga_workspace.size,
            pmu_reserved_size: fb.pmu_reserved_size,
            ..Default::default()
        }
    }
}

// --- `src/common/uproc/os/common/include/libos_init_args.h` ---

/// `LIBOS_MEMORY_REGION_CONTIGUOUS`.
pub(super) const LIBOS_REGION_CONTIGUOUS: u8 = 1;
/// `LIBOS_MEMORY_REGION_LOC_SYSMEM`.
pub(super) const LIBOS_LOC_SYSMEM: u8 = 1;
/// `LIBOS_MEMORY_REGION_INIT_ARGUMENTS_MAX`: the array LibOS reads is one 4 KiB page.
pub(super) const LIBOS_ARGS_SIZE: usize = 4096;

/// `LibosMemoryRegionInitArgument`: one memory region LibOS maps at start-up.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct LibosMemoryRegionInitArgument {
    pub(super) id8: u64,
    pub(super) pa: u64,
    pub(super) size: u64,
    pub(super) kind: u8,
    pub(super) loc: u8,
    pub(super) _pad: [u8; 6],
}
static_assert!(size_of::<LibosMemoryRegionInitArgument>() == 0x20);
static_assert!(offset_of!(LibosMemoryRegionInitArgument, kind) == 0x18);

impl LibosMemoryRegionInitArgument {
    /// Builds the entry for `region`.
    pub(super) fn new(region: &LibosRegion) -> Self {
        Self {
            id8: super::id8(region.name),
            pa: region.addr,
            size: region.size,
            kind: LIBOS_REGION_CONTIGUOUS,
            loc: LIBOS_LOC_SYSMEM,
            _pad: [0; 6],
        }
    }
}

// --- `src/nvidia/inc/kernel/gpu/gsp/gsp_init_args.h` ---

/// `MESSAGE_QUEUE_INIT_ARGUMENTS`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct MessageQueueInitArguments {
    pub(super) shared_mem_phys_addr: u64,
    pub(super) page_table_entry_count: u32,
    pub(super) _pad: u32,
    pub(super) cmd_queue_offset: u64,
    pub(super) stat_queue_offset: u64,
}
static_assert!(size_of::<MessageQueueInitArguments>() == 0x20);

/// `GSP_SR_INIT_ARGUMENTS`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct GspSrInitArguments {
    pub(super) old_level: u32,
    pub(super) flags: u32,
    pub(super) in_pm_transition: u8,
    pub(super) _pad: [u8; 3],
}
static_assert!(size_of::<GspSrInitArguments>() == 0xc);

/// `GSP_ARGUMENTS_CACHED`: the RM arguments LibOS passes to GSP-RM (region `RMARGS`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct GspArgumentsCached {
    pub(super) message_queue_init_arguments: MessageQueueInitArguments,
    pub(super) sr_init_arguments: GspSrInitArguments,
    pub(super) gpu_instance: u32,
    pub(super) dmem_stack: u8,
    pub(super) _pad: [u8; 7],
    pub(super) profiler_pa: u64,
    pub(super) profiler_size: u64,
}
static_assert!(size_of::<GspArgumentsCached>() == 0x48);
static_assert!(offset_of!(GspArgumentsCached, sr_init_arguments) == 0x20);
static_assert!(offset_of!(GspArgumentsCached, gpu_instance) == 0x2c);
static_assert!(offset_of!(GspArgumentsCached, profiler_pa) == 0x38);

impl GspArgumentsCached {
    /// Builds the arguments for a cold boot with the queues described by `q`.
    pub(super) fn new(q: &MsgqInitParams) -> Self {
        Self {
            message_queue_init_arguments: MessageQueueInitArguments {
                shared_mem_phys_addr: q.shared_mem_addr,
                page_table_entry_count: q.pte_count,
                _pad: 0,
                cmd_queue_offset: q.cmd_queue_offset,
                stat_queue_offset: q.stat_queue_offset,
            },
            ..Default::default()
        }
    }
}

// --- `src/common/shared/msgq/inc/msgq/msgq_priv.h` ---

/// `msgqTxHeader`: written by a queue's producer, at the start of its queue.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct MsgqTxHeader {
    pub(super) version: u32,
    pub(super) size: u32,
    pub(super) msg_size: u32,
    pub(super) msg_count: u32,
    pub(super) write_ptr: u32,
    pub(super) flags: u32,
    pub(super) rx_hdr_off: u32,
    pub(super) entry_off: u32,
}
static_assert!(size_of::<MsgqTxHeader>() == 0x20);
static_assert!(offset_of!(MsgqTxHeader, write_ptr) == 0x10);

/// `msgqRxHeader`: the consumer's read pointer, at `rxHdrOff` of the queue it reads from
/// (`MSGQ_FLAGS_SWAP_RX`: in the other side's queue memory).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct MsgqRxHeader {
    pub(super) read_ptr: u32,
}
static_assert!(size_of::<MsgqRxHeader>() == 4);

/// `MSGQ_VERSION`.
pub(super) const MSGQ_VERSION: u32 = 0;
/// `MSGQ_FLAGS_SWAP_RX`.
pub(super) const MSGQ_FLAGS_SWAP_RX: u32 = 1;
/// `rxHdrOff`: the tx header rounded up to `GSP_MSG_QUEUE_HEADER_ALIGN` (2^4 bytes,
/// `message_queue_priv.h`).
pub(super) const MSGQ_RX_HDR_OFFSET: usize = size_of::<MsgqTxHeader>().next_multiple_of(16);
/// `entryOff`: both headers rounded up to `GSP_MSG_QUEUE_ELEMENT_ALIGN` (4 KiB,
/// `message_queue_priv.h`), so that the slots are pages.
pub(super) const MSGQ_ENTRY_OFFSET: usize = 0x1000;
/// `GSP_MSG_QUEUE_ELEMENT_SIZE_MAX`: the largest element, headers included.
pub(super) const MSGQ_ELEMENT_SIZE_MAX: usize = 0x10000;
static_assert!(MSGQ_RX_HDR_OFFSET + size_of::<MsgqRxHeader>() <= MSGQ_ENTRY_OFFSET);

// --- `src/nvidia/inc/kernel/gpu/gsp/message_queue_priv.h`, `rpc_headers.h` ---

/// `GSP_MSG_QUEUE_ELEMENT` up to (excluding) the RPC header.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct MsgQueueElementHeader {
    pub(super) auth_tag: [u8; 16],
    pub(super) aad: [u8; 16],
    pub(super) checksum: u32,
    pub(super) seq_num: u32,
    pub(super) elem_count: u32,
    pub(super) _pad: u32,
}
static_assert!(size_of::<MsgQueueElementHeader>() == 0x30);
static_assert!(offset_of!(MsgQueueElementHeader, checksum) == 0x20);
static_assert!(offset_of!(MsgQueueElementHeader, elem_count) == 0x28);

/// `rpc_message_header_v03_00`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct RpcHeader {
    pub(super) header_version: u32,
    pub(super) signature: u32,
    pub(super) length: u32,
    pub(super) function: u32,
    pub(super) rpc_result: u32,
    pub(super) rpc_result_private: u32,
    pub(super) sequence: u32,
    pub(super) spare: u32,
}
static_assert!(size_of::<RpcHeader>() == 0x20);

/// `NV_VGPU_MSG_HEADER_VERSION_MAJOR_TOT` (3) in bits 31:24, minor 0.
pub(super) const RPC_HEADER_VERSION: u32 = 0x0300_0000;
/// `NV_VGPU_MSG_SIGNATURE_VALID` ("VRPC" in little-endian bytes).
pub(super) const RPC_SIGNATURE: u32 = 0x4350_5256;
/// `NV_VGPU_MSG_RESULT_RPC_PENDING`, the result field of a request.
pub(super) const RPC_RESULT_PENDING: u32 = 0xffff_ffff;

// --- `src/nvidia/inc/kernel/gpu/gsp/gsp_static_config.h` ---

/// `BUSINFO` (`src/nvidia/generated/g_chipset_nvoc.h`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct BusInfo {
    pub(super) device_id: u16,
    pub(super) vendor_id: u16,
    pub(super) subdevice_id: u16,
    pub(super) subvendor_id: u16,
    pub(super) revision_id: u8,
    pub(super) _pad: u8,
}
static_assert!(size_of::<BusInfo>() == 0xa);

/// `GspSystemInfo`: the payload of `GSP_SET_SYSTEM_INFO`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct GspSystemInfo {
    pub(super) gpu_phys_addr: u64,
    pub(super) gpu_phys_fb_addr: u64,
    pub(super) gpu_phys_inst_addr: u64,
    pub(super) gpu_phys_io_addr: u64,
    pub(super) nv_domain_bus_device_func: u64,
    pub(super) sim_access_buf_phys_addr: u64,
    pub(super) notify_op_shared_surface_phys_addr: u64,
    pub(super) pcie_atomics_op_mask: u64,
    pub(super) console_mem_size: u64,
    pub(super) max_user_va: u64,
    pub(super) pci_config_mirror_base: u32,
    pub(super) pci_config_mirror_size: u32,
    pub(super) pci_device_id: u32,
    pub(super) pci_sub_device_id: u32,
    pub(super) pci_revision_id: u32,
    pub(super) pcie_atomics_cpl_device_cap_mask: u32,
    pub(super) oor_arch: u8,
    pub(super) _pad0: [u8; 7],
    pub(super) cl_pdb_properties: u64,
    pub(super) chipset: u32,
    pub(super) gpu_behind_bridge: u8,
    pub(super) flr_supported: u8,
    pub(super) b64b_bar0_supported: u8,
    pub(super) mnoc_available: u8,
    pub(super) chipset_l1ss_enable: u32,
    pub(super) upstream_l0s_unsupported: u8,
    pub(super) upstream_l1_unsupported: u8,
    pub(super) upstream_l1_por_supported: u8,
    pub(super) upstream_l1_por_mobile_only: u8,
    pub(super) system_has_mux: u8,
    pub(super) upstream_address_valid: u8,
    pub(super) fhb_bus_info: BusInfo,
    pub(super) chipset_id_info: BusInfo,
    pub(super) _pad1: [u8; 2],
    /// `ACPI_METHOD_DATA`, left zero: nova passes no ACPI data.
    pub(super) acpi_method_data: [u32; 0x2a4 / 4],
    pub(super) hypervisor_type: u32,
    pub(super) is_passthru: u8,
    pub(super) _pad2: [u8; 7],
    pub(super) sys_timer_offset_ns: u64,
    /// `GSP_VF_INFO`, left zero: no SR-IOV.
    pub(super) gsp_vf_info: [u64; 0x28 / 8],
    pub(super) is_primary: u8,
    pub(super) is_grid_build: u8,
    pub(super) _pad3: [u8; 2],
    pub(super) pcie_config_reg_link_cap: u32,
    pub(super) grid_build_csp: u32,
    pub(super) preserve_video_memory_allocations: u8,
    pub(super) tdr_event_supported: u8,
    pub(super) feature_stretch_vblank_capable: u8,
    pub(super) enable_dynamic_granularity_page_arrays: u8,
    pub(super) clock_boost_supported: u8,
    pub(super) route_disp_intrs_to_cpu: u8,
    pub(super) _pad4: [u8; 6],
    pub(super) host_page_size: u64,
}
static_assert!(size_of::<GspSystemInfo>() == 0x3a0);
static_assert!(offset_of!(GspSystemInfo, pci_config_mirror_base) == 0x50);
static_assert!(offset_of!(GspSystemInfo, pci_device_id) == 0x58);
static_assert!(offset_of!(GspSystemInfo, oor_arch) == 0x68);
static_assert!(offset_of!(GspSystemInfo, chipset) == 0x78);
static_assert!(offset_of!(GspSystemInfo, chipset_l1ss_enable) == 0x80);
static_assert!(offset_of!(GspSystemInfo, fhb_bus_info) == 0x8a);
static_assert!(offset_of!(GspSystemInfo, chipset_id_info) == 0x94);
static_assert!(offset_of!(GspSystemInfo, acpi_method_data) == 0xa0);
static_assert!(offset_of!(GspSystemInfo, hypervisor_type) == 0x344);
static_assert!(offset_of!(GspSystemInfo, sys_timer_offset_ns) == 0x350);
static_assert!(offset_of!(GspSystemInfo, gsp_vf_info) == 0x358);
static_assert!(offset_of!(GspSystemInfo, is_primary) == 0x380);
static_assert!(offset_of!(GspSystemInfo, pcie_config_reg_link_cap) == 0x384);
static_assert!(offset_of!(GspSystemInfo, grid_build_csp) == 0x388);
static_assert!(offset_of!(GspSystemInfo, host_page_size) == 0x398);

impl GspSystemInfo {
    /// Builds the payload from the version-neutral description.
    pub(super) fn new(s: &SystemInfo) -> Self {
        Self {
            gpu_phys_addr: s.bar0_addr,
            gpu_phys_fb_addr: s.bar1_addr,
            gpu_phys_inst_addr: s.bar3_addr,
            gpu_phys_io_addr: 0,
            nv_domain_bus_device_func: s.bus_device_function,
            sim_access_buf_phys_addr: 0,
            notify_op_shared_surface_phys_addr: 0,
            pcie_atomics_op_mask: 0,
            console_mem_size: 0,
            max_user_va: s.max_user_va,
            pci_config_mirror_base: s.config_mirror_base,
            pci_config_mirror_size: s.config_mirror_size,
            pci_device_id: (u32::from(s.device_id) << 16) | u32::from(s.vendor_id),
            pci_sub_device_id: (u32::from(s.subsystem_id) << 16) | u32::from(s.subsystem_vendor_id),
            pci_revision_id: u32::from(s.revision_id),
            pcie_atomics_cpl_device_cap_mask: 0,
            oor_arch: 0,
            _pad0: [0; 7],
            cl_pdb_properties: 0,
            chipset: 0,
            gpu_behind_bridge: 0,
            flr_supported: 0,
            b64b_bar0_supported: 0,
            mnoc_available: 0,
            chipset_l1ss_enable: 0,
            upstream_l0s_unsupported: 0,
            upstream_l1_unsupported: 0,
            upstream_l1_por_supported: 0,
            upstream_l1_por_mobile_only: 0,
            system_has_mux: 0,
            upstream_address_valid: 0,
            fhb_bus_info: BusInfo::default(),
            chipset_id_info: BusInfo::default(),
            _pad1: [0; 2],
            acpi_method_data: [0; 0x2a4 / 4],
            hypervisor_type: 0,
            is_passthru: 0,
            _pad2: [0; 7],
            sys_timer_offset_ns: 0,
            gsp_vf_info: [0; 5],
            is_primary: u8::from(s.is_primary),
            is_grid_build: 0,
            _pad3: [0; 2],
            pcie_config_reg_link_cap: 0,
            grid_build_csp: 0,
            preserve_video_memory_allocations: 0,
            tdr_event_supported: 0,
            feature_stretch_vblank_capable: 0,
            enable_dynamic_granularity_page_arrays: 0,
            clock_boost_supported: 0,
            route_disp_intrs_to_cpu: 0,
            _pad4: [0; 6],
            host_page_size: s.host_page_size,
        }
    }
}

/// `NV2080_CTRL_CMD_FB_GET_FB_REGION_FB_REGION_INFO`
/// (`src/common/sdk/nvidia/inc/ctrl/ctrl2080/ctrl2080fb.h`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct FbRegionInfo {
    pub(super) base: u64,
    pub(super) limit: u64,
    pub(super) reserved: u64,
    pub(super) performance: u32,
    pub(super) support_compressed: u8,
    pub(super) support_iso: u8,
    pub(super) protected: u8,
    pub(super) black_list: [u8; 17],
}
static_assert!(size_of::<FbRegionInfo>() == 0x30);
static_assert!(offset_of!(FbRegionInfo, performance) == 0x18);
static_assert!(offset_of!(FbRegionInfo, protected) == 0x1e);

/// The number of FB regions `NV2080_CTRL_CMD_FB_GET_FB_REGION_INFO_PARAMS` has room for.
pub(super) const FB_REGIONS_MAX: usize = 16;
kernel::static_assert!(FB_REGIONS_MAX <= super::MAX_FB_REGIONS);

/// The fields nova reads of `GspStaticConfigInfo_t` (the reply to `GET_GSP_STATIC_INFO`); the
/// rest is kept opaque.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct GspStaticConfigInfo {
    /// `grCapsBits`, `gidInfo`, `SKUInfo`.
    pub(super) _head: [u8; 0x158],
    /// `fbRegionInfoParams.numFBRegions`.
    pub(super) num_fb_regions: u32,
    pub(super) _pad0: u32,
    /// `fbRegionInfoParams.fbRegion`.
    pub(super) fb_regions: [FbRegionInfo; FB_REGIONS_MAX],
    /// `sriovCaps` to `poisonFuseEnabled`.
    pub(super) _mid: [u8; 0x4c8 - 0x460],
    /// `fb_length`: the size of VRAM in bytes.
    pub(super) fb_length: u64,
    pub(super) fbio_mask: u64,
    pub(super) fb_bus_width: u32,
    pub(super) fb_ram_type: u32,
    pub(super) fbp_mask: u64,
    pub(super) l2_cache_size: u32,
    /// `gpuNameString`, NUL-terminated.
    pub(super) gpu_name: [u8; 64],
    /// `gpuShortNameString`, NUL-terminated.
    pub(super) gpu_short_name: [u8; 64],
    /// `gpuNameString_Unicode` to `RTD3GC6PerstDelay` and the padding after it.
    pub(super) _mid2: [u8; 0x600 - 0x56c],
    /// `bar1PdeBase`: the top page directory of BAR1, which GSP-RM owns.
    pub(super) bar1_pde_base: u64,
    /// `bar2PdeBase`.
    pub(super) bar2_pde_base: u64,
    /// `bVbiosValid` to `displaylessMaxPixels`.
    pub(super) _mid3: [u8; 0x640 - 0x610],
    /// `hInternalClient`: the client GSP-RM's internal controls are sent to.
    pub(super) h_internal_client: u32,
    /// `hInternalDevice`.
    pub(super) h_internal_device: u32,
    /// `hInternalSubdevice`: the target of `NV2080_CTRL_CMD_INTERNAL_*` controls.
    pub(super) h_internal_subdevice: u32,
    /// `bSelfHostedMode` to the end (`ecidInfo`, `fwWprLayoutOffset`).
    pub(super) _tail: [u8; 0x678 - 0x64c],
}
static_assert!(size_of::<GspStaticConfigInfo>() == 0x678);
static_assert!(offset_of!(GspStaticConfigInfo, fb_regions) == 0x160);
static_assert!(offset_of!(GspStaticConfigInfo, fb_length) == 0x4c8);
static_assert!(offset_of!(GspStaticConfigInfo, fb_bus_width) == 0x4d8);
static_assert!(offset_of!(GspStaticConfigInfo, gpu_name) == 0x4ec);
static_assert!(offset_of!(GspStaticConfigInfo, gpu_short_name) == 0x52c);
static_assert!(offset_of!(GspStaticConfigInfo, bar1_pde_base) == 0x600);
static_assert!(offset_of!(GspStaticConfigInfo, h_internal_client) == 0x640);
static_assert!(offset_of!(GspStaticConfigInfo, h_internal_subdevice) == 0x648);

impl FbRegionInfo {
    /// Converts to the version-neutral form.
    pub(super) fn to_neutral(self) -> FbRegion {
        FbRegion {
            base: self.base,
            limit: self.limit,
            reserved: self.reserved,
            performance: self.performance,
            compressible: self.support_compressed != 0,
            iso: self.support_iso != 0,
            protected: self.protected != 0,
        }
    }
}

// --- Payloads of `src/nvidia/generated/g_rpc-structures.h` ---

/// `PACKED_REGISTRY_TABLE` header (`src/nvidia/generated/g_os_nvoc.h`); entries and names
/// follow.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct PackedRegistryTable {
    pub(super) size: u32,
    pub(super) num_entries: u32,
}
static_assert!(size_of::<PackedRegistryTable>() == 8);

/// `PACKED_REGISTRY_ENTRY`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct PackedRegistryEntry {
    pub(super) name_offset: u32,
    pub(super) kind: u8,
    pub(super) _pad: [u8; 3],
    pub(super) data: u32,
    pub(super) length: u32,
}
static_assert!(size_of::<PackedRegistryEntry>() == 0x10);

/// `REGISTRY_TABLE_ENTRY_TYPE_DWORD`.
pub(super) const REGISTRY_TYPE_DWORD: u8 = 1;

/// `rpc_unloading_guest_driver_v1F_07`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct UnloadingGuestDriver {
    pub(super) in_pm_transition: u8,
    pub(super) gc6_entering: u8,
    pub(super) _pad: [u8; 2],
    pub(super) new_level: u32,
}
static_assert!(size_of::<UnloadingGuestDriver>() == 8);

impl UnloadingGuestDriver {
    /// Builds the payload from the version-neutral parameters.
    pub(super) fn new(p: &UnloadParams) -> Self {
        Self {
            in_pm_transition: u8::from(p.in_pm_transition),
            gc6_entering: u8::from(p.gc6_entering),
            _pad: [0; 2],
            new_level: p.new_level,
        }
    }
}

/// `rpc_run_cpu_sequencer_v17_00` up to the command buffer, which follows it.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct RunCpuSequencer {
    pub(super) buffer_size_dword: u32,
    pub(super) cmd_index: u32,
    pub(super) reg_save_area: [u32; 8],
}
static_assert!(size_of::<RunCpuSequencer>() == 0x28);

/// `GSP_SEQ_BUF_OPCODE_*` values (`src/nvidia/arch/nvalloc/common/inc/rmgspseq.h`, which also
/// defines the `GSP_SEQ_BUF_PAYLOAD_*` operand layouts).
pub(super) mod seq_op {
    pub(in super::super) const REG_WRITE: u32 = 0;
    pub(in super::super) const REG_MODIFY: u32 = 1;
    pub(in super::super) const REG_POLL: u32 = 2;
    pub(in super::super) const DELAY_US: u32 = 3;
    pub(in super::super) const REG_STORE: u32 = 4;
    pub(in super::super) const CORE_RESET: u32 = 5;
    pub(in super::super) const CORE_START: u32 = 6;
    pub(in super::super) const CORE_WAIT_FOR_HALT: u32 = 7;
    pub(in super::super) const CORE_RESUME: u32 = 8;
}

/// `rpc_os_error_log_v17_00`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct OsErrorLog {
    pub(super) except_type: u32,
    pub(super) runlist_id: u32,
    pub(super) chid: u32,
    pub(super) err_string: [u8; 0x100],
    pub(super) preemptive_removal_previous_xid: u32,
}
static_assert!(size_of::<OsErrorLog>() == 0x110);

/// `rpc_ucode_libos_print_v1E_08` up to the text, which follows it.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct LibosPrint {
    pub(super) ucode_eng_desc: u32,
    pub(super) libos_print_buf_size: u32,
}
static_assert!(size_of::<LibosPrint>() == 8);

/// `rpc_post_event_v17_00` up to the event data, which follows it at offset 0x1d.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct PostEvent {
    pub(super) h_client: u32,
    pub(super) h_event: u32,
    pub(super) notify_index: u32,
    pub(super) data: u32,
    pub(super) info16: u16,
    pub(super) _pad0: u16,
    pub(super) status: u32,
    pub(super) event_data_size: u32,
    pub(super) notify_list: u8,
    pub(super) _pad1: [u8; 3],
}
static_assert!(size_of::<PostEvent>() == 0x20);
static_assert!(offset_of!(PostEvent, status) == 0x14);
static_assert!(offset_of!(PostEvent, notify_list) == 0x1c);

/// `rpc_rc_triggered_v17_02` up to the RC journal, which follows it.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct RcTriggeredMsg {
    pub(super) nv2080_engine_type: u32,
    pub(super) chid: u32,
    pub(super) gfid: u32,
    pub(super) except_level: u32,
    pub(super) except_type: u32,
    pub(super) scope: u32,
    pub(super) partition_attribution_id: u16,
    pub(super) _pad0: u16,
    pub(super) mmu_fault_addr_lo: u32,
    pub(super) mmu_fault_addr_hi: u32,
    pub(super) mmu_fault_type: u32,
    pub(super) callback_needed: u8,
    pub(super) _pad1: [u8; 3],
    pub(super) rc_journal_buffer_size: u32,
}
static_assert!(size_of::<RcTriggeredMsg>() == 0x30);
static_assert!(offset_of!(RcTriggeredMsg, mmu_fault_addr_lo) == 0x1c);
static_assert!(offset_of!(RcTriggeredMsg, rc_journal_buffer_size) == 0x2c);

impl RcTriggeredMsg {
    /// Converts to the version-neutral form.
    pub(super) fn to_neutral(self) -> RcTriggered {
        RcTriggered {
            engine_type: self.nv2080_engine_type,
            chid: self.chid,
            except_type: self.except_type,
            except_level: self.except_level,
            mmu_fault_addr: (u64::from(self.mmu_fault_addr_hi) << 32)
                | u64::from(self.mmu_fault_addr_lo),
        }
    }
}

// --- RM API RPCs (`src/nvidia/generated/g_rpc-structures.h`, `g_sdk-structures.h`) ---

/// `rpc_gsp_rm_alloc_v03_00` up to the class's parameters, which follow it.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct RpcGspRmAlloc {
    pub(super) h_client: u32,
    pub(super) h_parent: u32,
    pub(super) h_object: u32,
    pub(super) h_class: u32,
    pub(super) status: u32,
    pub(super) params_size: u32,
    pub(super) flags: u32,
    pub(super) reserved: [u8; 4],
}
static_assert!(size_of::<RpcGspRmAlloc>() == 0x20);
static_assert!(offset_of!(RpcGspRmAlloc, status) == 0x10);

/// `rpc_gsp_rm_control_v03_00` up to the control's parameters, which follow it.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct RpcGspRmControl {
    pub(super) h_client: u32,
    pub(super) h_object: u32,
    pub(super) cmd: u32,
    pub(super) status: u32,
    pub(super) params_size: u32,
    pub(super) flags: u32,
}
static_assert!(size_of::<RpcGspRmControl>() == 0x18);

/// `rpc_free_v03_00`, i.e. `NVOS00_PARAMETERS_v03_00`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct RpcFree {
    pub(super) h_root: u32,
    pub(super) h_object_parent: u32,
    pub(super) h_object_old: u32,
    pub(super) status: u32,
}
static_assert!(size_of::<RpcFree>() == 0x10);

/// `NV01_ROOT` (`src/common/sdk/nvidia/inc/class/cl0000.h`).
pub(super) const NV01_ROOT: u32 = 0x0;
/// `NV01_DEVICE_0` (`class/cl0080.h`).
pub(super) const NV01_DEVICE_0: u32 = 0x80;
/// `NV20_SUBDEVICE_0` (`class/cl2080.h`).
pub(super) const NV20_SUBDEVICE_0: u32 = 0x2080;

/// `NV_PROC_NAME_MAX_LENGTH` (`src/common/sdk/nvidia/inc/nvlimits.h`).
const PROC_NAME_MAX_LENGTH: usize = 100;

/// `NV0000_ALLOC_PARAMETERS` (`class/cl0000.h`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct Nv0000AllocParameters {
    pub(super) h_client: u32,
    pub(super) process_id: u32,
    pub(super) process_name: [u8; PROC_NAME_MAX_LENGTH],
    pub(super) _pad: [u8; 4],
    pub(super) p_os_pid_info: u64,
}
static_assert!(size_of::<Nv0000AllocParameters>() == 0x78);
static_assert!(offset_of!(Nv0000AllocParameters, p_os_pid_info) == 0x70);

/// `NV0080_ALLOC_PARAMETERS` (`class/cl0080.h`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct Nv0080AllocParameters {
    pub(super) device_id: u32,
    pub(super) h_client_share: u32,
    pub(super) h_target_client: u32,
    pub(super) h_target_device: u32,
    pub(super) flags: u32,
    pub(super) _pad0: u32,
    pub(super) va_space_size: u64,
    pub(super) va_start_internal: u64,
    pub(super) va_limit_internal: u64,
    pub(super) va_mode: u32,
    pub(super) _pad1: u32,
}
static_assert!(size_of::<Nv0080AllocParameters>() == 0x38);
static_assert!(offset_of!(Nv0080AllocParameters, va_space_size) == 0x18);
static_assert!(offset_of!(Nv0080AllocParameters, va_mode) == 0x30);

/// `NV2080_ALLOC_PARAMETERS` (`class/cl2080.h`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct Nv2080AllocParameters {
    pub(super) sub_device_id: u32,
}
static_assert!(size_of::<Nv2080AllocParameters>() == 4);

/// `NV2080_CTRL_CMD_GPU_GET_NAME_STRING` (`ctrl/ctrl2080/ctrl2080gpu.h`).
pub(super) const NV2080_CTRL_CMD_GPU_GET_NAME_STRING: u32 = 0x2080_0110;
/// `NV2080_CTRL_GPU_GET_NAME_STRING_FLAGS_TYPE_ASCII`.
pub(super) const NV2080_CTRL_GPU_GET_NAME_STRING_FLAGS_TYPE_ASCII: u32 = 0;
/// `NV2080_GPU_MAX_NAME_STRING_LENGTH` (ASCII bytes; the union's Unicode member doubles it).
pub(super) const NV2080_GPU_MAX_NAME_STRING_LENGTH: usize = 0x40;

/// `NV2080_CTRL_GPU_GET_NAME_STRING_PARAMS`, the union kept as its larger (Unicode) size.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct Nv2080CtrlGpuGetNameStringParams {
    pub(super) gpu_name_string_flags: u32,
    pub(super) gpu_name_string: [u8; 2 * NV2080_GPU_MAX_NAME_STRING_LENGTH],
}
static_assert!(size_of::<Nv2080CtrlGpuGetNameStringParams>() == 0x84);

/// `NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE` (`ctrl/ctrl2080/ctrl2080fifo.h`).
pub(super) const NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE: u32 = 0x2080_1112;
/// `NV2080_CTRL_FIFO_GET_DEVICE_INFO_TABLE_MAX_ENTRIES`.
pub(super) const DEVICE_INFO_MAX_ENTRIES: usize = 32;
/// `NV2080_CTRL_FIFO_GET_DEVICE_INFO_TABLE_ENGINE_DATA_TYPES`.
pub(super) const ENGINE_DATA_TYPES: usize = 16;
/// `NV2080_CTRL_FIFO_GET_DEVICE_INFO_TABLE_ENGINE_MAX_PBDMA`.
pub(super) const ENGINE_MAX_PBDMA: usize = 2;
/// `NV2080_CTRL_FIFO_GET_DEVICE_INFO_TABLE_ENGINE_MAX_NAME_LEN`.
pub(super) const ENGINE_MAX_NAME_LEN: usize = 16;
/// `ENGINE_INFO_TYPE_RM_ENGINE_TYPE`, an index into `engineData`
/// (`src/nvidia/inc/kernel/gpu/fifo/engine_info.h`).
pub(super) const ENGINE_INFO_TYPE_RM_ENGINE_TYPE: usize = 2;
/// `ENGINE_INFO_TYPE_RUNLIST`.
pub(super) const ENGINE_INFO_TYPE_RUNLIST: usize = 3;

/// `NV2080_CTRL_FIFO_DEVICE_ENTRY`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct Nv2080CtrlFifoDeviceEntry {
    pub(super) engine_data: [u32; ENGINE_DATA_TYPES],
    pub(super) pbdma_ids: [u32; ENGINE_MAX_PBDMA],
    pub(super) pbdma_fault_ids: [u32; ENGINE_MAX_PBDMA],
    pub(super) num_pbdmas: u32,
    pub(super) engine_name: [u8; ENGINE_MAX_NAME_LEN],
}
static_assert!(size_of::<Nv2080CtrlFifoDeviceEntry>() == 100);

/// `NV2080_CTRL_FIFO_GET_DEVICE_INFO_TABLE_PARAMS`; `bMore` is an `NvBool`, followed by the
/// padding the C compiler puts before `entries`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct Nv2080CtrlFifoGetDeviceInfoTableParams {
    pub(super) base_index: u32,
    pub(super) num_entries: u32,
    pub(super) b_more: u8,
    pub(super) _pad: [u8; 3],
    pub(super) entries: [Nv2080CtrlFifoDeviceEntry; DEVICE_INFO_MAX_ENTRIES],
}
static_assert!(size_of::<Nv2080CtrlFifoGetDeviceInfoTableParams>() == 0xc8c);
static_assert!(offset_of!(Nv2080CtrlFifoGetDeviceInfoTableParams, entries) == 0xc);

/// The fixed part of `NV2080_CTRL_FIFO_GET_DEVICE_INFO_TABLE_PARAMS`, before `entries`: what
/// is read of it at once (the whole structure is 3 KiB, too much for the stack), the entries
/// after it one at a time.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct Nv2080CtrlFifoGetDeviceInfoTableHead {
    pub(super) base_index: u32,
    pub(super) num_entries: u32,
    pub(super) b_more: u8,
    pub(super) _pad: [u8; 3],
}
static_assert!(
    size_of::<Nv2080CtrlFifoGetDeviceInfoTableHead>()
        == offset_of!(Nv2080CtrlFifoGetDeviceInfoTableParams, entries)
);
static_assert!(DEVICE_INFO_MAX_ENTRIES <= super::DEVICE_INFO_PAGE);

/// `NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2` (`ctrl/ctrl0080/ctrl0080gpu.h`).
pub(super) const NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2: u32 = 0x0080_0292;
/// `NV0080_CTRL_GPU_CLASSLIST_MAX_SIZE`.
pub(super) const NV0080_CTRL_GPU_CLASSLIST_MAX_SIZE: usize = 100;
static_assert!(NV0080_CTRL_GPU_CLASSLIST_MAX_SIZE <= MAX_CLASSES);

/// `NV0080_CTRL_GPU_GET_CLASSLIST_V2_PARAMS`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct Nv0080CtrlGpuGetClasslistV2Params {
    pub(super) num_classes: u32,
    pub(super) class_list: [u32; NV0080_CTRL_GPU_CLASSLIST_MAX_SIZE],
}
static_assert!(size_of::<Nv0080CtrlGpuGetClasslistV2Params>() == 404);

/// `NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO` (`ctrl/ctrl2080/ctrl2080gpu.h`).
pub(super) const NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO: u32 = 0x2080_0137;
/// `NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO`.
pub(super) const NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO: u32 = 0x2080_0138;

/// `NV2080_CTRL_GPU_GET_FERMI_GPC_INFO_PARAMS`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct Nv2080CtrlGpuGetFermiGpcInfoParams {
    pub(super) gpc_mask: u32,
}
static_assert!(size_of::<Nv2080CtrlGpuGetFermiGpcInfoParams>() == 4);

/// `NV2080_CTRL_GPU_GET_FERMI_TPC_INFO_PARAMS`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct Nv2080CtrlGpuGetFermiTpcInfoParams {
    pub(super) gpc_id: u32,
    pub(super) tpc_mask: u32,
}
static_assert!(size_of::<Nv2080CtrlGpuGetFermiTpcInfoParams>() == 8);

/// `RM_ENGINE_TYPE_*` (`src/nvidia/inc/kernel/gpu/gpu_engine_type.h`): the first number of each
/// run of engines of one kind, and how many the run holds.
const RM_ENGINE_TYPES: &[(u32, u32, EngineKind)] = &[
    // RM_ENGINE_TYPE_GR0 ..= GR7.
    (0x01, 8, EngineKind::Graphics),
    // RM_ENGINE_TYPE_COPY0 ..= COPY19.
    (0x09, 20, EngineKind::Copy),
    // RM_ENGINE_TYPE_NVDEC0 ..= NVDEC7.
    (0x1d, 8, EngineKind::Nvdec),
    // RM_ENGINE_TYPE_NVENC0 ..= NVENC3.
    (0x25, 4, EngineKind::Nvenc),
    // RM_ENGINE_TYPE_SW.
    (0x2d, 1, EngineKind::Software),
    // RM_ENGINE_TYPE_SEC2.
    (0x31, 1, EngineKind::Sec2),
    // RM_ENGINE_TYPE_NVJPEG0 ..= NVJPEG7.
    (0x36, 8, EngineKind::Nvjpg),
    // RM_ENGINE_TYPE_OFA0 ..= OFA1.
    (0x3e, 2, EngineKind::Ofa),
];

/// Decodes an `RM_ENGINE_TYPE_*` into its kind and instance.
fn engine_kind(raw: u32) -> Option<(EngineKind, u32)> {
    RM_ENGINE_TYPES.iter().find_map(|&(first, n, kind)| {
        let instance = raw.checked_sub(first)?;
        (instance < n).then_some((kind, instance))
    })
}

/// `NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE` (`ctrl/ctrl2080/ctrl2080internal.h`).
pub(super) const NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE: u32 = 0x2080_0a5c;
/// `NV2080_CTRL_INTERNAL_INTR_MAX_TABLE_SIZE`.
pub(super) const NV2080_CTRL_INTERNAL_INTR_MAX_TABLE_SIZE: usize = 128;
/// `NV2080_INTR_CATEGORY_ENUM_COUNT`.
pub(super) const NV2080_INTR_CATEGORY_ENUM_COUNT: usize = 7;
/// `MC_ENGINE_IDX_GSP` in 570.144 (`kernel/gpu/intr/engine_idx.h`; 49 in r535).
pub(super) const MC_ENGINE_IDX_GSP: u16 = 50;
/// `NV_INTR_VECTOR_INVALID` (`dev_ctrl_defines.h`).
pub(super) const NV_INTR_VECTOR_INVALID: u32 = u32::MAX;

/// `NV2080_CTRL_INTERNAL_INTR_GET_KERNEL_TABLE_ENTRY`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct Nv2080CtrlInternalIntrGetKernelTableEntry {
    pub(super) engine_idx: u16,
    pub(super) _pad: u16,
    pub(super) pmc_intr_mask: u32,
    pub(super) vector_stall: u32,
    pub(super) vector_non_stall: u32,
}
static_assert!(size_of::<Nv2080CtrlInternalIntrGetKernelTableEntry>() == 16);

/// `NV2080_INTR_CATEGORY_SUBTREE_MAP`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct Nv2080IntrCategorySubtreeMap {
    pub(super) subtree_start: u8,
    pub(super) subtree_end: u8,
}

/// `NV2080_CTRL_INTERNAL_INTR_GET_KERNEL_TABLE_PARAMS`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct Nv2080CtrlInternalIntrGetKernelTableParams {
    pub(super) table_len: u32,
    pub(super) table:
        [Nv2080CtrlInternalIntrGetKernelTableEntry; NV2080_CTRL_INTERNAL_INTR_MAX_TABLE_SIZE],
    pub(super) subtree_map: [Nv2080IntrCategorySubtreeMap; NV2080_INTR_CATEGORY_ENUM_COUNT],
    pub(super) _pad: [u8; 2],
}
static_assert!(size_of::<Nv2080CtrlInternalIntrGetKernelTableParams>() == 2068);

plain_old_data!(
    Nv2080CtrlInternalIntrGetKernelTableEntry,
    Nv2080IntrCategorySubtreeMap,
    Nv2080CtrlInternalIntrGetKernelTableParams,
    MsgqRxHeader,
    RpcGspRmAlloc,
    RpcGspRmControl,
    RpcFree,
    Nv0000AllocParameters,
    Nv0080AllocParameters,
    Nv2080AllocParameters,
    Nv2080CtrlGpuGetNameStringParams,
    Nv2080CtrlFifoDeviceEntry,
    Nv2080CtrlFifoGetDeviceInfoTableParams,
    Nv2080CtrlFifoGetDeviceInfoTableHead,
    Nv0080CtrlGpuGetClasslistV2Params,
    Nv2080CtrlGpuGetFermiGpcInfoParams,
    Nv2080CtrlGpuGetFermiTpcInfoParams,
    GspFwWprMeta,
    LibosMemoryRegionInitArgument,
    MessageQueueInitArguments,
    GspSrInitArguments,
    GspArgumentsCached,
    MsgqTxHeader,
    MsgQueueElementHeader,
    RpcHeader,
    BusInfo,
    GspSystemInfo,
    FbRegionInfo,
    GspStaticConfigInfo,
    PackedRegistryTable,
    PackedRegistryEntry,
    UnloadingGuestDriver,
    RunCpuSequencer,
    OsErrorLog,
    LibosPrint,
    PostEvent,
    RcTriggeredMsg,
);

/// Returns the size of the payload of `PostEvent` as GSP-RM lays it out: the event data starts
/// right after `bNotifyList`, at offset 0x1d.
pub(super) const POST_EVENT_DATA_OFFSET: usize = 0x1d;

/// The GSP-RM 570.144 release, as [`GspAbi`] implements it.
pub(super) struct R570_144;

impl GspAbi for R570_144 {
    fn version(&self) -> &'static str {
        "570.144"
    }

    fn function(&self, function: Function) -> u32 {
        match function {
            Function::SetSystemInfo => FN_GSP_SET_SYSTEM_INFO,
            Function::SetRegistry => FN_SET_REGISTRY,
            Function::GetGspStaticInfo => FN_GET_GSP_STATIC_INFO,
            Function::UnloadingGuestDriver => FN_UNLOADING_GUEST_DRIVER,
            Function::ContinuationRecord => FN_CONTINUATION_RECORD,
            Function::RmAlloc => FN_GSP_RM_ALLOC,
            Function::RmControl => FN_GSP_RM_CONTROL,
            Function::Free => FN_FREE,
        }
    }

    fn event(&self, raw: u32) -> Option<EventKind> {
        Some(match raw {
            EV_GSP_INIT_DONE => EventKind::InitDone,
            EV_GSP_RUN_CPU_SEQUENCER => EventKind::RunCpuSequencer,
            EV_POST_EVENT => EventKind::PostEvent,
            EV_RC_TRIGGERED => EventKind::RcTriggered,
            EV_MMU_FAULT_QUEUED => EventKind::MmuFaultQueued,
            EV_OS_ERROR_LOG => EventKind::OsErrorLog,
            EV_UCODE_LIBOS_PRINT => EventKind::LibosPrint,
            _ => return None,
        })
    }

    fn event_name(&self, raw: u32) -> Option<&'static str> {
        let index = raw.checked_sub(EV_GSP_INIT_DONE)?;
        EVENT_NAMES.get(usize::try_from(index).ok()?).copied()
    }

    fn event_number(&self, event: EventKind) -> u32 {
        match event {
            EventKind::InitDone => EV_GSP_INIT_DONE,
            EventKind::RunCpuSequencer => EV_GSP_RUN_CPU_SEQUENCER,
            EventKind::PostEvent => EV_POST_EVENT,
            EventKind::RcTriggered => EV_RC_TRIGGERED,
            EventKind::MmuFaultQueued => EV_MMU_FAULT_QUEUED,
            EventKind::OsErrorLog => EV_OS_ERROR_LOG,
            EventKind::LibosPrint => EV_UCODE_LIBOS_PRINT,
        }
    }

    fn wpr_meta(&self, p: &WprMetaParams) -> Result<KVec<u8>> {
        p.fb.validate()?;
        let mut out = KVec::new();
        super::push(&mut out, &GspFwWprMeta::new(p))?;
        Ok(out)
    }

    fn libos_args(&self, regions: &[LibosRegion]) -> Result<KVec<u8>> {
        let entry = size_of::<LibosMemoryRegionInitArgument>();
        if regions.len() > LIBOS_ARGS_SIZE / entry {
            return Err(EINVAL);
        }
        let mut out = KVec::with_capacity(LIBOS_ARGS_SIZE, GFP_KERNEL)?;
        for r in regions {
            super::push(&mut out, &LibosMemoryRegionInitArgument::new(r))?;
        }
        out.resize(LIBOS_ARGS_SIZE, 0, GFP_KERNEL)?;
        Ok(out)
    }

    fn rm_args(&self, q: &MsgqInitParams) -> Result<KVec<u8>> {
        let mut out = KVec::new();
        super::push(&mut out, &GspArgumentsCached::new(q))?;
        Ok(out)
    }

    fn element_header_size(&self) -> usize {
        size_of::<MsgQueueElementHeader>()
    }

    fn rpc_header_size(&self) -> usize {
        size_of::<RpcHeader>()
    }

    fn write_request_headers(
        &self,
        buf: &mut [u8],
        seq: u32,
        elem_count: u32,
        function: u32,
        rpc_length: u32,
    ) -> Result {
        let result = RPC_RESULT_PENDING;
        self.write_headers(
            buf,
            &ElementHeader {
                checksum: 0,
                seq,
                elem_count,
                function,
                rpc_length,
                rpc_result: result,
                rpc_sequence: seq,
            },
        )
    }

    fn write_headers(&self, buf: &mut [u8], h: &ElementHeader) -> Result {
        let elem = MsgQueueElementHeader {
            checksum: h.checksum,
            seq_num: h.seq,
            elem_count: h.elem_count,
            ..Default::default()
        };
        let rpc = RpcHeader {
            header_version: RPC_HEADER_VERSION,
            signature: RPC_SIGNATURE,
            length: h.rpc_length,
            function: h.function,
            rpc_result: h.rpc_result,
            rpc_result_private: h.rpc_result,
            sequence: h.rpc_sequence,
            spare: 0,
        };
        let rest = super::put(buf, &elem)?;
        super::put(rest, &rpc)?;
        Ok(())
    }

    fn write_queue_header(&self, buf: &mut [u8], h: &QueueHeader) -> Result {
        super::put(
            buf,
            &MsgqTxHeader {
                version: MSGQ_VERSION,
                size: h.size,
                msg_size: h.msg_size,
                msg_count: h.msg_count,
                write_ptr: h.write_ptr,
                flags: MSGQ_FLAGS_SWAP_RX,
                rx_hdr_off: h.rx_hdr_off,
                entry_off: h.entry_off,
            },
        )?;
        Ok(())
    }

    fn read_queue_header(&self, buf: &[u8]) -> Result<QueueHeader, DecodeError> {
        let h: MsgqTxHeader = super::read(buf)?;
        if h.version != MSGQ_VERSION || h.flags != MSGQ_FLAGS_SWAP_RX {
            return Err(DecodeError::BadLength);
        }
        Ok(QueueHeader {
            size: h.size,
            msg_size: h.msg_size,
            msg_count: h.msg_count,
            write_ptr: h.write_ptr,
            rx_hdr_off: h.rx_hdr_off,
            entry_off: h.entry_off,
        })
    }

    fn queue_header_size(&self) -> usize {
        size_of::<MsgqTxHeader>()
    }

    fn write_ptr_offset(&self) -> usize {
        core::mem::offset_of!(MsgqTxHeader, write_ptr)
    }

    fn read_ptr_offset(&self) -> usize {
        MSGQ_RX_HDR_OFFSET + core::mem::offset_of!(MsgqRxHeader, read_ptr)
    }

    fn rm_alloc_size(&self) -> usize {
        size_of::<RpcGspRmAlloc>()
    }

    fn class(&self, class: RmClass) -> u32 {
        match class {
            RmClass::Root => NV01_ROOT,
            RmClass::Device => NV01_DEVICE_0,
            RmClass::Subdevice => NV20_SUBDEVICE_0,
        }
    }

    fn write_rm_alloc(&self, buf: &mut [u8], h: &RmAllocHeader) -> Result {
        super::put(
            buf,
            &RpcGspRmAlloc {
                h_client: h.client,
                h_parent: h.parent,
                h_object: h.object,
                h_class: self.class(h.class),
                params_size: h.params_size,
                ..Default::default()
            },
        )?;
        Ok(())
    }

    fn rm_alloc_status(&self, payload: &[u8]) -> Result<u32, DecodeError> {
        Ok(super::read::<RpcGspRmAlloc>(payload)?.status)
    }

    fn rm_control_size(&self) -> usize {
        size_of::<RpcGspRmControl>()
    }

    fn control(&self, cmd: RmControlCmd) -> u32 {
        match cmd {
            RmControlCmd::GpuGetNameString => NV2080_CTRL_CMD_GPU_GET_NAME_STRING,
            RmControlCmd::FifoGetDeviceInfoTable => NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE,
            RmControlCmd::GpuGetClasslistV2 => NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2,
            RmControlCmd::GpuGetFermiGpcInfo => NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO,
            RmControlCmd::GpuGetFermiTpcInfo => NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO,
            RmControlCmd::InternalIntrGetKernelTable => {
                NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE
            }
        }
    }

    fn write_rm_control(
        &self,
        buf: &mut [u8],
        client: u32,
        object: u32,
        cmd: RmControlCmd,
        params_size: u32,
    ) -> Result {
        super::put(
            buf,
            &RpcGspRmControl {
                h_client: client,
                h_object: object,
                cmd: self.control(cmd),
                params_size,
                ..Default::default()
            },
        )?;
        Ok(())
    }

    fn rm_control_reply<'a>(&self, payload: &'a [u8]) -> Result<(u32, &'a [u8]), DecodeError> {
        let h: RpcGspRmControl = super::read(payload)?;
        let len = usize::try_from(h.params_size).map_err(|_| DecodeError::BadLength)?;
        let params = payload
            .get(size_of::<RpcGspRmControl>()..)
            .and_then(|p| p.get(..len))
            .ok_or(DecodeError::BadLength)?;
        Ok((h.status, params))
    }

    fn rm_free_size(&self) -> usize {
        size_of::<RpcFree>()
    }

    fn write_rm_free(&self, buf: &mut [u8], client: u32, object: u32) -> Result {
        super::put(
            buf,
            &RpcFree {
                h_root: client,
                h_object_parent: 0,
                h_object_old: object,
                status: 0,
            },
        )?;
        Ok(())
    }

    fn rm_free_status(&self, payload: &[u8]) -> Result<u32, DecodeError> {
        Ok(super::read::<RpcFree>(payload)?.status)
    }

    fn alloc_params_size(&self, class: RmClass) -> usize {
        match class {
            RmClass::Root => size_of::<Nv0000AllocParameters>(),
            RmClass::Device => size_of::<Nv0080AllocParameters>(),
            RmClass::Subdevice => size_of::<Nv2080AllocParameters>(),
        }
    }

    fn write_root_params(&self, buf: &mut [u8], client: u32) -> Result {
        super::put(
            buf,
            &Nv0000AllocParameters {
                h_client: client,
                process_id: u32::MAX,
                process_name: [0; 100],
                _pad: [0; 4],
                p_os_pid_info: 0,
            },
        )?;
        Ok(())
    }

    fn write_device_params(&self, buf: &mut [u8], client_share: u32) -> Result {
        super::put(
            buf,
            &Nv0080AllocParameters {
                h_client_share: client_share,
                ..Default::default()
            },
        )?;
        Ok(())
    }

    fn write_subdevice_params(&self, buf: &mut [u8], id: u32) -> Result {
        super::put(buf, &Nv2080AllocParameters { sub_device_id: id })?;
        Ok(())
    }

    fn control_params_size(&self, cmd: RmControlCmd) -> usize {
        match cmd {
            RmControlCmd::GpuGetNameString => size_of::<Nv2080CtrlGpuGetNameStringParams>(),
            RmControlCmd::FifoGetDeviceInfoTable => {
                size_of::<Nv2080CtrlFifoGetDeviceInfoTableParams>()
            }
            RmControlCmd::GpuGetClasslistV2 => size_of::<Nv0080CtrlGpuGetClasslistV2Params>(),
            RmControlCmd::GpuGetFermiGpcInfo => size_of::<Nv2080CtrlGpuGetFermiGpcInfoParams>(),
            RmControlCmd::GpuGetFermiTpcInfo => size_of::<Nv2080CtrlGpuGetFermiTpcInfoParams>(),
            RmControlCmd::InternalIntrGetKernelTable => {
                size_of::<Nv2080CtrlInternalIntrGetKernelTableParams>()
            }
        }
    }

    fn write_gpu_name_string_params(&self, buf: &mut [u8]) -> Result {
        super::put(
            buf,
            &Nv2080CtrlGpuGetNameStringParams {
                gpu_name_string_flags: NV2080_CTRL_GPU_GET_NAME_STRING_FLAGS_TYPE_ASCII,
                gpu_name_string: [0; 2 * NV2080_GPU_MAX_NAME_STRING_LENGTH],
            },
        )?;
        Ok(())
    }

    fn read_gpu_name_string(&self, params: &[u8]) -> Result<[u8; 64], DecodeError> {
        let p: Nv2080CtrlGpuGetNameStringParams = super::read(params)?;
        let mut name = [0u8; 64];
        name.copy_from_slice(
            p.gpu_name_string
                .get(..NV2080_GPU_MAX_NAME_STRING_LENGTH)
                .ok_or(DecodeError::Short)?,
        );
        Ok(name)
    }

    fn write_device_info_params(&self, buf: &mut [u8], base_index: u32) -> Result {
        // Only `baseIndex` is an input; the rest is zero.
        let (head, rest) = buf.split_at_mut_checked(size_of::<u32>()).ok_or(EINVAL)?;
        super::put(head, &base_index)?;
        rest.get_mut(..size_of::<Nv2080CtrlFifoGetDeviceInfoTableParams>() - size_of::<u32>())
            .ok_or(EINVAL)?
            .fill(0);
        Ok(())
    }

    fn read_device_info(&self, params: &[u8]) -> Result<DeviceInfoPage, DecodeError> {
        if params.len() < size_of::<Nv2080CtrlFifoGetDeviceInfoTableParams>() {
            return Err(DecodeError::Short);
        }
        let head: Nv2080CtrlFifoGetDeviceInfoTableHead = super::read(params)?;
        let count = usize::try_from(head.num_entries).map_err(|_| DecodeError::TooMany)?;
        if count > DEVICE_INFO_MAX_ENTRIES {
            return Err(DecodeError::TooMany);
        }
        let mut page = DeviceInfoPage {
            entries: [DeviceEngine::default(); super::DEVICE_INFO_PAGE],
            count,
            more: head.b_more != 0,
        };
        let entries = params
            .get(size_of::<Nv2080CtrlFifoGetDeviceInfoTableHead>()..)
            .ok_or(DecodeError::Short)?;
        let chunks = entries.chunks_exact(size_of::<Nv2080CtrlFifoDeviceEntry>());
        for (dst, bytes) in page.entries.iter_mut().zip(chunks).take(count) {
            let src: Nv2080CtrlFifoDeviceEntry = super::read(bytes)?;
            let raw_type = src.engine_data[ENGINE_INFO_TYPE_RM_ENGINE_TYPE];
            *dst = DeviceEngine {
                engine: engine_kind(raw_type),
                raw_type,
                runlist: src.engine_data[ENGINE_INFO_TYPE_RUNLIST],
            };
        }
        Ok(page)
    }

    fn write_classlist_params(&self, buf: &mut [u8]) -> Result {
        super::put(
            buf,
            &Nv0080CtrlGpuGetClasslistV2Params {
                num_classes: 0,
                class_list: [0; NV0080_CTRL_GPU_CLASSLIST_MAX_SIZE],
            },
        )?;
        Ok(())
    }

    fn read_classlist(&self, params: &[u8]) -> Result<ClassList, DecodeError> {
        let p: Nv0080CtrlGpuGetClasslistV2Params = super::read(params)?;
        let count = usize::try_from(p.num_classes).map_err(|_| DecodeError::TooMany)?;
        let valid = p.class_list.get(..count).ok_or(DecodeError::TooMany)?;
        let mut list = ClassList {
            classes: [0; MAX_CLASSES],
            count,
        };
        list.classes
            .get_mut(..count)
            .ok_or(DecodeError::TooMany)?
            .copy_from_slice(valid);
        Ok(list)
    }

    fn write_gpc_info_params(&self, buf: &mut [u8]) -> Result {
        super::put(buf, &Nv2080CtrlGpuGetFermiGpcInfoParams::default())?;
        Ok(())
    }

    fn read_gpc_info(&self, params: &[u8]) -> Result<u32, DecodeError> {
        Ok(super::read::<Nv2080CtrlGpuGetFermiGpcInfoParams>(params)?.gpc_mask)
    }

    fn write_tpc_info_params(&self, buf: &mut [u8], gpc: u32) -> Result {
        super::put(
            buf,
            &Nv2080CtrlGpuGetFermiTpcInfoParams {
                gpc_id: gpc,
                tpc_mask: 0,
            },
        )?;
        Ok(())
    }

    fn read_tpc_info(&self, params: &[u8]) -> Result<u32, DecodeError> {
        Ok(super::read::<Nv2080CtrlGpuGetFermiTpcInfoParams>(params)?.tpc_mask)
    }

    fn read_gsp_intr_vector(&self, params: &[u8]) -> Result<Option<u32>, DecodeError> {
        // Entry by entry: the whole structure is 2 KiB, too much for the stack.
        if params.len() < size_of::<Nv2080CtrlInternalIntrGetKernelTableParams>() {
            return Err(DecodeError::Short);
        }
        let len: u32 = super::read(params)?;
        let len = usize::try_from(len).map_err(|_| DecodeError::BadLength)?;
        if len > NV2080_CTRL_INTERNAL_INTR_MAX_TABLE_SIZE {
            return Err(DecodeError::BadLength);
        }
        let table = offset_of!(Nv2080CtrlInternalIntrGetKernelTableParams, table);
        let entry_size = size_of::<Nv2080CtrlInternalIntrGetKernelTableEntry>();
        for i in 0..len {
            let at = i
                .checked_mul(entry_size)
                .and_then(|o| o.checked_add(table))
                .ok_or(DecodeError::BadLength)?;
            let e: Nv2080CtrlInternalIntrGetKernelTableEntry =
                super::read(params.get(at..).ok_or(DecodeError::Short)?)?;
            if e.engine_idx == MC_ENGINE_IDX_GSP {
                return Ok(Some(e.vector_stall).filter(|v| *v != NV_INTR_VECTOR_INVALID));
            }
        }
        Ok(None)
    }

    fn set_checksum(&self, buf: &mut [u8], checksum: u32) -> Result {
        let off = core::mem::offset_of!(MsgQueueElementHeader, checksum);
        buf.get_mut(off..off + 4)
            .ok_or(EINVAL)?
            .copy_from_slice(&checksum.to_le_bytes());
        Ok(())
    }

    fn read_headers(&self, buf: &[u8]) -> Result<ElementHeader, DecodeError> {
        let elem: MsgQueueElementHeader = super::read(buf)?;
        let rest = buf
            .get(size_of::<MsgQueueElementHeader>()..)
            .ok_or(DecodeError::Short)?;
        let rpc: RpcHeader = super::read(rest)?;
        Ok(ElementHeader {
            checksum: elem.checksum,
            seq: elem.seq_num,
            elem_count: elem.elem_count,
            function: rpc.function,
            rpc_length: rpc.length,
            rpc_result: rpc.rpc_result,
            rpc_sequence: rpc.sequence,
        })
    }

    fn system_info_size(&self) -> usize {
        size_of::<GspSystemInfo>()
    }

    fn write_system_info(&self, buf: &mut [u8], s: &SystemInfo) -> Result {
        super::put(buf, &GspSystemInfo::new(s))?;
        Ok(())
    }

    fn registry_size(&self, entries: &[(&str, u32)]) -> usize {
        let head = size_of::<PackedRegistryTable>();
        let entry = size_of::<PackedRegistryEntry>();
        entries
            .iter()
            .try_fold(0usize, |acc, (name, _)| {
                acc.checked_add(name.len())?.checked_add(1)
            })
            .and_then(|names| {
                entries
                    .len()
                    .checked_mul(entry)?
                    .checked_add(head)?
                    .checked_add(names)
            })
            .filter(|total| u32::try_from(*total).is_ok())
            .unwrap_or(0)
    }

    fn write_registry(&self, buf: &mut [u8], entries: &[(&str, u32)]) -> Result {
        let total = self.registry_size(entries);
        if total == 0 || buf.len() != total {
            return Err(EINVAL);
        }
        let head = size_of::<PackedRegistryTable>();
        let entry = size_of::<PackedRegistryEntry>();
        let mut rest = super::put(
            buf,
            &PackedRegistryTable {
                size: u32::try_from(total).map_err(|_| EINVAL)?,
                num_entries: u32::try_from(entries.len()).map_err(|_| EINVAL)?,
            },
        )?;
        // Names start after the last entry; offsets are from the start of the table.
        let mut name_off = head + entries.len() * entry;
        for (name, value) in entries {
            if name.as_bytes().contains(&0) {
                return Err(EINVAL);
            }
            rest = super::put(
                rest,
                &PackedRegistryEntry {
                    name_offset: u32::try_from(name_off).map_err(|_| EINVAL)?,
                    kind: REGISTRY_TYPE_DWORD,
                    _pad: [0; 3],
                    data: *value,
                    length: 4,
                },
            )?;
            name_off += name.len() + 1;
        }
        for (name, _) in entries {
            let (dst, tail) = rest.split_at_mut_checked(name.len() + 1).ok_or(EINVAL)?;
            let (text, nul) = dst.split_at_mut(name.len());
            text.copy_from_slice(name.as_bytes());
            nul.fill(0);
            rest = tail;
        }
        Ok(())
    }

    fn unloading_guest_driver_size(&self) -> usize {
        size_of::<UnloadingGuestDriver>()
    }

    fn write_unloading_guest_driver(&self, buf: &mut [u8], p: &UnloadParams) -> Result {
        super::put(buf, &UnloadingGuestDriver::new(p))?;
        Ok(())
    }

    fn static_info_size(&self) -> usize {
        size_of::<GspStaticConfigInfo>()
    }

    fn static_info(&self, payload: &[u8]) -> Result<StaticInfo, DecodeError> {
        let raw: GspStaticConfigInfo = super::read(payload)?;
        let count = usize::try_from(raw.num_fb_regions).unwrap_or(usize::MAX);
        if count > FB_REGIONS_MAX {
            return Err(DecodeError::BadLength);
        }
        let mut fb_regions = [FbRegion::default(); super::MAX_FB_REGIONS];
        for (dst, src) in fb_regions.iter_mut().zip(raw.fb_regions.iter()) {
            *dst = src.to_neutral();
        }
        Ok(StaticInfo {
            name: raw.gpu_name,
            vram_size: raw.fb_length,
            fb_regions,
            fb_region_count: count,
            bar1_pde_base: raw.bar1_pde_base,
            bar2_pde_base: raw.bar2_pde_base,
            internal: InternalHandles {
                client: raw.h_internal_client,
                device: raw.h_internal_device,
                subdevice: raw.h_internal_subdevice,
            },
        })
    }

    fn sequencer_ops(&self, payload: &[u8], ops: &mut KVec<SeqOp>) -> Result {
        let head: RunCpuSequencer = super::read(payload)?;
        let words = payload
            .get(size_of::<RunCpuSequencer>()..)
            .ok_or(DecodeError::Short)?;
        let used = usize::try_from(head.cmd_index).map_err(|_| DecodeError::BadLength)?;
        let declared =
            usize::try_from(head.buffer_size_dword).map_err(|_| DecodeError::BadLength)?;
        if used > declared || used > words.len() / 4 {
            return Err(DecodeError::BadLength.into());
        }
        let word = |i: usize| -> Result<u32, DecodeError> {
            let b = words.get(i * 4..i * 4 + 4).ok_or(DecodeError::BadLength)?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let mut i = 0;
        while i < used {
            let opcode = word(i)?;
            let nargs = match opcode {
                seq_op::REG_WRITE | seq_op::REG_STORE => 2,
                seq_op::REG_MODIFY => 3,
                seq_op::REG_POLL => 5,
                seq_op::DELAY_US => 1,
                seq_op::CORE_RESET
                | seq_op::CORE_START
                | seq_op::CORE_WAIT_FOR_HALT
                | seq_op::CORE_RESUME => 0,
                other => return Err(DecodeError::UnknownOpcode(other).into()),
            };
            if i + 1 + nargs > used {
                return Err(DecodeError::BadLength.into());
            }
            let a = |k: usize| word(i + 1 + k);
            let op = match opcode {
                seq_op::REG_WRITE => SeqOp::RegWrite {
                    addr: a(0)?,
                    val: a(1)?,
                },
                seq_op::REG_MODIFY => SeqOp::RegModify {
                    addr: a(0)?,
                    mask: a(1)?,
                    val: a(2)?,
                },
                seq_op::REG_POLL => SeqOp::RegPoll {
                    addr: a(0)?,
                    mask: a(1)?,
                    val: a(2)?,
                    timeout_us: a(3)?,
                    error: a(4)?,
                },
                seq_op::DELAY_US => SeqOp::DelayUs(a(0)?),
                seq_op::REG_STORE => SeqOp::RegStore {
                    addr: a(0)?,
                    index: a(1)?,
                },
                seq_op::CORE_RESET => SeqOp::CoreReset,
                seq_op::CORE_START => SeqOp::CoreStart,
                seq_op::CORE_WAIT_FOR_HALT => SeqOp::CoreWaitForHalt,
                _ => SeqOp::CoreResume,
            };
            ops.push(op, GFP_KERNEL)?;
            i += 1 + nargs;
        }
        Ok(())
    }

    fn os_error_log(&self, payload: &[u8]) -> Result<super::OsErrorLog, DecodeError> {
        let m: OsErrorLog = super::read(payload)?;
        Ok(super::OsErrorLog {
            xid: m.except_type,
            chid: m.chid,
            text: m.err_string,
        })
    }

    fn libos_print<'a>(&self, payload: &'a [u8]) -> Result<(u32, &'a [u8]), DecodeError> {
        let m: LibosPrint = super::read(payload)?;
        let len = usize::try_from(m.libos_print_buf_size).map_err(|_| DecodeError::BadLength)?;
        let text = payload
            .get(size_of::<LibosPrint>()..)
            .and_then(|t| t.get(..len))
            .ok_or(DecodeError::BadLength)?;
        Ok((m.ucode_eng_desc, text))
    }

    fn post_event(&self, payload: &[u8]) -> Result<super::PostEvent, DecodeError> {
        let fixed = payload
            .get(..POST_EVENT_DATA_OFFSET)
            .ok_or(DecodeError::Short)?;
        // The C structure's tail padding overlaps the event data; decode from a copy.
        let mut padded = [0u8; size_of::<PostEvent>()];
        padded
            .get_mut(..fixed.len())
            .ok_or(DecodeError::Short)?
            .copy_from_slice(fixed);
        let m: PostEvent = super::read(&padded)?;
        let data_end = usize::try_from(m.event_data_size)
            .ok()
            .and_then(|n| n.checked_add(POST_EVENT_DATA_OFFSET))
            .ok_or(DecodeError::BadLength)?;
        if data_end > payload.len() {
            return Err(DecodeError::BadLength);
        }
        Ok(super::PostEvent {
            client: m.h_client,
            event: m.h_event,
            notify_index: m.notify_index,
            status: m.status,
            data_size: m.event_data_size,
        })
    }

    fn rc_triggered(&self, payload: &[u8]) -> Result<RcTriggered, DecodeError> {
        Ok(super::read::<RcTriggeredMsg>(payload)?.to_neutral())
    }
}
