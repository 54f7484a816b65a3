// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The classes and engines GSP-RM offers on each chip the model boots: what
//! `NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2` and `NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE`
//! answer.
//!
//! # Sources
//!
//! * The class lists are open-gpu-kernel-modules 570.144
//!   `src/nvidia/generated/g_gpu_class_list.c`: `gpuGetClassDescriptorList_GA102()` to
//!   `_GA107()` are identical, as are `_AD102()` to `_AD107()`; `_TU102()` to `_TU116()` offer
//!   the same classes on different engines (TU104 and TU106 have more NVDECs), `_TU117()` has
//!   the NVB4B7 video encoder in place of NVC4B7, and `_GA100()` is a compute chip without
//!   display, with eight GR and ten CE instances. Each class appears there once per
//!   engine instance that offers it (`HALGA102_NUM_CLASSES` 59 descriptors); the lists below
//!   hold each class once, in the descriptors' order. The class numbers are the `#define`s of
//!   `src/common/sdk/nvidia/inc/class/cl*.h` (`AMPERE_B` 0xc797 in `clc797.h`, `ADA_A` 0xc997
//!   in `clc997.h`, ...).
//! * The engines are the host-driven engine instances those descriptors name (`ENG_GR(0)`,
//!   `ENG_CE(0)` to `ENG_CE(4)`, `ENG_NVDEC(n)`, `ENG_NVENC(n)`, `ENG_NVJPEG(n)`, `ENG_OFA(0)`),
//!   each reported with its `RM_ENGINE_TYPE_*` (`src/nvidia/inc/kernel/gpu/gpu_engine_type.h`),
//!   which is what GSP-RM puts in `engineData[ENGINE_INFO_TYPE_RM_ENGINE_TYPE]` and what
//!   nouveau's `r535_fifo_xlat_rm_engine_type()` decodes.
//! * Model choices: every engine the HAL lists is present (real GSP-RM leaves out engines a
//!   board has fused off); each engine has a runlist of its own, numbered in table order, and
//!   one PBDMA of the same number; the other `engineData` fields and `engineName` are zero.

/// `RM_ENGINE_TYPE_GR0`.
pub const RM_ENGINE_TYPE_GR0: u32 = 0x01;
/// `RM_ENGINE_TYPE_COPY0`; `COPYn` is `COPY0 + n`.
pub const RM_ENGINE_TYPE_COPY0: u32 = 0x09;
/// `RM_ENGINE_TYPE_NVDEC0`; `NVDECn` is `NVDEC0 + n`.
pub const RM_ENGINE_TYPE_NVDEC0: u32 = 0x1d;
/// `RM_ENGINE_TYPE_NVENC0`; `NVENCn` is `NVENC0 + n` up to `NVENC2`.
pub const RM_ENGINE_TYPE_NVENC0: u32 = 0x25;
/// `RM_ENGINE_TYPE_NVJPEG0`; `NVJPEGn` is `NVJPEG0 + n`.
pub const RM_ENGINE_TYPE_NVJPEG0: u32 = 0x36;
/// `RM_ENGINE_TYPE_OFA0`.
pub const RM_ENGINE_TYPE_OFA0: u32 = 0x3e;

/// What GSP-RM offers on one family of chips.
#[derive(Debug, PartialEq, Eq)]
pub struct Offer {
    /// Each class once: number and name.
    pub classes: &'static [(u32, &'static str)],
    /// The engines, as `RM_ENGINE_TYPE_*`, in device-info-table order.
    pub engines: &'static [u32],
}

/// `halGA102ClassDescriptorList`'s classes, once each, in its order.
const GA10X_CLASSES: &[(u32, &str)] = &[
    (0xc365, "ACCESS_COUNTER_NOTIFY_BUFFER"),
    (0xc797, "AMPERE_B"),
    (0xc56f, "AMPERE_CHANNEL_GPFIFO_A"),
    (0xc7c0, "AMPERE_COMPUTE_B"),
    (0xc7b5, "AMPERE_DMA_COPY_B"),
    (0xc561, "AMPERE_USERMODE_A"),
    (0x9067, "FERMI_CONTEXT_SHARE_A"),
    (0x902d, "FERMI_TWOD_A"),
    (0x90f1, "FERMI_VASPACE_A"),
    (0x844c, "G84_PERFBUFFER"),
    (0x9072, "GF100_DISP_SW"),
    (0x90ec, "GF100_HDACODEC"),
    (0x90e7, "GF100_SUBDEVICE_INFOROM"),
    (0x90e6, "GF100_SUBDEVICE_MASTER"),
    (0x9074, "GF100_TIMED_SEMAPHORE_SW"),
    (0x9096, "GF100_ZBC_CLEAR"),
    (0xc076, "GP100_UVM_SW"),
    (0xa06c, "KEPLER_CHANNEL_GROUP_A"),
    (0xa080, "KEPLER_DEVICE_VGPU"),
    (0xa140, "KEPLER_INLINE_TO_MEMORY_B"),
    (0xc369, "MMU_FAULT_BUFFER"),
    (0x0060, "NV0060_SYNC_GPU_BOOST"),
    (0x0040, "NV01_MEMORY_LOCAL_USER"),
    (0x0070, "NV01_MEMORY_VIRTUAL"),
    (0x0073, "NV04_DISPLAY_COMMON"),
    (0x007d, "NV04_SOFTWARE_TEST"),
    (0x5080, "NV50_DEFERRED_API_CLASS"),
    (0x50a0, "NV50_MEMORY_VIRTUAL"),
    (0x503b, "NV50_P2P"),
    (0x503c, "NV50_THIRD_PARTY_P2P"),
    (0xa081, "NVA081_VGPU_CONFIG"),
    (0xa084, "NVA084_KERNEL_HOST_VGPU_DEVICE"),
    (0xc372, "NVC372_DISPLAY_SW"),
    (0xc670, "NVC670_DISPLAY"),
    (0xc671, "NVC671_DISP_SF_USER"),
    (0xc673, "NVC673_DISP_CAPABILITIES"),
    (0xc67a, "NVC67A_CURSOR_IMM_CHANNEL_PIO"),
    (0xc67b, "NVC67B_WINDOW_IMM_CHANNEL_DMA"),
    (0xc67d, "NVC67D_CORE_CHANNEL_DMA"),
    (0xc67e, "NVC67E_WINDOW_CHANNEL_DMA"),
    (0xc77f, "NVC77F_ANY_CHANNEL_DMA"),
    (0xc7b0, "NVC7B0_VIDEO_DECODER"),
    (0xc7b7, "NVC7B7_VIDEO_ENCODER"),
    (0xc7fa, "NVC7FA_VIDEO_OFA"),
    (0xcb33, "NV_CONFIDENTIAL_COMPUTE"),
    (0x00de, "RM_USER_SHARED_DATA"),
    (0xc46f, "TURING_CHANNEL_GPFIFO_A"),
    (0xc461, "TURING_USERMODE_A"),
    (0xc36f, "VOLTA_CHANNEL_GPFIFO_A"),
    (0xc361, "VOLTA_USERMODE_A"),
];

/// `halAD102ClassDescriptorList`'s classes, once each, in its order.
const AD10X_CLASSES: &[(u32, &str)] = &[
    (0xc365, "ACCESS_COUNTER_NOTIFY_BUFFER"),
    (0xc997, "ADA_A"),
    (0xc9c0, "ADA_COMPUTE_A"),
    (0xc56f, "AMPERE_CHANNEL_GPFIFO_A"),
    (0xc7b5, "AMPERE_DMA_COPY_B"),
    (0xc561, "AMPERE_USERMODE_A"),
    (0x9067, "FERMI_CONTEXT_SHARE_A"),
    (0x902d, "FERMI_TWOD_A"),
    (0x90f1, "FERMI_VASPACE_A"),
    (0x844c, "G84_PERFBUFFER"),
    (0x9072, "GF100_DISP_SW"),
    (0x90ec, "GF100_HDACODEC"),
    (0x90e7, "GF100_SUBDEVICE_INFOROM"),
    (0x90e6, "GF100_SUBDEVICE_MASTER"),
    (0x9074, "GF100_TIMED_SEMAPHORE_SW"),
    (0x9096, "GF100_ZBC_CLEAR"),
    (0xc076, "GP100_UVM_SW"),
    (0xa06c, "KEPLER_CHANNEL_GROUP_A"),
    (0xa080, "KEPLER_DEVICE_VGPU"),
    (0xa140, "KEPLER_INLINE_TO_MEMORY_B"),
    (0xc369, "MMU_FAULT_BUFFER"),
    (0x0060, "NV0060_SYNC_GPU_BOOST"),
    (0x0040, "NV01_MEMORY_LOCAL_USER"),
    (0x0070, "NV01_MEMORY_VIRTUAL"),
    (0x0073, "NV04_DISPLAY_COMMON"),
    (0x007d, "NV04_SOFTWARE_TEST"),
    (0x5080, "NV50_DEFERRED_API_CLASS"),
    (0x50a0, "NV50_MEMORY_VIRTUAL"),
    (0x503b, "NV50_P2P"),
    (0x503c, "NV50_THIRD_PARTY_P2P"),
    (0xa081, "NVA081_VGPU_CONFIG"),
    (0xa084, "NVA084_KERNEL_HOST_VGPU_DEVICE"),
    (0xc372, "NVC372_DISPLAY_SW"),
    (0xc67a, "NVC67A_CURSOR_IMM_CHANNEL_PIO"),
    (0xc67b, "NVC67B_WINDOW_IMM_CHANNEL_DMA"),
    (0xc67e, "NVC67E_WINDOW_CHANNEL_DMA"),
    (0xc770, "NVC770_DISPLAY"),
    (0xc771, "NVC771_DISP_SF_USER"),
    (0xc773, "NVC773_DISP_CAPABILITIES"),
    (0xc77d, "NVC77D_CORE_CHANNEL_DMA"),
    (0xc77f, "NVC77F_ANY_CHANNEL_DMA"),
    (0xc9b0, "NVC9B0_VIDEO_DECODER"),
    (0xc9b7, "NVC9B7_VIDEO_ENCODER"),
    (0xc9d1, "NVC9D1_VIDEO_NVJPG"),
    (0xc9fa, "NVC9FA_VIDEO_OFA"),
    (0xcb33, "NV_CONFIDENTIAL_COMPUTE"),
    (0x00de, "RM_USER_SHARED_DATA"),
    (0xc46f, "TURING_CHANNEL_GPFIFO_A"),
    (0xc461, "TURING_USERMODE_A"),
    (0xc36f, "VOLTA_CHANNEL_GPFIFO_A"),
    (0xc361, "VOLTA_USERMODE_A"),
];

/// `ENG_GR(0)`, `ENG_CE(0..=4)`, `ENG_NVDEC(0..=1)`, `ENG_NVENC(0)`, `ENG_OFA(0)`.
const GA10X_ENGINES: &[u32] = &[
    RM_ENGINE_TYPE_GR0,
    RM_ENGINE_TYPE_COPY0,
    RM_ENGINE_TYPE_COPY0 + 1,
    RM_ENGINE_TYPE_COPY0 + 2,
    RM_ENGINE_TYPE_COPY0 + 3,
    RM_ENGINE_TYPE_COPY0 + 4,
    RM_ENGINE_TYPE_NVDEC0,
    RM_ENGINE_TYPE_NVDEC0 + 1,
    RM_ENGINE_TYPE_NVENC0,
    RM_ENGINE_TYPE_OFA0,
];

/// `ENG_GR(0)`, `ENG_CE(0..=4)`, `ENG_NVDEC(0..=3)`, `ENG_NVENC(0..=2)`, `ENG_NVJPEG(0..=3)`,
/// `ENG_OFA(0)`.
const AD10X_ENGINES: &[u32] = &[
    RM_ENGINE_TYPE_GR0,
    RM_ENGINE_TYPE_COPY0,
    RM_ENGINE_TYPE_COPY0 + 1,
    RM_ENGINE_TYPE_COPY0 + 2,
    RM_ENGINE_TYPE_COPY0 + 3,
    RM_ENGINE_TYPE_COPY0 + 4,
    RM_ENGINE_TYPE_NVDEC0,
    RM_ENGINE_TYPE_NVDEC0 + 1,
    RM_ENGINE_TYPE_NVDEC0 + 2,
    RM_ENGINE_TYPE_NVDEC0 + 3,
    RM_ENGINE_TYPE_NVENC0,
    RM_ENGINE_TYPE_NVENC0 + 1,
    RM_ENGINE_TYPE_NVENC0 + 2,
    RM_ENGINE_TYPE_NVJPEG0,
    RM_ENGINE_TYPE_NVJPEG0 + 1,
    RM_ENGINE_TYPE_NVJPEG0 + 2,
    RM_ENGINE_TYPE_NVJPEG0 + 3,
    RM_ENGINE_TYPE_OFA0,
];

/// `halTU102ClassDescriptorList`'s classes, once each, in its order.
const TU10X_CLASSES: &[(u32, &str)] = &[
    (0xc365, "ACCESS_COUNTER_NOTIFY_BUFFER"),
    (0x9067, "FERMI_CONTEXT_SHARE_A"),
    (0x902d, "FERMI_TWOD_A"),
    (0x90f1, "FERMI_VASPACE_A"),
    (0x844c, "G84_PERFBUFFER"),
    (0x9072, "GF100_DISP_SW"),
    (0x90ec, "GF100_HDACODEC"),
    (0x90e7, "GF100_SUBDEVICE_INFOROM"),
    (0x90e6, "GF100_SUBDEVICE_MASTER"),
    (0x9074, "GF100_TIMED_SEMAPHORE_SW"),
    (0x9096, "GF100_ZBC_CLEAR"),
    (0xc076, "GP100_UVM_SW"),
    (0xa06c, "KEPLER_CHANNEL_GROUP_A"),
    (0xa080, "KEPLER_DEVICE_VGPU"),
    (0xa140, "KEPLER_INLINE_TO_MEMORY_B"),
    (0xc369, "MMU_FAULT_BUFFER"),
    (0x0060, "NV0060_SYNC_GPU_BOOST"),
    (0x0040, "NV01_MEMORY_LOCAL_USER"),
    (0x0070, "NV01_MEMORY_VIRTUAL"),
    (0x0073, "NV04_DISPLAY_COMMON"),
    (0x007d, "NV04_SOFTWARE_TEST"),
    (0x5080, "NV50_DEFERRED_API_CLASS"),
    (0x50a0, "NV50_MEMORY_VIRTUAL"),
    (0x503b, "NV50_P2P"),
    (0x503c, "NV50_THIRD_PARTY_P2P"),
    (0xa081, "NVA081_VGPU_CONFIG"),
    (0xa084, "NVA084_KERNEL_HOST_VGPU_DEVICE"),
    (0xc371, "NVC371_DISP_SF_USER"),
    (0xc372, "NVC372_DISPLAY_SW"),
    (0xc4b0, "NVC4B0_VIDEO_DECODER"),
    (0xc4b7, "NVC4B7_VIDEO_ENCODER"),
    (0xc570, "NVC570_DISPLAY"),
    (0xc573, "NVC573_DISP_CAPABILITIES"),
    (0xc57a, "NVC57A_CURSOR_IMM_CHANNEL_PIO"),
    (0xc57b, "NVC57B_WINDOW_IMM_CHANNEL_DMA"),
    (0xc57d, "NVC57D_CORE_CHANNEL_DMA"),
    (0xc57e, "NVC57E_WINDOW_CHANNEL_DMA"),
    (0x00de, "RM_USER_SHARED_DATA"),
    (0xc597, "TURING_A"),
    (0xc46f, "TURING_CHANNEL_GPFIFO_A"),
    (0xc5c0, "TURING_COMPUTE_A"),
    (0xc5b5, "TURING_DMA_COPY_A"),
    (0xc461, "TURING_USERMODE_A"),
    (0xc36f, "VOLTA_CHANNEL_GPFIFO_A"),
    (0xc361, "VOLTA_USERMODE_A"),
];

/// `halTU117ClassDescriptorList`'s classes, once each, in its order.
const TU117_CLASSES: &[(u32, &str)] = &[
    (0xc365, "ACCESS_COUNTER_NOTIFY_BUFFER"),
    (0x9067, "FERMI_CONTEXT_SHARE_A"),
    (0x902d, "FERMI_TWOD_A"),
    (0x90f1, "FERMI_VASPACE_A"),
    (0x844c, "G84_PERFBUFFER"),
    (0x9072, "GF100_DISP_SW"),
    (0x90ec, "GF100_HDACODEC"),
    (0x90e7, "GF100_SUBDEVICE_INFOROM"),
    (0x90e6, "GF100_SUBDEVICE_MASTER"),
    (0x9074, "GF100_TIMED_SEMAPHORE_SW"),
    (0x9096, "GF100_ZBC_CLEAR"),
    (0xc076, "GP100_UVM_SW"),
    (0xa06c, "KEPLER_CHANNEL_GROUP_A"),
    (0xa080, "KEPLER_DEVICE_VGPU"),
    (0xa140, "KEPLER_INLINE_TO_MEMORY_B"),
    (0xc369, "MMU_FAULT_BUFFER"),
    (0x0060, "NV0060_SYNC_GPU_BOOST"),
    (0x0040, "NV01_MEMORY_LOCAL_USER"),
    (0x0070, "NV01_MEMORY_VIRTUAL"),
    (0x0073, "NV04_DISPLAY_COMMON"),
    (0x007d, "NV04_SOFTWARE_TEST"),
    (0x5080, "NV50_DEFERRED_API_CLASS"),
    (0x50a0, "NV50_MEMORY_VIRTUAL"),
    (0x503b, "NV50_P2P"),
    (0x503c, "NV50_THIRD_PARTY_P2P"),
    (0xa081, "NVA081_VGPU_CONFIG"),
    (0xa084, "NVA084_KERNEL_HOST_VGPU_DEVICE"),
    (0xb4b7, "NVB4B7_VIDEO_ENCODER"),
    (0xc371, "NVC371_DISP_SF_USER"),
    (0xc372, "NVC372_DISPLAY_SW"),
    (0xc4b0, "NVC4B0_VIDEO_DECODER"),
    (0xc570, "NVC570_DISPLAY"),
    (0xc573, "NVC573_DISP_CAPABILITIES"),
    (0xc57a, "NVC57A_CURSOR_IMM_CHANNEL_PIO"),
    (0xc57b, "NVC57B_WINDOW_IMM_CHANNEL_DMA"),
    (0xc57d, "NVC57D_CORE_CHANNEL_DMA"),
    (0xc57e, "NVC57E_WINDOW_CHANNEL_DMA"),
    (0x00de, "RM_USER_SHARED_DATA"),
    (0xc597, "TURING_A"),
    (0xc46f, "TURING_CHANNEL_GPFIFO_A"),
    (0xc5c0, "TURING_COMPUTE_A"),
    (0xc5b5, "TURING_DMA_COPY_A"),
    (0xc461, "TURING_USERMODE_A"),
    (0xc36f, "VOLTA_CHANNEL_GPFIFO_A"),
    (0xc361, "VOLTA_USERMODE_A"),
];

/// `halGA100ClassDescriptorList`'s classes, once each, in its order.
const GA100_CLASSES: &[(u32, &str)] = &[
    (0xc365, "ACCESS_COUNTER_NOTIFY_BUFFER"),
    (0xc697, "AMPERE_A"),
    (0xc56f, "AMPERE_CHANNEL_GPFIFO_A"),
    (0xc6c0, "AMPERE_COMPUTE_A"),
    (0xc6b5, "AMPERE_DMA_COPY_A"),
    (0xc561, "AMPERE_USERMODE_A"),
    (0x9067, "FERMI_CONTEXT_SHARE_A"),
    (0x902d, "FERMI_TWOD_A"),
    (0x90f1, "FERMI_VASPACE_A"),
    (0x844c, "G84_PERFBUFFER"),
    (0x90e7, "GF100_SUBDEVICE_INFOROM"),
    (0x90e6, "GF100_SUBDEVICE_MASTER"),
    (0x9074, "GF100_TIMED_SEMAPHORE_SW"),
    (0x9096, "GF100_ZBC_CLEAR"),
    (0xc076, "GP100_UVM_SW"),
    (0xa06c, "KEPLER_CHANNEL_GROUP_A"),
    (0xa080, "KEPLER_DEVICE_VGPU"),
    (0xa140, "KEPLER_INLINE_TO_MEMORY_B"),
    (0xc369, "MMU_FAULT_BUFFER"),
    (0x0060, "NV0060_SYNC_GPU_BOOST"),
    (0x0040, "NV01_MEMORY_LOCAL_USER"),
    (0x0070, "NV01_MEMORY_VIRTUAL"),
    (0x007d, "NV04_SOFTWARE_TEST"),
    (0x5080, "NV50_DEFERRED_API_CLASS"),
    (0x50a0, "NV50_MEMORY_VIRTUAL"),
    (0x503b, "NV50_P2P"),
    (0x503c, "NV50_THIRD_PARTY_P2P"),
    (0xa081, "NVA081_VGPU_CONFIG"),
    (0xa084, "NVA084_KERNEL_HOST_VGPU_DEVICE"),
    (0xc4d1, "NVC4D1_VIDEO_NVJPG"),
    (0xc6b0, "NVC6B0_VIDEO_DECODER"),
    (0xc6fa, "NVC6FA_VIDEO_OFA"),
    (0xcb33, "NV_CONFIDENTIAL_COMPUTE"),
    (0x00de, "RM_USER_SHARED_DATA"),
    (0xc46f, "TURING_CHANNEL_GPFIFO_A"),
    (0xc461, "TURING_USERMODE_A"),
    (0xc36f, "VOLTA_CHANNEL_GPFIFO_A"),
    (0xc361, "VOLTA_USERMODE_A"),
];

/// The engines `halTU102ClassDescriptorList` names, in its order.
const TU102_ENGINES: &[u32] = &[
    RM_ENGINE_TYPE_GR0,
    RM_ENGINE_TYPE_NVDEC0,
    RM_ENGINE_TYPE_NVENC0,
    RM_ENGINE_TYPE_COPY0,
    RM_ENGINE_TYPE_COPY0 + 1,
    RM_ENGINE_TYPE_COPY0 + 2,
    RM_ENGINE_TYPE_COPY0 + 3,
    RM_ENGINE_TYPE_COPY0 + 4,
];

/// The engines `halTU104ClassDescriptorList` names, in its order.
const TU104_ENGINES: &[u32] = &[
    RM_ENGINE_TYPE_GR0,
    RM_ENGINE_TYPE_NVDEC0,
    RM_ENGINE_TYPE_NVDEC0 + 1,
    RM_ENGINE_TYPE_NVENC0,
    RM_ENGINE_TYPE_COPY0,
    RM_ENGINE_TYPE_COPY0 + 1,
    RM_ENGINE_TYPE_COPY0 + 2,
    RM_ENGINE_TYPE_COPY0 + 3,
    RM_ENGINE_TYPE_COPY0 + 4,
];

/// The engines `halTU106ClassDescriptorList` names, in its order.
const TU106_ENGINES: &[u32] = &[
    RM_ENGINE_TYPE_GR0,
    RM_ENGINE_TYPE_NVDEC0,
    RM_ENGINE_TYPE_NVDEC0 + 1,
    RM_ENGINE_TYPE_NVDEC0 + 2,
    RM_ENGINE_TYPE_NVENC0,
    RM_ENGINE_TYPE_COPY0,
    RM_ENGINE_TYPE_COPY0 + 1,
    RM_ENGINE_TYPE_COPY0 + 2,
    RM_ENGINE_TYPE_COPY0 + 3,
    RM_ENGINE_TYPE_COPY0 + 4,
];

/// The engines `halTU116ClassDescriptorList` names, in its order.
const TU116_ENGINES: &[u32] = &[
    RM_ENGINE_TYPE_GR0,
    RM_ENGINE_TYPE_NVDEC0,
    RM_ENGINE_TYPE_NVENC0,
    RM_ENGINE_TYPE_COPY0,
    RM_ENGINE_TYPE_COPY0 + 1,
    RM_ENGINE_TYPE_COPY0 + 2,
    RM_ENGINE_TYPE_COPY0 + 3,
    RM_ENGINE_TYPE_COPY0 + 4,
];

/// The engines `halTU117ClassDescriptorList` names, in its order.
const TU117_ENGINES: &[u32] = &[
    RM_ENGINE_TYPE_GR0,
    RM_ENGINE_TYPE_NVENC0,
    RM_ENGINE_TYPE_NVDEC0,
    RM_ENGINE_TYPE_COPY0,
    RM_ENGINE_TYPE_COPY0 + 1,
    RM_ENGINE_TYPE_COPY0 + 2,
    RM_ENGINE_TYPE_COPY0 + 3,
    RM_ENGINE_TYPE_COPY0 + 4,
];

/// The engines `halGA100ClassDescriptorList` names, in its order.
const GA100_ENGINES: &[u32] = &[
    RM_ENGINE_TYPE_GR0,
    RM_ENGINE_TYPE_GR0 + 1,
    RM_ENGINE_TYPE_GR0 + 2,
    RM_ENGINE_TYPE_GR0 + 3,
    RM_ENGINE_TYPE_GR0 + 4,
    RM_ENGINE_TYPE_GR0 + 5,
    RM_ENGINE_TYPE_GR0 + 6,
    RM_ENGINE_TYPE_GR0 + 7,
    RM_ENGINE_TYPE_COPY0,
    RM_ENGINE_TYPE_COPY0 + 1,
    RM_ENGINE_TYPE_COPY0 + 2,
    RM_ENGINE_TYPE_COPY0 + 3,
    RM_ENGINE_TYPE_COPY0 + 4,
    RM_ENGINE_TYPE_COPY0 + 5,
    RM_ENGINE_TYPE_COPY0 + 6,
    RM_ENGINE_TYPE_COPY0 + 7,
    RM_ENGINE_TYPE_COPY0 + 8,
    RM_ENGINE_TYPE_COPY0 + 9,
    RM_ENGINE_TYPE_NVJPEG0,
    RM_ENGINE_TYPE_NVDEC0,
    RM_ENGINE_TYPE_NVDEC0 + 1,
    RM_ENGINE_TYPE_NVDEC0 + 2,
    RM_ENGINE_TYPE_NVDEC0 + 3,
    RM_ENGINE_TYPE_NVDEC0 + 4,
    RM_ENGINE_TYPE_OFA0,
];

/// TU102.
pub const TU102: Offer = Offer {
    classes: TU10X_CLASSES,
    engines: TU102_ENGINES,
};

/// TU104.
pub const TU104: Offer = Offer {
    classes: TU10X_CLASSES,
    engines: TU104_ENGINES,
};

/// TU106.
pub const TU106: Offer = Offer {
    classes: TU10X_CLASSES,
    engines: TU106_ENGINES,
};

/// TU116.
pub const TU116: Offer = Offer {
    classes: TU10X_CLASSES,
    engines: TU116_ENGINES,
};

/// TU117.
pub const TU117: Offer = Offer {
    classes: TU117_CLASSES,
    engines: TU117_ENGINES,
};

/// GA100.
pub const GA100: Offer = Offer {
    classes: GA100_CLASSES,
    engines: GA100_ENGINES,
};

/// GA102 to GA107.
pub const GA10X: Offer = Offer {
    classes: GA10X_CLASSES,
    engines: GA10X_ENGINES,
};

/// AD102 to AD107.
pub const AD10X: Offer = Offer {
    classes: AD10X_CLASSES,
    engines: AD10X_ENGINES,
};

/// What GSP-RM offers on chip `chip` (a profile's name), if the model boots it.
pub fn offer(chip: &str) -> Option<&'static Offer> {
    let chip = chip.to_ascii_lowercase();
    match chip.as_str() {
        "tu102" => Some(&TU102),
        "tu104" => Some(&TU104),
        "tu106" => Some(&TU106),
        "tu116" => Some(&TU116),
        "tu117" => Some(&TU117),
        "ga100" => Some(&GA100),
        "ga102" | "ga103" | "ga104" | "ga106" | "ga107" => Some(&GA10X),
        "ad102" | "ad103" | "ad104" | "ad106" | "ad107" => Some(&AD10X),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(o: &Offer, class: u32) -> bool {
        o.classes.iter().any(|&(c, _)| c == class)
    }

    #[test]
    fn every_profile_has_an_offer() {
        for p in super::super::profile::PROFILES {
            assert!(offer(p.chip).is_some(), "{}", p.chip);
        }
        assert!(offer("gh100").is_none());
    }

    #[test]
    fn the_lists_are_open_rms() {
        // Unique classes: 50 of GA102's 59 descriptors, 51 of AD102's 62.
        assert_eq!(GA10X.classes.len(), 50);
        assert_eq!(AD10X.classes.len(), 51);
        for o in [&GA10X, &AD10X] {
            for (i, &(c, n)) in o.classes.iter().enumerate() {
                assert!(o.classes[i + 1..].iter().all(|&(d, _)| d != c), "{n} twice");
            }
            // Fits NV0080_CTRL_GPU_CLASSLIST_MAX_SIZE.
            assert!(o.classes.len() <= 100);
            // The channel, copy and user-mode classes both families share.
            for c in [0xc56f, 0xc7b5, 0xc561, 0xa06c, 0x902d, 0xa140] {
                assert!(has(o, c), "{c:#x}");
            }
            assert_eq!(o.engines[0], RM_ENGINE_TYPE_GR0);
            assert_eq!(
                o.engines
                    .iter()
                    .filter(|&&e| (RM_ENGINE_TYPE_COPY0..RM_ENGINE_TYPE_COPY0 + 20).contains(&e))
                    .count(),
                5
            );
        }
        // AMPERE_B and AMPERE_COMPUTE_B on GA10x; ADA_A and ADA_COMPUTE_A on AD10x.
        assert!(has(&GA10X, 0xc797) && has(&GA10X, 0xc7c0) && !has(&GA10X, 0xc997));
        assert!(has(&AD10X, 0xc997) && has(&AD10X, 0xc9c0) && !has(&AD10X, 0xc797));
        assert_eq!(GA10X.engines.len(), 10);
        // 570.144's unique classes per Turing and GA100 list, and their engines.
        for o in [&TU102, &TU104, &TU106, &TU116, &TU117, &GA100] {
            assert_eq!(o.classes.len(), if o == &GA100 { 38 } else { 45 });
            assert_eq!(o.engines[0], RM_ENGINE_TYPE_GR0);
            for (i, &(c, n)) in o.classes.iter().enumerate() {
                assert!(o.classes[i + 1..].iter().all(|&(d, _)| d != c), "{n} twice");
            }
        }
        assert!(has(&TU102, 0xc597) && has(&TU102, 0xc5c0) && has(&TU102, 0xc5b5));
        assert!(has(&GA100, 0xc697) && has(&GA100, 0xc6c0) && !has(&GA100, 0xc570));
        assert_eq!(
            [
                TU102.engines.len(),
                TU104.engines.len(),
                TU106.engines.len()
            ],
            [8, 9, 10]
        );
        assert_eq!(GA100.engines.len(), 25);
        assert_eq!(AD10X.engines.len(), 18);
    }
}
