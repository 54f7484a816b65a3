// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The engines a driver uses to boot the GSP: the GSP and SEC2 falcons, the framebuffer
//! layout registers, the always-on scratch registers, the fuses, and the effects of the
//! firmware the falcons run.
//!
//! [`Engines`] is one BAR0 [`Unit`] over several ranges, because its parts act on each other:
//! FWSEC on the GSP falcon sets WPR2 in the PFB, booter on SEC2 starts the GSP's RISC-V core,
//! an engine reset stops whatever ran there. Register state lives in [`Falcon`] and in plain
//! fields here; guest memory comes in through the [`Ctx`] of each access.
//!
//! # Registers (BAR0 address, source)
//!
//! | register                                   | address    | source                          |
//! |--------------------------------------------|------------|---------------------------------|
//! | `NV_PBUS_SW_SCRATCH(i)`, 64                | 0x001400   | `ad102/dev_bus.h`               |
//! | `NV_FUSE_STATUS_OPT_DISPLAY` (Turing)      | 0x021c04   | `maxwell/gm107/dev_fuse.h`      |
//! | `NV_PFB_NISO_FLUSH_SYSMEM_ADDR`            | 0x100c10   | `ga100/dev_fb.h`                |
//! | `NV_PFB_NISO_FLUSH_SYSMEM_ADDR_HI` (GA100+)| 0x100c40   | `ga100/dev_fb.h`                |
//! | `NV_PFB_PRI_MMU_LOCAL_MEMORY_RANGE`        | 0x100ce0   | `pascal/gp102/dev_fb.h`         |
//! | GSP falcon, `NV_PGSP_QUEUE_HEAD(i)`        | 0x110000   | `ga102/dev_gsp.h`               |
//! | `NV_PGC6_BSI_SECURE_SCRATCH_14`            | 0x1180f8   | `ga102/dev_gc6_island.h`        |
//! | `NV_PGC6_BSI_VPR_SECURE_SCRATCH_15` (Ada)  | 0x1180fc   | `ad102/dev_gc6_island_addendum.h` |
//! | `NV_PGC6_AON_SECURE_SCRATCH_GROUP_05_PRIV_LEVEL_MASK` | 0x118128 | same            |
//! | `NV_PGC6_AON_SECURE_SCRATCH_GROUP_05(0)`   | 0x118234   | same                            |
//! | `NV_PGC6_AON_SECURE_SCRATCH_GROUP_42` (GA100+) | 0x1183a4 | same                         |
//! | `NV_PFB_PRI_MMU_WPR2_ADDR_LO/HI`           | 0x1fa824   | `turing/tu102/dev_fb.h`         |
//! | `NV_PDISP_VGA_WORKSPACE_BASE`              | 0x625f04   | `disp/v04_00/dev_disp.h`        |
//! | `NV_FUSE_STATUS_OPT_DISPLAY` (GA100+)      | 0x820c04   | `ga100/dev_fuse.h`              |
//! | `NV_FUSE_OPT_FPF_{NVDEC,SEC2,GSP}_UCODE<n>_VERSION` (GA100+) | 0x824100 | `ga100/dev_fuse.h` |
//! | SEC2 falcon (`NV_PSEC_FALCON_ENGINE` 0x8403c0) | 0x840000 | `ampere/ga100/dev_sec_pri.h` |
//!
//! Values the board presents (modelling choices unless cited):
//!
//! * VRAM: [`Chip::vram_size`]. GA100 and later report it in MiB in `SCRATCH_GROUP_42`
//!   (upstream `NV_USABLE_FB_SIZE_IN_MB`); every chip also encodes it in
//!   `LOCAL_MEMORY_RANGE` as `LOWER_MAG << LOWER_SCALE` MiB, ECC off.
//! * GFW boot has completed: `GROUP_05(0)` reads 0xff (`..._GFW_BOOT_PROGRESS_COMPLETED`,
//!   `ga102/dev_gc6_island_addendum.h`) and the priv level mask reads `LEVEL0` enabled, as
//!   after FWSEC lowered it (upstream nova-core `gpu/hal/tu102.rs`).
//! * Ada: the FB scrubber has run (`NV_PGC6_BSI_VPR_SECURE_SCRATCH_15_SCRUBBER_HANDOFF`,
//!   bits 31:29, reads `_DONE` = 3), on every AD10x alike. Open RM runs the `scrubber` ucode on
//!   SEC2 only when that field is below `_DONE` and skips it otherwise ("skipping executing
//!   Scrubber as it already ran", `kgspExecuteScrubberIfNeeded_AD102()`,
//!   `src/nvidia/src/kernel/gpu/gsp/arch/ada/kernel_gsp_ad102.c`); on a board the VBIOS has
//!   booted (`GROUP_05(0)` above), the scrubbing is done, so a driver that follows Open RM
//!   reads the register and skips the ucode. The register is read-only here like the other
//!   secure scratch registers, and absent (an unimplemented register) before Ada. With
//!   `--fault scrubber-pending` the board's VBIOS did not scrub: the handoff reads 0 until the
//!   `scrubber` ucode has run on SEC2, and booter_load refuses to start GSP-RM before then (a
//!   model choice: Open RM's `kgspBootstrap_TU102()` always runs the scrubber first).
//! * The VGA workspace (boards with a display) is the top 1 MiB of VRAM, valid.
//! * Registers the CPU cannot write on a secured board (`WPR2_ADDR_*`, the secure scratch and
//!   AON registers, the fuses, `LOCAL_MEMORY_RANGE`) are read-only here: a write is a
//!   violation.
//! * A device reset (function-level reset, or the vfio-user reset) clears WPR2 and stops and
//!   unloads GSP-RM, as a power cycle does; only booter_unload removes WPR2 otherwise. Open RM
//!   resets a GPU whose state it cannot recover by FLR (`kbifDoFullChipReset_GA100`: "Use
//!   Function Level Reset(FLR) to reset as much of the chip as possible"), after which the
//!   VBIOS boots again (`kbifDoFunctionLevelReset_TU102` waits for GFW boot), and it skips
//!   FWSEC-SB and booter_unload while the GPU is in a full-chip or secondary bus reset
//!   (`kgspExecuteBooterUnloadIfNeeded_TU102` returns `NV_ERR_GPU_IN_FULLCHIP_RESET` under
//!   `API_GPU_IN_RESET_SANITY_CHECK`), before booting GSP-RM afresh, which it refuses while
//!   WPR2 is up (`_kgspBootGspRm`): the reset itself takes WPR2 down. `--fault wpr2-preset`
//!   makes a board no reset recovers: WPR2 is up at power-on and after every reset.
//!
//! ## WPR2's upper bound
//!
//! `NV_PFB_PRI_MMU_WPR2_ADDR_LO` and `_HI` hold address bits 39:12 in bits 31:4
//! (`_ALIGNMENT` 0xc, `turing/tu102/dev_fb.h`). HI is the *exclusive* end: Open RM decodes the
//! pair into the inclusive `NV_RANGE` `[LO << 12, (HI << 12) - 1]` and calls the region empty
//! when LO equals HI (`kbusGetWprRegions_GH100()`, `src/nvidia/src/kernel/gpu/bus/arch/hopper/
//! kern_bus_gh100.c`; the same for HUBMMU in `kern_bus_gb100.c`), and calls WPR2 up when HI is
//! non-zero (`kgspIsWpr2Up_TU102()`, `kernel_gsp_tu102.c`). After FWSEC-FRTS Open RM checks
//! only that HI is non-zero and LO is `frtsOffset >> 12` (`kgspExecuteFwsec_TU102()`,
//! `kernel_gsp_frts_tu102.c`), so a driver must not require anything of HI beyond that. The
//! sibling `NV_PFB_PRI_MMU_LOCK_ADDR_HI` is not read the same way: `memmgrBlockMemLockedMemory_GA100()`
//! (`mem_mgr_ga100.c`) aligns it up to cover its last page, i.e. it holds the last page. The
//! model reports HI as FRTS's (or the WPR's) end, exclusive.
//!
//! # Time, reset and bus mastering
//!
//! Work takes time ([`crate::timing`]): an engine reset's release starts memory scrubbing; a
//! `CPUCTL.STARTCPU` starts the program, whose effects (below) and halt come at its deadline;
//! booter launching GSP-RM makes the RISC-V core active at once, and GSP-RM starts
//! ([`GspCore::start`]) after [`crate::timing::Work::GspInit`]; each doorbell reaches GSP-RM
//! after [`crate::timing::Work::Rpc`], in order. Until a program halts, its result registers
//! (the falcon's mailboxes, `WPR2_ADDR_*`, the FRTS error code) read stale and each such read
//! is a violation. While `ENGINE.RESET` is asserted every other register of that falcon reads
//! [`PRI_RESET`] and refuses writes, as violations. DMA (falcon transfers, booter's read of
//! `GspFwWprMeta`, GSP-RM's) fails without PCI bus mastering, as a violation.
//!
//! # Firmware effects
//!
//! A started falcon's image is identified by [`Catalogue::identify`]; a rejected image halts
//! the falcon with an error in MAILBOX0 ([`MBOX_ERR_UNKNOWN_IMAGE`], [`MBOX_ERR_REJECTED`];
//! the values real firmware reports are not public, these are the simulator's) and counts a
//! violation, as is every other refusal (FWSEC-FRTS finding WPR2 up or given an unusable
//! region, booter_load or booter_unload refusing), each logged with the falcon and its `CPUCTL`
//! offset. Accepted images act when their run ends and halt with MAILBOX0 = 0:
//!
//! * FWSEC `FRTS` (`init_cmd` 0x15): sets WPR2 to the command's FB region and clears the
//!   FRTS error code (`NV_PBUS_SW_SCRATCH(0xe)[31:16]`, upstream `gsp/regs.rs`). If WPR2 is
//!   already set it changes nothing and reports [`FRTS_ERR_WPR2_SET`].
//! * FWSEC `SB` (0x19): the GSP falcon stays in its pre-LibOS state (it was reset to load
//!   FWSEC); nothing else changes.
//! * booter_load (SEC2; MAILBOX0/1 = DMA address of `GspFwWprMeta`): WPR2 becomes the WPR
//!   the structure describes (`gspFwWprStart..gspFwWprEnd`; any WPR2 FWSEC-FRTS made must be
//!   its end), [`GspCore::load`], then the GSP's RISC-V core is selected and launched; GSP-RM
//!   starts on it later ([`GspCore::start`]).
//! * booter_unload: WPR2 cleared, [`GspCore::unload`].
//!
//! A GSP falcon engine reset calls [`GspCore::reset`]; a `NV_PGSP_QUEUE_HEAD(i)` write
//! [`GspCore::doorbell`]; `RISCV_CPUCTL.ACTIVE_STAT` (or, on Turing and GA100,
//! `RISCV_CORE_SWITCH_RISCV_STATUS.ACTIVE_STAT`) is [`GspCore::running`]. While GSP-RM runs,
//! the GSP falcon's code-loading and CPU-control registers are protected (writes are
//! violations; IMEMD/DMEMD read [`PRI_LOCKED`]).
//!
//! # Interrupts
//!
//! `IRQSTAT.SWGEN0` latches when GSP-RM raises it ([`GspBus::raise_swgen0`]). GSP-RM enables
//! SWGEN0 and routes it to the host when it starts (`IRQMASK`, `IRQDEST`; nouveau's
//! `r535_gsp_intr()` reads the RISC-V `IRQMASK` to see what it enabled). The falcon's host
//! interrupt (`IRQSTAT & IRQMASK & IRQDEST`) sends an interrupt message to the CPU interrupt
//! tree ([`crate::vfn`]) on vector [`crate::vfn::gsp_vector`] when it rises, and again when the
//! driver writes `INTR_RETRIGGER(0)` while it is still asserted (GA100 and later; nouveau
//! `ga100_flcn_intr_retrigger()`). A driver that clears the leaf but not `IRQSTAT` therefore
//! gets no second interrupt unless it retriggers, as on the hardware.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use log::{debug, info};

use crate::bar0::{Ctx, RegRead, RegWrite, Unit, PRI_RESET};
use crate::chips::{Architecture, Chip};
use crate::falcon::{DmaRequest, Engine, Event, Falcon, Generation, Outcome, IRQ_SWGEN0};
use crate::firmware::{
    BootloaderDesc, Catalogue, FirmwareFiles, ImageKind, Verdict, FRTS_REGION_TYPE_FB,
    FWSEC_CMD_FRTS, FWSEC_CMD_SB,
};
use crate::gsp_core::{GspBus, GspCore};
use crate::memory::GuestMemory;
use crate::stats::{bump, Counters};
use crate::timing::{Delays, Work};
use crate::vbios::Vbios;
use crate::vfn::IntrHub;

/// What a read of a register protected by the priv target mask returns: nova-core's
/// `LOCKED_PATTERN` (upstream `falcon/gsp.rs`), `0xbadf41xx` (`NV_PPRIV_SYS_PRI_ERROR_*`).
pub const PRI_LOCKED: u32 = 0xbadf_4100;

/// MAILBOX0 of a falcon started with an image the simulator does not know.
pub const MBOX_ERR_UNKNOWN_IMAGE: u32 = 0x5e00_0001;
/// MAILBOX0 of a falcon whose known image HS verification rejected.
pub const MBOX_ERR_REJECTED: u32 = 0x5e00_0002;
/// MAILBOX0 of booter when [`GspCore::load`] refused, or booter cannot run.
pub const MBOX_ERR_BOOTER: u32 = 0x5e00_0003;
/// MAILBOX0 of a firmware failing because of a `--fault`.
pub const MBOX_ERR_INJECTED: u32 = 0x5e00_0004;
/// MAILBOX0 of FWSEC given a command it does not know.
pub const MBOX_ERR_BAD_COMMAND: u32 = 0x5e00_0005;

/// FRTS error code (`SCRATCH_0E[31:16]`) when WPR2 already exists.
pub const FRTS_ERR_WPR2_SET: u32 = 0x1;
/// FRTS error code for a region FWSEC cannot use.
pub const FRTS_ERR_BAD_REGION: u32 = 0x2;
/// FRTS error code reported under `--fault fwsec-frts-error`.
pub const FRTS_ERR_INJECTED: u32 = 0x3;

const SCRATCH_BASE: u32 = 0x0000_1400;
const SCRATCH_0E: u32 = SCRATCH_BASE + 4 * 0xe;
const FUSE_DISPLAY_GM107: u32 = 0x0002_1c04;
const NISO_FLUSH: u32 = 0x0010_0c10;
const NISO_FLUSH_HI: u32 = 0x0010_0c40;
const LOCAL_MEMORY_RANGE: u32 = 0x0010_0ce0;
const QUEUE_HEAD0: u32 = 0x0011_0c00;
const BSI_SCRATCH_14: u32 = 0x0011_80f8;
const BSI_SCRATCH_15: u32 = 0x0011_80fc;
/// `NV_PGC6_BSI_VPR_SECURE_SCRATCH_15_SCRUBBER_HANDOFF_DONE` in bits 31:29.
pub const SCRUBBER_HANDOFF_DONE: u32 = 3 << 29;
const GROUP_05_PLM: u32 = 0x0011_8128;
const GROUP_05_0: u32 = 0x0011_8234;
const GROUP_42: u32 = 0x0011_83a4;
const WPR2_LO: u32 = 0x001f_a824;
const WPR2_HI: u32 = 0x001f_a828;
const VGA_WORKSPACE: u32 = 0x0062_5f04;
const FUSE_DISPLAY_GA100: u32 = 0x0082_0c04;
const FUSE_UCODE: Range<u32> = 0x0082_4100..0x0082_4200;

/// Failures a test can ask the board to show (`--fault`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// FWSEC-FRTS reports an error code and creates no WPR2.
    pub fwsec_frts_error: bool,
    /// booter_load fails (MAILBOX0 != 0) without starting GSP-RM.
    pub booter_error: bool,
    /// WPR2 exists at power-on, as a crashed driver leaves it, and after every reset (QEMU
    /// resets the device when the machine starts): a board only a power cycle recovers.
    pub wpr2_preset: bool,
    /// The VBIOS did not scrub the FB (Ada): `NV_PGC6_BSI_VPR_SECURE_SCRATCH_15`'s scrubber
    /// handoff reads 0 until the driver runs the `scrubber` ucode on SEC2.
    pub scrubber_pending: bool,
}

impl Faults {
    /// The names `--fault` accepts.
    pub const NAMES: &'static [&'static str] = &[
        "fwsec-frts-error",
        "booter-error",
        "wpr2-preset",
        "scrubber-pending",
    ];

    /// Sets the fault called `name`; `false` if there is none.
    pub fn set(&mut self, name: &str) -> bool {
        match name {
            "fwsec-frts-error" => self.fwsec_frts_error = true,
            "booter-error" => self.booter_error = true,
            "wpr2-preset" => self.wpr2_preset = true,
            "scrubber-pending" => self.scrubber_pending = true,
            _ => return false,
        }
        true
    }
}

/// The falcon register generation of `chip` (upstream nova-core `falcon/hal.rs`: Turing and
/// GA100 use the TU102 HAL).
pub fn generation(chip: &Chip) -> Generation {
    match chip.arch {
        Architecture::Volta | Architecture::Turing => Generation::Tu102,
        Architecture::Ampere if chip.chipset == 0x170 => Generation::Tu102,
        _ => Generation::Ga102,
    }
}

/// The GSP-RM model's view of the GPU during one call.
struct CoreBus<'a> {
    gsp: &'a mut Falcon,
    wpr2: Option<(u64, u64)>,
    dma: &'a GuestMemory,
    counters: &'a Counters,
    bus_master: bool,
}

impl CoreBus<'_> {
    /// GSP-RM's DMA goes out through the GPU's PCI function: without bus mastering it fails.
    fn dma_allowed(&self, dir: &str, addr: u64, len: usize) -> Result<(), String> {
        if self.bus_master {
            return Ok(());
        }
        bump(&self.counters.violations);
        let what = format!(
            "DMA {dir} of {len:#x} bytes at {addr:#x} with bus mastering disabled \
             (PCI_COMMAND_MASTER clear)"
        );
        log::warn!("violation: GSP-RM: {what}");
        Err(what)
    }
}

impl GspBus for CoreBus<'_> {
    fn dma_read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        self.dma_allowed("read", addr, buf.len())?;
        self.dma.read(addr, buf).map_err(|e| e.to_string())
    }

    fn dma_write(&self, addr: u64, data: &[u8]) -> Result<(), String> {
        self.dma_allowed("write", addr, data.len())?;
        self.dma.write(addr, data).map_err(|e| e.to_string())
    }

    fn mailbox(&self, index: usize) -> u32 {
        self.gsp.mailbox(index)
    }

    fn set_mailbox(&mut self, index: usize, value: u32) {
        self.gsp.set_mailbox(index, value);
    }

    fn wpr2(&self) -> Option<(u64, u64)> {
        self.wpr2
    }

    fn raise_swgen0(&mut self) {
        self.gsp.raise_irq(IRQ_SWGEN0);
    }

    fn violation(&mut self, what: &str) {
        bump(&self.counters.violations);
        log::warn!("violation: GSP-RM: {what}");
    }

    fn rm_objects(&mut self, allocated: u64, freed: u64) {
        use std::sync::atomic::Ordering;
        self.counters
            .rm_allocs
            .fetch_add(allocated, Ordering::Relaxed);
        self.counters.rm_frees.fetch_add(freed, Ordering::Relaxed);
    }
}

/// Work the engines have started and will finish at a deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    /// Memory scrubbing after the engine's reset was released.
    Scrub(Engine),
    /// A DMA transfer the driver started with `DMATRFCMD`.
    Dma(Engine, DmaRequest),
    /// The program the engine was started on runs to its end.
    Run(Engine),
    /// GSP-RM, launched by booter, starts on the RISC-V core.
    CoreStart,
    /// GSP-RM reads its command queue after a doorbell.
    Doorbell {
        /// `NV_PGSP_QUEUE_HEAD` index.
        queue: u32,
        /// The value written.
        value: u32,
    },
    /// GSP-RM looks at the driver's read pointer again, to send messages that did not fit
    /// the status queue ([`GspCore::poll`]).
    CorePoll,
}

/// A [`Job`] and when it completes.
#[derive(Clone, Copy, Debug)]
struct Pending {
    at: Duration,
    job: Job,
}

/// The engines (see the module docs).
#[derive(Debug)]
pub struct Engines {
    chip: &'static Chip,
    gsp: Falcon,
    sec2: Falcon,
    core: Box<dyn GspCore>,
    catalogue: Catalogue,
    faults: Faults,
    wpr2: Option<(u64, u64)>,
    /// Whether the FB has been scrubbed (Ada's scrubber handoff reads done).
    scrubbed: bool,
    scratch: [u32; 64],
    niso_flush: [u32; 2],
    vga_workspace: u32,
    queue_head: [u32; 8],
    delays: Delays,
    /// Work in progress, in the order it was started.
    pending: Vec<Pending>,
    /// The deadline of the last doorbell, so that GSP-RM handles doorbells in order.
    last_doorbell: Duration,
    /// Booter launched GSP-RM, which has not started yet ([`Job::CoreStart`]).
    core_booting: bool,
    /// The CPU interrupt tree the GSP's interrupt messages go to, once connected.
    intr: Option<Arc<IntrHub>>,
    /// The GSP falcon's host interrupt as last seen, to find its rising edges.
    gsp_host_irq: u32,
}

/// Counts a violation found while the engines do their work. `what` names the unit.
fn violation(ctx: &Ctx<'_>, what: &str) {
    bump(&ctx.counters.violations);
    log::warn!("violation: {what}");
}

/// The unit name and register at which a falcon program was started, for violations the
/// program reports (`GSP 0x110100`: the CPUCTL write that started it).
fn started_at(engine: Engine) -> String {
    format!(
        "{} {:#08x}",
        engine.name(),
        engine.base() + crate::falcon::CPUCTL
    )
}

impl Engines {
    /// The engines of `chip`, with FWSEC taken from `vbios`, booter from `files`, GSP-RM
    /// modelled by `core`, and `faults` applied.
    pub fn new(
        chip: &'static Chip,
        vbios: &Vbios,
        files: &FirmwareFiles,
        core: Box<dyn GspCore>,
        faults: Faults,
    ) -> Self {
        Self::with_delays(chip, vbios, files, core, faults, Delays::default())
    }

    /// Like [`Engines::new`], with work taking the time `delays` says.
    pub fn with_delays(
        chip: &'static Chip,
        vbios: &Vbios,
        files: &FirmwareFiles,
        core: Box<dyn GspCore>,
        faults: Faults,
        delays: Delays,
    ) -> Self {
        let generation = generation(chip);
        let catalogue = Catalogue::new(chip, generation, vbios, files);
        let mut engines = Engines {
            chip,
            gsp: Falcon::new(Engine::Gsp, generation),
            sec2: Falcon::new(Engine::Sec2, generation),
            core,
            catalogue,
            faults,
            wpr2: None,
            scrubbed: true,
            scratch: [0; 64],
            niso_flush: [0; 2],
            vga_workspace: 0,
            queue_head: [0; 8],
            delays,
            pending: Vec::new(),
            last_doorbell: Duration::ZERO,
            core_booting: false,
            intr: None,
            gsp_host_irq: 0,
        };
        engines.power_on();
        engines
    }

    /// Sends the GSP's interrupt messages to `hub`.
    pub fn connect_interrupts(&mut self, hub: Arc<IntrHub>) {
        self.intr = Some(hub);
    }

    /// Sends the GSP falcon's interrupt message to the tree when its host interrupt rises,
    /// or, with `retrigger`, while it is asserted.
    fn gsp_interrupt(&mut self, ctx: &Ctx<'_>, retrigger: bool) {
        let out = self.gsp.host_interrupt();
        let rising = self.gsp_host_irq == 0 && out != 0;
        self.gsp_host_irq = out;
        if rising || (retrigger && out != 0) {
            if let Some(hub) = &self.intr {
                hub.raise(crate::vfn::gsp_vector(self.chip.arch), ctx);
            }
        }
    }

    fn power_on(&mut self) {
        self.reset_registers();
        // A board whose VBIOS scrubbed the FB at power-on, unless the fault says it did not.
        self.scrubbed = !self.faults.scrubber_pending;
        if self.faults.wpr2_preset {
            // Where an earlier FWSEC-FRTS put it: 1 MiB ending 1 MiB below the top of VRAM.
            let top = self.chip.vram_size().saturating_sub(1 << 20);
            self.wpr2 = Some((top.saturating_sub(1 << 20), top));
        }
    }

    fn reset_registers(&mut self) {
        self.gsp.reset();
        self.sec2.reset();
        self.core.reset();
        self.scratch = [0; 64];
        self.niso_flush = [0; 2];
        self.queue_head = [0; 8];
        self.pending.clear();
        self.core_booting = false;
        self.vga_workspace = if self.chip.is_vga() {
            let base = self.chip.vram_size().saturating_sub(1 << 20);
            // ADDR (31:8) is the base divided by 0x10000; STATUS_VALID is bit 3.
            (((base >> 16) as u32) << 8) | (1 << 3)
        } else {
            0
        };
    }

    /// The WPR2 region `[start, end)`, if set.
    pub fn wpr2(&self) -> Option<(u64, u64)> {
        self.wpr2
    }

    /// The GSP falcon's registers.
    pub fn gsp_falcon(&self) -> &Falcon {
        &self.gsp
    }

    /// SEC2's registers.
    pub fn sec2_falcon(&self) -> &Falcon {
        &self.sec2
    }

    /// The GSP-RM model.
    pub fn core(&self) -> &dyn GspCore {
        self.core.as_ref()
    }

    /// The catalogue of known firmware.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    fn ampere_or_later(&self) -> bool {
        !matches!(self.chip.arch, Architecture::Volta | Architecture::Turing)
    }

    fn local_memory_range(&self) -> u32 {
        let mut mib = self.chip.vram_size() >> 20;
        let mut scale = 0u32;
        while mib > 0x3f && mib % 2 == 0 {
            mib /= 2;
            scale += 1;
        }
        ((mib as u32 & 0x3f) << 4) | (scale & 0xf)
    }

    /// `NV_PGC6_BSI_VPR_SECURE_SCRATCH_15` on Ada: the scrubber handoff, done once the FB is
    /// scrubbed.
    fn scrubber_handoff(&self) -> u32 {
        if self.scrubbed {
            SCRUBBER_HANDOFF_DONE
        } else {
            0
        }
    }

    fn fuse(&self, addr: u32) -> u32 {
        self.catalogue
            .fuses()
            .iter()
            .find(|(a, _)| *a == addr)
            .map_or(0, |(_, v)| *v)
    }

    fn core_bus<'a>(
        gsp: &'a mut Falcon,
        wpr2: Option<(u64, u64)>,
        ctx: &'a Ctx<'_>,
    ) -> CoreBus<'a> {
        CoreBus {
            gsp,
            wpr2,
            dma: ctx.dma,
            counters: ctx.counters,
            bus_master: ctx.bus_master,
        }
    }

    /// Whether GSP-RM runs on the GSP's RISC-V core, or booter has launched it and it is
    /// starting (`RISCV_CPUCTL.ACTIVE_STAT` reads active in both cases).
    fn riscv_active(&self) -> bool {
        self.core.running() || self.core_booting
    }

    /// The kind of program `engine` is running, if it runs one.
    fn running(&self, engine: Engine) -> bool {
        self.pending.iter().any(|p| p.job == Job::Run(engine))
    }

    /// Schedules `job` to complete after `work` takes its time.
    fn schedule(&mut self, now: Duration, work: Work, job: Job) {
        let mut at = now + self.delays.of(work);
        if let Job::Doorbell { .. } = job {
            // GSP-RM reads its queue in order: a doorbell is handled after the ones before it.
            at = at.max(self.last_doorbell);
            self.last_doorbell = at;
        }
        debug!("{job:?} due at {at:?} ({work:?})");
        self.pending.push(Pending { at, job });
    }

    /// Cancels the work of `engine` (its reset stops it).
    fn cancel(&mut self, engine: Engine) {
        self.pending.retain(|p| match p.job {
            Job::Scrub(e) | Job::Run(e) | Job::Dma(e, _) => e != engine,
            Job::CoreStart | Job::Doorbell { .. } | Job::CorePoll => engine != Engine::Gsp,
        });
        if engine == Engine::Gsp {
            self.core_booting = false;
        }
    }

    /// A result register of a program still running reads stale: the value before the program
    /// wrote it. That read is a violation: the driver had not waited for the completion signal
    /// (`CPUCTL.HALTED`, which Open RM's `kflcnWaitForHalt_HAL()` waits for before
    /// `kgspExecuteHsFalcon_GA102()` reads the mailboxes).
    fn stale(&self, engine: Engine, what: &str, value: u32) -> RegRead {
        RegRead::Violation(
            value,
            format!(
                "{what} read while the {} falcon still runs (CPUCTL.HALTED clear): the \
                 result is not there yet",
                engine.name()
            ),
        )
    }

    fn falcon_read(&mut self, engine: Engine, rel: u32) -> RegRead {
        let running = self.riscv_active();
        let program = self.running(engine);
        let (falcon, riscv, locked) = match engine {
            Engine::Gsp => (&mut self.gsp, running, running),
            Engine::Sec2 => (&mut self.sec2, false, false),
        };
        if falcon.in_reset() && rel != crate::falcon::ENGINE {
            return RegRead::Violation(PRI_RESET, in_reset(engine, rel));
        }
        if falcon.scrubbing() && falcon.is_memory_port(rel) {
            return RegRead::Violation(
                0,
                format!(
                    "IMEM/DMEM PIO read at +{rel:#x} while memory scrubbing is pending \
                     (HWCFG2.MEM_SCRUBBING / DMACTL.*MEM_SCRUBBING)"
                ),
            );
        }
        match falcon.read(rel, riscv, locked) {
            Some(v)
                if program && matches!(rel, crate::falcon::MAILBOX0 | crate::falcon::MAILBOX1) =>
            {
                let name = if rel == crate::falcon::MAILBOX0 {
                    "MAILBOX0"
                } else {
                    "MAILBOX1"
                };
                self.stale(engine, name, v)
            }
            Some(v) => RegRead::Value(v),
            None => RegRead::Unimplemented,
        }
    }

    fn falcon_write(
        &mut self,
        engine: Engine,
        rel: u32,
        value: u32,
        mask: u32,
        ctx: &mut Ctx<'_>,
    ) -> RegWrite {
        if engine == Engine::Gsp && rel == crate::falcon::INTR_RETRIGGER0 && self.ampere_or_later()
        {
            if value & mask & 1 != 0 {
                self.gsp_interrupt(ctx, true);
            }
            return RegWrite::Done;
        }
        if engine == Engine::Gsp && self.riscv_active() && Falcon::protected(rel) {
            return RegWrite::Violation(format!(
                "write of {value:#x} to a register the priv target mask locks while GSP-RM runs"
            ));
        }
        let falcon = match engine {
            Engine::Gsp => &mut self.gsp,
            Engine::Sec2 => &mut self.sec2,
        };
        if falcon.in_reset() && rel != crate::falcon::ENGINE {
            return RegWrite::Violation(format!("write of {value:#x}: {}", in_reset(engine, rel)));
        }
        match falcon.write(rel, value, mask) {
            Outcome::Done(Event::None) => RegWrite::Done,
            Outcome::Done(Event::Reset) => {
                debug!("{}: engine reset", engine.name());
                self.cancel(engine);
                if engine == Engine::Gsp {
                    self.core.reset();
                }
                RegWrite::Done
            }
            Outcome::Done(Event::ResetReleased) => {
                self.schedule(ctx.now, Work::Scrub, Job::Scrub(engine));
                RegWrite::Done
            }
            Outcome::Done(Event::Dma(req)) => {
                let falcon = self.falcon_mut(engine);
                if falcon.dma_busy() {
                    return RegWrite::Violation(
                        "DMATRFCMD written while the previous transfer still runs \
                         (DMATRFCMD.IDLE clear); the transfer is dropped"
                            .into(),
                    );
                }
                falcon.set_dma_busy(true);
                self.schedule(ctx.now, Work::Dma, Job::Dma(engine, req));
                RegWrite::Done
            }
            Outcome::Done(Event::Start) => {
                self.start(engine, ctx);
                RegWrite::Done
            }
            Outcome::ReadOnly => RegWrite::ReadOnly,
            Outcome::Unimplemented => RegWrite::Unimplemented,
            Outcome::Violation(what) => RegWrite::Violation(what),
        }
    }

    /// Carries out one transfer; `false` (after counting a violation) if it failed.
    fn dma(&mut self, engine: Engine, req: DmaRequest, ctx: &mut Ctx<'_>) -> bool {
        bump(&ctx.counters.falcon_dma);
        let name = engine.name();
        let problem = if req.require_ctx {
            Some("DMACTL.REQUIRE_CTX is set but no DMA context is bound")
        } else if !req.physical() {
            Some("virtual DMA addressing needs a context, none is bound")
        } else if !req.allow_phys_no_ctx {
            Some("physical DMA without a context needs FBIF_CTL.ALLOW_PHYS_NO_CTX")
        } else if !matches!(req.target(), 1 | 2) {
            if req.target() == 0 {
                info!("{name}: DMA from local FB is not modelled; transfer dropped");
                return false;
            }
            Some("FBIF_TRANSCFG.TARGET is not a valid aperture")
        } else {
            None
        };
        let problem = problem
            .or_else(|| {
                (!ctx.bus_master).then_some(
                    "bus mastering is disabled (PCI_COMMAND_MASTER clear): the GPU cannot \
                     reach system memory",
                )
            })
            .or_else(|| {
                self.falcon_mut(engine)
                    .scrubbing()
                    .then_some("IMEM/DMEM are still being scrubbed after the reset")
            });
        if let Some(problem) = problem {
            violation(ctx, &format!("{name}: DMA {req:x?}: {problem}"));
            return false;
        }
        let falcon = match engine {
            Engine::Gsp => &mut self.gsp,
            Engine::Sec2 => &mut self.sec2,
        };
        let result = if req.to_memory {
            falcon
                .dma_fetch(&req)
                .and_then(|data| ctx.dma_write(name, req.address, &data))
        } else {
            let mut buf = vec![0u8; req.len];
            ctx.dma_read(name, req.address, &mut buf)
                .and_then(|()| falcon.dma_store(&req, &buf))
        };
        match result {
            Ok(()) => true,
            Err(e) => {
                violation(
                    ctx,
                    &format!(
                        "{name}: DMA of {:#x} bytes at {:#x}: {e}",
                        req.len, req.address
                    ),
                );
                false
            }
        }
    }

    /// `engine`'s CPU was started: the program runs until its deadline ([`Job::Run`]).
    fn start(&mut self, engine: Engine, ctx: &mut Ctx<'_>) {
        bump(&ctx.counters.falcon_starts);
        if self.running(engine) {
            violation(
                ctx,
                &format!(
                    "{}: started again while its program still runs",
                    started_at(engine)
                ),
            );
            return;
        }
        let falcon = match engine {
            Engine::Gsp => &self.gsp,
            Engine::Sec2 => &self.sec2,
        };
        let work = match self.catalogue.identify(falcon) {
            Verdict::Known { image, .. } => match image.kind {
                ImageKind::Fwsec | ImageKind::FwsecDebug => Work::Fwsec,
                ImageKind::BooterLoad | ImageKind::BooterUnload => Work::Booter,
                ImageKind::GenBootloader | ImageKind::Scrubber => Work::Booter,
            },
            _ => Work::FalconRun,
        };
        self.falcon_mut(engine).set_running();
        self.schedule(ctx.now, work, Job::Run(engine));
    }

    /// Carries out the work due at `ctx.now`, oldest deadline first.
    fn run_due(&mut self, ctx: &mut Ctx<'_>) {
        loop {
            let due = self
                .pending
                .iter()
                .enumerate()
                .filter(|(_, p)| p.at <= ctx.now)
                .min_by_key(|(i, p)| (p.at, *i))
                .map(|(i, _)| i);
            let Some(i) = due else { break };
            let Pending { job, .. } = self.pending.remove(i);
            match job {
                Job::Scrub(engine) => self.falcon_mut(engine).scrub_done(),
                Job::Dma(engine, req) => {
                    self.falcon_mut(engine).set_dma_busy(false);
                    self.dma(engine, req, ctx);
                }
                Job::Run(engine) => self.run(engine, ctx, false),
                Job::CoreStart => {
                    self.core_booting = false;
                    // GSP-RM enables its message interrupt towards the host first thing.
                    self.gsp.route_to_host(IRQ_SWGEN0);
                    let mut bus = Self::core_bus(&mut self.gsp, self.wpr2, ctx);
                    self.core.start(&mut bus);
                    self.gsp_interrupt(ctx, false);
                    info!("GSP-RM started on the RISC-V core");
                }
                Job::Doorbell { queue, value } => self.deliver_doorbell(queue, value, ctx),
                Job::CorePoll => {
                    let mut bus = Self::core_bus(&mut self.gsp, self.wpr2, ctx);
                    self.core.poll(&mut bus);
                    self.gsp_interrupt(ctx, false);
                    self.schedule_poll(ctx);
                }
            }
        }
    }

    /// Runs what `engine` holds; `chained` when a bootloader loaded it.
    fn run(&mut self, engine: Engine, ctx: &mut Ctx<'_>, chained: bool) {
        let name = engine.name();
        let falcon = match engine {
            Engine::Gsp => &self.gsp,
            Engine::Sec2 => &self.sec2,
        };
        let (kind, command) = match self.catalogue.identify(falcon) {
            Verdict::Empty => {
                info!("{name}: started with nothing loaded since reset; it halts at once");
                self.falcon_mut(engine).halt();
                return;
            }
            Verdict::Unknown => {
                violation(
                    ctx,
                    &format!(
                        "{}: started an image that is no known firmware",
                        started_at(engine)
                    ),
                );
                self.finish(engine, MBOX_ERR_UNKNOWN_IMAGE);
                return;
            }
            Verdict::Known { image, problems } if !problems.is_empty() => {
                violation(
                    ctx,
                    &format!(
                        "{}: {} refused: {}",
                        started_at(engine),
                        image.kind,
                        problems.join("; ")
                    ),
                );
                self.finish(engine, MBOX_ERR_REJECTED);
                return;
            }
            Verdict::Known { image, .. } => (image.kind, image.fwsec_command(falcon)),
        };
        info!("{name}: running {kind}");
        let status = match kind {
            ImageKind::Fwsec => match command {
                Some(cmd) if cmd.init_cmd == FWSEC_CMD_FRTS => self.fwsec_frts(cmd.frts, ctx),
                Some(cmd) if cmd.init_cmd == FWSEC_CMD_SB => {
                    info!("FWSEC-SB: GSP falcon left in its pre-LibOS state");
                    0
                }
                other => {
                    violation(ctx, &format!("FWSEC: unknown command {other:x?}"));
                    MBOX_ERR_BAD_COMMAND
                }
            },
            ImageKind::BooterLoad => self.booter_load(ctx),
            ImageKind::BooterUnload => self.booter_unload(ctx),
            ImageKind::Scrubber => {
                info!("scrubber: FB scrubbed, handoff done");
                self.scrubbed = true;
                0
            }
            ImageKind::GenBootloader if !chained => {
                if self.bootloader(engine, ctx) {
                    return self.run(engine, ctx, true);
                }
                MBOX_ERR_REJECTED
            }
            ImageKind::GenBootloader => {
                violation(
                    ctx,
                    &format!("{name}: gen_bootloader loaded gen_bootloader"),
                );
                MBOX_ERR_REJECTED
            }
            // Never accepted by `identify`.
            ImageKind::FwsecDebug => MBOX_ERR_REJECTED,
        };
        self.finish(engine, status);
    }

    /// gen_bootloader's work: load what `BootloaderDmemDescV2` describes and jump to it.
    /// `false` (after counting a violation) if it cannot.
    fn bootloader(&mut self, engine: Engine, ctx: &mut Ctx<'_>) -> bool {
        let falcon = self.falcon_mut(engine);
        let Some(desc) = BootloaderDesc::read(falcon.dmem()) else {
            violation(ctx, "gen_bootloader: no descriptor in DMEM");
            return false;
        };
        debug!("gen_bootloader: {desc:x?}");
        let mut requests = Vec::new();
        // (IMEM?, secure?, DMA base, offset, size): the non-secure and secure code to IMEM,
        // then the data to DMEM, a block at a time.
        for (imem, secure, base, off, size) in [
            (
                true,
                false,
                desc.code_dma_base,
                desc.non_sec_code_off,
                desc.non_sec_code_size,
            ),
            (
                true,
                true,
                desc.code_dma_base,
                desc.sec_code_off,
                desc.sec_code_size,
            ),
            (false, false, desc.data_dma_base, 0, desc.data_size),
        ] {
            let mut pos = 0u32;
            while pos < size {
                let at = off.saturating_add(pos);
                requests.push(falcon.request(
                    imem,
                    secure,
                    base.wrapping_add(u64::from(at)),
                    at,
                    at,
                    crate::falcon::BLOCK_SIZE,
                    desc.ctx_dma,
                ));
                pos = pos.saturating_add(crate::falcon::BLOCK_SIZE as u32);
            }
        }
        for req in requests {
            if !self.dma(engine, req, ctx) {
                return false;
            }
        }
        self.falcon_mut(engine).set_bootvec(desc.code_entry_point);
        true
    }

    fn falcon_mut(&mut self, engine: Engine) -> &mut Falcon {
        match engine {
            Engine::Gsp => &mut self.gsp,
            Engine::Sec2 => &mut self.sec2,
        }
    }

    fn finish(&mut self, engine: Engine, mailbox0: u32) {
        let falcon = self.falcon_mut(engine);
        falcon.set_mailbox(0, mailbox0);
        falcon.halt();
    }

    fn set_frts_error(&mut self, code: u32) {
        self.scratch[0xe] = (self.scratch[0xe] & 0xffff) | (code << 16);
    }

    fn fwsec_frts(&mut self, region: [u32; 5], ctx: &mut Ctx<'_>) -> u32 {
        let [version, size_of, addr, size, kind] = region;
        if self.faults.fwsec_frts_error {
            info!("FWSEC-FRTS: failing as --fault fwsec-frts-error asks");
            self.set_frts_error(FRTS_ERR_INJECTED);
            return 0;
        }
        if let Some((lo, hi)) = self.wpr2 {
            // A refusal, and the driver's mistake: Open RM checks `kgspIsWpr2Up_HAL()` before
            // it runs FWSEC-FRTS and stops ("WPR2 already up") instead.
            violation(
                ctx,
                &format!(
                    "{}: FWSEC-FRTS refused: WPR2 already exists ({lo:#x}..{hi:#x}); nothing done",
                    started_at(Engine::Gsp)
                ),
            );
            self.set_frts_error(FRTS_ERR_WPR2_SET);
            return 0;
        }
        let start = u64::from(addr) << 12;
        let end = start.checked_add(u64::from(size) << 12);
        let valid = version == 1
            && size_of == 20
            && kind == FRTS_REGION_TYPE_FB
            && size != 0
            && end.is_some_and(|end| end <= self.chip.vram_size());
        match end {
            Some(end) if valid => {
                info!("FWSEC-FRTS: WPR2 = {start:#x}..{end:#x}");
                self.wpr2 = Some((start, end));
                self.set_frts_error(0);
            }
            _ => {
                violation(
                    ctx,
                    &format!(
                        "{}: FWSEC-FRTS refused: unusable FRTS region {region:x?}",
                        started_at(Engine::Gsp)
                    ),
                );
                self.set_frts_error(FRTS_ERR_BAD_REGION);
            }
        }
        0
    }

    fn booter_load(&mut self, ctx: &mut Ctx<'_>) -> u32 {
        if self.faults.booter_error {
            info!("booter_load: failing as --fault booter-error asks");
            return MBOX_ERR_INJECTED;
        }
        let at = started_at(Engine::Sec2);
        if self.riscv_active() {
            violation(
                ctx,
                &format!("{at}: booter_load refused: GSP-RM is already running"),
            );
            return MBOX_ERR_BOOTER;
        }
        if !self.scrubbed {
            // A model choice grounded in Open RM's order: `kgspBootstrap_TU102()` runs
            // `kgspExecuteScrubberIfNeeded_HAL()` before booter_load, so GSP-RM never starts
            // over an FB that was not scrubbed.
            violation(
                ctx,
                &format!(
                    "{at}: booter_load refused: the FB scrubber has not run \
                     (NV_PGC6_BSI_VPR_SECURE_SCRATCH_15 handoff not done)"
                ),
            );
            return MBOX_ERR_BOOTER;
        }
        let wpr_meta = u64::from(self.sec2.mailbox(0)) | (u64::from(self.sec2.mailbox(1)) << 32);
        let region = match self.wpr_region(wpr_meta, ctx) {
            Ok(region) => region,
            Err(e) => {
                violation(ctx, &format!("{at}: booter_load refused: {e}"));
                return MBOX_ERR_BOOTER;
            }
        };
        let mut bus = Self::core_bus(&mut self.gsp, Some(region), ctx);
        match self.core.load(&mut bus, wpr_meta) {
            Ok(()) => {
                bus.gsp.select_riscv();
                self.wpr2 = Some(region);
                // The RISC-V core runs from here; GSP-RM reads its arguments and queues once it
                // has initialised.
                self.core_booting = true;
                self.schedule(ctx.now, Work::GspInit, Job::CoreStart);
                info!(
                    "booter_load: WPR2 = {:#x}..{:#x}, GSP-RM launched (WprMeta at {wpr_meta:#x})",
                    region.0, region.1
                );
                0
            }
            Err(e) => {
                violation(ctx, &format!("{at}: booter_load refused: {e}"));
                MBOX_ERR_BOOTER
            }
        }
    }

    /// The WPR region booter_load sets up: `[gspFwWprStart, gspFwWprEnd)` of the
    /// `GspFwWprMeta` at `wpr_meta` (offsets 112 and 168: upstream nova-core
    /// `gsp/fw/r570_144/bindings.rs`). Booter places that structure at the start of the WPR
    /// and FRTS lies at its end (`kgspPopulateWprMeta_TU102` in Open RM's
    /// `kernel_gsp_tu102.c`; upstream nova-core `fb.rs` names `wpr_meta..frts.end` "wpr2"), so
    /// a WPR2 FWSEC-FRTS created must end where the new one does.
    fn wpr_region(&self, wpr_meta: u64, ctx: &Ctx<'_>) -> Result<(u64, u64), String> {
        let mut meta = [0u8; 176];
        ctx.dma_read("SEC2", wpr_meta, &mut meta)
            .map_err(|e| format!("GspFwWprMeta at {wpr_meta:#x}: {e}"))?;
        let field = |at: usize| {
            meta.get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_le_bytes)
        };
        let (start, end) = (field(112), field(168));
        if start >= end || end > self.chip.vram_size() {
            return Err(format!(
                "GspFwWprMeta WPR {start:#x}..{end:#x} is not inside the {:#x} bytes of VRAM",
                self.chip.vram_size()
            ));
        }
        if let Some((lo, hi)) = self.wpr2 {
            if hi != end || lo < start {
                return Err(format!(
                    "WPR2 {lo:#x}..{hi:#x} (FRTS) is not at the end of the WPR {start:#x}..{end:#x}"
                ));
            }
        }
        Ok((start, end))
    }

    fn booter_unload(&mut self, ctx: &mut Ctx<'_>) -> u32 {
        if self.riscv_active() {
            violation(
                ctx,
                &format!(
                    "{}: booter_unload refused: GSP-RM still runs (the GSP falcon was not reset)",
                    started_at(Engine::Sec2)
                ),
            );
            return MBOX_ERR_BOOTER;
        }
        info!("booter_unload: WPR2 removed");
        self.wpr2 = None;
        self.core.unload();
        0
    }

    /// A `NV_PGSP_QUEUE_HEAD` write: GSP-RM handles it after [`Work::Rpc`].
    fn doorbell(&mut self, queue: u32, value: u32, ctx: &mut Ctx<'_>) {
        bump(&ctx.counters.gsp_doorbells);
        self.schedule(ctx.now, Work::Rpc, Job::Doorbell { queue, value });
    }

    /// GSP-RM reads its queue. A doorbell rung before GSP-RM runs is not lost and not a
    /// mistake: the commands stay queued, and GSP-RM reads them when it starts (nouveau queues
    /// `GSP_SET_SYSTEM_INFO` and `SET_REGISTRY` and rings before booter runs, `r535_gsp_init()`;
    /// the GSP-RM model reads its queue at start).
    fn deliver_doorbell(&mut self, queue: u32, value: u32, ctx: &mut Ctx<'_>) {
        if self.core_booting {
            debug!("doorbell {queue} ({value:#x}) before GSP-RM runs: left for it to read");
            return;
        }
        let mut bus = Self::core_bus(&mut self.gsp, self.wpr2, ctx);
        self.core.doorbell(&mut bus, queue, value);
        self.gsp_interrupt(ctx, false);
        self.schedule_poll(ctx);
    }

    /// While GSP-RM holds messages the status queue had no room for, it looks at the
    /// driver's read pointer again after [`Work::Rpc`], as GSP-RM's message queue code
    /// retries a full queue (`msgqTxGetWriteBuffer()` in open-gpu-kernel-modules 570.144
    /// `src/common/shared/msgq/msgq.c` reports no room until the reader frees some).
    fn schedule_poll(&mut self, ctx: &Ctx<'_>) {
        let queued = self.pending.iter().any(|p| p.job == Job::CorePoll);
        if self.core.backlog() && !queued {
            self.schedule(ctx.now, Work::Rpc, Job::CorePoll);
        }
    }

    /// Whether a read of a register FWSEC or booter writes as its result (`WPR2_ADDR_*`, the
    /// FRTS error code) happens while that program still runs.
    fn result_pending(&self) -> Option<Engine> {
        [Engine::Gsp, Engine::Sec2]
            .into_iter()
            .find(|e| self.running(*e))
    }
}

/// Why a falcon register access is refused while the engine is held in reset.
fn in_reset(engine: Engine, rel: u32) -> String {
    format!(
        "{} register +{rel:#x} accessed while NV_PFALCON_FALCON_ENGINE.RESET is asserted: the \
         priv ring answers NV_PPRIV_SYS_PRI_ERROR_CODE_FECS_PRI_RESET",
        engine.name()
    )
}

fn in_window(addr: u32, base: u32) -> Option<u32> {
    addr.checked_sub(base)
        .filter(|rel| *rel < crate::falcon::WINDOW_SIZE)
}

impl Unit for Engines {
    fn name(&self) -> &'static str {
        "ENGINES"
    }

    fn name_at(&self, addr: u32) -> &'static str {
        match addr {
            _ if in_window(addr, Engine::Gsp.base()).is_some() => "GSP",
            _ if in_window(addr, Engine::Sec2.base()).is_some() => "SEC2",
            _ if (SCRATCH_BASE..SCRATCH_BASE + 256).contains(&addr) => "PBUS",
            NISO_FLUSH | NISO_FLUSH_HI | LOCAL_MEMORY_RANGE | WPR2_LO | WPR2_HI => "PFB",
            BSI_SCRATCH_14 | BSI_SCRATCH_15 | GROUP_05_PLM | GROUP_05_0 | GROUP_42 => "PGC6",
            VGA_WORKSPACE => "PDISP",
            _ => "FUSE",
        }
    }

    fn ranges(&self) -> Vec<Range<u32>> {
        let one = |a: u32| a..a + 4;
        let mut r = vec![
            SCRATCH_BASE..SCRATCH_BASE + 64 * 4,
            one(NISO_FLUSH),
            one(LOCAL_MEMORY_RANGE),
            Engine::Gsp.base()..Engine::Gsp.base() + crate::falcon::WINDOW_SIZE,
            one(BSI_SCRATCH_14),
            one(GROUP_05_PLM),
            one(GROUP_05_0),
            WPR2_LO..WPR2_HI + 4,
            one(VGA_WORKSPACE),
            Engine::Sec2.base()..Engine::Sec2.base() + crate::falcon::WINDOW_SIZE,
        ];
        if self.ampere_or_later() {
            r.extend([
                one(NISO_FLUSH_HI),
                one(GROUP_42),
                one(FUSE_DISPLAY_GA100),
                FUSE_UCODE,
            ]);
        } else {
            r.push(one(FUSE_DISPLAY_GM107));
        }
        if self.chip.arch == Architecture::Ada {
            r.push(one(BSI_SCRATCH_15));
        }
        r
    }

    fn read(&mut self, addr: u32, ctx: &mut Ctx<'_>) -> RegRead {
        match self.read_register(addr, ctx) {
            RegRead::Value(v) if matches!(addr, WPR2_LO | WPR2_HI | SCRATCH_0E) => {
                match self.result_pending() {
                    Some(engine) => {
                        let name = match addr {
                            WPR2_LO => "NV_PFB_PRI_MMU_WPR2_ADDR_LO",
                            WPR2_HI => "NV_PFB_PRI_MMU_WPR2_ADDR_HI",
                            _ => "NV_PBUS_SW_SCRATCH(0xe)",
                        };
                        self.stale(engine, name, v)
                    }
                    None => RegRead::Value(v),
                }
            }
            other => other,
        }
    }

    fn write(&mut self, addr: u32, value: u32, mask: u32, ctx: &mut Ctx<'_>) -> RegWrite {
        self.write_register(addr, value, mask, ctx)
    }

    fn reset(&mut self) {
        if let Some((lo, hi)) = self.wpr2.take() {
            info!("reset: WPR2 {lo:#x}..{hi:#x} cleared");
        }
        self.reset_registers();
        self.core.unload();
        // Under `--fault wpr2-preset` the board is one that no reset recovers: WPR2 is back.
        self.power_on();
    }

    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        self.run_due(ctx);
    }

    fn next_deadline(&self) -> Option<Duration> {
        self.pending.iter().map(|p| p.at).min()
    }
}

impl Engines {
    fn read_register(&mut self, addr: u32, _ctx: &mut Ctx<'_>) -> RegRead {
        if let Some(rel) = in_window(addr, Engine::Gsp.base()) {
            if let Some(q) = queue_index(addr) {
                return RegRead::Value(self.queue_head.get(q).copied().unwrap_or(0));
            }
            return self.falcon_read(Engine::Gsp, rel);
        }
        if let Some(rel) = in_window(addr, Engine::Sec2.base()) {
            return self.falcon_read(Engine::Sec2, rel);
        }
        let value = match addr {
            _ if (SCRATCH_BASE..SCRATCH_BASE + 256).contains(&addr) => {
                let i = ((addr - SCRATCH_BASE) / 4) as usize;
                self.scratch.get(i).copied().unwrap_or(0)
            }
            NISO_FLUSH => self.niso_flush[0],
            NISO_FLUSH_HI => self.niso_flush[1],
            LOCAL_MEMORY_RANGE => self.local_memory_range(),
            BSI_SCRATCH_14 => 0,
            BSI_SCRATCH_15 if self.chip.arch == Architecture::Ada => self.scrubber_handoff(),
            GROUP_05_PLM => 1,
            GROUP_05_0 => 0xff,
            GROUP_42 => (self.chip.vram_size() >> 20) as u32,
            WPR2_LO => self.wpr2.map_or(0, |(lo, _)| ((lo >> 12) as u32) << 4),
            // The exclusive end: see the module documentation ("WPR2's upper bound").
            WPR2_HI => self.wpr2.map_or(0, |(_, hi)| ((hi >> 12) as u32) << 4),
            VGA_WORKSPACE => self.vga_workspace,
            FUSE_DISPLAY_GM107 | FUSE_DISPLAY_GA100 => u32::from(!self.chip.is_vga()),
            _ if FUSE_UCODE.contains(&addr) => self.fuse(addr),
            _ => return RegRead::Unimplemented,
        };
        RegRead::Value(value)
    }

    fn write_register(&mut self, addr: u32, value: u32, mask: u32, ctx: &mut Ctx<'_>) -> RegWrite {
        if let Some(rel) = in_window(addr, Engine::Gsp.base()) {
            if let Some(q) = queue_index(addr) {
                let merged =
                    crate::falcon::merge(self.queue_head.get(q).copied().unwrap_or(0), value, mask);
                if let Some(slot) = self.queue_head.get_mut(q) {
                    *slot = merged;
                }
                self.doorbell(q as u32, merged, ctx);
                return RegWrite::Done;
            }
            let done = self.falcon_write(Engine::Gsp, rel, value, mask, ctx);
            // IRQSCLR, IRQMSET/IRQMCLR, IRQDEST or a reset may have changed what the falcon
            // asserts.
            self.gsp_interrupt(ctx, false);
            return done;
        }
        if let Some(rel) = in_window(addr, Engine::Sec2.base()) {
            return self.falcon_write(Engine::Sec2, rel, value, mask, ctx);
        }
        let merge = crate::falcon::merge;
        match addr {
            _ if (SCRATCH_BASE..SCRATCH_BASE + 256).contains(&addr) => {
                let i = ((addr - SCRATCH_BASE) / 4) as usize;
                if let Some(slot) = self.scratch.get_mut(i) {
                    *slot = merge(*slot, value, mask);
                }
            }
            NISO_FLUSH => self.niso_flush[0] = merge(self.niso_flush[0], value, mask),
            NISO_FLUSH_HI => {
                // ADR_63_40 is 23:0.
                self.niso_flush[1] = merge(self.niso_flush[1], value, mask) & 0x00ff_ffff
            }
            VGA_WORKSPACE => self.vga_workspace = merge(self.vga_workspace, value, mask),
            _ => return RegWrite::ReadOnly,
        }
        RegWrite::Done
    }
}

/// `NV_PGSP_QUEUE_HEAD(i)`: `0x110c00 + 8 * i`, 8 entries (`ga102/dev_gsp.h`).
fn queue_index(addr: u32) -> Option<usize> {
    let rel = addr.checked_sub(QUEUE_HEAD0)?;
    (rel < 64 && rel % 8 == 0).then_some((rel / 8) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::CHIPS;
    use crate::vbios::Corruption;

    fn engines(name: &str) -> Engines {
        engines_with(name, Faults::default())
    }

    fn engines_with(name: &str, faults: Faults) -> Engines {
        let chip = crate::chips::find(name).unwrap();
        let vbios = Vbios::build(chip, Corruption::None).unwrap();
        Engines::new(
            chip,
            &vbios,
            &FirmwareFiles::default(),
            Box::new(crate::idle_gsp::IdleGspCore::new()),
            faults,
        )
    }

    #[test]
    fn local_memory_range_encodes_every_board() {
        for chip in CHIPS {
            let e = engines(chip.name);
            let v = e.local_memory_range();
            let mib = u64::from((v >> 4) & 0x3f) << (v & 0xf);
            assert_eq!(mib << 20, chip.vram_size(), "{}", chip.name);
        }
    }

    #[test]
    fn every_ada_board_reports_the_scrubber_done_and_only_ada_has_the_register() {
        for chip in CHIPS {
            let e = engines(chip.name);
            let has = e.ranges().iter().any(|r| r.contains(&BSI_SCRATCH_15));
            assert_eq!(has, chip.arch == Architecture::Ada, "{}", chip.name);
            if has {
                assert_eq!(e.name_at(BSI_SCRATCH_15), "PGC6");
            }
        }
        // `_SCRUBBER_HANDOFF` 31:29 reads `_DONE` (3): Open RM then skips the scrubber.
        assert_eq!(SCRUBBER_HANDOFF_DONE >> 29, 3);
        assert_eq!(engines("ad104").scrubber_handoff(), SCRUBBER_HANDOFF_DONE);
    }

    #[test]
    fn a_board_the_vbios_did_not_scrub_waits_for_the_scrubber() {
        let mut faults = Faults::default();
        assert!(faults.set("scrubber-pending"));
        assert!(Faults::NAMES.contains(&"scrubber-pending"));
        let mut e = engines_with("ad102", faults);
        assert_eq!(e.scrubber_handoff(), 0);
        // What running the scrubber ucode on SEC2 does (`run`, ImageKind::Scrubber).
        e.scrubbed = true;
        assert_eq!(e.scrubber_handoff() >> 29, 3);
        // A reset brings the board back to what its VBIOS leaves: not scrubbed.
        e.reset();
        assert_eq!(e.scrubber_handoff(), 0);
    }

    #[test]
    fn queue_heads_and_generations() {
        assert_eq!(queue_index(0x11_0c00), Some(0));
        assert_eq!(queue_index(0x11_0c38), Some(7));
        assert_eq!(queue_index(0x11_0c04), None);
        assert_eq!(queue_index(0x11_0c40), None);
        let gen = |n| generation(crate::chips::find(n).unwrap());
        assert_eq!(gen("tu117"), Generation::Tu102);
        assert_eq!(gen("ga100"), Generation::Tu102);
        assert_eq!(gen("ga102"), Generation::Ga102);
        assert_eq!(gen("ad107"), Generation::Ga102);
    }

    #[test]
    fn fwsec_fuse_is_reported_where_the_descriptor_says() {
        let e = engines("ad102");
        // AD102's VBIOS: ucode id 1, signatures for versions 0..=2: fuse reads 0b11.
        assert_eq!(e.fuse(0x0082_41c0), 0b11);
        assert_eq!(e.fuse(0x0082_41c4), 0);
        let mut f = Faults::default();
        assert!(f.set("wpr2-preset") && !f.set("nope"));
        assert!(f.wpr2_preset);
    }

    #[test]
    fn a_device_reset_clears_wpr2() {
        let chip = crate::chips::find("ad102").unwrap();
        let vbios = Vbios::build(chip, Corruption::None).unwrap();
        let faults = Faults {
            wpr2_preset: true,
            ..Faults::default()
        };
        let mut e = Engines::new(
            chip,
            &vbios,
            &FirmwareFiles::default(),
            Box::new(crate::idle_gsp::IdleGspCore::new()),
            faults,
        );
        assert!(e.wpr2.is_some());
        // Under `wpr2-preset` it comes back; on a board without the fault it is gone.
        Unit::reset(&mut e);
        assert!(e.wpr2.is_some());
        e.faults.wpr2_preset = false;
        Unit::reset(&mut e);
        assert_eq!(e.wpr2, None);
    }
}
