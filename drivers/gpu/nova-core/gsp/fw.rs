// SPDX-License-Identifier: GPL-2.0

//! The GSP-RM firmware ABI, behind a version-neutral interface.
//!
//! GSP-RM changes the layout of its structures from release to release. Each supported release
//! has one module (`r570_144`) holding its layouts and implementing [`GspAbi`]; this module
//! defines the version-neutral values the rest of the driver works with and the [`Abi`] selector,
//! chosen at run time from the version string in the `gsp` image. Adding a release means adding
//! a sibling module and one line in the table of releases; no caller changes.

use kernel::{
    prelude::*,
    transmute::{AsBytes, FromBytes},
};

mod r570_144;

use r570_144 as v570;

/// A range of FB (VRAM) addresses, in bytes from the start of FB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FbRange {
    /// First byte.
    pub(crate) start: u64,
    /// Size in bytes.
    pub(crate) size: u64,
}

impl FbRange {
    /// Returns the first byte past the range, or `None` if that overflows.
    pub(crate) fn end(&self) -> Option<u64> {
        self.start.checked_add(self.size)
    }
}

/// Where the GSP bootloader and GSP-RM place their parts in FB.
///
/// This is an input: the FB code computes it from the chip's FB size and the VBIOS, and the GSP
/// code only transcribes it into [`WprMetaParams`]. Names follow `GspFwWprMeta`
/// (`gsp_fw_wpr_meta.h`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FbLayout {
    /// Total FB size.
    pub(crate) fb_size: u64,
    /// The VGA workspace at the top of FB.
    pub(crate) vga_workspace: FbRange,
    /// The FRTS region written by FWSEC.
    pub(crate) frts: FbRange,
    /// Where the bootloader is copied within WPR2.
    pub(crate) boot_bin: FbRange,
    /// Where the GSP-RM ELF image is copied within WPR2.
    pub(crate) elf: FbRange,
    /// GSP-RM's heap within WPR2.
    pub(crate) wpr2_heap: FbRange,
    /// The whole WPR2 region.
    pub(crate) wpr2: FbRange,
    /// The heap below WPR2 that GSP-RM uses outside the protected region.
    pub(crate) non_wpr_heap: FbRange,
    /// Memory reserved for the PMU (0 on chips without one).
    pub(crate) pmu_reserved_size: u32,
}

impl FbLayout {
    /// Checks the ordering GSP-RM expects: non-WPR heap, then WPR2 holding (in order) the heap,
    /// the ELF image, the bootloader and FRTS, all below the VGA workspace and inside FB.
    pub(crate) fn validate(&self) -> Result {
        let end = |r: &FbRange| r.end().ok_or(EOVERFLOW);
        let wpr2_end = end(&self.wpr2)?;
        let ordered = end(&self.non_wpr_heap)? <= self.wpr2.start
            && self.wpr2.start <= self.wpr2_heap.start
            && end(&self.wpr2_heap)? <= self.elf.start
            && end(&self.elf)? <= self.boot_bin.start
            && end(&self.boot_bin)? <= self.frts.start
            && end(&self.frts)? <= wpr2_end
            && wpr2_end <= self.vga_workspace.start
            && end(&self.vga_workspace)? <= self.fb_size;
        if ordered {
            Ok(())
        } else {
            Err(EINVAL)
        }
    }
}

/// Everything `GspFwWprMeta` describes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WprMetaParams {
    /// DMA address of level 0 of the radix-3 page table that maps the GSP-RM image.
    pub(crate) radix3_addr: u64,
    /// Size of the GSP-RM image (`.fwimage`) in bytes.
    pub(crate) image_size: u64,
    /// DMA address of the bootloader's payload.
    pub(crate) bootloader_addr: u64,
    /// Size of the bootloader's payload.
    pub(crate) bootloader_size: u64,
    /// Offset of the bootloader's code within its payload.
    pub(crate) bootloader_code_offset: u64,
    /// Offset of the bootloader's data within its payload.
    pub(crate) bootloader_data_offset: u64,
    /// Offset of the bootloader's manifest within its payload.
    pub(crate) bootloader_manifest_offset: u64,
    /// DMA address of the chip family's signature of the image.
    pub(crate) signature_addr: u64,
    /// Size of the signature.
    pub(crate) signature_size: u64,
    /// The FB layout.
    pub(crate) fb: FbLayout,
}

/// One memory region LibOS maps at start-up (`LibosMemoryRegionInitArgument`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LibosRegion {
    /// The region's name, at most eight ASCII characters ("LOGINIT", "RMARGS").
    pub(crate) name: &'static str,
    /// DMA address of the (physically contiguous) region.
    pub(crate) addr: u64,
    /// Size in bytes.
    pub(crate) size: u64,
}

/// Where the message queues are (`MESSAGE_QUEUE_INIT_ARGUMENTS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MsgqInitParams {
    /// DMA address of the shared area (its first page is its own page table).
    pub(crate) shared_mem_addr: u64,
    /// Number of page table entries, i.e. of 4 KiB pages in the shared area.
    pub(crate) pte_count: u32,
    /// Offset of the command queue in the shared area.
    pub(crate) cmd_queue_offset: u64,
    /// Offset of the status (message) queue in the shared area.
    pub(crate) stat_queue_offset: u64,
}

/// The host's view of the GPU, sent with `GSP_SET_SYSTEM_INFO`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SystemInfo {
    /// Bus address of BAR0 (registers).
    pub(crate) bar0_addr: u64,
    /// Bus address of BAR1 (FB aperture).
    pub(crate) bar1_addr: u64,
    /// Bus address of BAR3 (instance memory aperture; PCI resource 3).
    pub(crate) bar3_addr: u64,
    /// PCI bus/device/function number (`PCI_DEVID`).
    pub(crate) bus_device_function: u64,
    /// PCI vendor ID.
    pub(crate) vendor_id: u16,
    /// PCI device ID.
    pub(crate) device_id: u16,
    /// PCI subsystem vendor ID.
    pub(crate) subsystem_vendor_id: u16,
    /// PCI subsystem ID.
    pub(crate) subsystem_id: u16,
    /// PCI revision ID.
    pub(crate) revision_id: u8,
    /// BAR0 offset of the mirror of PCI configuration space.
    pub(crate) config_mirror_base: u32,
    /// Size of that mirror.
    pub(crate) config_mirror_size: u32,
    /// Highest user-space virtual address plus one (`TASK_SIZE`).
    pub(crate) max_user_va: u64,
    /// The CPU's page size.
    pub(crate) host_page_size: u64,
    /// Whether this GPU is the boot display device.
    pub(crate) is_primary: bool,
}

/// Parameters of `UNLOADING_GUEST_DRIVER`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct UnloadParams {
    /// Whether the unload is a power-management transition (suspend) rather than a removal.
    pub(crate) in_pm_transition: bool,
    /// Whether the GPU enters GC6.
    pub(crate) gc6_entering: bool,
    /// The power level being entered (`NV2080_CTRL_GPU_SET_POWER_STATE_GPU_LEVEL_*`).
    pub(crate) new_level: u32,
}

/// One FB region GSP-RM reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FbRegion {
    /// First byte.
    pub(crate) base: u64,
    /// Last byte.
    pub(crate) limit: u64,
    /// Bytes reserved by GSP-RM within the region.
    pub(crate) reserved: u64,
    /// Relative performance of the region.
    pub(crate) performance: u32,
    /// Whether compressible surfaces may be placed here.
    pub(crate) compressible: bool,
    /// Whether isochronous (display) surfaces may be placed here.
    pub(crate) iso: bool,
    /// Whether the region is protected.
    pub(crate) protected: bool,
}

/// The maximum number of FB regions GSP-RM reports.
/// The most FB regions nova keeps from GSP-RM's static information; each release checks
/// that its own table fits.
pub(crate) const MAX_FB_REGIONS: usize = 16;

/// What nova uses of the reply to `GET_GSP_STATIC_INFO`.
#[derive(Clone, Debug)]
pub(crate) struct StaticInfo {
    /// The marketing name of the GPU, NUL-padded.
    pub(crate) name: [u8; 64],
    /// The VRAM size in bytes.
    pub(crate) vram_size: u64,
    /// The FB regions; the first `fb_region_count` are valid.
    pub(crate) fb_regions: [FbRegion; MAX_FB_REGIONS],
    /// How many of `fb_regions` are valid.
    pub(crate) fb_region_count: usize,
    /// The top page directory of BAR1 (`bar1PdeBase`).
    pub(crate) bar1_pde_base: u64,
    /// The top page directory of BAR2 (`bar2PdeBase`).
    pub(crate) bar2_pde_base: u64,
    /// GSP-RM's own client, device and subdevice.
    pub(crate) internal: InternalHandles,
}

impl StaticInfo {
    /// Returns the GPU name up to its first NUL, or `"?"` if it is not UTF-8.
    pub(crate) fn name(&self) -> &str {
        let len = self
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.name.len());
        self.name
            .get(..len)
            .and_then(|s| core::str::from_utf8(s).ok())
            .unwrap_or("?")
    }

    /// Returns the valid FB regions.
    pub(crate) fn fb_regions(&self) -> &[FbRegion] {
        self.fb_regions.get(..self.fb_region_count).unwrap_or(&[])
    }
}

/// A channel recovery GSP-RM performed (`RC_TRIGGERED`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RcTriggered {
    /// The engine (`NV2080_ENGINE_TYPE_*`).
    pub(crate) engine_type: u32,
    /// The channel.
    pub(crate) chid: u32,
    /// The exception (Xid).
    pub(crate) except_type: u32,
    /// The exception level.
    pub(crate) except_level: u32,
    /// The faulting address, for MMU faults.
    pub(crate) mmu_fault_addr: u64,
}

/// An error report from GSP-RM (`OS_ERROR_LOG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OsErrorLog {
    /// The exception (Xid).
    pub(crate) xid: u32,
    /// The channel.
    pub(crate) chid: u32,
    /// The message, NUL-terminated.
    pub(crate) text: [u8; 256],
}

/// An event notification for a client (`POST_EVENT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PostEvent {
    /// The client handle.
    pub(crate) client: u32,
    /// The event object's handle.
    pub(crate) event: u32,
    /// The notifier index.
    pub(crate) notify_index: u32,
    /// The status.
    pub(crate) status: u32,
    /// The size of the event data that follows.
    pub(crate) data_size: u32,
}

/// A request nova sends to GSP-RM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Function {
    /// `GSP_SET_SYSTEM_INFO`.
    SetSystemInfo,
    /// `SET_REGISTRY`.
    SetRegistry,
    /// `GET_GSP_STATIC_INFO`.
    GetGspStaticInfo,
    /// `UNLOADING_GUEST_DRIVER`.
    UnloadingGuestDriver,
    /// `CONTINUATION_RECORD`: the continuation of a request too large for one queue element.
    ContinuationRecord,
    /// `GSP_RM_ALLOC`: allocate an RM object.
    RmAlloc,
    /// `GSP_RM_CONTROL`: run a control on an RM object.
    RmControl,
    /// `FREE`: free an RM object and its descendants.
    Free,
}

impl Function {
    /// Returns the name NVIDIA gives the function, for log lines.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::SetSystemInfo => "GSP_SET_SYSTEM_INFO",
            Self::SetRegistry => "SET_REGISTRY",
            Self::GetGspStaticInfo => "GET_GSP_STATIC_INFO",
            Self::UnloadingGuestDriver => "UNLOADING_GUEST_DRIVER",
            Self::ContinuationRecord => "CONTINUATION_RECORD",
            Self::RmAlloc => "GSP_RM_ALLOC",
            Self::RmControl => "GSP_RM_CONTROL",
            Self::Free => "FREE",
        }
    }
}

/// An RM class nova allocates objects of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RmClass {
    /// `NV01_ROOT`: a client.
    Root,
    /// `NV01_DEVICE_0`: a device, under a client.
    Device,
    /// `NV20_SUBDEVICE_0`: a subdevice, under a device.
    Subdevice,
}

impl RmClass {
    /// Returns the class's name, for log lines.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Root => "NV01_ROOT",
            Self::Device => "NV01_DEVICE_0",
            Self::Subdevice => "NV20_SUBDEVICE_0",
        }
    }
}

/// An RM control nova runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RmControlCmd {
    /// `NV2080_CTRL_CMD_GPU_GET_NAME_STRING`, on a subdevice.
    GpuGetNameString,
    /// `NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE`, on a subdevice.
    FifoGetDeviceInfoTable,
    /// `NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2`, on a device.
    GpuGetClasslistV2,
    /// `NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO`, on a subdevice.
    GpuGetFermiGpcInfo,
    /// `NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO`, on a subdevice.
    GpuGetFermiTpcInfo,
    /// `NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE`, on GSP-RM's internal subdevice: the
    /// interrupt vectors the kernel driver services.
    InternalIntrGetKernelTable,
}

impl RmControlCmd {
    /// Returns the control's name, for log lines.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::GpuGetNameString => "NV2080_CTRL_CMD_GPU_GET_NAME_STRING",
            Self::FifoGetDeviceInfoTable => "NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE",
            Self::GpuGetClasslistV2 => "NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2",
            Self::GpuGetFermiGpcInfo => "NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO",
            Self::GpuGetFermiTpcInfo => "NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO",
            Self::InternalIntrGetKernelTable => "NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE",
        }
    }
}

/// The most entries one page of the device info table holds in any release nova speaks.
pub(crate) const DEVICE_INFO_PAGE: usize = 32;
/// The most classes a class list holds in any release nova speaks.
pub(crate) const MAX_CLASSES: usize = crate::interface::MAX_CLASSES;

/// One engine of the device info table (`NV2080_CTRL_FIFO_DEVICE_ENTRY`), in nova's terms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DeviceEngine {
    /// The kind of engine and its instance among engines of its kind, decoded from the
    /// release's engine type; `None` for an engine type nova does not know.
    pub(crate) engine: Option<(crate::interface::EngineKind, u32)>,
    /// The release's own engine type, as reported.
    pub(crate) raw_type: u32,
    /// The runlist the engine is served by.
    pub(crate) runlist: u32,
}

/// One page of the device info table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeviceInfoPage {
    /// The entries; the first `count` are valid.
    pub(crate) entries: [DeviceEngine; DEVICE_INFO_PAGE],
    /// How many of `entries` are valid (checked against the array).
    pub(crate) count: usize,
    /// Whether entries follow on the next page (`bMore`).
    pub(crate) more: bool,
}

/// The classes a device offers (`NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClassList {
    /// The class numbers; the first `count` are valid.
    pub(crate) classes: [u32; MAX_CLASSES],
    /// How many of `classes` are valid (checked against the release's array and this one).
    pub(crate) count: usize,
}

/// The header of a message queue (`msgqTxHeader`), as its producer writes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct QueueHeader {
    /// Size of the queue in bytes, headers included.
    pub(crate) size: u32,
    /// Size of one slot.
    pub(crate) msg_size: u32,
    /// Number of slots.
    pub(crate) msg_count: u32,
    /// The producer's write pointer (a slot index).
    pub(crate) write_ptr: u32,
    /// Offset of the consumer's read pointer (in the other side's queue).
    pub(crate) rx_hdr_off: u32,
    /// Offset of the first slot.
    pub(crate) entry_off: u32,
}

/// Offset of the first slot of a queue (`entryOff`).
pub(crate) const QUEUE_ENTRY_OFFSET: usize = v570::MSGQ_ENTRY_OFFSET;
/// Offset of the `msgqRxHeader` in a queue (`rxHdrOff`).
pub(crate) const QUEUE_RX_HDR_OFFSET: usize = v570::MSGQ_RX_HDR_OFFSET;
/// The largest queue element, headers included (`GSP_MSG_QUEUE_ELEMENT_SIZE_MAX`).
pub(crate) const ELEMENT_SIZE_MAX: usize = v570::MSGQ_ELEMENT_SIZE_MAX;

/// The handles of RM objects GSP-RM allocated for itself and reports in its static
/// information: internal controls go to them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct InternalHandles {
    /// `hInternalClient`.
    pub(crate) client: u32,
    /// `hInternalDevice`.
    pub(crate) device: u32,
    /// `hInternalSubdevice`.
    pub(crate) subdevice: u32,
}

/// The fixed part of a `GSP_RM_ALLOC` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RmAllocHeader {
    /// The client the object belongs to.
    pub(crate) client: u32,
    /// The parent object (the client itself for a device).
    pub(crate) parent: u32,
    /// The new object's handle.
    pub(crate) object: u32,
    /// The class.
    pub(crate) class: RmClass,
    /// Size of the class's parameters that follow.
    pub(crate) params_size: u32,
}

/// A message GSP-RM sends on its own (not a reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// `GSP_INIT_DONE`: GSP-RM finished initialising.
    InitDone,
    /// `GSP_RUN_CPU_SEQUENCER`: GSP-RM asks the CPU to run a register sequence.
    RunCpuSequencer,
    /// `POST_EVENT`: an event notification for a client.
    PostEvent,
    /// `RC_TRIGGERED`: a channel recovery.
    RcTriggered,
    /// `MMU_FAULT_QUEUED`: a replayable MMU fault was queued.
    MmuFaultQueued,
    /// `OS_ERROR_LOG`: an error (Xid) report.
    OsErrorLog,
    /// `UCODE_LIBOS_PRINT`: text printed by a LibOS task.
    LibosPrint,
}

/// The framing of one queue element, as read back from memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ElementHeader {
    /// The checksum field.
    pub(crate) checksum: u32,
    /// The sequence number.
    pub(crate) seq: u32,
    /// How many 4 KiB queue slots the element occupies.
    pub(crate) elem_count: u32,
    /// The RPC's function (request) or event number.
    pub(crate) function: u32,
    /// The RPC's length, its own header included.
    pub(crate) rpc_length: u32,
    /// The RPC's result (`NV_OK` is 0).
    pub(crate) rpc_result: u32,
    /// The RPC's sequence number: a reply carries its request's.
    pub(crate) rpc_sequence: u32,
}

/// One sequencer operation (`GSP_SEQ_BUF_OPCODE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SeqOp {
    /// Write `val` to register `addr`.
    RegWrite {
        /// Register offset in BAR0.
        addr: u32,
        /// Value.
        val: u32,
    },
    /// Read-modify-write: clear `mask` in register `addr`, then set `val & mask`.
    RegModify {
        /// Register offset in BAR0.
        addr: u32,
        /// Bits to change.
        mask: u32,
        /// New value of those bits.
        val: u32,
    },
    /// Poll until `reg(addr) & mask == val`, for at most `timeout_us`.
    RegPoll {
        /// Register offset in BAR0.
        addr: u32,
        /// Bits compared.
        mask: u32,
        /// Expected value.
        val: u32,
        /// Timeout in microseconds.
        timeout_us: u32,
        /// Error code GSP-RM attaches to a timeout.
        error: u32,
    },
    /// Wait `0` microseconds.
    DelayUs(u32),
    /// Save register `addr` into the sequencer's save area slot `index`.
    RegStore {
        /// Register offset in BAR0.
        addr: u32,
        /// Save area slot.
        index: u32,
    },
    /// Reset the GSP falcon core.
    CoreReset,
    /// Start the GSP falcon core.
    CoreStart,
    /// Wait for the GSP falcon core to halt.
    CoreWaitForHalt,
    /// Resume the GSP falcon core (after a suspend).
    CoreResume,
}

/// Why a message from GSP-RM could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The payload is shorter than its fixed part.
    Short,
    /// A length inside the payload points past its end.
    BadLength,
    /// A sequencer opcode nova does not know.
    UnknownOpcode(u32),
    /// A count in the payload is larger than the array it counts.
    TooMany,
}

impl From<DecodeError> for Error {
    fn from(_: DecodeError) -> Error {
        EIO
    }
}

/// Packs up to eight ASCII characters into the `id8` tag LibOS names regions by: the first
/// character in the most significant used byte (`libos_init_args.h`; nouveau's
/// `r535_gsp_libos_id8`).
pub(crate) fn id8(name: &str) -> u64 {
    name.bytes()
        .take(8)
        .fold(0u64, |id, c| (id << 8) | u64::from(c))
}

/// Reads a `T` from the start of `bytes`, or `Short`.
fn read<T: FromBytes>(bytes: &[u8]) -> Result<T, DecodeError> {
    T::from_bytes_copy_prefix(bytes)
        .map(|(v, _)| v)
        .ok_or(DecodeError::Short)
}

/// Writes the bytes of `v` at the start of `buf` and returns the rest of `buf`, or `EINVAL`
/// if `v` does not fit.
fn put<'a, T: AsBytes>(buf: &'a mut [u8], v: &T) -> Result<&'a mut [u8]> {
    let bytes = v.as_bytes();
    if buf.len() < bytes.len() {
        return Err(EINVAL);
    }
    let (head, rest) = buf.split_at_mut(bytes.len());
    head.copy_from_slice(bytes);
    Ok(rest)
}

/// Appends the bytes of `v` to `out`.
fn push<T: AsBytes>(out: &mut KVec<u8>, v: &T) -> Result {
    out.extend_from_slice(v.as_bytes(), GFP_KERNEL)?;
    Ok(())
}

/// The ABI of one GSP-RM release: every layout, number and size that release gives the
/// structures and messages nova exchanges with it, converted from and to the version-neutral
/// values of this module.
///
/// Each release implements it in its own module (`r570_144`); nothing outside that module
/// knows an offset or a size of the release. The trait is used through [`Abi`], a
/// `&'static dyn GspAbi` chosen at run time by [`Abi::from_version`].
pub(crate) trait GspAbi: Sync {
    /// Returns the release's version string.
    fn version(&self) -> &'static str;

    /// Returns the number GSP-RM gives `function`.
    fn function(&self, function: Function) -> u32;

    /// Returns the event GSP-RM numbers `raw`, or `None` for a number that is not one of the
    /// events nova handles.
    fn event(&self, raw: u32) -> Option<EventKind>;

    /// Returns the raw number of `event` (the inverse of [`GspAbi::event`]).
    fn event_number(&self, event: EventKind) -> u32;

    /// Returns the name of event number `raw` if the release defines such an event, whether
    /// or not nova handles it (for the events nova decodes, [`GspAbi::event`] says which).
    fn event_name(&self, raw: u32) -> Option<&'static str>;

    /// Encodes `GspFwWprMeta`, after checking the FB layout ([`FbLayout::validate`]).
    fn wpr_meta(&self, p: &WprMetaParams) -> Result<KVec<u8>>;

    /// Encodes the LibOS region array: one page, `regions` first, the rest zero.
    fn libos_args(&self, regions: &[LibosRegion]) -> Result<KVec<u8>>;

    /// Encodes `GSP_ARGUMENTS_CACHED` for a cold boot.
    fn rm_args(&self, q: &MsgqInitParams) -> Result<KVec<u8>>;

    /// Returns the size of a queue element's header before the RPC header.
    fn element_header_size(&self) -> usize;

    /// Returns the size of the RPC header.
    fn rpc_header_size(&self) -> usize;

    /// Writes the element and RPC headers of a request into the start of `buf`, with a zero
    /// checksum: `rpc_length` includes the RPC header, and the RPC's sequence number is the
    /// element's.
    fn write_request_headers(
        &self,
        buf: &mut [u8],
        seq: u32,
        elem_count: u32,
        function: u32,
        rpc_length: u32,
    ) -> Result;

    /// Writes the element and RPC headers `h` into the start of `buf` (the private result
    /// field is set to the result).
    fn write_headers(&self, buf: &mut [u8], h: &ElementHeader) -> Result;

    /// Writes a queue's `msgqTxHeader` into the start of `buf`.
    fn write_queue_header(&self, buf: &mut [u8], h: &QueueHeader) -> Result;

    /// Reads a queue's `msgqTxHeader` from the start of `buf`; `BadLength` if its version
    /// or flags are not the release's.
    fn read_queue_header(&self, buf: &[u8]) -> Result<QueueHeader, DecodeError>;

    /// Returns the size of a queue's `msgqTxHeader`.
    fn queue_header_size(&self) -> usize;

    /// Returns the offset of the write pointer in a queue's header.
    fn write_ptr_offset(&self) -> usize;

    /// Returns the offset of the read pointer in a queue (its `msgqRxHeader`).
    fn read_ptr_offset(&self) -> usize;

    /// Returns the size of the fixed part of a `GSP_RM_ALLOC` request or reply.
    fn rm_alloc_size(&self) -> usize;

    /// Returns the number of `class`.
    fn class(&self, class: RmClass) -> u32;

    /// Writes the fixed part of a `GSP_RM_ALLOC` request into the start of `buf`.
    fn write_rm_alloc(&self, buf: &mut [u8], h: &RmAllocHeader) -> Result;

    /// Reads the status of a `GSP_RM_ALLOC` reply.
    fn rm_alloc_status(&self, payload: &[u8]) -> Result<u32, DecodeError>;

    /// Returns the size of the fixed part of a `GSP_RM_CONTROL` request or reply.
    fn rm_control_size(&self) -> usize;

    /// Returns the number of `cmd`.
    fn control(&self, cmd: RmControlCmd) -> u32;

    /// Writes the fixed part of a `GSP_RM_CONTROL` request into the start of `buf`.
    fn write_rm_control(
        &self,
        buf: &mut [u8],
        client: u32,
        object: u32,
        cmd: RmControlCmd,
        params_size: u32,
    ) -> Result;

    /// Reads a `GSP_RM_CONTROL` reply: its status and the parameters GSP-RM wrote back.
    fn rm_control_reply<'a>(&self, payload: &'a [u8]) -> Result<(u32, &'a [u8]), DecodeError>;

    /// Returns the size of a `FREE` request or reply.
    fn rm_free_size(&self) -> usize;

    /// Writes a `FREE` request for `object` of `client` into the start of `buf`.
    fn write_rm_free(&self, buf: &mut [u8], client: u32, object: u32) -> Result;

    /// Reads the status of a `FREE` reply.
    fn rm_free_status(&self, payload: &[u8]) -> Result<u32, DecodeError>;

    /// Returns the size of `class`'s allocation parameters.
    fn alloc_params_size(&self, class: RmClass) -> usize;

    /// Writes `NV0000_ALLOC_PARAMETERS` for client `client` into the start of `buf`: no
    /// process (`processID` ~0, as nouveau's `r535_gsp_client_ctor` sends).
    fn write_root_params(&self, buf: &mut [u8], client: u32) -> Result;

    /// Writes `NV0080_ALLOC_PARAMETERS` for device 0 shared with `client_share` (nouveau's
    /// `r535_gsp_device_ctor`) into the start of `buf`.
    fn write_device_params(&self, buf: &mut [u8], client_share: u32) -> Result;

    /// Writes `NV2080_ALLOC_PARAMETERS` for subdevice `id` into the start of `buf`.
    fn write_subdevice_params(&self, buf: &mut [u8], id: u32) -> Result;

    /// Returns the size of `cmd`'s parameters.
    fn control_params_size(&self, cmd: RmControlCmd) -> usize;

    /// Writes the parameters of `NV2080_CTRL_CMD_GPU_GET_NAME_STRING`, asking for the ASCII
    /// name, into the start of `buf`.
    fn write_gpu_name_string_params(&self, buf: &mut [u8]) -> Result;

    /// Reads the ASCII name GSP-RM wrote back for `NV2080_CTRL_CMD_GPU_GET_NAME_STRING`.
    fn read_gpu_name_string(&self, params: &[u8]) -> Result<[u8; 64], DecodeError>;

    /// Writes the parameters of `NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE` for the page that
    /// starts at entry `base_index` into the start of `buf`.
    fn write_device_info_params(&self, buf: &mut [u8], base_index: u32) -> Result;

    /// Reads one page of the device info table; `TooMany` if `numEntries` exceeds the page.
    fn read_device_info(&self, params: &[u8]) -> Result<DeviceInfoPage, DecodeError>;

    /// Writes the parameters of `NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2` into the start of `buf`.
    fn write_classlist_params(&self, buf: &mut [u8]) -> Result;

    /// Reads the class list; `TooMany` if `numClasses` exceeds the release's array.
    fn read_classlist(&self, params: &[u8]) -> Result<ClassList, DecodeError>;

    /// Writes the parameters of `NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO` into the start of
    /// `buf`.
    fn write_gpc_info_params(&self, buf: &mut [u8]) -> Result;

    /// Reads the mask of enabled GPCs.
    fn read_gpc_info(&self, params: &[u8]) -> Result<u32, DecodeError>;

    /// Writes the parameters of `NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO` for GPC `gpc` into the
    /// start of `buf`.
    fn write_tpc_info_params(&self, buf: &mut [u8], gpc: u32) -> Result;

    /// Reads the mask of enabled TPCs of the GPC asked for.
    fn read_tpc_info(&self, params: &[u8]) -> Result<u32, DecodeError>;
    /// Returns the GSP's stall vector from the table GSP-RM wrote back for
    /// `NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE` (the entry whose engine is the GSP),
    /// or `None` if the table has no usable one. A table length beyond the table is
    /// [`DecodeError::BadLength`].
    fn read_gsp_intr_vector(&self, params: &[u8]) -> Result<Option<u32>, DecodeError>;

    /// Stores `checksum` into the element header at the start of `buf`.
    fn set_checksum(&self, buf: &mut [u8], checksum: u32) -> Result;

    /// Reads the element and RPC headers at the start of `buf`. Only the layout is decoded;
    /// the values are untrusted and checked by the caller.
    fn read_headers(&self, buf: &[u8]) -> Result<ElementHeader, DecodeError>;

    /// Returns the size of the payload of `GSP_SET_SYSTEM_INFO`.
    fn system_info_size(&self) -> usize;

    /// Writes the payload of `GSP_SET_SYSTEM_INFO` into the start of `buf`.
    fn write_system_info(&self, buf: &mut [u8], s: &SystemInfo) -> Result;

    /// Returns the size of the payload of `SET_REGISTRY` with `entries`, or 0 if they do not
    /// fit one (then [`GspAbi::write_registry`] fails).
    fn registry_size(&self, entries: &[(&str, u32)]) -> usize;

    /// Writes the payload of `SET_REGISTRY` into `buf` ([`GspAbi::registry_size`] bytes): a packed
    /// table of 32-bit values, each entry pointing at its NUL-terminated name stored after the
    /// entries.
    fn write_registry(&self, buf: &mut [u8], entries: &[(&str, u32)]) -> Result;

    /// Returns the size of the payload of `UNLOADING_GUEST_DRIVER`.
    fn unloading_guest_driver_size(&self) -> usize;

    /// Writes the payload of `UNLOADING_GUEST_DRIVER` into the start of `buf`.
    fn write_unloading_guest_driver(&self, buf: &mut [u8], p: &UnloadParams) -> Result;

    /// Returns the size of the reply to `GET_GSP_STATIC_INFO` (`GspStaticConfigInfo`).
    fn static_info_size(&self) -> usize;

    /// Decodes the reply to `GET_GSP_STATIC_INFO`.
    fn static_info(&self, payload: &[u8]) -> Result<StaticInfo, DecodeError>;

    /// Decodes the operations of a `GSP_RUN_CPU_SEQUENCER` message, in order, into `ops`.
    ///
    /// The command buffer's length (`cmdIndex` words) is checked against the buffer size GSP-RM
    /// states and against the payload; every operation must lie entirely inside it.
    fn sequencer_ops(&self, payload: &[u8], ops: &mut KVec<SeqOp>) -> Result;

    /// Decodes `OS_ERROR_LOG`.
    fn os_error_log(&self, payload: &[u8]) -> Result<OsErrorLog, DecodeError>;

    /// Decodes `UCODE_LIBOS_PRINT`: the engine and the printed bytes.
    fn libos_print<'a>(&self, payload: &'a [u8]) -> Result<(u32, &'a [u8]), DecodeError>;

    /// Decodes `POST_EVENT`, checking that the event data lies inside the payload.
    fn post_event(&self, payload: &[u8]) -> Result<PostEvent, DecodeError>;

    /// Decodes `RC_TRIGGERED`.
    fn rc_triggered(&self, payload: &[u8]) -> Result<RcTriggered, DecodeError>;
}

/// The releases whose ABI nova speaks. Adding a release means adding its module and one line
/// here.
const RELEASES: &[Abi] = &[Abi::R570_144];

/// A GSP-RM release whose ABI nova speaks: a handle on its [`GspAbi`] implementation.
#[derive(Clone, Copy)]
pub(crate) struct Abi(&'static dyn GspAbi);

impl Abi {
    /// GSP-RM 570.144.
    pub(crate) const R570_144: Self = Self(&r570_144::R570_144);

    /// Selects the ABI of the release whose `.fwversion` section reads `version` (with or
    /// without trailing NULs).
    pub(crate) fn from_version(version: &[u8]) -> Option<Self> {
        let end = version
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(version.len());
        let version = version.get(..end)?;
        RELEASES
            .iter()
            .copied()
            .find(|abi| abi.version().as_bytes() == version)
    }
}

impl core::ops::Deref for Abi {
    type Target = dyn GspAbi;

    fn deref(&self) -> &Self::Target {
        self.0
    }
}

impl PartialEq for Abi {
    fn eq(&self, other: &Self) -> bool {
        self.version() == other.version()
    }
}

impl Eq for Abi {}

impl core::fmt::Debug for Abi {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_fmt(format_args!("Abi({})", self.version()))
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_gsp_fw)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], off: usize) -> u32 {
        u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
    }

    fn u64_at(b: &[u8], off: usize) -> u64 {
        u64::from(u32_at(b, off)) | (u64::from(u32_at(b, off + 4)) << 32)
    }

    const ABI: Abi = Abi::R570_144;

    fn registry(entries: &[(&str, u32)]) -> Result<KVec<u8>> {
        let mut b = KVec::from_elem(0u8, ABI.registry_size(entries), GFP_KERNEL)?;
        ABI.write_registry(&mut b, entries)?;
        Ok(b)
    }

    #[test]
    fn version_selects_the_abi() {
        assert_eq!(Abi::from_version(b"570.144\0"), Some(Abi::R570_144));
        assert_eq!(Abi::from_version(b"570.144"), Some(Abi::R570_144));
        assert_eq!(Abi::from_version(b"535.113.01\0"), None);
        assert_eq!(Abi::from_version(b"570.1440"), None);
        assert_eq!(Abi::from_version(b""), None);
        assert_eq!(ABI.version(), "570.144");
    }

    #[test]
    fn function_and_event_numbers() {
        assert_eq!(ABI.function(Function::SetSystemInfo), 72);
        assert_eq!(ABI.function(Function::SetRegistry), 73);
        assert_eq!(ABI.function(Function::GetGspStaticInfo), 65);
        assert_eq!(ABI.function(Function::UnloadingGuestDriver), 47);
        assert_eq!(ABI.function(Function::ContinuationRecord), 71);
        for kind in [
            EventKind::InitDone,
            EventKind::RunCpuSequencer,
            EventKind::PostEvent,
            EventKind::RcTriggered,
            EventKind::MmuFaultQueued,
            EventKind::OsErrorLog,
            EventKind::LibosPrint,
        ] {
            assert_eq!(ABI.event(ABI.event_number(kind)), Some(kind));
        }
        assert_eq!(ABI.event(0x1001), Some(EventKind::InitDone));
        assert_eq!(ABI.event(0x100c), Some(EventKind::LibosPrint));
        assert_eq!(ABI.event(72), None);
    }

    #[test]
    fn wpr_meta_fields() -> Result {
        let p = WprMetaParams {
            radix3_addr: 0x1111_0000,
            image_size: 0x3c9_9000,
            bootloader_addr: 0x2222_0000,
            bootloader_size: 0x9000,
            bootloader_code_offset: 0x4800,
            bootloader_data_offset: 0x800,
            bootloader_manifest_offset: 0,
            signature_addr: 0x3333_0000,
            signature_size: 0x1000,
            fb: FbLayout {
                fb_size: 0x2_0000_0000,
                non_wpr_heap: FbRange {
                    start: 0x1_f000_0000,
                    size: 0x10_0000,
                },
                wpr2: FbRange {
                    start: 0x1_f010_0000,
                    size: 0x800_0000,
                },
                wpr2_heap: FbRange {
                    start: 0x1_f010_0000,
                    size: 0x400_0000,
                },
                elf: FbRange {
                    start: 0x1_f410_0000,
                    size: 0x3c9_9000,
                },
                boot_bin: FbRange {
                    start: 0x1_f7e0_0000,
                    size: 0x1_0000,
                },
                frts: FbRange {
                    start: 0x1_f800_0000,
                    size: 0x10_0000,
                },
                vga_workspace: FbRange {
                    start: 0x1_ff00_0000,
                    size: 0x10_0000,
                },
                pmu_reserved_size: 0x20_0000,
            },
        };
        let b = ABI.wpr_meta(&p)?;
        assert_eq!(b.len(), 0x100);
        assert_eq!(u64_at(&b, 0), 0xdc3a_ae21_371a_60b3);
        assert_eq!(u64_at(&b, 8), 1);
        assert_eq!(u64_at(&b, 0x10), 0x1111_0000);
        assert_eq!(u64_at(&b, 0x18), 0x3c9_9000);
        assert_eq!(u64_at(&b, 0x30), 0x4800);
        assert_eq!(u64_at(&b, 0x48), 0x3333_0000);
        assert_eq!(u64_at(&b, 0x70), 0x1_f010_0000); // gspFwWprStart
        assert_eq!(u64_at(&b, 0x98), 0x1_f800_0000); // frtsOffset
        assert_eq!(u64_at(&b, 0xa8), 0x1_f810_0000); // gspFwWprEnd
        assert_eq!(u64_at(&b, 0xb0), 0x2_0000_0000); // fbSize
        assert_eq!(u64_at(&b, 0x58), 0x1_f000_0000); // gspFwRsvdStart
        assert_eq!(u64_at(&b, 0x68), 0x10_0000); // nonWprHeapSize
        assert_eq!(u64_at(&b, 0x78), 0x1_f010_0000); // gspFwHeapOffset
        assert_eq!(u64_at(&b, 0x88), 0x1_f410_0000); // gspFwOffset
        assert_eq!(u64_at(&b, 0x90), 0x1_f7e0_0000); // bootBinOffset
        assert_eq!(u64_at(&b, 0xb8), 0x1_ff00_0000); // vgaWorkspaceOffset
        assert_eq!(u32_at(&b, 0xf4), 0x20_0000); // pmuReservedSize
        assert_eq!(u64_at(&b, 0xf8), 0); // verified
                                         // A layout out of order is refused.
        let mut bad = p;
        bad.fb.frts.start = 0x1_f7e0_8000;
        assert_eq!(ABI.wpr_meta(&bad).map(|_| ()), Err(EINVAL));
        Ok(())
    }

    #[test]
    fn libos_and_rm_args() -> Result {
        let regions = [
            LibosRegion {
                name: "LOGINIT",
                addr: 0x1000,
                size: 0x10000,
            },
            LibosRegion {
                name: "RMARGS",
                addr: 0x5000,
                size: 0x48,
            },
        ];
        let b = ABI.libos_args(&regions)?;
        assert_eq!(b.len(), 4096);
        assert_eq!(u64_at(&b, 0), id8("LOGINIT"));
        assert_eq!(u64_at(&b, 8), 0x1000);
        assert_eq!(u64_at(&b, 0x10), 0x10000);
        assert_eq!((b[0x18], b[0x19]), (1, 1)); // contiguous, sysmem
        assert_eq!(u64_at(&b, 0x20), id8("RMARGS"));
        assert!(b[0x40..].iter().all(|&x| x == 0));

        let q = MsgqInitParams {
            shared_mem_addr: 0xabc000,
            pte_count: 129,
            cmd_queue_offset: 0x1000,
            stat_queue_offset: 0x41000,
        };
        let b = ABI.rm_args(&q)?;
        assert_eq!(b.len(), 0x48);
        assert_eq!(u64_at(&b, 0), 0xabc000);
        assert_eq!(u32_at(&b, 8), 129);
        assert_eq!(u64_at(&b, 0x10), 0x1000);
        assert_eq!(u64_at(&b, 0x18), 0x41000);
        assert!(b[0x20..].iter().all(|&x| x == 0));
        Ok(())
    }

    #[test]
    fn request_headers_round_trip() -> Result {
        let mut b = [0u8; 0x50];
        ABI.write_request_headers(&mut b, 7, 2, 73, 0x1234)?;
        ABI.set_checksum(&mut b, 0xdead_beef)?;
        assert_eq!(u32_at(&b, 0x30), 0x0300_0000);
        assert_eq!(u32_at(&b, 0x34), 0x4350_5256);
        assert_eq!(
            ABI.read_headers(&b),
            Ok(ElementHeader {
                checksum: 0xdead_beef,
                seq: 7,
                elem_count: 2,
                function: 73,
                rpc_length: 0x1234,
                rpc_result: 0xffff_ffff,
                rpc_sequence: 7,
            })
        );
        assert_eq!(ABI.read_headers(&b[..0x4f]), Err(DecodeError::Short));
        assert_eq!(
            ABI.write_request_headers(&mut b[..0x40], 0, 1, 1, 0x20),
            Err(EINVAL)
        );
        Ok(())
    }

    #[test]
    fn system_info_layout() -> Result {
        let s = SystemInfo {
            bar0_addr: 0xf000_0000,
            bar1_addr: 0xe000_0000,
            bar3_addr: 0xd000_0000,
            bus_device_function: 0x0100,
            vendor_id: 0x10de,
            device_id: 0x2684,
            subsystem_vendor_id: 0x1043,
            subsystem_id: 0x889d,
            revision_id: 0xa1,
            config_mirror_base: 0x88000,
            config_mirror_size: 0x1000,
            max_user_va: 0x7fff_ffff_f000,
            host_page_size: 4096,
            is_primary: true,
        };
        let mut b = KVec::from_elem(0u8, ABI.system_info_size(), GFP_KERNEL)?;
        ABI.write_system_info(&mut b, &s)?;
        assert_eq!(b.len(), 0x3a0);
        assert_eq!(u64_at(&b, 0), 0xf000_0000);
        assert_eq!(u64_at(&b, 8), 0xe000_0000);
        assert_eq!(u64_at(&b, 0x10), 0xd000_0000);
        assert_eq!(u64_at(&b, 0x20), 0x0100);
        assert_eq!(u64_at(&b, 0x48), 0x7fff_ffff_f000);
        assert_eq!(u32_at(&b, 0x50), 0x88000);
        assert_eq!(u32_at(&b, 0x54), 0x1000);
        assert_eq!(u32_at(&b, 0x58), 0x2684_10de);
        assert_eq!(u32_at(&b, 0x5c), 0x889d_1043);
        assert_eq!(u32_at(&b, 0x60), 0xa1);
        assert_eq!(b[0x380], 1);
        assert_eq!(u64_at(&b, 0x398), 4096);
        Ok(())
    }

    #[test]
    fn registry_table() -> Result {
        let b = registry(&[("RMSecBusResetEnable", 1), ("RmWatchDogTimeOut", 7)])?;
        let names = 8 + 2 * 16;
        assert_eq!(b.len(), names + 20 + 18);
        assert_eq!(u32_at(&b, 0), b.len() as u32);
        assert_eq!(u32_at(&b, 4), 2);
        // Entry 0: name offset, type DWORD, value, length 4.
        assert_eq!(u32_at(&b, 8), names as u32);
        assert_eq!(b[12], 1);
        assert_eq!(u32_at(&b, 16), 1);
        assert_eq!(u32_at(&b, 20), 4);
        assert_eq!(u32_at(&b, 24), (names + 20) as u32);
        assert_eq!(u32_at(&b, 32), 7);
        assert_eq!(&b[names..names + 20], b"RMSecBusResetEnable\0");
        assert_eq!(&b[names + 20..], b"RmWatchDogTimeOut\0");
        assert_eq!(registry(&[("bad\0name", 1)]), Err(EINVAL));
        assert_eq!(registry(&[]).map(|b| b.len()), Ok(8));
        // A buffer of the wrong size.
        let mut short = [0u8; 8];
        assert_eq!(ABI.write_registry(&mut short, &[("a", 1)]), Err(EINVAL));
        Ok(())
    }

    #[test]
    fn rm_alloc_control_and_free_layouts() -> Result {
        let mut b = [0u8; 0x20 + 0x78];
        let (head, params) = b.split_at_mut(ABI.rm_alloc_size());
        ABI.write_rm_alloc(
            head,
            &RmAllocHeader {
                client: 0xc1d0_0000,
                parent: 0xc1d0_0000,
                object: 0xde1d_0000,
                class: RmClass::Device,
                params_size: 0x38,
            },
        )?;
        ABI.write_root_params(params, 0xc1d0_0000)?;
        assert_eq!(u32_at(&b, 0), 0xc1d0_0000);
        assert_eq!(u32_at(&b, 8), 0xde1d_0000);
        assert_eq!(u32_at(&b, 0xc), 0x80);
        assert_eq!(u32_at(&b, 0x14), 0x38);
        assert_eq!(u32_at(&b, 0x20), 0xc1d0_0000);
        assert_eq!(u32_at(&b, 0x24), u32::MAX);
        b[0x10] = 0x57;
        assert_eq!(ABI.rm_alloc_status(&b), Ok(0x57));
        assert_eq!(ABI.rm_alloc_status(&b[..0x1f]), Err(DecodeError::Short));
        assert_eq!(ABI.class(RmClass::Root), 0);
        assert_eq!(ABI.class(RmClass::Subdevice), 0x2080);
        assert_eq!(ABI.alloc_params_size(RmClass::Root), 0x78);
        assert_eq!(ABI.alloc_params_size(RmClass::Device), 0x38);
        assert_eq!(ABI.alloc_params_size(RmClass::Subdevice), 4);

        let mut c = KVec::from_elem(0u8, 0x18 + 0x84, GFP_KERNEL)?;
        ABI.write_rm_control(&mut c, 1, 2, RmControlCmd::GpuGetNameString, 0x84)?;
        assert_eq!(u32_at(&c, 8), 0x2080_0110);
        assert_eq!(u32_at(&c, 0x10), 0x84);
        c[0x1c..0x20].copy_from_slice(b"NVID");
        let (status, params) = ABI.rm_control_reply(&c).map_err(Error::from)?;
        assert_eq!((status, params.len()), (0, 0x84));
        assert_eq!(
            &ABI.read_gpu_name_string(params).map_err(Error::from)?[..4],
            b"NVID"
        );
        // A parameter size beyond the payload.
        c[0x10..0x14].copy_from_slice(&0x85u32.to_le_bytes());
        assert_eq!(
            ABI.rm_control_reply(&c).map(|_| ()),
            Err(DecodeError::BadLength)
        );

        let mut f = [0u8; 0x10];
        ABI.write_rm_free(&mut f, 0xc1d0_0000, 0x5d1d_0000)?;
        assert_eq!(
            (u32_at(&f, 0), u32_at(&f, 4), u32_at(&f, 8)),
            (0xc1d0_0000, 0, 0x5d1d_0000)
        );
        assert_eq!(ABI.write_rm_free(&mut f[..0xf], 1, 2), Err(EINVAL));
        assert_eq!(ABI.function(Function::RmAlloc), 103);
        assert_eq!(ABI.function(Function::RmControl), 76);
        assert_eq!(ABI.function(Function::Free), 10);
        Ok(())
    }

    #[test]
    fn queue_header_round_trip() -> Result {
        let h = QueueHeader {
            size: 0x40000,
            msg_size: 0x1000,
            msg_count: 63,
            write_ptr: 5,
            rx_hdr_off: 0x20,
            entry_off: 0x1000,
        };
        let mut b = [0u8; 0x20];
        ABI.write_queue_header(&mut b, &h)?;
        assert_eq!(u32_at(&b, 0x14), 1); // MSGQ_FLAGS_SWAP_RX
        assert_eq!(u32_at(&b, ABI.write_ptr_offset()), 5);
        assert_eq!(ABI.read_queue_header(&b), Ok(h));
        assert_eq!(ABI.read_ptr_offset(), 0x20);
        b[0x14] = 0;
        assert_eq!(ABI.read_queue_header(&b), Err(DecodeError::BadLength));
        Ok(())
    }

    #[test]
    fn unloading_guest_driver_payload() -> Result {
        let mut b = [0xffu8; 8];
        assert_eq!(ABI.unloading_guest_driver_size(), 8);
        ABI.write_unloading_guest_driver(
            &mut b,
            &UnloadParams {
                in_pm_transition: true,
                gc6_entering: false,
                new_level: 3,
            },
        )?;
        assert_eq!(&b[..], &[1, 0, 0, 0, 3, 0, 0, 0]);
        Ok(())
    }

    #[test]
    fn static_info_decodes() -> Result {
        let mut raw = KVec::from_elem(0u8, 0x678, GFP_KERNEL)?;
        raw[0x158..0x15c].copy_from_slice(&2u32.to_le_bytes());
        // Region 1: base 0x1000, limit 0x7fff_ffff, protected.
        let r1 = 0x160 + 0x30;
        raw[r1..r1 + 8].copy_from_slice(&0x1000u64.to_le_bytes());
        raw[r1 + 8..r1 + 16].copy_from_slice(&0x7fff_ffffu64.to_le_bytes());
        raw[r1 + 0x1e] = 1;
        raw[0x4c8..0x4d0].copy_from_slice(&(24u64 << 30).to_le_bytes());
        raw[0x4ec..0x4ec + 23].copy_from_slice(b"NVIDIA GeForce RTX 4090");
        raw[0x600..0x608].copy_from_slice(&0x7fe0_0000u64.to_le_bytes());
        raw[0x640..0x644].copy_from_slice(&0xc1e0_0002u32.to_le_bytes());
        raw[0x644..0x648].copy_from_slice(&0xde1d_0001u32.to_le_bytes());
        raw[0x648..0x64c].copy_from_slice(&0x5d1d_0001u32.to_le_bytes());
        let info = ABI.static_info(&raw).map_err(Error::from)?;
        assert_eq!(info.bar1_pde_base, 0x7fe0_0000);
        assert_eq!(
            info.internal,
            InternalHandles {
                client: 0xc1e0_0002,
                device: 0xde1d_0001,
                subdevice: 0x5d1d_0001
            }
        );
        assert_eq!(info.name(), "NVIDIA GeForce RTX 4090");
        assert_eq!(info.vram_size, 24 << 30);
        assert_eq!(info.fb_regions().len(), 2);
        assert_eq!(info.fb_regions()[1].base, 0x1000);
        assert_eq!(info.fb_regions()[1].limit, 0x7fff_ffff);
        assert!(info.fb_regions()[1].protected);
        assert!(!info.fb_regions()[0].protected);
        // Too many regions, or a short reply.
        raw[0x158..0x15c].copy_from_slice(&17u32.to_le_bytes());
        assert_eq!(
            ABI.static_info(&raw).map(|_| ()),
            Err(DecodeError::BadLength)
        );
        assert_eq!(
            ABI.static_info(&raw[..0x677]).map(|_| ()),
            Err(DecodeError::Short)
        );
        Ok(())
    }

    fn sequencer(words: &[u32], cmd_index: u32, size: u32) -> Result<KVec<u8>> {
        let mut b = KVec::from_elem(0u8, 0x28, GFP_KERNEL)?;
        b[0..4].copy_from_slice(&size.to_le_bytes());
        b[4..8].copy_from_slice(&cmd_index.to_le_bytes());
        for w in words {
            b.extend_from_slice(&w.to_le_bytes(), GFP_KERNEL)?;
        }
        Ok(b)
    }

    #[test]
    fn sequencer_ops_decode() -> Result {
        let words = [
            0, 0x110040, 0xabc, // write
            1, 0x110044, 0xf0, 0x30, // modify
            2, 0x110048, 1, 1, 2000, 0x55, // poll
            3, 10, // delay
            4, 0x11004c, 2, // store
            5, 6, 7, 8, // core ops
        ];
        let b = sequencer(&words, words.len() as u32, 64)?;
        let mut ops = KVec::new();
        ABI.sequencer_ops(&b, &mut ops)?;
        assert_eq!(ops.len(), 9);
        assert_eq!(
            ops[0],
            SeqOp::RegWrite {
                addr: 0x110040,
                val: 0xabc
            }
        );
        assert_eq!(
            ops[1],
            SeqOp::RegModify {
                addr: 0x110044,
                mask: 0xf0,
                val: 0x30
            }
        );
        assert_eq!(
            ops[2],
            SeqOp::RegPoll {
                addr: 0x110048,
                mask: 1,
                val: 1,
                timeout_us: 2000,
                error: 0x55
            }
        );
        assert_eq!(ops[3], SeqOp::DelayUs(10));
        assert_eq!(
            ops[4],
            SeqOp::RegStore {
                addr: 0x11004c,
                index: 2
            }
        );
        assert_eq!(
            &ops[5..],
            &[
                SeqOp::CoreReset,
                SeqOp::CoreStart,
                SeqOp::CoreWaitForHalt,
                SeqOp::CoreResume
            ]
        );
        Ok(())
    }

    #[test]
    fn sequencer_ops_malformed() -> Result {
        let mut ops = KVec::new();
        // An operation cut by cmdIndex.
        let b = sequencer(&[2, 0x110048, 1, 1], 4, 64)?;
        assert_eq!(ABI.sequencer_ops(&b, &mut ops), Err(EIO));
        // cmdIndex beyond the declared buffer size, or beyond the payload.
        let b = sequencer(&[5, 6], 2, 1)?;
        assert_eq!(ABI.sequencer_ops(&b, &mut ops), Err(EIO));
        let b = sequencer(&[5, 6], 3, 64)?;
        assert_eq!(ABI.sequencer_ops(&b, &mut ops), Err(EIO));
        // Unknown opcode.
        let b = sequencer(&[9], 1, 64)?;
        assert_eq!(ABI.sequencer_ops(&b, &mut ops), Err(EIO));
        // Short header.
        assert_eq!(ABI.sequencer_ops(&[0; 0x27], &mut ops), Err(EIO));
        // An empty program is fine.
        let b = sequencer(&[], 0, 64)?;
        ops.clear();
        assert_eq!(ABI.sequencer_ops(&b, &mut ops), Ok(()));
        assert!(ops.is_empty());
        Ok(())
    }

    #[test]
    fn events_decode_with_bounds() -> Result {
        // OS_ERROR_LOG.
        let mut b = KVec::from_elem(0u8, 0x110, GFP_KERNEL)?;
        b[0..4].copy_from_slice(&31u32.to_le_bytes());
        b[8..12].copy_from_slice(&5u32.to_le_bytes());
        b[12..17].copy_from_slice(b"fault");
        let log = ABI.os_error_log(&b).map_err(Error::from)?;
        assert_eq!(
            (log.xid, log.chid, &log.text[..6]),
            (31, 5, &b"fault\0"[..])
        );
        assert_eq!(
            ABI.os_error_log(&b[..0x10f]).map(|_| ()),
            Err(DecodeError::Short)
        );

        // UCODE_LIBOS_PRINT: the text length must be inside the payload.
        let mut b = KVec::from_elem(0u8, 8, GFP_KERNEL)?;
        b[4..8].copy_from_slice(&5u32.to_le_bytes());
        b.extend_from_slice(b"hello", GFP_KERNEL)?;
        assert_eq!(ABI.libos_print(&b), Ok((0, &b"hello"[..])));
        b[4..8].copy_from_slice(&6u32.to_le_bytes());
        assert_eq!(ABI.libos_print(&b), Err(DecodeError::BadLength));

        // POST_EVENT: data starts at 0x1d.
        let mut b = KVec::from_elem(0u8, 0x1d + 3, GFP_KERNEL)?;
        b[0..4].copy_from_slice(&0xc1d0_0001u32.to_le_bytes());
        b[0x18..0x1c].copy_from_slice(&3u32.to_le_bytes());
        assert_eq!(
            ABI.post_event(&b),
            Ok(PostEvent {
                client: 0xc1d0_0001,
                event: 0,
                notify_index: 0,
                status: 0,
                data_size: 3
            })
        );
        b[0x18..0x1c].copy_from_slice(&4u32.to_le_bytes());
        assert_eq!(ABI.post_event(&b), Err(DecodeError::BadLength));
        assert_eq!(ABI.post_event(&b[..0x1c]), Err(DecodeError::Short));

        // RC_TRIGGERED.
        let mut b = KVec::from_elem(0u8, 0x30, GFP_KERNEL)?;
        b[4..8].copy_from_slice(&9u32.to_le_bytes());
        b[0x10..0x14].copy_from_slice(&43u32.to_le_bytes());
        b[0x1c..0x20].copy_from_slice(&0x1000u32.to_le_bytes());
        b[0x20..0x24].copy_from_slice(&1u32.to_le_bytes());
        let rc = ABI.rc_triggered(&b).map_err(Error::from)?;
        assert_eq!(
            (rc.chid, rc.except_type, rc.mmu_fault_addr),
            (9, 43, 0x1_0000_1000)
        );
        assert_eq!(
            ABI.rc_triggered(&b[..0x2f]).map(|_| ()),
            Err(DecodeError::Short)
        );
        Ok(())
    }

    #[test]
    fn engine_class_and_unit_controls_decode() -> Result {
        use crate::interface::EngineKind;
        let put =
            |b: &mut [u8], off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_le_bytes());

        // The device info table: baseIndex in, two engines out (GR0 on runlist 0, COPY3 on
        // runlist 4). Entries are 100 bytes from offset 12; engineData[2] is the
        // RM_ENGINE_TYPE, engineData[3] the runlist.
        let size = ABI.control_params_size(RmControlCmd::FifoGetDeviceInfoTable);
        assert_eq!(size, 0xc8c);
        let mut b = KVec::from_elem(0xa5u8, size, GFP_KERNEL)?;
        ABI.write_device_info_params(&mut b, 32)?;
        assert_eq!(u32_at(&b, 0), 32);
        assert!(b[4..].iter().all(|&x| x == 0));
        put(&mut b, 4, 2);
        b[8] = 1;
        put(&mut b, 12 + 8, 0x01);
        put(&mut b, 12 + 12, 0);
        put(&mut b, 112 + 8, 0x0c);
        put(&mut b, 112 + 12, 4);
        let page = ABI.read_device_info(&b).map_err(Error::from)?;
        assert_eq!((page.count, page.more), (2, true));
        assert_eq!(page.entries[0].engine, Some((EngineKind::Graphics, 0)));
        assert_eq!(page.entries[1].engine, Some((EngineKind::Copy, 3)));
        assert_eq!(page.entries[1].runlist, 4);
        // An engine type nova does not know is kept, undecoded.
        put(&mut b, 112 + 8, 0x40);
        let page = ABI.read_device_info(&b).map_err(Error::from)?;
        assert_eq!(
            (page.entries[1].engine, page.entries[1].raw_type),
            (None, 0x40)
        );
        // numEntries past the 32 entries of the array.
        put(&mut b, 4, 33);
        assert_eq!(
            ABI.read_device_info(&b).map(|_| ()),
            Err(DecodeError::TooMany)
        );
        put(&mut b, 4, u32::MAX);
        assert_eq!(
            ABI.read_device_info(&b).map(|_| ()),
            Err(DecodeError::TooMany)
        );
        assert_eq!(
            ABI.read_device_info(&b[..size - 1]).map(|_| ()),
            Err(DecodeError::Short)
        );

        // The class list: numClasses, then up to 100 classes.
        let size = ABI.control_params_size(RmControlCmd::GpuGetClasslistV2);
        assert_eq!(size, 404);
        let mut b = KVec::from_elem(0xa5u8, size, GFP_KERNEL)?;
        ABI.write_classlist_params(&mut b)?;
        assert!(b.iter().all(|&x| x == 0));
        put(&mut b, 0, 2);
        put(&mut b, 4, 0xc797);
        put(&mut b, 8, 0xc7c0);
        let list = ABI.read_classlist(&b).map_err(Error::from)?;
        assert_eq!(&list.classes[..list.count], &[0xc797, 0xc7c0]);
        put(&mut b, 0, 101);
        assert_eq!(
            ABI.read_classlist(&b).map(|_| ()),
            Err(DecodeError::TooMany)
        );
        put(&mut b, 0, 100);
        assert_eq!(ABI.read_classlist(&b).map(|l| l.count), Ok(100));

        // GPC and TPC masks.
        let mut b = KVec::from_elem(0xa5u8, 8, GFP_KERNEL)?;
        ABI.write_tpc_info_params(&mut b, 5)?;
        assert_eq!((u32_at(&b, 0), u32_at(&b, 4)), (5, 0));
        put(&mut b, 4, 0x3f);
        assert_eq!(ABI.read_tpc_info(&b), Ok(0x3f));
        assert_eq!(ABI.read_tpc_info(&b[..7]), Err(DecodeError::Short));
        ABI.write_gpc_info_params(&mut b)?;
        put(&mut b, 0, 0x7f);
        assert_eq!(ABI.read_gpc_info(&b), Ok(0x7f));
        assert_eq!(
            ABI.control(RmControlCmd::FifoGetDeviceInfoTable),
            0x2080_1112
        );
        assert_eq!(ABI.control(RmControlCmd::GpuGetClasslistV2), 0x0080_0292);
        assert_eq!(ABI.control(RmControlCmd::GpuGetFermiGpcInfo), 0x2080_0137);
        assert_eq!(ABI.control(RmControlCmd::GpuGetFermiTpcInfo), 0x2080_0138);
        Ok(())
    }
}
