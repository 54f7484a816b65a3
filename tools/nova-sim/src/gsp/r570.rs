// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The GSP-RM r570.144 interface: structure layouts, constants and function numbers.
//!
//! Everything that depends on the firmware version lives here, so that another version (for
//! instance r535.113.01) can be added as a sibling module. Layouts are given as byte offsets
//! into little-endian structures; the model reads and writes guest memory as bytes and never
//! relies on Rust's layout of its own types.
//!
//! # Sources
//!
//! Offsets and sizes are those of NVIDIA's open-gpu-kernel-modules at tag `570.144`, the
//! headers named next to each group, as bindgen renders them in Linux 7.3's
//! `drivers/gpu/nova-core/gsp/fw/r570_144/bindings.rs` (offsets were computed with
//! `core::mem::offset_of!` over that file, then written down here).

/// Size of a GSP page; every queue element, log buffer page and radix3 page has this size
/// (`GSP_PAGE_SIZE`, `src/nvidia/inc/kernel/gpu/gsp/gsp_init_args.h` uses 4 KiB pages;
/// upstream nova-core `gsp.rs` `GSP_PAGE_SHIFT`).
pub const GSP_PAGE_SIZE: u64 = 0x1000;

/// `GspFwWprMeta` (`src/nvidia/arch/nvalloc/common/inc/gsp/gsp_fw_wpr_meta.h`): what the driver tells booter about the GSP-RM image and the WPR2
/// layout.
pub mod wpr_meta {
    /// Size of the structure in bytes.
    pub const SIZE: usize = 256;
    /// `GSP_FW_WPR_META_MAGIC` (`gsp_fw_wpr_meta.h`).
    pub const MAGIC: u64 = 0xdc3a_ae21_371a_60b3;
    /// `GSP_FW_WPR_META_REVISION` (`gsp_fw_wpr_meta.h`).
    pub const REVISION: u64 = 1;
    /// `magic`.
    pub const MAGIC_OFF: usize = 0;
    /// `revision`.
    pub const REVISION_OFF: usize = 8;
    /// `sysmemAddrOfRadix3Elf`: DMA address of the level-0 page of the radix3 table.
    pub const RADIX3_ADDR: usize = 16;
    /// `sizeOfRadix3Elf`: size of the image the radix3 table maps.
    pub const RADIX3_SIZE: usize = 24;
    /// `sysmemAddrOfBootloader`.
    pub const BOOTLOADER_ADDR: usize = 32;
    /// `sizeOfBootloader`.
    pub const BOOTLOADER_SIZE: usize = 40;
    /// `bootloaderCodeOffset`.
    pub const BOOTLOADER_CODE_OFFSET: usize = 48;
    /// `bootloaderDataOffset`.
    pub const BOOTLOADER_DATA_OFFSET: usize = 56;
    /// `bootloaderManifestOffset`.
    pub const BOOTLOADER_MANIFEST_OFFSET: usize = 64;
    /// `sysmemAddrOfSignature` (first member of the boot/resume union).
    pub const SIGNATURE_ADDR: usize = 72;
    /// `sizeOfSignature`.
    pub const SIGNATURE_SIZE: usize = 80;
    /// `gspFwRsvdStart`.
    pub const RSVD_START: usize = 88;
    /// `nonWprHeapOffset`.
    pub const NON_WPR_HEAP_OFFSET: usize = 96;
    /// `nonWprHeapSize`.
    pub const NON_WPR_HEAP_SIZE: usize = 104;
    /// `gspFwWprStart`.
    pub const WPR_START: usize = 112;
    /// `gspFwHeapOffset`.
    pub const HEAP_OFFSET: usize = 120;
    /// `gspFwHeapSize`.
    pub const HEAP_SIZE: usize = 128;
    /// `gspFwOffset`: where booter places the image in WPR2.
    pub const FW_OFFSET: usize = 136;
    /// `bootBinOffset`: where booter places the bootloader in WPR2.
    pub const BOOT_BIN_OFFSET: usize = 144;
    /// `frtsOffset`.
    pub const FRTS_OFFSET: usize = 152;
    /// `frtsSize`.
    pub const FRTS_SIZE: usize = 160;
    /// `gspFwWprEnd`.
    pub const WPR_END: usize = 168;
    /// `fbSize`.
    pub const FB_SIZE: usize = 176;
    /// `vgaWorkspaceOffset`.
    pub const VGA_WORKSPACE_OFFSET: usize = 184;
    /// `vgaWorkspaceSize`.
    pub const VGA_WORKSPACE_SIZE: usize = 192;
    /// `bootCount`.
    pub const BOOT_COUNT: usize = 200;
    /// `verified`: booter sets it once the image has been checked.
    pub const VERIFIED: usize = 248;
    /// The value booter stores in `verified` (`GSP_FW_WPR_META_VERIFIED`, `gsp_fw_wpr_meta.h`).
    pub const VERIFIED_MAGIC: u64 = 0xa0a0_a0a0_a0a0_a0a0;
}

/// `LibosMemoryRegionInitArgument` (`src/common/uproc/os/common/include/libos_init_args.h`):
/// one entry of the LibOS argument array whose address the driver puts in MAILBOX0/1.
pub mod libos_arg {
    /// Size of one entry.
    pub const SIZE: usize = 32;
    /// `id8`: the region's name, up to eight characters, last character in the low byte.
    pub const ID8: usize = 0;
    /// `pa`: DMA address of the region.
    pub const PA: usize = 8;
    /// `size`: size of the region in bytes.
    pub const SIZE_OFF: usize = 16;
    /// `kind` (`LibosMemoryRegionKind`).
    pub const KIND: usize = 24;
    /// `loc` (`LibosMemoryRegionLoc`).
    pub const LOC: usize = 25;
    /// `LIBOS_MEMORY_REGION_CONTIGUOUS`.
    pub const KIND_CONTIGUOUS: u8 = 1;
    /// `LIBOS_MEMORY_REGION_RADIX3`.
    pub const KIND_RADIX3: u8 = 2;
    /// `LIBOS_MEMORY_REGION_LOC_SYSMEM`.
    pub const LOC_SYSMEM: u8 = 1;
    /// The driver passes one page of entries (upstream nova-core `gsp.rs`, nouveau
    /// `r535_gsp_libos_init()`); LibOS stops at the first entry whose `id8` is zero.
    pub const MAX_ENTRIES: usize = 0x1000 / SIZE;

    /// Encodes `name` as an `id8` (`LIBOS_MEMORY_REGION_ID8`-style: the last character in the
    /// least significant byte, as nouveau's `r535_gsp_libos_id8()` builds it).
    pub fn id8(name: &str) -> u64 {
        name.bytes().fold(0u64, |acc, b| (acc << 8) | u64::from(b))
    }
}

/// `GSP_ARGUMENTS_CACHED` (`src/nvidia/inc/kernel/gpu/gsp/gsp_init_args.h`): the RMARGS region.
pub mod rmargs {
    /// Size of the structure.
    pub const SIZE: usize = 72;
    /// `messageQueueInitArguments.sharedMemPhysAddr`: DMA address of the PTE array that maps
    /// the shared queue memory (the array is itself the first page of that memory).
    pub const SHARED_MEM_PHYS_ADDR: usize = 0;
    /// `messageQueueInitArguments.pageTableEntryCount`.
    pub const PTE_COUNT: usize = 8;
    /// `messageQueueInitArguments.cmdQueueOffset`: offset of the CPU-to-GSP queue in the
    /// shared memory.
    pub const CMD_QUEUE_OFFSET: usize = 16;
    /// `messageQueueInitArguments.statQueueOffset`: offset of the GSP-to-CPU queue.
    pub const STAT_QUEUE_OFFSET: usize = 24;
    /// `srInitArguments.oldLevel`.
    pub const SR_OLD_LEVEL: usize = 32;
    /// `srInitArguments.flags`.
    pub const SR_FLAGS: usize = 36;
    /// `srInitArguments.bInPMTransition`.
    pub const SR_IN_PM_TRANSITION: usize = 40;
    /// `gpuInstance`.
    pub const GPU_INSTANCE: usize = 44;
    /// `bDmemStack`.
    pub const DMEM_STACK: usize = 48;
    /// `profilerArgs.pa`.
    pub const PROFILER_PA: usize = 56;
    /// `profilerArgs.size`.
    pub const PROFILER_SIZE: usize = 64;
}

/// `msgqTxHeader` and `msgqRxHeader` (`src/common/shared/msgq/inc/msgq/msgq_priv.h`; nouveau
/// `nvkm/subdev/gsp/rm/r535/nvrm/msgq.h` has the same layout).
pub mod msgq {
    /// Size of `msgqTxHeader`.
    pub const TX_HEADER_SIZE: usize = 32;
    /// `version`.
    pub const TX_VERSION: usize = 0;
    /// `size`: size of the whole queue (headers and entries) in bytes.
    pub const TX_SIZE: usize = 4;
    /// `msgSize`: size of one entry.
    pub const TX_MSG_SIZE: usize = 8;
    /// `msgCount`: number of entries.
    pub const TX_MSG_COUNT: usize = 12;
    /// `writePtr`: index of the next entry the writer fills.
    pub const TX_WRITE_PTR: usize = 16;
    /// `flags`.
    pub const TX_FLAGS: usize = 20;
    /// `rxHdrOff`: offset of the `msgqRxHeader` in this queue's memory.
    pub const TX_RX_HDR_OFF: usize = 24;
    /// `entryOff`: offset of the first entry.
    pub const TX_ENTRY_OFF: usize = 28;
    /// `MSGQ_FLAGS_SWAP_RX`: the read pointer of a queue lives in the other side's queue
    /// memory (`message_queue_cpu.c` creates the command queue with it).
    pub const FLAGS_SWAP_RX: u32 = 1;
    /// `msgqRxHeader.readPtr` offset within the rx header.
    pub const RX_READ_PTR: usize = 0;
}

/// `GSP_MSG_QUEUE_ELEMENT` (`src/nvidia/inc/kernel/gpu/gsp/message_queue_priv.h`) followed by
/// `rpc_message_header_v03_00` (`src/nvidia/generated/g_rpc-structures.h`).
pub mod elem {
    /// `GSP_MSG_QUEUE_ELEMENT_HDR_SIZE`: the element header before the RPC header.
    pub const HDR_SIZE: usize = 48;
    /// Size of `rpc_message_header_v`.
    pub const RPC_HDR_SIZE: usize = 32;
    /// Element header and RPC header together: where the RPC's payload starts.
    pub const PAYLOAD_OFF: usize = HDR_SIZE + RPC_HDR_SIZE;
    /// `GSP_MSG_QUEUE_ELEMENT_SIZE_MAX`: the largest element, headers included.
    pub const SIZE_MAX: usize = 0x10000;
    /// `checkSum`.
    pub const CHECKSUM: usize = 32;
    /// `seqNum`.
    pub const SEQ_NUM: usize = 36;
    /// `elemCount`: number of queue entries (pages) the element spans.
    pub const ELEM_COUNT: usize = 40;
    /// `rpc.header_version`.
    pub const RPC_HEADER_VERSION: usize = 48;
    /// `rpc.signature`.
    pub const RPC_SIGNATURE: usize = 52;
    /// `rpc.length`: RPC header plus payload, in bytes.
    pub const RPC_LENGTH: usize = 56;
    /// `rpc.function`.
    pub const RPC_FUNCTION: usize = 60;
    /// `rpc.rpc_result`.
    pub const RPC_RESULT: usize = 64;
    /// `rpc.rpc_result_private`.
    pub const RPC_RESULT_PRIVATE: usize = 68;
    /// `rpc.sequence`.
    pub const RPC_SEQUENCE: usize = 72;
    /// `NV_VGPU_MSG_SIGNATURE_VALID`, "VRPC" (`src/nvidia/kernel/inc/vgpu/rpc_global_enums.h`).
    pub const SIGNATURE_VALID: u32 = 0x4350_5256;
    /// `RPC_HEADER_VERSION` 3.0 as `header_version` encodes it (major in bits 31:24, minor in
    /// 23:16; `g_rpc-structures.h`, upstream nova-core `fw.rs` `MsgHeaderVersion`).
    pub const HEADER_VERSION: u32 = 0x0300_0000;
}

/// `NV_VGPU_MSG_FUNCTION_*` and `NV_VGPU_MSG_EVENT_*`
/// (`src/nvidia/kernel/inc/vgpu/rpc_global_enums.h`).
pub mod function {
    /// `NV_VGPU_MSG_FUNCTION_NOP`.
    pub const NOP: u32 = 0;
    /// `NV_VGPU_MSG_FUNCTION_FREE`.
    pub const FREE: u32 = 10;
    /// `NV_VGPU_MSG_FUNCTION_GSP_RM_CONTROL`.
    pub const GSP_RM_CONTROL: u32 = 76;
    /// `NV_VGPU_MSG_FUNCTION_GSP_RM_ALLOC`.
    pub const GSP_RM_ALLOC: u32 = 103;
    /// `NV_VGPU_MSG_FUNCTION_UNLOADING_GUEST_DRIVER`.
    pub const UNLOADING_GUEST_DRIVER: u32 = 47;
    /// `NV_VGPU_MSG_FUNCTION_GET_GSP_STATIC_INFO`.
    pub const GET_GSP_STATIC_INFO: u32 = 65;
    /// `NV_VGPU_MSG_FUNCTION_CONTINUATION_RECORD`.
    pub const CONTINUATION_RECORD: u32 = 71;
    /// `NV_VGPU_MSG_FUNCTION_GSP_SET_SYSTEM_INFO`.
    pub const GSP_SET_SYSTEM_INFO: u32 = 72;
    /// `NV_VGPU_MSG_FUNCTION_SET_REGISTRY`.
    pub const SET_REGISTRY: u32 = 73;
    /// `NV_VGPU_MSG_FUNCTION_NUM_FUNCTIONS`: function numbers below this exist in r570.144.
    pub const NUM_FUNCTIONS: u32 = 227;
    /// `NV_VGPU_MSG_EVENT_GSP_INIT_DONE`.
    pub const EVENT_GSP_INIT_DONE: u32 = 0x1001;
    /// `NV_VGPU_MSG_EVENT_GSP_RUN_CPU_SEQUENCER`.
    pub const EVENT_GSP_RUN_CPU_SEQUENCER: u32 = 0x1002;
    /// `NV_VGPU_MSG_EVENT_UCODE_LIBOS_PRINT`.
    pub const EVENT_UCODE_LIBOS_PRINT: u32 = 0x100c;
}

/// NVIDIA status codes (`src/common/sdk/nvidia/inc/nvstatuscodes.h`).
pub mod status {
    /// `NV_OK`.
    pub const OK: u32 = 0;
    /// `NV_ERR_NOT_SUPPORTED`.
    pub const NOT_SUPPORTED: u32 = 0x56;
    /// `NV_ERR_INVALID_ARGUMENT`.
    pub const INVALID_ARGUMENT: u32 = 0x1f;
    /// `NV_ERR_GENERIC`.
    pub const GENERIC: u32 = 0xffff;
}

/// `GspSystemInfo` (`src/nvidia/inc/kernel/gpu/gsp/gsp_static_config.h`), the payload of
/// `GSP_SET_SYSTEM_INFO`.
pub mod system_info {
    /// Size of the structure.
    pub const SIZE: usize = 928;
    /// `gpuPhysAddr`: BAR0's bus address.
    pub const GPU_PHYS_ADDR: usize = 0;
    /// `gpuPhysFbAddr`: BAR1's bus address.
    pub const GPU_PHYS_FB_ADDR: usize = 8;
    /// `gpuPhysInstAddr`: BAR2/3's bus address.
    pub const GPU_PHYS_INST_ADDR: usize = 16;
    /// `nvDomainBusDeviceFunc`.
    pub const DOMAIN_BUS_DEVICE_FUNC: usize = 32;
    /// `maxUserVa`.
    pub const MAX_USER_VA: usize = 72;
    /// `pciConfigMirrorBase`.
    pub const PCI_CONFIG_MIRROR_BASE: usize = 80;
    /// `pciConfigMirrorSize`.
    pub const PCI_CONFIG_MIRROR_SIZE: usize = 84;
    /// `PCIDeviceID`: device id in bits 31:16, vendor id in 15:0.
    pub const PCI_DEVICE_ID: usize = 88;
    /// `PCISubDeviceID`: subsystem id in bits 31:16, subsystem vendor in 15:0.
    pub const PCI_SUB_DEVICE_ID: usize = 92;
    /// `PCIRevisionID`.
    pub const PCI_REVISION_ID: usize = 96;
}

/// `PACKED_REGISTRY_TABLE` and `PACKED_REGISTRY_ENTRY` (`src/nvidia/inc/kernel/gpu/gsp/
/// gsp_registry.h`), the payload of `SET_REGISTRY`.
pub mod registry {
    /// Size of the table header (`size`, `numEntries`).
    pub const TABLE_HDR_SIZE: usize = 8;
    /// `size`: the whole table in bytes, strings included.
    pub const TABLE_SIZE: usize = 0;
    /// `numEntries`.
    pub const TABLE_NUM_ENTRIES: usize = 4;
    /// Size of one entry.
    pub const ENTRY_SIZE: usize = 16;
    /// `nameOffset`: offset of the NUL-terminated key from the start of the table.
    pub const ENTRY_NAME_OFFSET: usize = 0;
    /// `type`.
    pub const ENTRY_TYPE: usize = 4;
    /// `data`.
    pub const ENTRY_DATA: usize = 8;
    /// `length`.
    pub const ENTRY_LENGTH: usize = 12;
    /// `REGISTRY_TABLE_ENTRY_TYPE_DWORD`.
    pub const TYPE_DWORD: u8 = 1;
    /// `REGISTRY_TABLE_ENTRY_TYPE_BINARY`.
    pub const TYPE_BINARY: u8 = 2;
    /// `REGISTRY_TABLE_ENTRY_TYPE_STRING`.
    pub const TYPE_STRING: u8 = 3;
}

/// `rpc_run_cpu_sequencer_v17_00` (`g_rpc-structures.h`) and the sequencer buffer commands
/// (`src/nvidia/arch/nvalloc/common/inc/rmgspseq.h`).
pub mod sequencer {
    /// Size of the fixed part (`bufferSizeDWord`, `cmdIndex`, `regSaveArea[8]`).
    pub const HDR_SIZE: usize = 40;
    /// `bufferSizeDWord`: capacity of `commandBuffer` in 32-bit words.
    pub const BUFFER_SIZE_DWORD: usize = 0;
    /// `cmdIndex`: number of 32-bit words used in `commandBuffer`.
    pub const CMD_INDEX: usize = 4;
    /// `GSP_SEQ_BUF_OPCODE_REG_WRITE` (payload: addr, val).
    pub const OP_REG_WRITE: u32 = 0;
    /// `GSP_SEQ_BUF_OPCODE_REG_MODIFY` (payload: addr, mask, val).
    pub const OP_REG_MODIFY: u32 = 1;
    /// `GSP_SEQ_BUF_OPCODE_REG_POLL` (payload: addr, mask, val, timeout, error).
    pub const OP_REG_POLL: u32 = 2;
    /// `GSP_SEQ_BUF_OPCODE_DELAY_US` (payload: val).
    pub const OP_DELAY_US: u32 = 3;
    /// `GSP_SEQ_BUF_OPCODE_REG_STORE` (payload: addr, index).
    pub const OP_REG_STORE: u32 = 4;
}

/// `GspStaticConfigInfo_t` (`src/nvidia/inc/kernel/gpu/gsp/gsp_static_config.h`), the reply
/// payload of `GET_GSP_STATIC_INFO`; FB regions are `NV2080_CTRL_CMD_FB_GET_FB_REGION_INFO_PARAMS`
/// (`src/common/sdk/nvidia/inc/ctrl/ctrl2080/ctrl2080fb.h`).
pub mod static_info {
    /// Size of the structure.
    pub const SIZE: usize = 1656;
    /// `fbRegionInfoParams.numFBRegions`.
    pub const NUM_FB_REGIONS: usize = 344;
    /// `fbRegionInfoParams.fbRegion[0]`.
    pub const FB_REGIONS: usize = 352;
    /// Capacity of `fbRegion`.
    pub const MAX_FB_REGIONS: usize = 16;
    /// Size of one `NV2080_CTRL_CMD_FB_GET_FB_REGION_FB_REGION_INFO`.
    pub const FB_REGION_SIZE: usize = 48;
    /// `base` within a region.
    pub const REGION_BASE: usize = 0;
    /// `limit` (inclusive) within a region.
    pub const REGION_LIMIT: usize = 8;
    /// `reserved` within a region.
    pub const REGION_RESERVED: usize = 16;
    /// `performance` within a region.
    pub const REGION_PERFORMANCE: usize = 24;
    /// `supportCompressed` within a region.
    pub const REGION_SUPPORT_COMPRESSED: usize = 28;
    /// `supportISO` within a region.
    pub const REGION_SUPPORT_ISO: usize = 29;
    /// `bProtected` within a region.
    pub const REGION_PROTECTED: usize = 30;
    /// `fb_length`.
    pub const FB_LENGTH: usize = 1224;
    /// `fb_bus_width`.
    pub const FB_BUS_WIDTH: usize = 1240;
    /// `fb_ram_type`.
    pub const FB_RAM_TYPE: usize = 1244;
    /// `l2_cache_size`.
    pub const L2_CACHE_SIZE: usize = 1256;
    /// `gpuNameString[64]`.
    pub const GPU_NAME: usize = 1260;
    /// `gpuShortNameString[64]`.
    pub const GPU_SHORT_NAME: usize = 1324;
    /// `gpuNameString_Unicode[64]` (UTF-16).
    pub const GPU_NAME_UNICODE: usize = 1388;
    /// Length of the name arrays, in characters.
    pub const NAME_LEN: usize = 64;
    /// `bVbiosValid`.
    pub const VBIOS_VALID: usize = 1552;
    /// `vbiosSubVendor`.
    pub const VBIOS_SUB_VENDOR: usize = 1556;
    /// `vbiosSubDevice`.
    pub const VBIOS_SUB_DEVICE: usize = 1560;
    /// `bar1PdeBase`.
    pub const BAR1_PDE_BASE: usize = 1536;
    /// `bar2PdeBase`.
    pub const BAR2_PDE_BASE: usize = 1544;
    /// `hInternalClient`.
    pub const H_INTERNAL_CLIENT: usize = 1600;
    /// `hInternalDevice`.
    pub const H_INTERNAL_DEVICE: usize = 1604;
    /// `hInternalSubdevice`.
    pub const H_INTERNAL_SUBDEVICE: usize = 1608;
    /// `fwWprLayoutOffset.nonWprHeapOffset`.
    pub const WPR_LAYOUT_NON_WPR_HEAP: usize = 1640;
    /// `fwWprLayoutOffset.frtsOffset`.
    pub const WPR_LAYOUT_FRTS: usize = 1648;
}

/// `rpc_gsp_rm_alloc_v03_00` (`g_rpc-structures.h`): the fixed part before the class's
/// parameters.
pub mod rm_alloc {
    /// Size of the fixed part.
    pub const SIZE: usize = 32;
    /// `hClient`.
    pub const H_CLIENT: usize = 0;
    /// `hParent`.
    pub const H_PARENT: usize = 4;
    /// `hObject`.
    pub const H_OBJECT: usize = 8;
    /// `hClass`.
    pub const H_CLASS: usize = 12;
    /// `status`.
    pub const STATUS: usize = 16;
    /// `paramsSize`.
    pub const PARAMS_SIZE: usize = 20;
}

/// `rpc_gsp_rm_control_v03_00` (`g_rpc-structures.h`): the fixed part before the control's
/// parameters.
pub mod rm_control {
    /// Size of the fixed part.
    pub const SIZE: usize = 24;
    /// `hClient`.
    pub const H_CLIENT: usize = 0;
    /// `hObject`.
    pub const H_OBJECT: usize = 4;
    /// `cmd`.
    pub const CMD: usize = 8;
    /// `status`.
    pub const STATUS: usize = 12;
    /// `paramsSize`.
    pub const PARAMS_SIZE: usize = 16;
    /// `NV2080_CTRL_CMD_GPU_GET_NAME_STRING` (`ctrl/ctrl2080/ctrl2080gpu.h`).
    pub const NV2080_CTRL_CMD_GPU_GET_NAME_STRING: u32 = 0x2080_0110;
    /// Size of `NV2080_CTRL_GPU_GET_NAME_STRING_PARAMS`: `gpuNameStringFlags`, then a union of
    /// 64 ASCII bytes and 64 UTF-16 characters.
    pub const NAME_STRING_PARAMS_SIZE: usize = 4 + 128;
    /// `NV2080_CTRL_GPU_GET_NAME_STRING_FLAGS_TYPE_UNICODE`.
    pub const NAME_STRING_UNICODE: u32 = 1;

    /// `NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE` (`ctrl/ctrl2080/ctrl2080fifo.h`).
    pub const NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE: u32 = 0x2080_1112;
    /// `NV2080_CTRL_FIFO_GET_DEVICE_INFO_TABLE_MAX_ENTRIES`.
    pub const DEVICE_INFO_MAX_ENTRIES: usize = 32;
    /// `NV2080_CTRL_FIFO_GET_DEVICE_INFO_TABLE_MAX_DEVICES`.
    pub const DEVICE_INFO_MAX_DEVICES: usize = 256;
    /// Size of `NV2080_CTRL_FIFO_DEVICE_ENTRY`: `engineData[16]`, `pbdmaIds[2]`,
    /// `pbdmaFaultIds[2]`, `numPbdmas`, `engineName[16]`.
    pub const DEVICE_ENTRY_SIZE: usize = 16 * 4 + 2 * 4 + 2 * 4 + 4 + 16;
    /// Offset of `pbdmaIds` in an entry.
    pub const DEVICE_ENTRY_PBDMA_IDS: usize = 64;
    /// Offset of `numPbdmas` in an entry.
    pub const DEVICE_ENTRY_NUM_PBDMAS: usize = 80;
    /// `ENGINE_INFO_TYPE_RM_ENGINE_TYPE`, an index into `engineData`
    /// (`src/nvidia/inc/kernel/gpu/fifo/engine_info.h`).
    pub const ENGINE_INFO_TYPE_RM_ENGINE_TYPE: usize = 2;
    /// `ENGINE_INFO_TYPE_RUNLIST`.
    pub const ENGINE_INFO_TYPE_RUNLIST: usize = 3;
    /// `ENGINE_INFO_TYPE_INSTANCE_ID`.
    pub const ENGINE_INFO_TYPE_INSTANCE_ID: usize = 10;
    /// `NV2080_CTRL_FIFO_GET_DEVICE_INFO_TABLE_PARAMS`: `baseIndex`, `numEntries`, `bMore`
    /// (an `NvBool`, then three bytes of padding), then `entries[32]`.
    pub const DEVICE_INFO_BASE_INDEX: usize = 0;
    /// `numEntries`.
    pub const DEVICE_INFO_NUM_ENTRIES: usize = 4;
    /// `bMore`.
    pub const DEVICE_INFO_MORE: usize = 8;
    /// `entries`.
    pub const DEVICE_INFO_ENTRIES: usize = 12;
    /// Size of the parameters.
    pub const DEVICE_INFO_PARAMS_SIZE: usize =
        DEVICE_INFO_ENTRIES + DEVICE_INFO_MAX_ENTRIES * DEVICE_ENTRY_SIZE;

    /// `NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2` (`ctrl/ctrl0080/ctrl0080gpu.h`), on a device.
    pub const NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2: u32 = 0x0080_0292;
    /// `NV0080_CTRL_GPU_CLASSLIST_MAX_SIZE`.
    pub const CLASSLIST_MAX_SIZE: usize = 100;
    /// Size of `NV0080_CTRL_GPU_GET_CLASSLIST_V2_PARAMS`: `numClasses`, `classList[100]`.
    pub const CLASSLIST_V2_PARAMS_SIZE: usize = 4 + 4 * CLASSLIST_MAX_SIZE;

    /// `NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO` (`ctrl/ctrl2080/ctrl2080gpu.h`).
    pub const NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO: u32 = 0x2080_0137;
    /// Size of `NV2080_CTRL_GPU_GET_FERMI_GPC_INFO_PARAMS`: `gpcMask`.
    pub const GPC_INFO_PARAMS_SIZE: usize = 4;
    /// `NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO`.
    pub const NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO: u32 = 0x2080_0138;
    /// Size of `NV2080_CTRL_GPU_GET_FERMI_TPC_INFO_PARAMS`: `gpcId`, `tpcMask`.
    pub const TPC_INFO_PARAMS_SIZE: usize = 8;
    /// `NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE` (`ctrl/ctrl2080/ctrl2080internal.h`):
    /// the interrupt vectors kernel RM services. An `INTERNAL` control: only GSP-RM's own
    /// client may send it (Open RM `rmapiControl` in `rmapi/control.c` answers
    /// `NV_ERR_NOT_SUPPORTED` to anyone else).
    pub const NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE: u32 = 0x2080_0a5c;
    /// `NV2080_CTRL_INTERNAL_INTR_MAX_TABLE_SIZE`.
    pub const INTR_TABLE_MAX: usize = 128;
    /// `NV2080_CTRL_INTERNAL_INTR_GET_KERNEL_TABLE_ENTRY`: `NvU16 engineIdx` (then 2 bytes of
    /// padding), `NvU32 pmcIntrMask`, `NvU32 vectorStall`, `NvU32 vectorNonStall`.
    pub const INTR_ENTRY_SIZE: usize = 16;
    /// `NV2080_INTR_CATEGORY_ENUM_COUNT`: entries of `subtreeMap` (`NvU8 subtreeStart, subtreeEnd`).
    pub const INTR_CATEGORIES: usize = 7;
    /// Size of `NV2080_CTRL_INTERNAL_INTR_GET_KERNEL_TABLE_PARAMS`: `tableLen`, the table,
    /// `subtreeMap`, padded to the structure's 4-byte alignment.
    pub const INTR_TABLE_PARAMS_SIZE: usize =
        (4 + INTR_TABLE_MAX * INTR_ENTRY_SIZE + 2 * INTR_CATEGORIES).next_multiple_of(4);
    /// Offset of `subtreeMap`.
    pub const INTR_SUBTREE_MAP: usize = 4 + INTR_TABLE_MAX * INTR_ENTRY_SIZE;
    /// `NV2080_INTR_INVALID_SUBTREE`.
    pub const INTR_INVALID_SUBTREE: u8 = 0xff;
    /// `NV_INTR_VECTOR_INVALID` (`dev_ctrl_defines.h`).
    pub const INTR_VECTOR_INVALID: u32 = u32::MAX;
    /// `MC_ENGINE_IDX_TMR` (`kernel/gpu/intr/engine_idx.h`, 570.144).
    pub const MC_ENGINE_IDX_TMR: u16 = 1;
    /// `MC_ENGINE_IDX_GSP` (570.144; it is 49 in r535).
    pub const MC_ENGINE_IDX_GSP: u16 = 50;
}

/// `rpc_free_v03_00`, `NVOS00_PARAMETERS_v03_00` (`g_rpc-structures.h`, `g_sdk-structures.h`).
pub mod rm_free {
    /// Size of the structure.
    pub const SIZE: usize = 16;
    /// `hRoot`: the client.
    pub const H_ROOT: usize = 0;
    /// `hObjectParent`.
    pub const H_OBJECT_PARENT: usize = 4;
    /// `hObjectOld`: the object to free.
    pub const H_OBJECT_OLD: usize = 8;
    /// `status`.
    pub const STATUS: usize = 12;
}

/// `rpc_unloading_guest_driver_v1F_07` (`g_rpc-structures.h`).
pub mod unloading {
    /// Size of the structure.
    pub const SIZE: usize = 8;
    /// `bInPMTransition`.
    pub const IN_PM_TRANSITION: usize = 0;
    /// `bGc6Entering`.
    pub const GC6_ENTERING: usize = 1;
    /// `newLevel` (`NV2080_CTRL_GPU_SET_POWER_STATE_GPU_LEVEL_*`: 0, 3 or 7).
    pub const NEW_LEVEL: usize = 4;
}

/// `rpc_ucode_libos_print_v1E_08` (`g_rpc-structures.h`): `ucodeEngDesc`, `libosPrintBufSize`,
/// then the text.
pub mod libos_print {
    /// Size of the fixed part.
    pub const HDR_SIZE: usize = 8;
}

/// `LIBOS_INTERRUPT_PROCESSOR_SUSPENDED`: bit 31 of the GSP's MAILBOX0 says GSP-RM has
/// suspended (upstream nova-core `gsp/boot.rs` `shutdown_gsp()` waits for it; nouveau
/// `r535_gsp_fini()` likewise).
pub const MAILBOX0_SUSPENDED: u32 = 1 << 31;

/// Reads a little-endian `u32` at `off`, if `buf` is long enough.
pub fn get_u32(buf: &[u8], off: usize) -> Option<u32> {
    let end = off.checked_add(4)?;
    let bytes: [u8; 4] = buf.get(off..end)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

/// Reads a little-endian `u64` at `off`, if `buf` is long enough.
pub fn get_u64(buf: &[u8], off: usize) -> Option<u64> {
    let end = off.checked_add(8)?;
    let bytes: [u8; 8] = buf.get(off..end)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// Writes `v` little-endian at `off`; returns `false` if `buf` is too short.
pub fn put_u32(buf: &mut [u8], off: usize, v: u32) -> bool {
    put_bytes(buf, off, &v.to_le_bytes())
}

/// Writes `v` little-endian at `off`; returns `false` if `buf` is too short.
pub fn put_u64(buf: &mut [u8], off: usize, v: u64) -> bool {
    put_bytes(buf, off, &v.to_le_bytes())
}

/// Copies `data` to `off`; returns `false` if `buf` is too short.
pub fn put_bytes(buf: &mut [u8], off: usize, data: &[u8]) -> bool {
    match off
        .checked_add(data.len())
        .and_then(|end| buf.get_mut(off..end))
    {
        Some(dst) => {
            dst.copy_from_slice(data);
            true
        }
        None => false,
    }
}

/// The queue element checksum (`_checkSum32()`, `message_queue_cpu.c`): the bytes are
/// XOR-folded as little-endian 64-bit words (a short tail is zero-padded) and the two halves
/// of the result XORed together. A well-formed element, checksum field included, sums to 0.
pub fn checksum(bytes: &[u8]) -> u32 {
    let mut acc = 0u64;
    for chunk in bytes.chunks(8) {
        let mut word = [0u8; 8];
        // `chunks(8)` never yields more than eight bytes.
        for (dst, src) in word.iter_mut().zip(chunk) {
            *dst = *src;
        }
        acc ^= u64::from_le_bytes(word);
    }
    ((acc >> 32) as u32) ^ (acc as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id8_puts_the_last_character_in_the_low_byte() {
        let v = libos_arg::id8("RMARGS");
        assert_eq!(v.to_le_bytes(), *b"SGRAMR\0\0");
        assert_eq!(libos_arg::id8("LOGINIT") & 0xff, u64::from(b'T'));
    }

    #[test]
    fn checksum_of_a_sealed_buffer_is_zero() {
        let mut buf: Vec<u8> = (0..203u32).map(|i| (i * 7 + 3) as u8).collect();
        assert!(put_u32(&mut buf, elem::CHECKSUM, 0));
        let sum = checksum(&buf);
        assert_ne!(sum, 0);
        assert!(put_u32(&mut buf, elem::CHECKSUM, sum));
        assert_eq!(checksum(&buf), 0);
        buf[150] ^= 0x10;
        assert_ne!(checksum(&buf), 0);
    }

    #[test]
    fn accessors_refuse_short_buffers() {
        let mut buf = [0u8; 6];
        assert_eq!(get_u32(&buf, 2), Some(0));
        assert_eq!(get_u32(&buf, 3), None);
        assert_eq!(get_u64(&buf, 0), None);
        assert!(!put_u32(&mut buf, usize::MAX - 1, 1));
        assert!(put_u32(&mut buf, 2, 0x0403_0201));
        assert_eq!(buf, [0, 0, 1, 2, 3, 4]);
    }
}
