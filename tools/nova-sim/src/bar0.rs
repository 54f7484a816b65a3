// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The BAR0 register file: NVIDIA's "priv" MMIO space.
//!
//! [`Bar0`] turns guest accesses of any size (1, 2, 4 or 8 bytes) into 32-bit register
//! accesses and dispatches them by address to [`Unit`] models (PMC, the PROM window, the engine
//! models of [`crate::gpu`]). It knows nothing of vfio: the device calls [`Bar0::read_in`] and
//! [`Bar0::write_in`] with a [`Ctx`], the bus glue a unit may need (guest memory for DMA);
//! [`Bar0::read`] and [`Bar0::write`] run an access without any (tests of plain units).
//!
//! A register no unit implements behaves like a priv address that decodes to nothing on real
//! hardware: reads return [`PRI_ERROR_DECODE`] and writes are dropped. Every such access is
//! counted as unimplemented and as a violation: real hardware would answer with the same
//! error, so a driver that reads one has used a wrong offset or a register the simulator does
//! not know yet, and either way the run does not show what real hardware does. It is logged as
//! a warning (`violation: <unit> <offset>: ...`, naming the unit whose range holds the offset,
//! or `BAR0` where none does) the first time per register and direction, and at `trace` every
//! time. A write to a read-only or locked register, and any access a unit refuses
//! ([`RegRead::Violation`], [`RegWrite::Violation`]: a unit held in reset, a result read before
//! the hardware signalled it ready), is a violation logged the same way.
//!
//! Before every access the units' pending work whose deadline has passed is carried out
//! ([`Unit::tick`], see [`crate::timing`]).
//!
//! # Trace format
//!
//! With a [`Tracer`], every access becomes one line:
//!
//! ```text
//! R 0x000000 4 0x192000a1
//! W 0x000a00 4 0x00000000 read-only
//! R 0x001000 4 0xbadf1100 unimplemented
//! ```
//!
//! that is direction (`R`/`W`), BAR0 offset, size in bytes, value (as many hex digits as the
//! access has bytes) and, when something was wrong, `unimplemented`, `read-only` or `rejected`.

use std::collections::HashSet;
use std::fmt;
use std::io::Write;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use log::{trace, warn};

use crate::memory::GuestMemory;
use crate::stats::{bump, Counters};
use crate::timing::{Clock, RealClock};

/// Size of BAR0 on every supported GPU (`BAR0_SIZE` in nova-core's `driver.rs`).
pub const BAR0_SIZE: u64 = 16 << 20;

/// Mask that selects the error signature of a failed priv read (Open RM's
/// `GPU_READ_PRI_ERROR_MASK`).
pub const PRI_ERROR_MASK: u32 = 0xfff0_0000;

/// Signature of a failed priv read under [`PRI_ERROR_MASK`] (Open RM's
/// `GPU_READ_PRI_ERROR_CODE`).
pub const PRI_ERROR_CODE: u32 = 0xbad0_0000;

/// What a read of a priv address that decodes to no register returns.
///
/// The priv ring reports errors in bits 31:8 of the read data (`NV_PPRIV_SYS_PRI_ERROR_CODE`);
/// `0xbadf11` is `NV_PPRIV_SYS_PRI_ERROR_CODE_FECS_PRI_DECODE` in NVIDIA's
/// open-gpu-kernel-modules, `src/common/inc/swref/published/maxwell/gm107/dev_pri_ringstation_sys.h`.
/// The low byte carries detail; `0xbadf1100` is what public register dumps of real boards
/// show for absent registers. It satisfies the `(value & PRI_ERROR_MASK) == PRI_ERROR_CODE`
/// check drivers use. It is deliberately not `0xbadf41xx`, the pattern nova-core and nouveau
/// read as "GSP locked down" (`falcon/gsp.rs`, `nvkm/subdev/gsp/gh100.c`).
pub const PRI_ERROR_DECODE: u32 = 0xbadf_1100;

/// What a read of a register of a unit held in reset returns.
///
/// `0xbadf12` is `NV_PPRIV_SYS_PRI_ERROR_CODE_FECS_PRI_RESET` (same header as
/// [`PRI_ERROR_DECODE`]); the low byte is detail, zero here. It satisfies the
/// `(value & PRI_ERROR_MASK) == PRI_ERROR_CODE` check.
pub const PRI_RESET: u32 = 0xbadf_1200;

/// `NV_PMC_BOOT_0`: chip identification (architecture, implementation, revision).
pub const NV_PMC_BOOT_0: u32 = 0x0000_0000;

/// `NV_PMC_BOOT_42`: extended chip identification, used by nova to identify Turing and later.
pub const NV_PMC_BOOT_42: u32 = 0x0000_0a00;

/// The identity registers a simulated chip reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Value of `NV_PMC_BOOT_0`.
    pub boot0: u32,
    /// Value of `NV_PMC_BOOT_42`.
    pub boot42: u32,
}

impl Identity {
    /// The identity registers of `chip` as its table entry gives them (no override).
    pub fn of(chip: &crate::chips::Chip) -> Self {
        Self {
            boot0: chip.boot0,
            boot42: chip.boot42,
        }
    }
}

/// Outcome of a 32-bit register read in a [`Unit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegRead {
    /// The register exists and holds this value.
    Value(u32),
    /// The unit does not implement a register at this address.
    Unimplemented,
    /// The read returns this value (a priv error pattern, or a stale result), and real hardware
    /// says the driver should not have made it: the reason is counted as a violation.
    Violation(u32, String),
}

/// Outcome of a 32-bit register write in a [`Unit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegWrite {
    /// The write took effect.
    Done,
    /// The register is read-only (or locked); the write was ignored.
    ReadOnly,
    /// The unit does not implement a register at this address; the write was ignored.
    Unimplemented,
    /// The write was refused for this reason (the unit is in reset, say); counted as a
    /// violation.
    Violation(String),
}

/// What a unit can reach besides its own registers: the bus around the GPU.
///
/// Register state stays in the units; this is the glue the device passes in on every access,
/// so that a model can copy from guest memory (falcon DMA) and count what it sees.
pub struct Ctx<'a> {
    /// Guest memory the client made available for DMA (the system-memory aperture). Units
    /// reach it through [`Ctx::dma_read`] and [`Ctx::dma_write`], which honour bus mastering.
    pub dma: &'a GuestMemory,
    /// The counters, for violations and per-engine events.
    pub counters: &'a Counters,
    /// The time of the access (set by [`Bar0`] from its clock).
    pub now: Duration,
    /// Whether the PCI command register enables bus mastering (`PCI_COMMAND_MASTER`): without
    /// it the device cannot issue memory requests upstream (PCI Local Bus Specification 3.0,
    /// 6.2.2 "Bus Master"), so every DMA fails.
    pub bus_master: bool,
}

impl<'a> Ctx<'a> {
    /// A context with bus mastering enabled, at time 0 until [`Bar0`] sets it.
    pub fn new(dma: &'a GuestMemory, counters: &'a Counters) -> Self {
        Ctx {
            dma,
            counters,
            now: Duration::ZERO,
            bus_master: true,
        }
    }

    /// Counts a violation by `unit` and logs it with `what`.
    pub fn violation(&self, unit: &str, what: &str) {
        bump(&self.counters.violations);
        warn!("violation: {unit}: {what}");
    }

    fn dma_allowed(&self, unit: &str, dir: &str, addr: u64, len: usize) -> Result<(), String> {
        if self.bus_master {
            return Ok(());
        }
        let what = format!(
            "DMA {dir} of {len:#x} bytes at {addr:#x} with bus mastering disabled \
             (PCI_COMMAND_MASTER clear)"
        );
        self.violation(unit, &what);
        Err(what)
    }

    /// Reads guest memory at DMA address `addr` for `unit`. Fails (and counts a violation)
    /// without bus mastering.
    pub fn dma_read(&self, unit: &str, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        self.dma_allowed(unit, "read", addr, buf.len())?;
        self.dma.read(addr, buf).map_err(|e| e.to_string())
    }

    /// Writes guest memory at DMA address `addr` for `unit`. Fails (and counts a violation)
    /// without bus mastering.
    pub fn dma_write(&self, unit: &str, addr: u64, data: &[u8]) -> Result<(), String> {
        self.dma_allowed(unit, "write", addr, data.len())?;
        self.dma.write(addr, data).map_err(|e| e.to_string())
    }
}

impl fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("dma_regions", &self.dma.len())
            .finish()
    }
}

/// A hardware unit that owns one or more ranges of BAR0.
///
/// Addresses passed to a unit are absolute BAR0 offsets, 4-byte aligned and inside one of
/// [`Unit::ranges`], so a unit can use NVIDIA's register addresses as they are.
pub trait Unit: Send {
    /// Short name for logs, e.g. `"PMC"`.
    fn name(&self) -> &'static str;
    /// The name of the hardware block that holds `addr`, for logs; [`Unit::name`] unless the
    /// unit models several blocks.
    fn name_at(&self, _addr: u32) -> &'static str {
        self.name()
    }
    /// The BAR0 offsets this unit decodes. Asked once, when the unit is added.
    fn ranges(&self) -> Vec<Range<u32>>;
    /// Reads the register at `addr`.
    fn read(&mut self, addr: u32, ctx: &mut Ctx<'_>) -> RegRead;
    /// Writes the bytes of `value` selected by `mask` (0xff per enabled byte lane) at `addr`.
    fn write(&mut self, addr: u32, value: u32, mask: u32, ctx: &mut Ctx<'_>) -> RegWrite;
    /// Returns the unit to its power-on state.
    fn reset(&mut self) {}
    /// Carries out the pending work whose deadline is at or before `ctx.now`.
    fn tick(&mut self, _ctx: &mut Ctx<'_>) {}
    /// The earliest deadline of the unit's pending work, if it has any.
    fn next_deadline(&self) -> Option<Duration> {
        None
    }
}

/// `NV_PMC`, the master control unit (0x000000..0x001000). Only the identity registers are
/// modelled so far.
#[derive(Debug)]
pub struct Pmc {
    identity: Identity,
}

impl Pmc {
    /// Creates the unit with the given identity registers.
    pub fn new(identity: Identity) -> Self {
        Pmc { identity }
    }
}

impl Unit for Pmc {
    fn name(&self) -> &'static str {
        "PMC"
    }

    fn ranges(&self) -> Vec<Range<u32>> {
        std::iter::once(0x0000_0000..0x0000_1000).collect()
    }

    fn read(&mut self, addr: u32, _ctx: &mut Ctx<'_>) -> RegRead {
        match addr {
            NV_PMC_BOOT_0 => RegRead::Value(self.identity.boot0),
            NV_PMC_BOOT_42 => RegRead::Value(self.identity.boot42),
            _ => RegRead::Unimplemented,
        }
    }

    fn write(&mut self, addr: u32, _value: u32, _mask: u32, _ctx: &mut Ctx<'_>) -> RegWrite {
        match addr {
            NV_PMC_BOOT_0 | NV_PMC_BOOT_42 => RegWrite::ReadOnly,
            _ => RegWrite::Unimplemented,
        }
    }
}

/// Direction of an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A read.
    Read,
    /// A write.
    Write,
}

impl Direction {
    fn letter(self) -> char {
        match self {
            Direction::Read => 'R',
            Direction::Write => 'W',
        }
    }
}

/// Writes one line per BAR0 access (see the module docs for the format).
pub struct Tracer {
    out: Box<dyn Write + Send>,
}

impl Tracer {
    /// Creates a tracer writing to `out`. Pass a line-buffered or unbuffered writer if the
    /// trace must survive the process being killed.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Tracer { out }
    }

    fn record(
        &mut self,
        dir: Direction,
        offset: u64,
        size: usize,
        value: u64,
        note: Option<&str>,
    ) -> std::io::Result<()> {
        let digits = size.clamp(1, 8) * 2;
        write!(
            self.out,
            "{} {:#08x} {} {:#0width$x}",
            dir.letter(),
            offset,
            size,
            value,
            width = digits + 2
        )?;
        if let Some(note) = note {
            write!(self.out, " {note}")?;
        }
        writeln!(self.out)
    }
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tracer")
    }
}

/// A BAR0 access the model refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessError {
    /// The size is not 1, 2, 4 or 8 bytes.
    BadSize(usize),
    /// The access does not lie entirely inside BAR0.
    OutOfRange {
        /// Offset of the access.
        offset: u64,
        /// Size of the access in bytes.
        size: usize,
    },
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessError::BadSize(size) => write!(f, "unsupported BAR0 access size {size}"),
            AccessError::OutOfRange { offset, size } => {
                write!(
                    f,
                    "BAR0 access of {size} bytes at {offset:#x} is out of range"
                )
            }
        }
    }
}

impl std::error::Error for AccessError {}

/// Two units claim the same addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverlapError {
    /// The unit being added.
    pub unit: &'static str,
    /// The unit already present.
    pub existing: &'static str,
}

impl fmt::Display for OverlapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BAR0 unit {} overlaps {}", self.unit, self.existing)
    }
}

impl std::error::Error for OverlapError {}

/// The BAR0 register model.
pub struct Bar0 {
    units: Vec<Box<dyn Unit>>,
    /// Every decoded range and the index of its unit in `units`.
    map: Vec<(Range<u32>, usize)>,
    counters: Arc<Counters>,
    tracer: Option<Tracer>,
    reported: HashSet<(Direction, u32)>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Bar0 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.units.iter().map(|u| u.name()).collect();
        f.debug_struct("Bar0")
            .field("units", &names)
            .field("tracing", &self.tracer.is_some())
            .finish()
    }
}

/// What one 32-bit register contributed to an access.
struct DwordResult {
    value: u32,
    unimplemented: bool,
    /// Read-only, locked or refused: a violation.
    read_only: bool,
}

impl Bar0 {
    /// Creates BAR0 with every unit the simulator models, reporting `identity`.
    pub fn new(identity: Identity, counters: Arc<Counters>, tracer: Option<Tracer>) -> Self {
        let mut bar0 = Bar0::empty(counters, tracer);
        bar0.units.push(Box::new(Pmc::new(identity)));
        bar0.map.push((0x0000_0000..0x0000_1000, 0));
        bar0
    }

    /// Creates BAR0 without any unit: every register is unimplemented.
    pub fn empty(counters: Arc<Counters>, tracer: Option<Tracer>) -> Self {
        Bar0 {
            units: Vec::new(),
            map: Vec::new(),
            counters,
            tracer,
            reported: HashSet::new(),
            clock: Arc::new(RealClock::new()),
        }
    }

    /// Measures time with `clock` from now on (tests use a [`crate::timing::ManualClock`]).
    pub fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = clock;
    }

    /// The current time of the clock.
    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Carries out every unit's pending work that is due at the clock's current time.
    pub fn tick_in(&mut self, ctx: &mut Ctx<'_>) {
        ctx.now = self.clock.now();
        for unit in &mut self.units {
            unit.tick(ctx);
        }
    }

    /// The earliest deadline of any unit's pending work.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.units.iter().filter_map(|u| u.next_deadline()).min()
    }

    /// The name of the unit whose ranges hold `addr`, or `BAR0` if none does.
    fn unit_name(&self, addr: u32) -> &'static str {
        self.map
            .iter()
            .find(|(r, _)| r.contains(&addr))
            .and_then(|(_, i)| self.units.get(*i))
            .map_or("BAR0", |u| u.name_at(addr))
    }

    /// Adds a unit, refusing one whose range overlaps a present unit.
    pub fn add_unit(&mut self, unit: Box<dyn Unit>) -> Result<(), OverlapError> {
        let ranges = unit.ranges();
        let index = self.units.len();
        let mut added: Vec<(Range<u32>, usize)> = Vec::with_capacity(ranges.len());
        for new in ranges {
            let clash = self
                .map
                .iter()
                .chain(added.iter())
                .find(|(r, _)| r.start < new.end && new.start < r.end);
            if let Some((_, other)) = clash {
                let existing = if *other == index {
                    unit.name()
                } else {
                    self.units.get(*other).map_or("?", |u| u.name())
                };
                return Err(OverlapError {
                    unit: unit.name(),
                    existing,
                });
            }
            added.push((new, index));
        }
        self.map.extend(added);
        self.units.push(unit);
        Ok(())
    }

    /// Returns every unit to its power-on state. Counters are kept.
    pub fn reset(&mut self) {
        for unit in &mut self.units {
            unit.reset();
        }
    }

    /// Checks an access and returns the 4-byte aligned start and the end of the span it covers.
    fn check(&mut self, dir: Direction, offset: u64, size: usize) -> Result<u64, AccessError> {
        let error = if !matches!(size, 1 | 2 | 4 | 8) {
            Some(AccessError::BadSize(size))
        } else {
            match offset.checked_add(size as u64) {
                Some(end) if end <= BAR0_SIZE => None,
                _ => Some(AccessError::OutOfRange { offset, size }),
            }
        };
        match error {
            None => Ok(offset & !3),
            Some(error) => {
                bump(&self.counters.violations);
                warn!("BAR0: {error}");
                self.trace(dir, offset, size, 0, Some("rejected"));
                Err(error)
            }
        }
    }

    fn unit_for(&mut self, addr: u32) -> Option<&mut Box<dyn Unit>> {
        let index = self
            .map
            .iter()
            .find(|(r, _)| r.contains(&addr))
            .map(|(_, i)| *i)?;
        self.units.get_mut(index)
    }

    fn read_dword(&mut self, addr: u32, ctx: &mut Ctx<'_>) -> DwordResult {
        let outcome = match self.unit_for(addr) {
            Some(unit) => unit.read(addr, ctx),
            None => RegRead::Unimplemented,
        };
        match outcome {
            RegRead::Value(value) => DwordResult {
                value,
                unimplemented: false,
                read_only: false,
            },
            RegRead::Violation(value, what) => {
                self.report_violation(addr, &what);
                DwordResult {
                    value,
                    unimplemented: false,
                    read_only: true,
                }
            }
            RegRead::Unimplemented => {
                self.report_unimplemented(Direction::Read, addr);
                DwordResult {
                    value: PRI_ERROR_DECODE,
                    unimplemented: true,
                    read_only: false,
                }
            }
        }
    }

    fn write_dword(&mut self, addr: u32, value: u32, mask: u32, ctx: &mut Ctx<'_>) -> DwordResult {
        let outcome = match self.unit_for(addr) {
            Some(unit) => unit.write(addr, value, mask, ctx),
            None => RegWrite::Unimplemented,
        };
        match outcome {
            RegWrite::Done => DwordResult {
                value,
                unimplemented: false,
                read_only: false,
            },
            RegWrite::ReadOnly => {
                self.report_violation(
                    addr,
                    &format!("write of {value:#010x} to a read-only or locked register ignored"),
                );
                DwordResult {
                    value,
                    unimplemented: false,
                    read_only: true,
                }
            }
            RegWrite::Violation(what) => {
                self.report_violation(addr, &what);
                DwordResult {
                    value,
                    unimplemented: false,
                    read_only: true,
                }
            }
            RegWrite::Unimplemented => {
                self.report_unimplemented(Direction::Write, addr);
                DwordResult {
                    value,
                    unimplemented: true,
                    read_only: false,
                }
            }
        }
    }

    /// Counts and logs a violation at `addr`, naming the unit.
    fn report_violation(&mut self, addr: u32, what: &str) {
        bump(&self.counters.violations);
        warn!("violation: {} {addr:#08x}: {what}", self.unit_name(addr));
    }

    /// Counts an access to an unimplemented register as a violation; logs it once per register
    /// and direction (then at `trace`).
    fn report_unimplemented(&mut self, dir: Direction, addr: u32) {
        let what = match dir {
            Direction::Read => "read",
            Direction::Write => "write",
        };
        bump(&self.counters.violations);
        let unit = self.unit_name(addr);
        if self.reported.insert((dir, addr)) {
            warn!(
                "violation: {unit} {addr:#08x}: {what} of an unimplemented register \
                 (reported once per register)"
            );
        } else {
            trace!("violation: {unit} {addr:#08x}: {what} of an unimplemented register");
        }
    }

    fn trace(&mut self, dir: Direction, offset: u64, size: usize, value: u64, note: Option<&str>) {
        if let Some(tracer) = &mut self.tracer {
            if let Err(err) = tracer.record(dir, offset, size, value, note) {
                warn!("BAR0: MMIO trace disabled: {err}");
                self.tracer = None;
            }
        }
    }

    /// Reads `size` bytes (1, 2, 4 or 8) at `offset`, little-endian, with no guest memory
    /// (for units that need none, and tests).
    pub fn read(&mut self, offset: u64, size: usize) -> Result<u64, AccessError> {
        let dma = GuestMemory::new();
        let counters = self.counters.clone();
        self.read_in(offset, size, &mut Ctx::new(&dma, &counters))
    }

    /// Writes the low `size` bytes (1, 2, 4 or 8) of `value` at `offset`, with no guest
    /// memory (for units that need none, and tests).
    pub fn write(&mut self, offset: u64, size: usize, value: u64) -> Result<(), AccessError> {
        let dma = GuestMemory::new();
        let counters = self.counters.clone();
        self.write_in(offset, size, value, &mut Ctx::new(&dma, &counters))
    }

    /// Reads `size` bytes (1, 2, 4 or 8) at `offset`, little-endian; units see `ctx`.
    pub fn read_in(
        &mut self,
        offset: u64,
        size: usize,
        ctx: &mut Ctx<'_>,
    ) -> Result<u64, AccessError> {
        let first = self.check(Direction::Read, offset, size)?;
        self.tick_in(ctx);
        bump(&self.counters.reads);
        let end = offset + size as u64; // Checked in `check`.
        let mut value = 0u64;
        let mut unimplemented = false;
        let mut addr = first;
        while addr < end {
            // `addr` < BAR0_SIZE, which fits in u32.
            let dword = self.read_dword(addr as u32, ctx);
            unimplemented |= dword.unimplemented;
            for byte in addr.max(offset)..(addr + 4).min(end) {
                let lane = (dword.value >> ((byte - addr) * 8)) & 0xff;
                value |= u64::from(lane) << ((byte - offset) * 8);
            }
            addr += 4;
        }
        if unimplemented {
            bump(&self.counters.unimplemented_reads);
        }
        let note = unimplemented.then_some("unimplemented");
        self.trace(Direction::Read, offset, size, value, note);
        Ok(value)
    }

    /// Writes the low `size` bytes (1, 2, 4 or 8) of `value` at `offset`, little-endian; units
    /// see `ctx`.
    pub fn write_in(
        &mut self,
        offset: u64,
        size: usize,
        value: u64,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), AccessError> {
        let first = self.check(Direction::Write, offset, size)?;
        self.tick_in(ctx);
        bump(&self.counters.writes);
        let end = offset + size as u64; // Checked in `check`.
        let mut unimplemented = false;
        let mut read_only = false;
        let mut addr = first;
        while addr < end {
            let mut dword = 0u32;
            let mut mask = 0u32;
            for byte in addr.max(offset)..(addr + 4).min(end) {
                let lane = ((value >> ((byte - offset) * 8)) & 0xff) as u32;
                dword |= lane << ((byte - addr) * 8);
                mask |= 0xff << ((byte - addr) * 8);
            }
            let result = self.write_dword(addr as u32, dword, mask, ctx);
            unimplemented |= result.unimplemented;
            read_only |= result.read_only;
            addr += 4;
        }
        if unimplemented {
            bump(&self.counters.unimplemented_writes);
        }
        let value = if size == 8 {
            value
        } else {
            value & ((1u64 << (size * 8)) - 1)
        };
        let note = if read_only {
            Some("read-only")
        } else {
            unimplemented.then_some("unimplemented")
        };
        self.trace(Direction::Write, offset, size, value, note);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;
    use std::sync::Mutex;

    const AD102: Identity = Identity {
        boot0: 0x1920_00a1,
        boot42: 0x192a_1000,
    };

    /// A writer the test can read back after the tracer took ownership.
    #[derive(Clone, Default)]
    struct SharedBuf(Arc<Mutex<Vec<u8>>>);

    impl Write for SharedBuf {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl SharedBuf {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn load(c: &std::sync::atomic::AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    #[test]
    fn identity_registers_read_back() {
        let counters = Arc::new(Counters::default());
        let mut bar0 = Bar0::new(AD102, counters.clone(), None);
        assert_eq!(bar0.read(0x0, 4), Ok(0x1920_00a1));
        assert_eq!(bar0.read(0xa00, 4), Ok(0x192a_1000));
        assert_eq!(load(&counters.reads), 2);
        assert_eq!(load(&counters.unimplemented_reads), 0);
    }

    #[test]
    fn narrow_and_wide_reads_select_byte_lanes() {
        let mut bar0 = Bar0::new(AD102, Arc::default(), None);
        assert_eq!(bar0.read(0x0, 1), Ok(0xa1));
        assert_eq!(bar0.read(0x3, 1), Ok(0x19));
        assert_eq!(bar0.read(0x2, 2), Ok(0x1920));
        // BOOT_0 in the low half, the unimplemented 0x4 in the high half.
        assert_eq!(bar0.read(0x0, 8), Ok(0xbadf_1100_1920_00a1));
    }

    #[test]
    fn unimplemented_reads_return_pri_error_and_are_counted() {
        let counters = Arc::new(Counters::default());
        let mut bar0 = Bar0::new(AD102, counters.clone(), None);
        for offset in [0x4, 0x200, 0x1000, 0x88000, 0xfffffc] {
            let value = bar0.read(offset, 4).unwrap() as u32;
            assert_eq!(value, PRI_ERROR_DECODE, "offset {offset:#x}");
            assert_eq!(value & PRI_ERROR_MASK, PRI_ERROR_CODE);
        }
        // Same register twice still counts twice.
        bar0.read(0x4, 4).unwrap();
        assert_eq!(load(&counters.unimplemented_reads), 6);
        assert_eq!(load(&counters.reads), 6);
        // Each is a violation: real hardware would answer with the same error.
        assert_eq!(load(&counters.violations), 6);
    }

    #[test]
    fn read_only_identity_write_is_a_violation() {
        let counters = Arc::new(Counters::default());
        let mut bar0 = Bar0::new(AD102, counters.clone(), None);
        bar0.write(0x0, 4, 0xdead_beef).unwrap();
        bar0.write(0xa00, 1, 0xff).unwrap();
        assert_eq!(bar0.read(0x0, 4), Ok(0x1920_00a1));
        assert_eq!(bar0.read(0xa00, 4), Ok(0x192a_1000));
        assert_eq!(load(&counters.writes), 2);
        assert_eq!(load(&counters.violations), 2);
        assert_eq!(load(&counters.unimplemented_writes), 0);
    }

    #[test]
    fn unimplemented_writes_are_counted_and_are_violations() {
        let counters = Arc::new(Counters::default());
        let mut bar0 = Bar0::new(AD102, counters.clone(), None);
        bar0.write(0x140, 4, 1).unwrap();
        // Two registers, two violations.
        bar0.write(0x110000, 8, 1).unwrap();
        assert_eq!(load(&counters.unimplemented_writes), 2);
        assert_eq!(load(&counters.violations), 3);
    }

    #[test]
    fn a_mistyped_register_offset_is_caught() {
        // A driver that means NV_PMC_BOOT_42 (0xa00) but reads 0xa04: the value it gets is the
        // priv decode error, and the access is a violation naming the unit and the offset.
        let counters = Arc::new(Counters::default());
        let mut bar0 = Bar0::new(AD102, counters.clone(), None);
        assert_eq!(bar0.read(0xa00, 4), Ok(0x192a_1000));
        assert_eq!(load(&counters.violations), 0);
        assert_eq!(bar0.read(0xa04, 4), Ok(u64::from(PRI_ERROR_DECODE)));
        assert_eq!(load(&counters.violations), 1);
        assert_eq!(bar0.unit_name(0xa04), "PMC");
        assert_eq!(bar0.unit_name(0x0020_0000), "BAR0");
    }

    /// A unit that refuses every access, as one held in reset does.
    struct Refusing;

    impl Unit for Refusing {
        fn name(&self) -> &'static str {
            "REFUSING"
        }
        fn ranges(&self) -> Vec<Range<u32>> {
            std::iter::once(0x2000..0x2004).collect()
        }
        fn read(&mut self, _addr: u32, _ctx: &mut Ctx<'_>) -> RegRead {
            RegRead::Violation(0xbadf_1200, "in reset".into())
        }
        fn write(&mut self, _addr: u32, _value: u32, _mask: u32, _ctx: &mut Ctx<'_>) -> RegWrite {
            RegWrite::Violation("in reset".into())
        }
    }

    #[test]
    fn refused_accesses_are_violations_with_the_unit_s_value() {
        let counters = Arc::new(Counters::default());
        let mut bar0 = Bar0::new(AD102, counters.clone(), None);
        bar0.add_unit(Box::new(Refusing)).unwrap();
        assert_eq!(bar0.read(0x2000, 4), Ok(0xbadf_1200));
        bar0.write(0x2000, 4, 1).unwrap();
        assert_eq!(load(&counters.violations), 2);
        assert_eq!(load(&counters.unimplemented_reads), 0);
    }

    #[test]
    fn bad_accesses_are_rejected_and_counted() {
        let counters = Arc::new(Counters::default());
        let mut bar0 = Bar0::new(AD102, counters.clone(), None);
        assert_eq!(bar0.read(0, 3), Err(AccessError::BadSize(3)));
        assert_eq!(
            bar0.read(BAR0_SIZE - 2, 4),
            Err(AccessError::OutOfRange {
                offset: BAR0_SIZE - 2,
                size: 4
            })
        );
        assert!(bar0.write(u64::MAX - 1, 4, 0).is_err());
        assert_eq!(load(&counters.violations), 3);
        assert_eq!(load(&counters.reads), 0);
        assert_eq!(load(&counters.writes), 0);
        // The last register is still reachable.
        assert_eq!(bar0.read(BAR0_SIZE - 4, 4), Ok(u64::from(PRI_ERROR_DECODE)));
    }

    #[test]
    fn trace_lines_have_the_documented_format() {
        let buf = SharedBuf::default();
        let tracer = Tracer::new(Box::new(buf.clone()));
        let mut bar0 = Bar0::new(AD102, Arc::default(), Some(tracer));
        bar0.read(0x0, 4).unwrap();
        bar0.read(0xa00, 2).unwrap();
        bar0.write(0xa00, 4, 0).unwrap();
        bar0.read(0x1000, 4).unwrap();
        bar0.write(0x1004, 1, 0x5a).unwrap();
        bar0.read(0x0, 8).unwrap();
        let _ = bar0.read(0x0, 5);
        assert_eq!(
            buf.text(),
            "R 0x000000 4 0x192000a1\n\
             R 0x000a00 2 0x1000\n\
             W 0x000a00 4 0x00000000 read-only\n\
             R 0x001000 4 0xbadf1100 unimplemented\n\
             W 0x001004 1 0x5a unimplemented\n\
             R 0x000000 8 0xbadf1100192000a1 unimplemented\n\
             R 0x000000 5 0x0000000000 rejected\n"
        );
    }

    struct Scratch {
        value: u32,
    }

    impl Unit for Scratch {
        fn name(&self) -> &'static str {
            "SCRATCH"
        }
        fn ranges(&self) -> Vec<Range<u32>> {
            std::iter::once(0x1000..0x1004).collect()
        }
        fn read(&mut self, _addr: u32, _ctx: &mut Ctx<'_>) -> RegRead {
            RegRead::Value(self.value)
        }
        fn write(&mut self, _addr: u32, value: u32, mask: u32, _ctx: &mut Ctx<'_>) -> RegWrite {
            self.value = (self.value & !mask) | (value & mask);
            RegWrite::Done
        }
        fn reset(&mut self) {
            self.value = 0;
        }
    }

    #[test]
    fn units_receive_byte_masked_writes_and_reset() {
        let mut bar0 = Bar0::new(AD102, Arc::default(), None);
        bar0.add_unit(Box::new(Scratch { value: 0 })).unwrap();
        bar0.write(0x1000, 4, 0x1122_3344).unwrap();
        bar0.write(0x1001, 2, 0xaabb).unwrap();
        assert_eq!(bar0.read(0x1000, 4), Ok(0x11aa_bb44));
        bar0.reset();
        assert_eq!(bar0.read(0x1000, 4), Ok(0));
        let overlap = bar0.add_unit(Box::new(Pmc::new(AD102)));
        assert_eq!(
            overlap,
            Err(OverlapError {
                unit: "PMC",
                existing: "PMC"
            })
        );
    }
}
