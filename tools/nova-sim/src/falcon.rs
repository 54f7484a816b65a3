// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The register file of one falcon (the GSP's at 0x110000, SEC2's at 0x840000): interrupts,
//! mailboxes, CPU control, IMEM/DMEM with their PIO ports, the DMA engine's registers, the
//! FBIF aperture configuration, the BROM (boot ROM) parameters and the RISC-V core-select
//! registers.
//!
//! [`Falcon`] is register state only. What a write sets in motion (a DMA transfer, a CPU
//! start, an engine reset) is returned as an [`Event`] for [`crate::gpu`] to carry out, since
//! those reach guest memory, the firmware catalogue and the other engine.
//!
//! # Sources
//!
//! Offsets and fields, relative to the falcon's base, are NVIDIA's
//! `src/common/inc/swref/published/ampere/ga102/dev_falcon_v4.h` (`NV_PFALCON_FALCON_*`),
//! `dev_falcon_second_pri.h` (`NV_PFALCON2_FALCON_*`, at base + 0x1000), `dev_fbif_v4.h`
//! (`NV_PFALCON_FBIF_*`, at base + 0x600), `dev_riscv_pri.h` (`NV_PRISCV_RISCV_*`, at
//! base + 0x1000) and, for Turing, `turing/tu102/dev_falcon_v4.h`; the ENGINE register is
//! `NV_PGSP_FALCON_ENGINE` (0x1103c0, `ga102/dev_gsp.h`) and `NV_PSEC_FALCON_ENGINE`
//! (0x8403c0, `ga100/dev_sec_pri.h`). Upstream nova-core `regs.rs` uses the same layout,
//! adds `HWCFG2.RESET_READY` (31, GA102+) and `HWCFG2.RISCV_BR_PRIV_LOCKDOWN` (13), and
//! `falcon.rs` states that IMEM DMA tags each block with its source offset ("code addresses
//! in the firmware (and the boot vector) are virtual").
//!
//! # Modelling choices
//!
//! * IMEM and DMEM are 64 KiB each on both falcons (the real sizes are not in the public
//!   headers; every image the simulator knows fits). `HWCFG` reports both in 256-byte blocks:
//!   `IMEM_SIZE` in bits 8:0, `DMEM_SIZE` in bits 17:9 (NVIDIA's nvgpu `hw_falcon_gp106.h`,
//!   `falcon_falcon_hwcfg_dmem_size_v`; nouveau's `nvkm_falcon_oneinit` reads the same bits).
//! * Memory scrubbing starts when the engine reset is released and takes a while
//!   ([`crate::timing::Work::Scrub`]): until [`Falcon::scrub_done`], `HWCFG2.MEM_SCRUBBING`
//!   (12:12, `_PENDING`) and `DMACTL.{D,I}MEM_SCRUBBING` (1:1, 2:2, `_PENDING`) read pending
//!   (`ga102/dev_falcon_v4.h`), and a PIO access to IMEM or DMEM is refused as a violation.
//!   `HWCFG2.RESET_READY` reads set.
//! * While `NV_PFALCON_FALCON_ENGINE.RESET` is asserted the falcon's registers are in reset:
//!   [`crate::gpu`] refuses every access but the one to `ENGINE` itself.
//! * `CPUCTL.HALTED` is clear after reset and while a started program runs, and set once it
//!   has stopped; programs run for a while ([`crate::timing`]) after the write that starts
//!   them.
//! * A DMA transfer takes a while ([`crate::timing::Work::Dma`]): `DMATRFCMD.IDLE` (1:1) reads
//!   clear until it is done.
//! * The interrupt status latches; no interrupt reaches the CPU (see [`crate::gpu`]).

use std::ops::Range;

/// Size of a falcon's IMEM and DMEM in this model.
pub const MEM_SIZE: usize = 0x1_0000;

/// IMEM and DMEM block size: the unit of tags and DMA transfers.
pub const BLOCK_SIZE: usize = 256;

/// Offset of the `NV_PFALCON2_FALCON_*` and `NV_PRISCV_RISCV_*` registers from the falcon base.
pub const FALCON2_OFFSET: u32 = 0x1000;

/// Size of the BAR0 window of one falcon (PFALCON and PFALCON2/PRISCV).
pub const WINDOW_SIZE: u32 = 0x2000;

/// `NV_PFALCON_FALCON_IRQSCLR`.
pub const IRQSCLR: u32 = 0x004;
/// `NV_PFALCON_FALCON_IRQSTAT`.
pub const IRQSTAT: u32 = 0x008;
/// `NV_PFALCON_FALCON_IRQMSET`.
pub const IRQMSET: u32 = 0x010;
/// `NV_PFALCON_FALCON_IRQMCLR`.
pub const IRQMCLR: u32 = 0x014;
/// `NV_PFALCON_FALCON_IRQMASK`.
pub const IRQMASK: u32 = 0x018;
/// `NV_PFALCON_FALCON_IRQDEST`.
pub const IRQDEST: u32 = 0x01c;
/// `NV_PFALCON_FALCON_INTR_RETRIGGER(0)` (GA100 and later, `ga100/dev_falcon_v4.h`): writing
/// `TRIGGER` sends the falcon's interrupt message again if its host interrupt is still
/// asserted.
pub const INTR_RETRIGGER0: u32 = 0x3e8;
/// `NV_PFALCON_FALCON_MAILBOX0`.
pub const MAILBOX0: u32 = 0x040;
/// `NV_PFALCON_FALCON_MAILBOX1`.
pub const MAILBOX1: u32 = 0x044;
/// `NV_PFALCON_FALCON_OS`.
pub const OS: u32 = 0x080;
/// `NV_PFALCON_FALCON_RM`.
pub const RM: u32 = 0x084;
/// `NV_PFALCON_FALCON_HWCFG2`.
pub const HWCFG2: u32 = 0x0f4;
/// `NV_PFALCON_FALCON_CPUCTL`.
pub const CPUCTL: u32 = 0x100;
/// `NV_PFALCON_FALCON_BOOTVEC`.
pub const BOOTVEC: u32 = 0x104;
/// `NV_PFALCON_FALCON_HWCFG`.
pub const HWCFG: u32 = 0x108;
/// What `HWCFG` reads: IMEM and DMEM sizes in 256-byte blocks (bits 8:0 and 17:9).
const HWCFG_VALUE: u32 = ((MEM_SIZE / BLOCK_SIZE) as u32) | (((MEM_SIZE / BLOCK_SIZE) as u32) << 9);
/// `NV_PFALCON_FALCON_DMACTL`.
pub const DMACTL: u32 = 0x10c;
/// `NV_PFALCON_FALCON_DMATRFBASE`.
pub const DMATRFBASE: u32 = 0x110;
/// `NV_PFALCON_FALCON_DMATRFMOFFS`.
pub const DMATRFMOFFS: u32 = 0x114;
/// `NV_PFALCON_FALCON_DMATRFCMD`.
pub const DMATRFCMD: u32 = 0x118;
/// `NV_PFALCON_FALCON_DMATRFFBOFFS`.
pub const DMATRFFBOFFS: u32 = 0x11c;
/// `NV_PFALCON_FALCON_DMATRFBASE1`.
pub const DMATRFBASE1: u32 = 0x128;
/// `NV_PFALCON_FALCON_CPUCTL_ALIAS`.
pub const CPUCTL_ALIAS: u32 = 0x130;
/// `NV_PFALCON_FALCON_IMEMC(0)`; port `i` is at `+ 16 * i`, IMEMD and IMEMT follow.
pub const IMEMC0: u32 = 0x180;
/// `NV_PFALCON_FALCON_DMEMC(0)`; port `i` is at `+ 8 * i`, DMEMD follows.
pub const DMEMC0: u32 = 0x1c0;
/// `NV_PFALCON_FALCON_ENGINE` (`NV_PGSP_FALCON_ENGINE`, `NV_PSEC_FALCON_ENGINE`).
pub const ENGINE: u32 = 0x3c0;
/// `NV_PFALCON_FBIF_TRANSCFG(0)`; `i` at `+ 4 * i`, 8 entries.
pub const FBIF_TRANSCFG0: u32 = 0x600;
/// `NV_PFALCON_FBIF_CTL`.
pub const FBIF_CTL: u32 = 0x624;
/// `NV_PFALCON2_FALCON_MOD_SEL`.
pub const MOD_SEL: u32 = FALCON2_OFFSET + 0x180;
/// `NV_PFALCON2_FALCON_BROM_CURR_UCODE_ID`.
pub const BROM_CURR_UCODE_ID: u32 = FALCON2_OFFSET + 0x198;
/// `NV_PFALCON2_FALCON_BROM_ENGIDMASK`.
pub const BROM_ENGIDMASK: u32 = FALCON2_OFFSET + 0x19c;
/// `NV_PFALCON2_FALCON_BROM_PARAADDR(0)`.
pub const BROM_PARAADDR0: u32 = FALCON2_OFFSET + 0x210;
/// `NV_PRISCV_RISCV_CORE_SWITCH_RISCV_STATUS` (Turing, GA100).
pub const RISCV_CORE_SWITCH_STATUS: u32 = FALCON2_OFFSET + 0x240;
/// `NV_PRISCV_RISCV_CPUCTL` (GA102 and later).
pub const RISCV_CPUCTL: u32 = FALCON2_OFFSET + 0x388;
/// `NV_PRISCV_RISCV_BCR_CTRL` (GA102 and later).
pub const RISCV_BCR_CTRL: u32 = FALCON2_OFFSET + 0x668;
/// `NV_PRISCV_RISCV_IRQMASK` on GA102 and later (`ga102/dev_riscv_pri.h`): the falcon's
/// `IRQMASK` as the RISC-V core's register file shows it; nouveau reads it to learn which
/// interrupts GSP-RM enabled (`r535_gsp_intr()`).
pub const RISCV_IRQMASK_GA102: u32 = FALCON2_OFFSET + 0x528;
/// `NV_PRISCV_RISCV_IRQDEST` on GA102 and later.
pub const RISCV_IRQDEST_GA102: u32 = FALCON2_OFFSET + 0x52c;
/// `NV_PRISCV_RISCV_IRQMASK` on Turing and GA100 (`tu102/dev_riscv_pri.h`).
pub const RISCV_IRQMASK_TU102: u32 = FALCON2_OFFSET + 0x2b4;

/// `HWCFG2.MEM_SCRUBBING` (`_PENDING` = 1).
pub const HWCFG2_MEM_SCRUBBING: u32 = 1 << 12;
/// `DMACTL.DMEM_SCRUBBING` and `DMACTL.IMEM_SCRUBBING` (`_PENDING` = 1).
pub const DMACTL_SCRUBBING: u32 = (1 << 1) | (1 << 2);

/// `IRQSTAT.HALT`.
pub const IRQ_HALT: u32 = 1 << 4;
/// `IRQSTAT.SWGEN0`.
pub const IRQ_SWGEN0: u32 = 1 << 6;

const CPUCTL_STARTCPU: u32 = 1 << 1;
const CPUCTL_HALTED: u32 = 1 << 4;
const CPUCTL_ALIAS_EN: u32 = 1 << 6;
const HWCFG2_RISCV: u32 = 1 << 10;
const HWCFG2_RESET_READY: u32 = 1 << 31;
const DMACTL_REQUIRE_CTX: u32 = 1 << 0;
const DMATRFCMD_IDLE: u32 = 1 << 1;
const DMATRFCMD_IMEM: u32 = 1 << 4;
const DMATRFCMD_WRITE: u32 = 1 << 5;
const MEMC_OFFS_MASK: u32 = 0x00ff_fffc;
const MEMC_AINCW: u32 = 1 << 24;
const MEMC_AINCR: u32 = 1 << 25;
const IMEMC_SECURE: u32 = 1 << 28;
const BCR_VALID: u32 = 1 << 0;
const BCR_CORE_SELECT_RISCV: u32 = 1 << 4;
const BCR_BRFETCH: u32 = 1 << 8;
const FBIF_CTL_ALLOW_PHYS_NO_CTX: u32 = 1 << 7;

/// Which register layout generation a falcon has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    /// Turing and GA100: PIO loading, `RISCV_CORE_SWITCH_RISCV_STATUS`, no BROM registers used.
    Tu102,
    /// GA102 and later: DMA loading, BROM parameters, `RISCV_CPUCTL`, `BCR_CTRL`.
    Ga102,
}

/// Which falcon a model is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The GSP falcon (base 0x110000).
    Gsp,
    /// SEC2 (base 0x840000).
    Sec2,
}

impl Engine {
    /// The BAR0 base of the engine's `NV_PFALCON_FALCON_*` registers: `NV_PGSP_FALCON_ENGINE`
    /// (0x1103c0, `ampere/ga102/dev_gsp.h`) and `NV_PSEC_FALCON_ENGINE` (0x8403c0,
    /// `ampere/ga100/dev_sec_pri.h`) less `NV_PFALCON_FALCON_ENGINE`'s offset 0x3c0.
    pub const fn base(self) -> u32 {
        match self {
            Engine::Gsp => 0x0011_0000,
            Engine::Sec2 => 0x0084_0000,
        }
    }

    /// A short name for logs.
    pub const fn name(self) -> &'static str {
        match self {
            Engine::Gsp => "GSP",
            Engine::Sec2 => "SEC2",
        }
    }
}

/// One DMA transfer the driver asked for with `DMATRFCMD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaRequest {
    /// `true` for IMEM, `false` for DMEM.
    pub imem: bool,
    /// `true` when the falcon writes to memory (`DMATRFCMD.WRITE`).
    pub to_memory: bool,
    /// `DMATRFCMD.SEC` was non-zero: the IMEM blocks are secure.
    pub secure: bool,
    /// Bytes to move.
    pub len: usize,
    /// The external address: `DMATRFBASE << 8 | DMATRFBASE1 << 40`, plus `DMATRFFBOFFS`.
    pub address: u64,
    /// `DMATRFFBOFFS`, whose block number tags IMEM blocks.
    pub fb_offset: u32,
    /// `DMATRFMOFFS`: the IMEM or DMEM offset.
    pub mem_offset: u32,
    /// `NV_PFALCON_FBIF_TRANSCFG(ctxdma)` at the time of the command.
    pub transcfg: u32,
    /// `NV_PFALCON_FBIF_CTL.ALLOW_PHYS_NO_CTX`.
    pub allow_phys_no_ctx: bool,
    /// `DMACTL.REQUIRE_CTX`.
    pub require_ctx: bool,
}

impl DmaRequest {
    /// `TRANSCFG.TARGET`: 0 local FB, 1 coherent system memory, 2 non-coherent system memory.
    pub fn target(&self) -> u32 {
        self.transcfg & 3
    }

    /// `TRANSCFG.MEM_TYPE`: physical (1) or virtual (0) addressing.
    pub fn physical(&self) -> bool {
        self.transcfg & 4 != 0
    }
}

/// What a register write sets in motion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Nothing beyond the register change.
    None,
    /// `CPUCTL.STARTCPU` or `CPUCTL_ALIAS.STARTCPU` was written.
    Start,
    /// `ENGINE.RESET` was asserted.
    Reset,
    /// `ENGINE.RESET` was released: memory scrubbing starts.
    ResetReleased,
    /// `DMATRFCMD` was written.
    Dma(DmaRequest),
}

/// How a register access went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done; the write may have set `Event` in motion.
    Done(Event),
    /// The register is read-only.
    ReadOnly,
    /// No such register in the model.
    Unimplemented,
    /// The driver broke a rule; the write was dropped.
    Violation(String),
}

/// One PIO port (`IMEMC`/`DMEMC`).
#[derive(Clone, Copy, Debug, Default)]
struct Port {
    ctl: u32,
}

impl Port {
    fn offset(self) -> usize {
        (self.ctl & MEMC_OFFS_MASK) as usize
    }

    fn advance(&mut self, write: bool) {
        let inc = if write { MEMC_AINCW } else { MEMC_AINCR };
        if self.ctl & inc != 0 {
            let next = (self.ctl & MEMC_OFFS_MASK).wrapping_add(4) & MEMC_OFFS_MASK;
            self.ctl = (self.ctl & !MEMC_OFFS_MASK) | next;
        }
    }
}

/// The register state of one falcon.
#[derive(Debug)]
pub struct Falcon {
    engine: Engine,
    generation: Generation,
    irqstat: u32,
    irqmask: u32,
    irqdest: u32,
    mailbox: [u32; 2],
    os: u32,
    rm: u32,
    cpuctl_alias_en: bool,
    halted: bool,
    bootvec: u32,
    require_ctx: bool,
    dma_base: u32,
    dma_base1: u32,
    dma_moffs: u32,
    dma_fboffs: u32,
    dma_cmd: u32,
    dma_busy: bool,
    imem_ports: [Port; 4],
    dmem_ports: [Port; 8],
    imem: Vec<u8>,
    tags: Vec<Option<u16>>,
    secure: Vec<bool>,
    dmem: Vec<u8>,
    imem_written: bool,
    in_reset: bool,
    scrubbing: bool,
    transcfg: [u32; 8],
    fbif_ctl: u32,
    mod_sel: u32,
    ucode_id: u32,
    engid_mask: u32,
    paraaddr: u32,
    bcr: u32,
}

/// Merges the bytes of `value` selected by `mask` into `old`.
pub fn merge(old: u32, value: u32, mask: u32) -> u32 {
    (old & !mask) | (value & mask)
}

impl Falcon {
    /// A falcon of `engine` in the layout of `generation`, in its power-on state.
    pub fn new(engine: Engine, generation: Generation) -> Self {
        Falcon {
            engine,
            generation,
            irqstat: 0,
            irqmask: 0,
            irqdest: 0,
            mailbox: [0; 2],
            os: 0,
            rm: 0,
            cpuctl_alias_en: false,
            halted: false,
            bootvec: 0,
            require_ctx: false,
            dma_base: 0,
            dma_base1: 0,
            dma_moffs: 0,
            dma_fboffs: 0,
            dma_cmd: 0,
            dma_busy: false,
            imem_ports: [Port::default(); 4],
            dmem_ports: [Port::default(); 8],
            imem: vec![0; MEM_SIZE],
            tags: vec![None; MEM_SIZE / BLOCK_SIZE],
            secure: vec![false; MEM_SIZE / BLOCK_SIZE],
            dmem: vec![0; MEM_SIZE],
            imem_written: false,
            in_reset: false,
            scrubbing: false,
            transcfg: [0; 8],
            fbif_ctl: 0,
            mod_sel: 0,
            ucode_id: 0,
            engid_mask: 0,
            paraaddr: 0,
            // `BCR_CTRL.BRFETCH` resets to TRUE, `CORE_SELECT` to FALCON, `VALID` to FALSE.
            bcr: BCR_BRFETCH,
        }
    }

    /// Which falcon this is.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The register layout generation.
    pub fn generation(&self) -> Generation {
        self.generation
    }

    /// Returns every register and both memories to their reset state (an engine reset:
    /// memories scrubbed to zero, tags invalid). The reset line itself is kept.
    pub fn reset(&mut self) {
        let in_reset = self.in_reset;
        *self = Falcon::new(self.engine, self.generation);
        self.in_reset = in_reset;
    }

    /// Whether `ENGINE.RESET` is asserted.
    pub fn in_reset(&self) -> bool {
        self.in_reset
    }

    /// Whether memory scrubbing after a reset is still running.
    pub fn scrubbing(&self) -> bool {
        self.scrubbing
    }

    /// Memory scrubbing has finished.
    pub fn scrub_done(&mut self) {
        self.scrubbing = false;
    }

    /// Whether a DMA transfer is in flight (`DMATRFCMD.IDLE` clear).
    pub fn dma_busy(&self) -> bool {
        self.dma_busy
    }

    /// A DMA transfer starts (`busy`) or ends.
    pub fn set_dma_busy(&mut self, busy: bool) {
        self.dma_busy = busy;
    }

    /// A program starts: `CPUCTL.HALTED` clears until it halts.
    pub fn set_running(&mut self) {
        self.halted = false;
    }

    /// `MAILBOX0` (`index` 0) or `MAILBOX1` (1); other indices read 0.
    pub fn mailbox(&self, index: usize) -> u32 {
        self.mailbox.get(index).copied().unwrap_or(0)
    }

    /// Sets a mailbox, as code running on the falcon does.
    pub fn set_mailbox(&mut self, index: usize, value: u32) {
        if let Some(slot) = self.mailbox.get_mut(index) {
            *slot = value;
        }
    }

    /// Latches interrupt status bits (`IRQSTAT`).
    pub fn raise_irq(&mut self, bits: u32) {
        self.irqstat |= bits;
    }

    /// The latched interrupt status.
    pub fn irqstat(&self) -> u32 {
        self.irqstat
    }

    /// The interrupt mask (`IRQMASK`).
    pub fn irqmask(&self) -> u32 {
        self.irqmask
    }

    /// The interrupts the falcon asserts towards the host: latched (`IRQSTAT`), enabled
    /// (`IRQMASK`) and routed to the host (`IRQDEST` bits 15:0, `NV_PFALCON_FALCON_IRQDEST_HOST_*`).
    pub fn host_interrupt(&self) -> u32 {
        self.irqstat & self.irqmask & self.irqdest & 0xffff
    }

    /// Enables `bits` and routes them to the host, as code running on the falcon does for its
    /// own interrupts (GSP-RM for its message interrupt, SWGEN0).
    pub fn route_to_host(&mut self, bits: u32) {
        self.irqmask |= bits;
        self.irqdest |= bits & 0xffff;
    }

    /// The program stopped: `CPUCTL.HALTED` and `IRQSTAT.HALT`.
    pub fn halt(&mut self) {
        self.halted = true;
        self.irqstat |= IRQ_HALT;
    }

    /// Whether `CPUCTL.HALTED` is set.
    pub fn halted(&self) -> bool {
        self.halted
    }

    /// `BOOTVEC`.
    pub fn bootvec(&self) -> u32 {
        self.bootvec
    }

    /// Whether anything was written to IMEM since the last reset.
    pub fn imem_loaded(&self) -> bool {
        self.imem_written
    }

    /// The BROM parameters: (`BROM_PARAADDR(0)`, `BROM_ENGIDMASK`, `BROM_CURR_UCODE_ID`,
    /// `MOD_SEL`).
    pub fn brom(&self) -> (u32, u32, u32, u32) {
        (self.paraaddr, self.engid_mask, self.ucode_id, self.mod_sel)
    }

    /// Selects the RISC-V core and marks the selection valid (`BCR_CTRL`), as booter does
    /// before starting GSP-RM.
    pub fn select_riscv(&mut self) {
        self.bcr |= BCR_CORE_SELECT_RISCV | BCR_VALID;
    }

    /// Sets `BOOTVEC`, as a bootloader jumping to loaded code does.
    pub fn set_bootvec(&mut self, value: u32) {
        self.bootvec = value;
    }

    /// A transfer of `len` bytes between `address` and IMEM/DMEM offset `mem_offset` through
    /// `TRANSCFG(ctxdma)`, as code on the falcon programs it; IMEM blocks are tagged with
    /// `fb_offset`'s block number.
    #[allow(clippy::too_many_arguments)]
    pub fn request(
        &self,
        imem: bool,
        secure: bool,
        address: u64,
        mem_offset: u32,
        fb_offset: u32,
        len: usize,
        ctxdma: u32,
    ) -> DmaRequest {
        DmaRequest {
            imem,
            to_memory: false,
            secure,
            len,
            address,
            fb_offset,
            mem_offset,
            transcfg: self.transcfg.get(ctxdma as usize).copied().unwrap_or(0),
            allow_phys_no_ctx: self.fbif_ctl & FBIF_CTL_ALLOW_PHYS_NO_CTX != 0,
            require_ctx: self.require_ctx,
        }
    }

    /// DMEM contents.
    pub fn dmem(&self) -> &[u8] {
        &self.dmem
    }

    /// Reads `len` bytes of IMEM at the virtual address `va`, through the block tags. `None`
    /// if a block is not loaded. The second value says whether every block was secure.
    pub fn imem_virtual(&self, va: u32, len: usize) -> Option<(Vec<u8>, bool)> {
        let mut out = Vec::with_capacity(len);
        let mut all_secure = true;
        let mut addr = va as usize;
        let end = addr.checked_add(len)?;
        while addr < end {
            let tag = u16::try_from(addr / BLOCK_SIZE).ok()?;
            let block = self.tags.iter().position(|t| *t == Some(tag))?;
            all_secure &= self.secure.get(block).copied().unwrap_or(false);
            let within = addr % BLOCK_SIZE;
            let take = (BLOCK_SIZE - within).min(end - addr);
            let start = block * BLOCK_SIZE + within;
            out.extend_from_slice(self.imem.get(start..start + take)?);
            addr += take;
        }
        Some((out, all_secure))
    }

    /// Stores a DMA transfer's bytes into IMEM or DMEM. IMEM blocks are tagged with the
    /// block number of `DMATRFFBOFFS` (upstream nova-core `falcon.rs`, `dma_wr`).
    pub fn dma_store(&mut self, req: &DmaRequest, data: &[u8]) -> Result<(), String> {
        let start = req.mem_offset as usize;
        let mem = if req.imem {
            &mut self.imem
        } else {
            &mut self.dmem
        };
        let dst = start
            .checked_add(data.len())
            .and_then(|end| mem.get_mut(start..end))
            .ok_or_else(|| {
                format!(
                    "DMA to {:#x}+{:#x} is outside the memory",
                    start,
                    data.len()
                )
            })?;
        dst.copy_from_slice(data);
        if req.imem {
            self.imem_written = true;
            let first = start / BLOCK_SIZE;
            let blocks = data.len().div_ceil(BLOCK_SIZE);
            for i in 0..blocks {
                let tag = u16::try_from(req.fb_offset as usize / BLOCK_SIZE + i).ok();
                if let Some(slot) = self.tags.get_mut(first + i) {
                    *slot = tag;
                }
                if let Some(slot) = self.secure.get_mut(first + i) {
                    *slot = req.secure;
                }
            }
        }
        Ok(())
    }

    /// The bytes a falcon-to-memory DMA transfer sends.
    pub fn dma_fetch(&self, req: &DmaRequest) -> Result<Vec<u8>, String> {
        let start = req.mem_offset as usize;
        let mem = if req.imem { &self.imem } else { &self.dmem };
        start
            .checked_add(req.len)
            .and_then(|end| mem.get(start..end))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("DMA from {:#x}+{:#x} is outside the memory", start, req.len))
    }

    fn imem_port(&mut self, rel: u32) -> Option<(usize, u32)> {
        let i = (rel.checked_sub(IMEMC0)? / 16) as usize;
        (i < self.imem_ports.len()).then_some((i, (rel - IMEMC0) % 16))
    }

    fn dmem_port(&mut self, rel: u32) -> Option<(usize, u32)> {
        let i = (rel.checked_sub(DMEMC0)? / 8) as usize;
        (i < self.dmem_ports.len()).then_some((i, (rel - DMEMC0) % 8))
    }

    /// Reads the register at `rel` (offset from the falcon base). `riscv_active` is the state
    /// of the RISC-V core; `locked` says whether the falcon's memories are protected from the
    /// CPU.
    pub fn read(&mut self, rel: u32, riscv_active: bool, locked: bool) -> Option<u32> {
        let ga102 = self.generation == Generation::Ga102;
        let value = match rel {
            IRQSCLR | IRQMSET | IRQMCLR | CPUCTL_ALIAS => 0,
            IRQSTAT => self.irqstat,
            IRQMASK => self.irqmask,
            IRQDEST => self.irqdest,
            MAILBOX0 => self.mailbox[0],
            MAILBOX1 => self.mailbox[1],
            OS => self.os,
            RM => self.rm,
            HWCFG2 => {
                let riscv = if self.engine == Engine::Gsp {
                    HWCFG2_RISCV
                } else {
                    0
                };
                let ready = if ga102 { HWCFG2_RESET_READY } else { 0 };
                let scrubbing = if self.scrubbing {
                    HWCFG2_MEM_SCRUBBING
                } else {
                    0
                };
                riscv | ready | scrubbing
            }
            CPUCTL => {
                (if self.halted { CPUCTL_HALTED } else { 0 })
                    | (if self.cpuctl_alias_en {
                        CPUCTL_ALIAS_EN
                    } else {
                        0
                    })
            }
            BOOTVEC => self.bootvec,
            HWCFG => HWCFG_VALUE,
            DMACTL => {
                u32::from(self.require_ctx) | if self.scrubbing { DMACTL_SCRUBBING } else { 0 }
            }
            DMATRFBASE => self.dma_base,
            DMATRFMOFFS => self.dma_moffs,
            DMATRFCMD => self.dma_cmd | if self.dma_busy { 0 } else { DMATRFCMD_IDLE },
            DMATRFFBOFFS => self.dma_fboffs,
            DMATRFBASE1 => self.dma_base1,
            ENGINE => u32::from(self.in_reset),
            FBIF_CTL => self.fbif_ctl,
            _ if (FBIF_TRANSCFG0..FBIF_TRANSCFG0 + 32).contains(&rel) => {
                let i = ((rel - FBIF_TRANSCFG0) / 4) as usize;
                self.transcfg.get(i).copied().unwrap_or(0)
            }
            MOD_SEL if ga102 => self.mod_sel,
            BROM_CURR_UCODE_ID if ga102 => self.ucode_id,
            BROM_ENGIDMASK if ga102 => self.engid_mask,
            BROM_PARAADDR0 if ga102 => self.paraaddr,
            RISCV_CPUCTL if ga102 => {
                if riscv_active {
                    1 << 7
                } else {
                    0
                }
            }
            RISCV_BCR_CTRL if ga102 => self.bcr,
            RISCV_IRQMASK_GA102 if ga102 => self.irqmask,
            RISCV_IRQDEST_GA102 if ga102 => self.irqdest,
            RISCV_IRQMASK_TU102 if !ga102 => self.irqmask,
            RISCV_CORE_SWITCH_STATUS if !ga102 => u32::from(riscv_active),
            _ => {
                if let Some((i, reg)) = self.imem_port(rel) {
                    let port = self.imem_ports.get_mut(i)?;
                    if reg == 4 && self.scrubbing {
                        return Some(0);
                    }
                    if reg == 8 {
                        let block = port.offset() / BLOCK_SIZE;
                        return Some(self.tags.get(block).copied().flatten().map_or(0, u32::from));
                    }
                    return read_pio(port, &self.imem, reg, locked);
                }
                if let Some((i, reg)) = self.dmem_port(rel) {
                    let port = self.dmem_ports.get_mut(i)?;
                    if reg == 4 && self.scrubbing {
                        return Some(0);
                    }
                    return read_pio(port, &self.dmem, reg, locked);
                }
                return None;
            }
        };
        Some(value)
    }

    /// Whether a write to `rel` is refused while the falcon is locked: everything that loads,
    /// starts or redirects code. Interrupts, mailboxes, `OS`/`RM` and `ENGINE` stay writable.
    pub fn protected(rel: u32) -> bool {
        !matches!(
            rel,
            IRQSCLR | IRQMSET | IRQMCLR | IRQDEST | MAILBOX0 | MAILBOX1 | OS | RM | ENGINE
        )
    }

    /// Writes the bytes of `value` selected by `mask` to the register at `rel`.
    pub fn write(&mut self, rel: u32, value: u32, mask: u32) -> Outcome {
        let ga102 = self.generation == Generation::Ga102;
        let v = value & mask;
        match rel {
            IRQSCLR => self.irqstat &= !v,
            IRQMSET => self.irqmask |= v,
            IRQMCLR => self.irqmask &= !v,
            IRQDEST => self.irqdest = merge(self.irqdest, value, mask),
            IRQSTAT | IRQMASK | HWCFG | HWCFG2 => return Outcome::ReadOnly,
            MAILBOX0 => self.mailbox[0] = merge(self.mailbox[0], value, mask),
            MAILBOX1 => self.mailbox[1] = merge(self.mailbox[1], value, mask),
            OS => self.os = merge(self.os, value, mask),
            RM => self.rm = merge(self.rm, value, mask),
            CPUCTL => {
                if mask & CPUCTL_ALIAS_EN != 0 {
                    self.cpuctl_alias_en = v & CPUCTL_ALIAS_EN != 0;
                }
                if v & CPUCTL_STARTCPU != 0 {
                    return Outcome::Done(Event::Start);
                }
            }
            CPUCTL_ALIAS => {
                if v & CPUCTL_STARTCPU != 0 {
                    return Outcome::Done(Event::Start);
                }
            }
            BOOTVEC => self.bootvec = merge(self.bootvec, value, mask),
            DMACTL => {
                if mask & DMACTL_REQUIRE_CTX != 0 {
                    self.require_ctx = v & DMACTL_REQUIRE_CTX != 0;
                }
            }
            DMATRFBASE => self.dma_base = merge(self.dma_base, value, mask),
            DMATRFMOFFS => self.dma_moffs = merge(self.dma_moffs, value, mask) & 0x00ff_ffff,
            DMATRFFBOFFS => self.dma_fboffs = merge(self.dma_fboffs, value, mask),
            DMATRFBASE1 => self.dma_base1 = merge(self.dma_base1, value, mask) & 0x1ff,
            DMATRFCMD => {
                // FULL and IDLE are read-only status.
                self.dma_cmd = merge(self.dma_cmd, value, mask) & !3;
                return Outcome::Done(Event::Dma(self.dma_request()));
            }
            ENGINE => {
                let assert = v & 1 != 0;
                if mask & 1 != 0 {
                    let was = self.in_reset;
                    self.in_reset = assert;
                    if assert && !was {
                        self.reset();
                        return Outcome::Done(Event::Reset);
                    }
                    if was && !assert {
                        self.scrubbing = true;
                        return Outcome::Done(Event::ResetReleased);
                    }
                }
            }
            FBIF_CTL => self.fbif_ctl = merge(self.fbif_ctl, value, mask),
            _ if (FBIF_TRANSCFG0..FBIF_TRANSCFG0 + 32).contains(&rel) => {
                let i = ((rel - FBIF_TRANSCFG0) / 4) as usize;
                if let Some(slot) = self.transcfg.get_mut(i) {
                    *slot = merge(*slot, value, mask);
                }
            }
            MOD_SEL if ga102 => self.mod_sel = merge(self.mod_sel, value, mask) & 0xff,
            BROM_CURR_UCODE_ID if ga102 => self.ucode_id = merge(self.ucode_id, value, mask) & 0xff,
            BROM_ENGIDMASK if ga102 => self.engid_mask = merge(self.engid_mask, value, mask),
            BROM_PARAADDR0 if ga102 => self.paraaddr = merge(self.paraaddr, value, mask),
            RISCV_CPUCTL if ga102 => {}
            RISCV_BCR_CTRL if ga102 => {
                let writable = BCR_CORE_SELECT_RISCV | BCR_BRFETCH;
                self.bcr = (merge(self.bcr, value, mask) & writable) | BCR_VALID;
            }
            RISCV_CORE_SWITCH_STATUS if !ga102 => return Outcome::ReadOnly,
            _ => return self.write_port(rel, value, mask),
        }
        Outcome::Done(Event::None)
    }

    /// Whether `rel` is an IMEMD or DMEMD data port, which scrubbing makes unusable.
    pub fn is_memory_port(&mut self, rel: u32) -> bool {
        matches!(self.imem_port(rel), Some((_, 4))) || matches!(self.dmem_port(rel), Some((_, 4)))
    }

    fn write_port(&mut self, rel: u32, value: u32, mask: u32) -> Outcome {
        if self.scrubbing && self.is_memory_port(rel) {
            return Outcome::Violation(format!(
                "{}: IMEM/DMEM PIO write at +{rel:#x} while memory scrubbing is pending \
                 (HWCFG2.MEM_SCRUBBING / DMACTL.*MEM_SCRUBBING)",
                self.engine.name()
            ));
        }
        if let Some((i, reg)) = self.imem_port(rel) {
            let Some(port) = self.imem_ports.get_mut(i) else {
                return Outcome::Unimplemented;
            };
            match reg {
                0 => port.ctl = merge(port.ctl, value, mask),
                4 => {
                    let at = port.offset();
                    let secure = port.ctl & IMEMC_SECURE != 0;
                    port.advance(true);
                    if mask != u32::MAX {
                        return Outcome::Violation(format!(
                            "{}: partial write of IMEMD({i})",
                            self.engine.name()
                        ));
                    }
                    if let Err(violation) =
                        pio_store(&mut self.imem, at, value, self.engine, "IMEM")
                    {
                        return violation;
                    }
                    self.imem_written = true;
                    if let Some(slot) = self.secure.get_mut(at / BLOCK_SIZE) {
                        *slot = secure;
                    }
                }
                8 => {
                    let block = port.offset() / BLOCK_SIZE;
                    if let Some(slot) = self.tags.get_mut(block) {
                        *slot = Some((value & 0xffff) as u16);
                    }
                }
                _ => return Outcome::Unimplemented,
            }
            return Outcome::Done(Event::None);
        }
        if let Some((i, reg)) = self.dmem_port(rel) {
            let Some(port) = self.dmem_ports.get_mut(i) else {
                return Outcome::Unimplemented;
            };
            match reg {
                0 => port.ctl = merge(port.ctl, value, mask),
                4 => {
                    let at = port.offset();
                    port.advance(true);
                    let old = read_word(&self.dmem, at);
                    let word = merge(old, value, mask);
                    if let Err(violation) = pio_store(&mut self.dmem, at, word, self.engine, "DMEM")
                    {
                        return violation;
                    }
                }
                _ => return Outcome::Unimplemented,
            }
            return Outcome::Done(Event::None);
        }
        Outcome::Unimplemented
    }

    fn dma_request(&self) -> DmaRequest {
        let cmd = self.dma_cmd;
        let size_code = (cmd >> 8) & 7;
        let ctxdma = ((cmd >> 12) & 7) as usize;
        let base = (u64::from(self.dma_base) << 8) | (u64::from(self.dma_base1) << 40);
        DmaRequest {
            imem: cmd & DMATRFCMD_IMEM != 0,
            to_memory: cmd & DMATRFCMD_WRITE != 0,
            secure: (cmd >> 2) & 3 != 0,
            len: 4usize << size_code,
            address: base.wrapping_add(u64::from(self.dma_fboffs)),
            fb_offset: self.dma_fboffs,
            mem_offset: self.dma_moffs,
            transcfg: self.transcfg.get(ctxdma).copied().unwrap_or(0),
            allow_phys_no_ctx: self.fbif_ctl & FBIF_CTL_ALLOW_PHYS_NO_CTX != 0,
            require_ctx: self.require_ctx,
        }
    }
}

fn word_range(at: usize) -> Range<usize> {
    at..at.saturating_add(4)
}

/// Reads the control (`reg` 0) or data (`reg` 4) register of the PIO `port` into `mem`. A data
/// read returns the word at the port's offset and advances it, or `PRI_LOCKED` (without
/// advancing) while the falcon is `locked`. Any other register is `None`.
fn read_pio(port: &mut Port, mem: &[u8], reg: u32, locked: bool) -> Option<u32> {
    Some(match reg {
        0 => port.ctl,
        4 if locked => crate::gpu::PRI_LOCKED,
        4 => {
            let at = port.offset();
            port.advance(false);
            read_word(mem, at)
        }
        _ => return None,
    })
}

/// Stores `value` at `at` of `mem` (the `name` memory of `engine`) for a PIO data write; a
/// word beyond the memory is a violation.
fn pio_store(
    mem: &mut [u8],
    at: usize,
    value: u32,
    engine: Engine,
    name: &str,
) -> Result<(), Outcome> {
    if write_word(mem, at, value) {
        Ok(())
    } else {
        Err(Outcome::Violation(format!(
            "{}: {name} PIO write at {at:#x} is beyond {name}",
            engine.name()
        )))
    }
}

fn read_word(mem: &[u8], at: usize) -> u32 {
    mem.get(word_range(at))
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn write_word(mem: &mut [u8], at: usize, value: u32) -> bool {
    match mem.get_mut(word_range(at)) {
        Some(slot) => {
            slot.copy_from_slice(&value.to_le_bytes());
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hwcfg_reports_imem_and_dmem_sizes_in_blocks() {
        let mut f = Falcon::new(Engine::Gsp, Generation::Ga102);
        let hwcfg = f.read(HWCFG, false, false).expect("HWCFG is implemented");
        assert_eq!(
            (hwcfg & 0x1ff) as usize * BLOCK_SIZE,
            MEM_SIZE,
            "IMEM_SIZE, bits 8:0"
        );
        assert_eq!(
            ((hwcfg >> 9) & 0x1ff) as usize * BLOCK_SIZE,
            MEM_SIZE,
            "DMEM_SIZE, 17:9"
        );
    }

    #[test]
    fn pio_loads_tagged_secure_imem_and_dmem() {
        let mut f = Falcon::new(Engine::Sec2, Generation::Tu102);
        assert!(!f.imem_loaded());
        // Port 0 at 0x200, secure, auto-increment; tag 7 for that block.
        f.write(IMEMC0, 0x200 | MEMC_AINCW | IMEMC_SECURE, u32::MAX);
        f.write(IMEMC0 + 8, 7, u32::MAX);
        f.write(IMEMC0 + 4, 0x1122_3344, u32::MAX);
        f.write(IMEMC0 + 4, 0x5566_7788, u32::MAX);
        let (bytes, secure) = f.imem_virtual(0x700, 8).unwrap();
        assert_eq!(bytes, [0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55]);
        assert!(secure);
        assert!(f.imem_virtual(0x800, 4).is_none());
        f.write(DMEMC0 + 8, 0x10 | MEMC_AINCW, u32::MAX);
        f.write(DMEMC0 + 12, 0xaabb_ccdd, u32::MAX);
        assert_eq!(&f.dmem()[0x10..0x14], &[0xdd, 0xcc, 0xbb, 0xaa]);
        // Read back through port 1 with auto-increment on read.
        f.write(DMEMC0 + 8, 0x10 | MEMC_AINCR, u32::MAX);
        assert_eq!(f.read(DMEMC0 + 12, false, false), Some(0xaabb_ccdd));
        assert_eq!(f.read(DMEMC0 + 8, false, false), Some(0x14 | MEMC_AINCR));
        assert_eq!(
            f.read(DMEMC0 + 12, false, true),
            Some(crate::gpu::PRI_LOCKED)
        );
    }

    #[test]
    fn engine_reset_scrubs_and_reports() {
        let mut f = Falcon::new(Engine::Gsp, Generation::Ga102);
        f.write(MAILBOX0, 5, u32::MAX);
        f.write(IMEMC0, MEMC_AINCW, u32::MAX);
        f.write(IMEMC0 + 4, 1, u32::MAX);
        assert!(f.imem_loaded());
        assert_eq!(f.write(ENGINE, 1, u32::MAX), Outcome::Done(Event::Reset));
        assert_eq!(f.read(ENGINE, false, false), Some(1));
        assert_eq!(
            f.write(ENGINE, 0, u32::MAX),
            Outcome::Done(Event::ResetReleased)
        );
        assert_eq!(f.mailbox(0), 0);
        assert!(!f.imem_loaded());
        // Scrubbing runs once the reset is released, until the engine model says it is done.
        assert!(f.scrubbing());
        assert_eq!(
            f.read(HWCFG2, false, false),
            Some(HWCFG2_RESET_READY | HWCFG2_RISCV | HWCFG2_MEM_SCRUBBING)
        );
        assert_eq!(f.read(DMACTL, false, false), Some(DMACTL_SCRUBBING));
        assert!(matches!(
            f.write(IMEMC0 + 4, 1, u32::MAX),
            Outcome::Violation(_)
        ));
        f.scrub_done();
        // Scrubbing done, reset ready, RISC-V present on the GSP.
        assert_eq!(
            f.read(HWCFG2, false, false),
            Some(HWCFG2_RESET_READY | HWCFG2_RISCV)
        );
        assert_eq!(f.read(DMACTL, false, false), Some(0));
        // Writing 0 again releases nothing.
        assert_eq!(f.write(ENGINE, 0, u32::MAX), Outcome::Done(Event::None));
    }

    #[test]
    fn dma_command_captures_the_transfer() {
        let mut f = Falcon::new(Engine::Gsp, Generation::Ga102);
        f.write(FBIF_TRANSCFG0, 0x5, u32::MAX);
        f.write(FBIF_CTL, FBIF_CTL_ALLOW_PHYS_NO_CTX, u32::MAX);
        f.write(DMATRFBASE, 0x12_3456, u32::MAX);
        f.write(DMATRFBASE1, 0x1, u32::MAX);
        f.write(DMATRFMOFFS, 0x100, u32::MAX);
        f.write(DMATRFFBOFFS, 0x300, u32::MAX);
        let Outcome::Done(Event::Dma(req)) = f.write(DMATRFCMD, 0x614, u32::MAX) else {
            panic!("no DMA event");
        };
        assert!(req.imem && req.secure && !req.to_memory);
        assert_eq!(req.len, 256);
        assert_eq!(req.address, (1u64 << 40) + 0x1234_5600 + 0x300);
        assert!(req.physical() && req.target() == 1 && req.allow_phys_no_ctx);
        f.dma_store(&req, &[0xab; 256]).unwrap();
        let (bytes, secure) = f.imem_virtual(0x300, 256).unwrap();
        assert!(secure && bytes.iter().all(|b| *b == 0xab));
        assert_eq!(f.read(DMATRFCMD, false, false), Some(0x616));
    }

    #[test]
    fn start_alias_bcr_and_read_only_registers() {
        let mut f = Falcon::new(Engine::Gsp, Generation::Ga102);
        assert_eq!(
            f.write(CPUCTL, CPUCTL_STARTCPU, u32::MAX),
            Outcome::Done(Event::Start)
        );
        f.write(CPUCTL, CPUCTL_ALIAS_EN, u32::MAX);
        assert_eq!(f.read(CPUCTL, false, false), Some(CPUCTL_ALIAS_EN));
        assert_eq!(
            f.write(CPUCTL_ALIAS, CPUCTL_STARTCPU, u32::MAX),
            Outcome::Done(Event::Start)
        );
        assert_eq!(f.read(RISCV_BCR_CTRL, false, false), Some(BCR_BRFETCH));
        f.write(RISCV_BCR_CTRL, 0, u32::MAX);
        assert_eq!(f.read(RISCV_BCR_CTRL, false, false), Some(BCR_VALID));
        assert_eq!(f.read(RISCV_CPUCTL, true, false), Some(1 << 7));
        assert_eq!(f.write(IRQSTAT, 0, u32::MAX), Outcome::ReadOnly);
        f.raise_irq(IRQ_SWGEN0 | IRQ_HALT);
        f.write(IRQSCLR, IRQ_SWGEN0, u32::MAX);
        assert_eq!(f.irqstat(), IRQ_HALT);
        // Turing layout: no BROM registers, the core-switch status instead.
        let mut t = Falcon::new(Engine::Gsp, Generation::Tu102);
        assert_eq!(t.read(BROM_PARAADDR0, false, false), None);
        assert_eq!(t.read(RISCV_CORE_SWITCH_STATUS, true, false), Some(1));
    }
}
