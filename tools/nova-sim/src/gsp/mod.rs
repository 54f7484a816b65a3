// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! A model of GSP-RM r570.144, the firmware that runs on the GSP's RISC-V core, as a driver
//! sees it through memory it shares with the GSP.
//!
//! The engine models drive it through [`GspCore`]: booter's load step hands it the driver's
//! `GspFwWprMeta` ([`GspRm::load`] checks the image it describes byte for byte against the
//! firmware file), the RISC-V core starting hands it the LibOS argument array
//! ([`GspRm::start`] validates the arguments and links the message queues), and each write to
//! `NV_PGSP_QUEUE_HEAD` rings the doorbell ([`GspRm::doorbell`] reads and answers commands).
//!
//! The model is also a strict test oracle: every mistake the driver makes in what it shares
//! with GSP-RM is reported through [`GspBus::violation`], one line each.
//!
//! # The boot conversation
//!
//! GSP-RM r570 waits for `GSP_SET_SYSTEM_INFO` and `SET_REGISTRY` (nouveau
//! `r535_gsp_init()`/`r535_gsp_rpc_set_system_info()`/`r535_gsp_rpc_set_registry()` send them
//! right after starting the core; so does upstream nova-core `gsp/boot.rs`), then initialises
//! and, on chips booted through SEC2 booter, asks the CPU to run a register sequence
//! (`GSP_RUN_CPU_SEQUENCER`, handled by `kgspExecuteSequencerBuffer_IMPL()` in
//! open-gpu-kernel-modules `src/nvidia/src/kernel/gpu/gsp/kernel_gsp.c`, and by upstream
//! nova-core `gsp/sequencer.rs`) before it reports `GSP_INIT_DONE`. The model sends, in order:
//!
//! 1. a `UCODE_LIBOS_PRINT` event with one line of text (an asynchronous event the driver
//!    must skip while it waits for the sequencer);
//! 2. `GSP_RUN_CPU_SEQUENCER` with register operations on the GSP falcon's MAILBOX0, which
//!    the model can check through [`GspBus::mailbox`], ending with a write of
//!    [`SEQUENCER_DONE`] to `NV_PGSP_QUEUE_HEAD(0)`. That last write is a handshake of this
//!    model, not of GSP-RM (which observes the effects of the sequence itself): it tells the
//!    model the driver ran the whole sequence, as the doorbell is the only way it learns of
//!    register writes;
//! 3. `GSP_INIT_DONE` once the sequence has run.
//!
//! It then answers `GET_GSP_STATIC_INFO` with the board's [`profile`] and
//! `UNLOADING_GUEST_DRIVER` by replying, setting MAILBOX0 bit 31 and stopping (after counting
//! a violation for each client of the driver that still holds RM objects: the driver must
//! free them first). `GSP_RM_ALLOC`, `GSP_RM_CONTROL` and `FREE` go to the resource server
//! ([`rmserver`]), whose status is the reply's `rpc_result` and its parameters' `status`. Any
//! other command gets a reply with `NV_ERR_NOT_SUPPORTED`. Commands sent before `GSP_INIT_DONE`
//! (other than the two GSP-RM waits for) are held and answered after it, as GSP-RM only
//! reads its queue once initialised. Commands queued before GSP-RM runs at all, doorbell rung or
//! not, are read when it starts ([`GspCore::start`]): nouveau queues `GSP_SET_SYSTEM_INFO` and
//! `SET_REGISTRY` and rings before booter runs (`r535_gsp_init()`), and real boards answer them;
//! a doorbell before then is not a violation. How long GSP-RM takes to start and to handle each
//! doorbell is up to the engine side ([`crate::timing`]). After each message the model raises
//! SWGEN0.
//!
//! The LibOS log buffers (LOGINIT, LOGINTR, LOGRM) are validated but left untouched. In
//! them `u64` 0 is the put pointer (entries written so far) and entries follow from `u64` 1,
//! over the page table LibOS read at start; a record is its arguments, the address of its
//! format metadata, then a timestamp (open-gpu-kernel-modules 570.144
//! `src/common/uproc/os/libos-v3.1.0/lib/liblogdecode.c`, `libosExtractLog_ReadRecord()`). The metadata
//! addresses point into GSP-RM's logging ELF image, which is not part of `gsp-570.144.bin`
//! (its sections are `.fwimage`, `.fwversion`, the build id and the signatures), so the model
//! cannot write records a decoder would accept.

pub mod classes;
pub mod controls;
pub mod faults;
pub mod firmware;
pub mod profile;
pub mod r570;
pub mod rmserver;

mod queue;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fmt;

use crate::gsp_core::{GspBus, GspCore};

pub use faults::Faults;
use faults::Kind;
use firmware::{Bootloader, GspElf};
use profile::GspProfile;
use queue::{Command, Queues};
use r570::{function, get_u32, get_u64, libos_arg, put_bytes, put_u32, put_u64, status};
use rmserver::RmServer;

/// The GSP-RM release this model speaks for (the `.fwversion` of the firmware file).
pub const FW_VERSION: &str = "570.144";

/// The value the sequencer writes to `NV_PGSP_QUEUE_HEAD(0)` as its last operation, so that
/// the model learns the driver has run it (see the module documentation).
pub const SEQUENCER_DONE: u32 = 0x5e90_d0e0;

/// `NV_PGSP_FALCON_MAILBOX0` (open-gpu-kernel-modules 570.144,
/// `src/common/inc/swref/published/ampere/ga102/dev_gsp.h`).
pub const NV_PGSP_FALCON_MAILBOX0: u32 = 0x0011_0040;

/// `NV_PGSP_QUEUE_HEAD(0)` (same header).
pub const NV_PGSP_QUEUE_HEAD0: u32 = 0x0011_0c00;

/// What the sequencer's first write puts in MAILBOX0.
const SEQ_TOKEN: u32 = 0x4e56_0000;
/// What the sequencer's modify operation puts in MAILBOX0's low half.
const SEQ_TOKEN_LOW: u32 = 0x5351;

/// Where the boot conversation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for `GSP_SET_SYSTEM_INFO`.
    AwaitSystemInfo,
    /// Waiting for `SET_REGISTRY`.
    AwaitRegistry,
    /// The sequencer was sent; waiting for the driver to run it.
    Sequencer,
    /// `GSP_INIT_DONE` was sent; commands are answered.
    Ready,
    /// `UNLOADING_GUEST_DRIVER` was answered; GSP-RM has suspended.
    Suspended,
    /// Something the driver shared was unusable; GSP-RM is stuck.
    Dead,
}

/// What [`GspRm::load`] learnt from `GspFwWprMeta`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WprLayout {
    /// `fbSize`.
    pub fb_size: u64,
    /// `gspFwRsvdStart`.
    pub rsvd_start: u64,
    /// `nonWprHeapOffset`.
    pub non_wpr_heap_offset: u64,
    /// `gspFwWprStart`.
    pub wpr_start: u64,
    /// `gspFwWprEnd`.
    pub wpr_end: u64,
    /// `frtsOffset`.
    pub frts_offset: u64,
}

/// The state of a running GSP-RM.
struct Run {
    queues: Queues,
    phase: Phase,
    /// Commands held until `GSP_INIT_DONE`.
    deferred: VecDeque<Command>,
    /// The system information the driver sent (`PCIDeviceID`, `PCISubDeviceID`).
    pci_ids: Option<(u32, u32)>,
    /// Registry entries the driver sent: key and DWORD value (or `None` for other types).
    registry: Vec<(String, Option<u32>)>,
    /// The MAILBOX0 value the sequencer leaves when the driver runs it correctly.
    seq_expect: u32,
    /// The resource server: the RM objects of every client.
    rm: RmServer,
    /// The resource server's counts already reported to the bus.
    rm_counted: (u64, u64),
    /// The targeted fault of the command being handled ([`faults`]).
    fault: Option<Kind>,
    /// Replies held back by a `late-reply` fault: function, result, sequence, payload.
    late: Vec<(u32, u32, u32, Vec<u8>)>,
}

/// The GSP-RM model.
pub struct GspRm {
    profile: &'static GspProfile,
    /// `(PCI vendor, device)` the driver must report in `GSP_SET_SYSTEM_INFO`.
    pci_id: (u16, u16),
    elf: GspElf,
    bootloader: Option<Bootloader>,
    faults: Faults,
    layout: Option<WprLayout>,
    run: Option<Run>,
    running: bool,
}

impl fmt::Debug for GspRm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GspRm")
            .field("chip", &self.profile.chip)
            .field("image_size", &self.elf.image.len())
            .field("faults", &self.faults)
            .field("layout", &self.layout)
            .field("phase", &self.run.as_ref().map(|r| r.phase))
            .field("running", &self.running)
            .finish()
    }
}

impl GspRm {
    /// Creates the model for chip `chip` (a name from [`profile::PROFILES`]) with PCI device id
    /// `device_id`, checking uploads against the GSP-RM ELF file `gsp_elf` and, if given, the
    /// bootloader file `bootloader`.
    pub fn new(
        chip: &str,
        device_id: u16,
        gsp_elf: &[u8],
        bootloader: Option<&[u8]>,
        faults: Faults,
    ) -> Result<Self, String> {
        let profile =
            profile::find(chip).ok_or_else(|| format!("no GSP-RM profile for chip {chip}"))?;
        let elf = GspElf::parse(gsp_elf).map_err(|e| format!("GSP-RM firmware: {e}"))?;
        if let Some(v) = elf.version.as_deref().filter(|v| *v != FW_VERSION) {
            return Err(format!(
                "GSP-RM firmware is release {v}; the model speaks {FW_VERSION}"
            ));
        }
        if elf.signature(profile.signature_family).is_none() {
            return Err(format!(
                "GSP-RM firmware has no .fwsignature_{} section for {chip}",
                profile.signature_family
            ));
        }
        let bootloader = bootloader
            .map(Bootloader::parse)
            .transpose()
            .map_err(|e| format!("GSP bootloader firmware: {e}"))?;
        Ok(Self {
            profile,
            pci_id: (crate::chips::NVIDIA_VENDOR_ID, device_id),
            elf,
            bootloader,
            faults,
            layout: None,
            run: None,
            running: false,
        })
    }

    /// Creates the model from firmware files on disk.
    pub fn from_files(
        chip: &str,
        device_id: u16,
        gsp_elf: &std::path::Path,
        bootloader: Option<&std::path::Path>,
        faults: Faults,
    ) -> Result<Self, String> {
        let read =
            |p: &std::path::Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        let elf = read(gsp_elf)?;
        let bl = bootloader.map(read).transpose()?;
        Self::new(chip, device_id, &elf, bl.as_deref(), faults)
    }

    /// Creates the model for `chip` from a firmware root `dir` laid out as Debian's
    /// `firmware-nvidia-graphics` installs it: `DIR/nvidia/<chip>/gsp/gsp-570.144.bin` and
    /// `bootloader-570.144.bin`.
    pub fn from_firmware_dir(
        dir: &std::path::Path,
        chip: &crate::chips::Chip,
        faults: Faults,
    ) -> Result<Self, String> {
        let gsp = dir.join("nvidia").join(chip.name).join("gsp");
        Self::from_files(
            chip.name,
            chip.device_id,
            &gsp.join(format!("gsp-{FW_VERSION}.bin")),
            Some(&gsp.join(format!("bootloader-{FW_VERSION}.bin"))),
            faults,
        )
    }

    /// The WPR2 layout of the loaded image, if one is loaded.
    pub fn layout(&self) -> Option<WprLayout> {
        self.layout
    }

    /// Whether GSP-RM has sent `GSP_INIT_DONE` (and not suspended since).
    pub fn init_done(&self) -> bool {
        matches!(self.run.as_ref().map(|r| r.phase), Some(Phase::Ready))
    }

    /// Whether GSP-RM has suspended after `UNLOADING_GUEST_DRIVER`.
    pub fn suspended(&self) -> bool {
        matches!(self.run.as_ref().map(|r| r.phase), Some(Phase::Suspended))
    }

    /// The registry entries the driver sent (key, DWORD value).
    pub fn registry(&self) -> Vec<(String, Option<u32>)> {
        self.run
            .as_ref()
            .map(|r| r.registry.clone())
            .unwrap_or_default()
    }

    fn check_load(&self, bus: &mut dyn GspBus, meta_addr: u64) -> Result<WprLayout, String> {
        use r570::wpr_meta as m;
        let mut meta = [0u8; m::SIZE];
        bus.dma_read(meta_addr, &mut meta)
            .map_err(|e| format!("GspFwWprMeta at {meta_addr:#x} unreadable: {e}"))?;
        // `meta` is `m::SIZE` bytes and every offset below is inside it.
        let f = |off: usize| get_u64(&meta, off).unwrap_or_default();
        if f(m::MAGIC_OFF) != m::MAGIC {
            return Err(format!("GspFwWprMeta: bad magic {:#x}", f(m::MAGIC_OFF)));
        }
        if f(m::REVISION_OFF) != m::REVISION {
            return Err(format!(
                "GspFwWprMeta: revision {} (expected {})",
                f(m::REVISION_OFF),
                m::REVISION
            ));
        }
        let image = &self.elf.image;
        let image_len = image.len() as u64;
        if f(m::RADIX3_SIZE) != image_len {
            return Err(format!(
                "GspFwWprMeta: sizeOfRadix3Elf {:#x}, the image is {image_len:#x} bytes",
                f(m::RADIX3_SIZE)
            ));
        }
        check_radix3(bus, f(m::RADIX3_ADDR), image)?;

        if let Some(bl) = &self.bootloader {
            let got = read_region(
                bus,
                f(m::BOOTLOADER_ADDR),
                f(m::BOOTLOADER_SIZE),
                "bootloader",
            )?;
            if got != bl.image {
                return Err("GspFwWprMeta: the bootloader differs from the firmware file".into());
            }
            let offsets = [
                (
                    "bootloaderCodeOffset",
                    m::BOOTLOADER_CODE_OFFSET,
                    bl.code_offset,
                ),
                (
                    "bootloaderDataOffset",
                    m::BOOTLOADER_DATA_OFFSET,
                    bl.data_offset,
                ),
                (
                    "bootloaderManifestOffset",
                    m::BOOTLOADER_MANIFEST_OFFSET,
                    bl.manifest_offset,
                ),
            ];
            for (name, off, want) in offsets {
                if f(off) != u64::from(want) {
                    return Err(format!(
                        "GspFwWprMeta: {name} {:#x}, the bootloader says {want:#x}",
                        f(off)
                    ));
                }
            }
        } else if f(m::BOOTLOADER_SIZE) == 0 {
            return Err("GspFwWprMeta: sizeOfBootloader is 0".into());
        }

        let family = self.profile.signature_family;
        let sig = self.elf.signature(family).unwrap_or_default();
        let got = read_region(bus, f(m::SIGNATURE_ADDR), f(m::SIGNATURE_SIZE), "signature")?;
        if got != sig {
            return Err(format!(
                "GspFwWprMeta: the signature is not .fwsignature_{family} of the firmware"
            ));
        }

        // The FB layout, top down: VGA workspace at the end of VRAM, WPR2 ending below it
        // (128 KiB aligned), FRTS at the top of WPR2, then the bootloader, the image, the
        // WPR2 heap, and the non-WPR heap below WPR2 (nouveau `r535_gsp_oneinit()`, upstream
        // nova-core `fb.rs` `FbRanges::new()`).
        let end = |off: usize, size: usize| f(off).checked_add(f(size));
        let fb = f(m::FB_SIZE);
        let vga = f(m::VGA_WORKSPACE_OFFSET);
        let wpr_end = f(m::WPR_END);
        let frts = f(m::FRTS_OFFSET);
        let boot = f(m::BOOT_BIN_OFFSET);
        let elf = f(m::FW_OFFSET);
        let heap = f(m::HEAP_OFFSET);
        let wpr_start = f(m::WPR_START);
        let non_wpr = f(m::NON_WPR_HEAP_OFFSET);
        let order: [(&str, Option<u64>, &str, u64); 8] = [
            (
                "vgaWorkspace end",
                end(m::VGA_WORKSPACE_OFFSET, m::VGA_WORKSPACE_SIZE),
                "fbSize",
                fb,
            ),
            ("gspFwWprEnd", Some(wpr_end), "vgaWorkspaceOffset", vga),
            (
                "frts end",
                end(m::FRTS_OFFSET, m::FRTS_SIZE),
                "gspFwWprEnd",
                wpr_end,
            ),
            (
                "bootloader end",
                boot.checked_add(f(m::BOOTLOADER_SIZE)),
                "frtsOffset",
                frts,
            ),
            (
                "image end",
                elf.checked_add(image_len),
                "bootBinOffset",
                boot,
            ),
            (
                "heap end",
                end(m::HEAP_OFFSET, m::HEAP_SIZE),
                "gspFwOffset",
                elf,
            ),
            ("gspFwWprStart", Some(wpr_start), "gspFwHeapOffset", heap),
            (
                "nonWprHeap end",
                end(m::NON_WPR_HEAP_OFFSET, m::NON_WPR_HEAP_SIZE),
                "gspFwWprStart",
                wpr_start,
            ),
        ];
        for (what, value, limit_name, limit) in order {
            match value {
                Some(v) if v <= limit => {}
                Some(v) => {
                    return Err(format!(
                        "GspFwWprMeta: {what} {v:#x} is above {limit_name} {limit:#x}"
                    ))
                }
                None => return Err(format!("GspFwWprMeta: {what} overflows")),
            }
        }
        if fb == 0 || wpr_end % (128 << 10) != 0 {
            return Err(format!(
                "GspFwWprMeta: fbSize {fb:#x} / gspFwWprEnd {wpr_end:#x} not usable"
            ));
        }
        if f(m::RSVD_START) != non_wpr {
            return Err(format!(
                "GspFwWprMeta: gspFwRsvdStart {:#x} is not nonWprHeapOffset {non_wpr:#x}",
                f(m::RSVD_START)
            ));
        }
        let heap_size = f(m::HEAP_SIZE);
        let (min, max) = self.profile.heap_size;
        if heap_size < min || heap_size >= max {
            return Err(format!(
                "GspFwWprMeta: gspFwHeapSize {heap_size:#x} outside [{min:#x}, {max:#x})"
            ));
        }
        // FWSEC-FRTS made WPR2 cover the FRTS region; booter extends it to the whole layout.
        let (w2_start, w2_end) = bus
            .wpr2()
            .ok_or("WPR2 is not set up (FWSEC-FRTS did not run)")?;
        let frts_end = end(m::FRTS_OFFSET, m::FRTS_SIZE).unwrap_or(u64::MAX);
        if frts < w2_start || frts_end > w2_end {
            return Err(format!(
                "GspFwWprMeta: FRTS [{frts:#x}, {frts_end:#x}) is not inside WPR2 [{w2_start:#x}, {w2_end:#x})"
            ));
        }
        Ok(WprLayout {
            fb_size: fb,
            rsvd_start: f(m::RSVD_START),
            non_wpr_heap_offset: non_wpr,
            wpr_start,
            wpr_end,
            frts_offset: frts,
        })
    }

    /// Reads and checks the LibOS arguments, links the queues; `Err` says what is wrong.
    fn boot(&mut self, bus: &mut dyn GspBus) -> Result<Run, String> {
        let addr = u64::from(bus.mailbox(0)) | (u64::from(bus.mailbox(1)) << 32);
        if addr % r570::GSP_PAGE_SIZE != 0 {
            return Err(format!(
                "LibOS argument array at {addr:#x} is not page aligned"
            ));
        }
        let mut args = vec![0u8; libos_arg::MAX_ENTRIES * libos_arg::SIZE];
        bus.dma_read(addr, &mut args)
            .map_err(|e| format!("LibOS argument array at {addr:#x} unreadable: {e}"))?;
        let mut regions: Vec<(String, u64, u64)> = Vec::new();
        for entry in args.chunks_exact(libos_arg::SIZE) {
            let id8 = get_u64(entry, libos_arg::ID8).unwrap_or_default();
            if id8 == 0 {
                break;
            }
            let name: String = id8
                .to_be_bytes()
                .iter()
                .filter(|b| **b != 0)
                .map(|b| char::from(*b))
                .collect();
            let pa = get_u64(entry, libos_arg::PA).unwrap_or_default();
            let size = get_u64(entry, libos_arg::SIZE_OFF).unwrap_or_default();
            let kind = entry.get(libos_arg::KIND).copied().unwrap_or_default();
            let loc = entry.get(libos_arg::LOC).copied().unwrap_or_default();
            if kind != libos_arg::KIND_CONTIGUOUS {
                return Err(format!(
                    "LibOS region {name}: kind {kind}, expected contiguous (1)"
                ));
            }
            if loc != libos_arg::LOC_SYSMEM {
                return Err(format!(
                    "LibOS region {name}: location {loc}, expected sysmem (1)"
                ));
            }
            if size == 0 || size % r570::GSP_PAGE_SIZE != 0 || pa % r570::GSP_PAGE_SIZE != 0 {
                return Err(format!(
                    "LibOS region {name}: {size:#x} bytes at {pa:#x} is not whole pages"
                ));
            }
            if regions.iter().any(|(n, _, _)| *n == name) {
                return Err(format!("LibOS region {name} given twice"));
            }
            regions.push((name, pa, size));
        }
        let region = |name: &str| {
            regions
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, pa, size)| (*pa, *size))
                .ok_or_else(|| format!("LibOS argument array has no {name} region"))
        };
        for log in ["LOGINIT", "LOGINTR", "LOGRM"] {
            let (pa, size) = region(log)?;
            check_log_buffer(bus, log, pa, size)?;
        }
        let (rmargs_pa, rmargs_size) = region("RMARGS")?;
        let mut rmargs = [0u8; r570::rmargs::SIZE];
        if rmargs_size < rmargs.len() as u64 {
            return Err(format!("RMARGS is {rmargs_size:#x} bytes, too small"));
        }
        bus.dma_read(rmargs_pa, &mut rmargs)
            .map_err(|e| format!("RMARGS at {rmargs_pa:#x} unreadable: {e}"))?;
        let queues = Queues::link(bus, &rmargs)?;
        Ok(Run {
            queues,
            phase: Phase::AwaitSystemInfo,
            deferred: VecDeque::new(),
            pci_ids: None,
            registry: Vec::new(),
            seq_expect: (SEQ_TOKEN & !0xffff) | SEQ_TOKEN_LOW,
            rm: RmServer::new(),
            rm_counted: (0, 0),
            fault: None,
            late: Vec::new(),
        })
    }

    /// Sends a message unless GSP-RM is silenced, and raises SWGEN0 unless that is switched off.
    fn send(
        &self,
        run: &mut Run,
        bus: &mut dyn GspBus,
        function: u32,
        result: u32,
        seq: u32,
        payload: &[u8],
    ) {
        if self.faults.never_answer {
            return;
        }
        run.queues.send(
            bus,
            function,
            result,
            seq,
            payload,
            self.faults.bad_checksum,
        );
        if !self.faults.no_interrupt {
            bus.raise_swgen0();
        }
    }

    /// Replies to command `cmd` with `result` and `payload`, as the command's targeted fault
    /// (if any) has it.
    fn reply(
        &self,
        run: &mut Run,
        bus: &mut dyn GspBus,
        cmd: &Command,
        result: u32,
        payload: &[u8],
    ) {
        let result = if self.faults.error_status {
            status::GENERIC
        } else {
            result
        };
        match run.fault {
            Some(Kind::NeverAnswer) => {}
            Some(Kind::LateReply) => {
                run.late
                    .push((cmd.function, result, cmd.sequence, payload.to_vec()));
            }
            Some(Kind::DuplicateReply) => {
                self.send(run, bus, cmd.function, result, cmd.sequence, payload);
                self.send(run, bus, cmd.function, result, cmd.sequence, payload);
            }
            Some(Kind::EventStorm) => {
                self.storm(run, bus);
                self.send(run, bus, cmd.function, result, cmd.sequence, payload);
            }
            Some(Kind::ErrorStatus(_)) | None => {
                self.send(run, bus, cmd.function, result, cmd.sequence, payload)
            }
        }
    }

    /// Queues [`faults::STORM_EVENTS`] `UCODE_LIBOS_PRINT` events; they go out as the driver
    /// frees room in the status queue ([`GspCore::poll`]), one SWGEN0 for each batch.
    fn storm(&self, run: &mut Run, bus: &mut dyn GspBus) {
        if self.faults.never_answer {
            return;
        }
        for i in 0..faults::STORM_EVENTS {
            let text = format!("nova-sim event storm: print {i}\n");
            let print = libos_print(&text);
            run.queues.send(
                bus,
                function::EVENT_UCODE_LIBOS_PRINT,
                status::OK,
                0,
                &print,
                self.faults.bad_checksum,
            );
        }
        if !self.faults.no_interrupt {
            bus.raise_swgen0();
        }
    }

    /// Refuses `cmd` with `result` without carrying it out (an `error-status` fault). RM
    /// calls carry the status in their parameters too ([`faults`]).
    fn refuse(&self, run: &mut Run, bus: &mut dyn GspBus, cmd: &Command, result: u32) {
        let status_off = match cmd.function {
            function::GSP_RM_ALLOC => Some(r570::rm_alloc::STATUS),
            function::GSP_RM_CONTROL => Some(r570::rm_control::STATUS),
            function::FREE => Some(r570::rm_free::STATUS),
            _ => None,
        };
        match status_off {
            Some(off) => self.rm_reply(run, bus, cmd, cmd.payload.clone(), off, result),
            // UNLOADING_GUEST_DRIVER's reply has no payload (see `handle`); the others echo.
            None if cmd.function == function::UNLOADING_GUEST_DRIVER => {
                self.reply(run, bus, cmd, result, &[])
            }
            None => self.reply(run, bus, cmd, result, &cmd.payload),
        }
    }

    fn handle(&self, run: &mut Run, bus: &mut dyn GspBus, cmd: Command) {
        match (cmd.function, run.phase) {
            (_, Phase::Dead) => {}
            (_, Phase::Suspended) => bus.violation(&format!(
                "command {} sent after UNLOADING_GUEST_DRIVER",
                cmd.function
            )),
            (function::GSP_SET_SYSTEM_INFO, Phase::AwaitSystemInfo) => {
                self.system_info(run, bus, &cmd);
                run.phase = Phase::AwaitRegistry;
            }
            (function::GSP_SET_SYSTEM_INFO, _) => bus.violation("GSP_SET_SYSTEM_INFO sent twice"),
            (function::SET_REGISTRY, Phase::AwaitRegistry) => {
                self.set_registry(run, bus, &cmd);
                self.init(run, bus);
            }
            (function::SET_REGISTRY, Phase::AwaitSystemInfo) => {
                bus.violation("SET_REGISTRY sent before GSP_SET_SYSTEM_INFO");
                self.set_registry(run, bus, &cmd);
            }
            (function::SET_REGISTRY, _) => bus.violation("SET_REGISTRY sent twice"),
            (_, Phase::AwaitSystemInfo | Phase::AwaitRegistry | Phase::Sequencer) => {
                run.deferred.push_back(cmd)
            }
            (function::GET_GSP_STATIC_INFO, Phase::Ready) => {
                let info = self.static_info();
                self.reply(run, bus, &cmd, status::OK, &info);
            }
            (function::UNLOADING_GUEST_DRIVER, Phase::Ready) => {
                // Strict: the driver frees its objects before it unloads GSP-RM.
                for (client, objects) in run.rm.live_clients() {
                    bus.violation(&format!(
                        "UNLOADING_GUEST_DRIVER with client {client:#x} still holding {objects} RM objects"
                    ));
                }
                let result = check_unloading(bus, &cmd.payload);
                // The reply carries no payload: upstream nova-core reads none and warns about
                // "unprocessed data" if there is some (`gsp/commands.rs`
                // `UnloadingGuestDriverReply`), which it would not have let stand against real
                // GSP-RM.
                self.reply(run, bus, &cmd, result, &[]);
                if result == status::OK {
                    bus.set_mailbox(0, bus.mailbox(0) | r570::MAILBOX0_SUSPENDED);
                    run.phase = Phase::Suspended;
                }
            }
            (function::GSP_RM_ALLOC, Phase::Ready) => self.rm_alloc(run, bus, &cmd),
            (function::GSP_RM_CONTROL, Phase::Ready) => self.rm_control(run, bus, &cmd),
            (function::FREE, Phase::Ready) => self.rm_free(run, bus, &cmd),
            (function::NOP, Phase::Ready) => self.reply(run, bus, &cmd, status::OK, &[]),
            (_, Phase::Ready) => self.reply(run, bus, &cmd, status::NOT_SUPPORTED, &cmd.payload),
        }
    }

    /// Replies to an RM call with `result` in both the RPC result and the parameters' status
    /// field at `status_off` (`rpcRmApiAlloc_GSP` and its siblings read the latter when the
    /// former fails), echoing the rest of `payload`.
    fn rm_reply(
        &self,
        run: &mut Run,
        bus: &mut dyn GspBus,
        cmd: &Command,
        payload: Vec<u8>,
        status_off: usize,
        result: u32,
    ) {
        let mut payload = payload;
        put_u32(&mut payload, status_off, result);
        let (allocated, freed) = run.rm.counts();
        let before = (run.rm_counted.0, run.rm_counted.1);
        bus.rm_objects(allocated - before.0, freed - before.1);
        run.rm_counted = (allocated, freed);
        self.reply(run, bus, cmd, result, &payload);
    }

    fn rm_alloc(&self, run: &mut Run, bus: &mut dyn GspBus, cmd: &Command) {
        use r570::rm_alloc as a;
        let p = &cmd.payload;
        let size = get_u32(p, a::PARAMS_SIZE).unwrap_or(u32::MAX) as usize;
        if p.len() < a::SIZE || p.len() - a::SIZE != size {
            bus.violation(&format!(
                "GSP_RM_ALLOC payload is {} bytes, paramsSize says {size} after the {} of the header",
                p.len(),
                a::SIZE
            ));
            let off = if p.len() >= a::SIZE {
                a::STATUS
            } else {
                usize::MAX
            };
            return self.rm_reply(run, bus, cmd, p.clone(), off, status::INVALID_ARGUMENT);
        }
        let g = |off| get_u32(p, off).unwrap_or_default();
        let result = run.rm.alloc(
            g(a::H_CLIENT),
            g(a::H_PARENT),
            g(a::H_OBJECT),
            g(a::H_CLASS),
        );
        self.rm_reply(run, bus, cmd, p.clone(), a::STATUS, result);
    }

    fn rm_control(&self, run: &mut Run, bus: &mut dyn GspBus, cmd: &Command) {
        use r570::rm_control as c;
        let mut p = cmd.payload.clone();
        let size = get_u32(&p, c::PARAMS_SIZE).unwrap_or(u32::MAX) as usize;
        if p.len() < c::SIZE || p.len() - c::SIZE != size {
            bus.violation(&format!(
                "GSP_RM_CONTROL payload is {} bytes, paramsSize says {size} after the {} of the header",
                p.len(),
                c::SIZE
            ));
            let off = if p.len() >= c::SIZE {
                c::STATUS
            } else {
                usize::MAX
            };
            return self.rm_reply(run, bus, cmd, p, off, status::INVALID_ARGUMENT);
        }
        let g = |off| get_u32(&cmd.payload, off).unwrap_or_default();
        let result = match run.rm.control_target(g(c::H_CLIENT), g(c::H_OBJECT)) {
            Err(e) => e,
            Ok(class) => match (class, g(c::CMD)) {
                (rmserver::NV20_SUBDEVICE_0, c::NV2080_CTRL_CMD_GPU_GET_NAME_STRING)
                    if size == c::NAME_STRING_PARAMS_SIZE =>
                {
                    let params = &mut p[c::SIZE..];
                    let unicode = get_u32(params, 0) == Some(c::NAME_STRING_UNICODE);
                    params[4..].fill(0);
                    let name = self.profile.name;
                    if unicode {
                        for (i, ch) in name.encode_utf16().take(63).enumerate() {
                            put_bytes(params, 4 + 2 * i, &ch.to_le_bytes());
                        }
                    } else {
                        put_bytes(params, 4, &name.as_bytes()[..name.len().min(63)]);
                    }
                    status::OK
                }
                (rmserver::NV20_SUBDEVICE_0, c::NV2080_CTRL_CMD_GPU_GET_NAME_STRING) => {
                    // `rmapiParamsCopyIn` checks the size against the control's table.
                    status::INVALID_ARGUMENT
                }
                // The engine, class and graphics-unit controls (`controls.rs`).
                (class, cmd) if controls::handles(cmd) => match classes::offer(self.profile.chip) {
                    Some(offer) => {
                        controls::run(self.profile, offer, class, cmd, &mut p[c::SIZE..])
                    }
                    None => status::NOT_SUPPORTED,
                },
                (rmserver::NV20_SUBDEVICE_0, c::NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE)
                    if g(c::H_CLIENT) != rmserver::INTERNAL.0 =>
                {
                    status::NOT_SUPPORTED
                }
                (rmserver::NV20_SUBDEVICE_0, c::NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE)
                    if size == c::INTR_TABLE_PARAMS_SIZE =>
                {
                    self.intr_kernel_table(&mut p[c::SIZE..]);
                    status::OK
                }
                (rmserver::NV20_SUBDEVICE_0, c::NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE) => {
                    status::INVALID_ARGUMENT
                }
                // `resControlLookup`: not a control of the object's class (or not modelled).
                _ => status::NOT_SUPPORTED,
            },
        };
        self.rm_reply(run, bus, cmd, p, c::STATUS, result);
    }

    /// Fills `NV2080_CTRL_INTERNAL_INTR_GET_KERNEL_TABLE_PARAMS`: the vectors of the units the
    /// simulated GPU interrupts the CPU for. The GSP (its message interrupt, stall only) is
    /// not the first entry, so that a driver must look for it by `engineIdx`; the timer entry
    /// stands for the engines a driver may not handle.
    fn intr_kernel_table(&self, params: &mut [u8]) {
        use r570::rm_control as c;
        params.fill(0);
        let gsp = crate::chips::find(self.profile.chip)
            .map(|chip| crate::vfn::gsp_vector(chip.arch).0)
            .unwrap_or(c::INTR_VECTOR_INVALID);
        let entries = [
            (c::MC_ENGINE_IDX_TMR, 0, 0x7e, c::INTR_VECTOR_INVALID),
            (c::MC_ENGINE_IDX_GSP, 0, gsp, c::INTR_VECTOR_INVALID),
        ];
        put_u32(params, 0, entries.len() as u32);
        for (i, (engine, pmc_mask, stall, nonstall)) in entries.into_iter().enumerate() {
            let at = 4 + i * c::INTR_ENTRY_SIZE;
            put_bytes(params, at, &engine.to_le_bytes());
            put_u32(params, at + 4, pmc_mask);
            put_u32(params, at + 8, stall);
            put_u32(params, at + 12, nonstall);
        }
        // NV2080_INTR_CATEGORY_DEFAULT covers TOP subtrees 0..=3 (vectors 0..255); the other
        // categories are not used by the model.
        for cat in 0..c::INTR_CATEGORIES {
            let at = c::INTR_SUBTREE_MAP + 2 * cat;
            let range = if cat == 0 {
                [0, 3]
            } else {
                [c::INTR_INVALID_SUBTREE; 2]
            };
            put_bytes(params, at, &range);
        }
    }

    fn rm_free(&self, run: &mut Run, bus: &mut dyn GspBus, cmd: &Command) {
        use r570::rm_free as f;
        let p = &cmd.payload;
        if p.len() != f::SIZE {
            bus.violation(&format!(
                "FREE payload is {} bytes, rpc_free_v03_00 is {}",
                p.len(),
                f::SIZE
            ));
            return self.rm_reply(
                run,
                bus,
                cmd,
                p.clone(),
                usize::MAX,
                status::INVALID_ARGUMENT,
            );
        }
        let g = |off| get_u32(p, off).unwrap_or_default();
        let result = run.rm.free(g(f::H_ROOT), g(f::H_OBJECT_OLD));
        self.rm_reply(run, bus, cmd, p.clone(), f::STATUS, result);
    }

    fn system_info(&self, run: &mut Run, bus: &mut dyn GspBus, cmd: &Command) {
        use r570::system_info as s;
        let p = &cmd.payload;
        if p.len() != s::SIZE {
            bus.violation(&format!(
                "GSP_SET_SYSTEM_INFO payload is {} bytes, GspSystemInfo is {}",
                p.len(),
                s::SIZE
            ));
            return;
        }
        let ids = get_u32(p, s::PCI_DEVICE_ID).unwrap_or_default();
        let sub = get_u32(p, s::PCI_SUB_DEVICE_ID).unwrap_or_default();
        let want = (u32::from(self.pci_id.1) << 16) | u32::from(self.pci_id.0);
        if ids != want {
            bus.violation(&format!(
                "GspSystemInfo.PCIDeviceID {ids:#010x}, the GPU is {want:#010x}"
            ));
        }
        if get_u64(p, s::GPU_PHYS_ADDR).unwrap_or_default() == 0 {
            bus.violation("GspSystemInfo.gpuPhysAddr (BAR0) is 0");
        }
        if get_u64(p, s::MAX_USER_VA).unwrap_or_default() == 0 {
            bus.violation("GspSystemInfo.maxUserVa is 0");
        }
        run.pci_ids = Some((ids, sub));
    }

    fn set_registry(&self, run: &mut Run, bus: &mut dyn GspBus, cmd: &Command) {
        match parse_registry(&cmd.payload) {
            Ok(entries) => run.registry = entries,
            Err(e) => bus.violation(&format!("SET_REGISTRY: {e}")),
        }
    }

    /// GSP-RM initialises: an event, then the CPU sequencer.
    fn init(&self, run: &mut Run, bus: &mut dyn GspBus) {
        let text = format!(
            "GSP-RM r570.144 (nova-sim model) on {} initialising\n",
            self.profile.short_name
        );
        let print = libos_print(&text);
        self.send(
            run,
            bus,
            function::EVENT_UCODE_LIBOS_PRINT,
            status::OK,
            0,
            &print,
        );

        use r570::sequencer as q;
        let ops: [&[u32]; 6] = [
            &[q::OP_REG_WRITE, NV_PGSP_FALCON_MAILBOX0, SEQ_TOKEN],
            &[
                q::OP_REG_MODIFY,
                NV_PGSP_FALCON_MAILBOX0,
                0xffff,
                SEQ_TOKEN_LOW,
            ],
            &[
                q::OP_REG_POLL,
                NV_PGSP_FALCON_MAILBOX0,
                u32::MAX,
                run.seq_expect,
                100_000,
                0,
            ],
            &[q::OP_DELAY_US, 10],
            &[q::OP_REG_STORE, NV_PGSP_FALCON_MAILBOX0, 0],
            &[q::OP_REG_WRITE, NV_PGSP_QUEUE_HEAD0, SEQUENCER_DONE],
        ];
        let words: Vec<u32> = ops.iter().flat_map(|op| op.iter().copied()).collect();
        let mut msg = vec![0u8; q::HDR_SIZE];
        // `cmdIndex` is the number of words used, `bufferSizeDWord` the buffer's capacity,
        // which must be larger (`kgspExecuteSequencerBuffer_IMPL()` requires
        // `cmdIndex < bufferSizeDWord`). Only the used words are sent: upstream nova-core
        // (`gsp/sequencer.rs`) counts `cmdIndex` in commands rather than words and runs every
        // command it finds until the message ends, so nothing may follow the last one.
        put_u32(&mut msg, q::BUFFER_SIZE_DWORD, words.len() as u32 + 1);
        put_u32(&mut msg, q::CMD_INDEX, words.len() as u32);
        for w in &words {
            msg.extend_from_slice(&w.to_le_bytes());
        }
        self.send(
            run,
            bus,
            function::EVENT_GSP_RUN_CPU_SEQUENCER,
            status::OK,
            0,
            &msg,
        );
        run.phase = Phase::Sequencer;
    }

    fn sequencer_done(&self, run: &mut Run, bus: &mut dyn GspBus) {
        let mb0 = bus.mailbox(0);
        if mb0 != run.seq_expect {
            bus.violation(&format!(
                "after the CPU sequencer MAILBOX0 is {mb0:#010x}, the sequence leaves {:#010x}",
                run.seq_expect
            ));
        }
        bus.set_mailbox(0, 0);
        self.send(run, bus, function::EVENT_GSP_INIT_DONE, status::OK, 0, &[]);
        run.phase = Phase::Ready;
        while let Some(cmd) = run.deferred.pop_front() {
            self.handle(run, bus, cmd);
        }
    }

    /// The `GspStaticConfigInfo_t` this board reports.
    fn static_info(&self) -> Vec<u8> {
        use r570::static_info as s;
        let mut b = vec![0u8; s::SIZE];
        let p = self.profile;
        let layout = self.layout.unwrap_or_default();
        let fb = if layout.fb_size != 0 {
            layout.fb_size
        } else {
            p.vram_size
        };
        // The VRAM below the firmware's reservation, usable by the driver, and the reservation
        // itself up to the end of VRAM (heaps, WPR2, VGA workspace), reserved and protected.
        let regions = profile::fb_regions(fb, layout.rsvd_start);
        put_u32(&mut b, s::NUM_FB_REGIONS, regions.len() as u32);
        for (i, (base, limit, reserved)) in regions.iter().enumerate() {
            let r = s::FB_REGIONS + i * s::FB_REGION_SIZE;
            put_u64(&mut b, r + s::REGION_BASE, *base);
            put_u64(&mut b, r + s::REGION_LIMIT, *limit);
            put_u64(&mut b, r + s::REGION_RESERVED, u64::from(*reserved));
            put_u32(
                &mut b,
                r + s::REGION_PERFORMANCE,
                if *reserved { 0 } else { 1000 },
            );
            let usable = u8::from(!*reserved);
            put_bytes(
                &mut b,
                r + s::REGION_SUPPORT_COMPRESSED,
                &[usable, usable, u8::from(*reserved)],
            );
        }
        put_u64(&mut b, s::FB_LENGTH, fb);
        put_u32(&mut b, s::FB_BUS_WIDTH, p.bus_width);
        put_u32(&mut b, s::FB_RAM_TYPE, p.ram_type);
        put_u32(&mut b, s::L2_CACHE_SIZE, p.l2_cache_size);
        put_bytes(&mut b, s::GPU_NAME, p.name.as_bytes());
        put_bytes(&mut b, s::GPU_SHORT_NAME, p.short_name.as_bytes());
        for (i, c) in p.name.encode_utf16().enumerate().take(s::NAME_LEN - 1) {
            put_bytes(&mut b, s::GPU_NAME_UNICODE + 2 * i, &c.to_le_bytes());
        }
        put_u64(
            &mut b,
            s::WPR_LAYOUT_NON_WPR_HEAP,
            layout.non_wpr_heap_offset,
        );
        put_u64(&mut b, s::WPR_LAYOUT_FRTS, layout.frts_offset);
        // GSP-RM's own client, device and subdevice (see `rmserver`).
        let (client, device, subdevice) = rmserver::INTERNAL;
        put_u32(&mut b, s::H_INTERNAL_CLIENT, client);
        put_u32(&mut b, s::H_INTERNAL_DEVICE, device);
        put_u32(&mut b, s::H_INTERNAL_SUBDEVICE, subdevice);
        // GSP-RM keeps the BAR2 and BAR1 page directories in the memory it reserves below
        // WPR2; a model choice of where: its first two pages.
        if layout.rsvd_start != 0 {
            put_u64(&mut b, s::BAR2_PDE_BASE, layout.rsvd_start);
            put_u64(
                &mut b,
                s::BAR1_PDE_BASE,
                layout.rsvd_start + r570::GSP_PAGE_SIZE,
            );
        }
        b
    }
}

impl GspRm {
    /// GSP-RM reads its command queue and answers; `doorbell` is the value of the
    /// `NV_PGSP_QUEUE_HEAD` write that woke it, `None` when it looks at its queue on its own
    /// (at start).
    fn service(&mut self, bus: &mut dyn GspBus, doorbell: Option<u32>) {
        let Some(mut run) = self.run.take() else {
            return;
        };
        if run.phase == Phase::Dead {
            self.run = Some(run);
            return;
        }
        if let Err(e) = run.queues.check_driver(bus) {
            bus.violation(&e);
            run.phase = Phase::Dead;
            self.run = Some(run);
            return;
        }
        run.queues.flush(bus);
        if doorbell == Some(SEQUENCER_DONE) && run.phase == Phase::Sequencer {
            self.sequencer_done(&mut run, bus);
        }
        // Replies a `late-reply` fault held back go out before GSP-RM answers anything new.
        for (func, result, seq, payload) in std::mem::take(&mut run.late) {
            self.send(&mut run, bus, func, result, seq, &payload);
        }
        match run.queues.receive(bus) {
            Ok(cmds) => {
                for cmd in cmds {
                    let fault = match run.phase {
                        Phase::Ready => self.faults.for_command(cmd.function, &cmd.payload),
                        _ => None,
                    };
                    if let Some(Kind::ErrorStatus(result)) = fault {
                        log::info!(
                            "GSP-RM: fault error-status {result:#x} on function {} (sequence {})",
                            cmd.function,
                            cmd.sequence
                        );
                        self.refuse(&mut run, bus, &cmd, result);
                        continue;
                    }
                    if let Some(kind) = fault {
                        log::info!(
                            "GSP-RM: fault {kind:?} on function {} (sequence {})",
                            cmd.function,
                            cmd.sequence
                        );
                    }
                    run.fault = fault;
                    self.handle(&mut run, bus, cmd);
                    run.fault = None;
                }
            }
            Err(e) => {
                bus.violation(&e);
                run.phase = Phase::Dead;
            }
        }
        if run.phase == Phase::Suspended {
            self.running = false;
        }
        self.run = Some(run);
    }
}

impl GspCore for GspRm {
    fn load(&mut self, bus: &mut dyn GspBus, wpr_meta: u64) -> Result<(), String> {
        self.layout = None;
        self.run = None;
        self.running = false;
        let layout = self.check_load(bus, wpr_meta)?;
        self.layout = Some(layout);
        Ok(())
    }

    fn start(&mut self, bus: &mut dyn GspBus) {
        self.run = None;
        if self.layout.is_none() {
            bus.violation("the RISC-V core was started without a loaded GSP-RM image");
            self.running = false;
            return;
        }
        match self.boot(bus) {
            Ok(run) => {
                self.run = Some(run);
                self.running = true;
                // Whatever the driver queued before GSP-RM ran is read now, doorbell or not
                // (nouveau queues GSP_SET_SYSTEM_INFO and SET_REGISTRY before booter runs,
                // `r535_gsp_init()` / `r535_gsp_rpc_push()`, and real boards answer them).
                self.service(bus, None);
            }
            Err(e) => {
                // GSP-RM cannot come up; the core halts.
                bus.violation(&e);
                self.running = false;
            }
        }
    }

    fn doorbell(&mut self, bus: &mut dyn GspBus, _queue: u32, value: u32) {
        if self.run.is_none() {
            // The command stays in the queue until GSP-RM runs and reads it (see `start`).
            log::debug!("GSP-RM: doorbell ({value:#x}) before GSP-RM runs");
            return;
        }
        self.service(bus, Some(value));
    }

    fn reset(&mut self) {
        self.run = None;
        self.running = false;
    }

    fn unload(&mut self) {
        self.layout = None;
        self.run = None;
        self.running = false;
    }

    fn running(&self) -> bool {
        self.running
    }

    fn backlog(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.queues.backlog() > 0)
    }

    fn poll(&mut self, bus: &mut dyn GspBus) {
        let Some(run) = self.run.as_mut() else {
            return;
        };
        if run.phase == Phase::Dead {
            return;
        }
        if let Err(e) = run.queues.check_driver(bus) {
            bus.violation(&e);
            run.phase = Phase::Dead;
            return;
        }
        if run.queues.flush(bus) > 0 && !self.faults.no_interrupt {
            bus.raise_swgen0();
        }
    }
}

/// The payload of a `UCODE_LIBOS_PRINT` event carrying `text`
/// (`rpc_ucode_libos_print_v1E_08`: a header, then the text).
fn libos_print(text: &str) -> Vec<u8> {
    let mut print = vec![0u8; r570::libos_print::HDR_SIZE];
    put_u32(&mut print, 4, text.len() as u32);
    print.extend_from_slice(text.as_bytes());
    print
}

/// Reads `size` bytes at `addr` for the `what` region of `GspFwWprMeta`.
fn read_region(bus: &dyn GspBus, addr: u64, size: u64, what: &str) -> Result<Vec<u8>, String> {
    const LIMIT: u64 = 64 << 20;
    if size == 0 || size > LIMIT {
        return Err(format!(
            "GspFwWprMeta: {what} size {size:#x} is not plausible"
        ));
    }
    let mut buf = vec![0u8; size as usize];
    bus.dma_read(addr, &mut buf)
        .map_err(|e| format!("GspFwWprMeta: {what} at {addr:#x} unreadable: {e}"))?;
    Ok(buf)
}

/// Walks the radix3 table at `level0` and compares what it maps with `image`.
///
/// Each level is made of 4 KiB pages of 512 little-endian 64-bit DMA addresses: level 0 points
/// at level 1 pages, level 1 at level 2 pages, level 2 at the image's pages (LibOS radix3,
/// nouveau `nvkm_gsp_radix3_sg()`, upstream nova-core `firmware/gsp.rs`).
fn check_radix3(bus: &dyn GspBus, level0: u64, image: &[u8]) -> Result<(), String> {
    const PAGE: usize = r570::GSP_PAGE_SIZE as usize;
    const PER_PAGE: usize = PAGE / 8;
    let read_entry = |table: u64, index: usize, level: u32| -> Result<u64, String> {
        if table % r570::GSP_PAGE_SIZE != 0 {
            return Err(format!(
                "radix3 level {level} page {table:#x} is not page aligned"
            ));
        }
        let mut e = [0u8; 8];
        bus.dma_read(table + (index as u64) * 8, &mut e)
            .map_err(|err| format!("radix3 level {level} page {table:#x} unreadable: {err}"))?;
        Ok(u64::from_le_bytes(e))
    };
    let mut l1_cache: Option<(usize, u64)> = None;
    let mut l2_cache: Option<(usize, u64)> = None;
    let mut page = vec![0u8; PAGE];
    for (i, chunk) in image.chunks(PAGE).enumerate() {
        let l2_page_index = i / PER_PAGE;
        let l1_page_index = l2_page_index / PER_PAGE;
        let l1 = match l1_cache {
            Some((idx, addr)) if idx == l1_page_index => addr,
            _ => {
                let addr = read_entry(level0, l1_page_index, 0)?;
                l1_cache = Some((l1_page_index, addr));
                addr
            }
        };
        let l2 = match l2_cache {
            Some((idx, addr)) if idx == l2_page_index => addr,
            _ => {
                let addr = read_entry(l1, l2_page_index % PER_PAGE, 1)?;
                l2_cache = Some((l2_page_index, addr));
                addr
            }
        };
        let data = read_entry(l2, i % PER_PAGE, 2)?;
        if data % r570::GSP_PAGE_SIZE != 0 {
            return Err(format!("radix3 maps image page {i} at unaligned {data:#x}"));
        }
        let buf = &mut page[..chunk.len()];
        bus.dma_read(data, buf)
            .map_err(|e| format!("radix3 image page {i} at {data:#x} unreadable: {e}"))?;
        if buf != chunk {
            return Err(format!(
                "radix3 image page {i} (at {data:#x}) differs from .fwimage"
            ));
        }
    }
    Ok(())
}

/// Checks a LibOS log buffer: its first `u64` is the put pointer, then one PTE per page of the
/// buffer (upstream nova-core `gsp.rs` `LogBuffer`, nouveau `r535_gsp_libos_init()`).
fn check_log_buffer(bus: &dyn GspBus, name: &str, pa: u64, size: u64) -> Result<(), String> {
    let pages = size / r570::GSP_PAGE_SIZE;
    let len = pages
        .checked_add(1)
        .and_then(|n| n.checked_mul(8))
        .filter(|len| *len <= size)
        .ok_or_else(|| format!("{name}: {size:#x} bytes cannot hold its page table"))?;
    let mut head = vec![0u8; len as usize];
    bus.dma_read(pa, &mut head)
        .map_err(|e| format!("{name} at {pa:#x} unreadable: {e}"))?;
    for i in 0..pages as usize {
        let pte = get_u64(&head, 8 + 8 * i).unwrap_or_default();
        let mut probe = [0u8; 8];
        if pte % r570::GSP_PAGE_SIZE != 0 || bus.dma_read(pte, &mut probe).is_err() {
            return Err(format!(
                "{name}: page table entry {i} ({pte:#x}) maps no page"
            ));
        }
    }
    Ok(())
}

/// Parses a `PACKED_REGISTRY_TABLE`.
fn parse_registry(p: &[u8]) -> Result<Vec<(String, Option<u32>)>, String> {
    use r570::registry as r;
    let size = get_u32(p, r::TABLE_SIZE).ok_or("payload shorter than the table header")?;
    let count = get_u32(p, r::TABLE_NUM_ENTRIES).unwrap_or_default() as usize;
    if size as usize != p.len() {
        return Err(format!("table size {size} but {} bytes were sent", p.len()));
    }
    let strings = count
        .checked_mul(r::ENTRY_SIZE)
        .and_then(|n| n.checked_add(r::TABLE_HDR_SIZE))
        .filter(|n| *n <= p.len())
        .ok_or_else(|| format!("{count} entries do not fit in {} bytes", p.len()))?;
    let mut out = Vec::new();
    for i in 0..count {
        let e = r::TABLE_HDR_SIZE + i * r::ENTRY_SIZE;
        let name_off = get_u32(p, e + r::ENTRY_NAME_OFFSET).unwrap_or_default() as usize;
        let kind = p.get(e + r::ENTRY_TYPE).copied().unwrap_or_default();
        let data = get_u32(p, e + r::ENTRY_DATA).unwrap_or_default();
        if name_off < strings {
            return Err(format!(
                "entry {i}: key offset {name_off} points into the entries"
            ));
        }
        let rest = p.get(name_off..).unwrap_or_default();
        let end = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(|| format!("entry {i}: key is not NUL-terminated in the table"))?;
        let key = std::str::from_utf8(&rest[..end])
            .ok()
            .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| format!("entry {i}: key is not a printable name"))?;
        let value = match kind {
            r::TYPE_DWORD => Some(data),
            r::TYPE_BINARY | r::TYPE_STRING => None,
            other => return Err(format!("entry {i} ({key}): unknown type {other}")),
        };
        out.push((key.to_string(), value));
    }
    Ok(out)
}

/// Checks an `UNLOADING_GUEST_DRIVER` payload; returns the status GSP-RM answers with.
fn check_unloading(bus: &mut dyn GspBus, p: &[u8]) -> u32 {
    use r570::unloading as u;
    if p.len() != u::SIZE {
        bus.violation(&format!(
            "UNLOADING_GUEST_DRIVER payload is {} bytes, expected {}",
            p.len(),
            u::SIZE
        ));
        return status::INVALID_ARGUMENT;
    }
    let level = get_u32(p, u::NEW_LEVEL).unwrap_or_default();
    let in_pm = p.get(u::IN_PM_TRANSITION).copied().unwrap_or_default();
    if !matches!(level, 0 | 3 | 7) {
        bus.violation(&format!(
            "UNLOADING_GUEST_DRIVER newLevel {level} is not 0, 3 or 7"
        ));
        return status::INVALID_ARGUMENT;
    }
    if (in_pm != 0) != (level != 0) {
        bus.violation(&format!(
            "UNLOADING_GUEST_DRIVER bInPMTransition {in_pm} disagrees with newLevel {level}"
        ));
    }
    status::OK
}
