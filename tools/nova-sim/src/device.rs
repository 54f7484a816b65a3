// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The simulated GPU: configuration space, BARs, interrupts and DMA put together, and exposed
//! through [`VfioDevice`].
//!
//! Region layout (VFIO-PCI indices):
//!
//! | index | contents                                                              |
//! |-------|-----------------------------------------------------------------------|
//! | 0     | BAR0, 16 MiB, trapped: every access goes to the [`Bar0`] model          |
//! | 1     | BAR1, VRAM aperture, memfd shared with the client (mapped directly)    |
//! | 2     | upper half of the 64-bit BAR1                                          |
//! | 3     | BAR2 ("BAR3" in PCI numbering), 32 MiB, trapped, memory-backed         |
//! | 4     | upper half of the 64-bit BAR3                                          |
//! | 5     | I/O BAR, 128 bytes, VGA-class chips only; reads zero, writes ignored  |
//! | 6     | expansion ROM: absent                                                  |
//! | 7     | configuration space, 4 KiB                                             |
//! | 8     | VGA ranges: absent                                                     |
//!
//! BAR0 carries the chip's VBIOS in its PROM window (`NV_PROM_DATA`, see [`crate::vbios`]).
//!
//! BAR1 is the chip's [`Chip::bar1_size`] unless the caller overrides it (`--bar1-size`, a
//! board with Resizable BAR). Its memfd is sparse: it is sized with `ftruncate` and mapped
//! without populating, so even a 256 GiB aperture costs memory only for the pages touched.
//!
//! # Time
//!
//! The units finish their work at deadlines ([`crate::timing`]). The register model and guest
//! memory sit behind a lock shared with a ticker thread ([`GpuDevice::start_ticker`]), which
//! carries out work as it falls due even when the guest does not touch BAR0, as when a driver
//! polls guest memory for GSP-RM's reply; every BAR0 access also carries out what is due
//! first. The vfio-user loop itself never waits for the hardware.
//!
//! # Bus mastering
//!
//! The command register's `PCI_COMMAND_MASTER` gates every DMA the units make (falcon DMA,
//! booter reading `GspFwWprMeta`, GSP-RM's queues): without it the transfer fails and is a
//! violation (see [`crate::bar0::Ctx::dma_read`]).

use std::fs::File;
use std::io;
use std::ops::Deref;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use log::{debug, info, warn};

use crate::bar0::{AccessError, Bar0, Ctx, Identity, Tracer, BAR0_SIZE};
use crate::chips::{Chip, NVIDIA_VENDOR_ID};
use crate::firmware::FirmwareFiles;
use crate::gpu::{Engines, Faults};
use crate::gsp_core::GspCore;
use crate::idle_gsp::IdleGspCore;
use crate::irq::{Interrupts, IrqSet, IrqType};
use crate::memory::{GuestMemory, SharedMemory};
use crate::pci::{Bar, BarKind, ConfigSpace, PciDescription, CONFIG_SPACE_SIZE};
use crate::stats::{bump, Counters};
use crate::timing::{Clock, Delays, Timing};
use crate::vbios::{Corruption, Prom, Vbios};
use crate::vfio::{
    DeviceError, DeviceLayout, DmaMapRequest, DmaUnmapRequest, IrqDesc, RegionDesc, VfioDevice,
    NUM_REGIONS, REGION_BAR0, REGION_BAR1, REGION_BAR3, REGION_BAR5, REGION_CONFIG,
};
use crate::vfn::{IntrHub, Vfn};

/// Size of NVIDIA's BAR2 (PCI BAR slots 3/4).
pub const BAR3_SIZE: u64 = 32 << 20;

/// Size of the I/O BAR of VGA-class boards.
pub const IO_BAR_SIZE: u64 = 128;

/// PCI revision ID of the simulated boards.
pub const PCI_REVISION: u8 = 0xa1;

/// Subsystem ID reported with NVIDIA's subsystem vendor ID. Board vendors put their own board
/// number here; drivers do not use it to identify the chip.
pub const SUBSYSTEM_ID: u16 = 0x0000;

/// The PCI description of a board carrying `chip`, with a BAR1 of `bar1_size` bytes (a power of
/// two; [`Chip::bar1_size`] is the chip's default).
pub fn pci_description(chip: &Chip, bar1_size: u64) -> PciDescription {
    let mut bars = [None; 6];
    bars[0] = Some(Bar {
        kind: BarKind::Memory32 {
            prefetchable: false,
        },
        size: BAR0_SIZE,
    });
    bars[1] = Some(Bar {
        kind: BarKind::Memory64 { prefetchable: true },
        size: bar1_size,
    });
    if chip.has_bar3 {
        bars[3] = Some(Bar {
            kind: BarKind::Memory64 { prefetchable: true },
            size: BAR3_SIZE,
        });
    }
    if chip.is_vga() {
        bars[5] = Some(Bar {
            kind: BarKind::Io,
            size: IO_BAR_SIZE,
        });
    }
    PciDescription {
        vendor_id: NVIDIA_VENDOR_ID,
        device_id: chip.device_id,
        subsystem_vendor_id: NVIDIA_VENDOR_ID,
        subsystem_id: SUBSYSTEM_ID,
        revision: PCI_REVISION,
        class_code: chip.class_code,
        bars,
        link_gen: chip.pcie_gen,
        link_width: 16,
    }
}

/// How the engine models are set up: the GSP-RM model, the firmware files and the faults.
#[derive(Debug)]
pub struct EngineSetup {
    /// The program on the GSP's RISC-V core. [`IdleGspCore`] by default: it starts and never
    /// answers.
    pub core: Box<dyn GspCore>,
    /// Debian's booter files (`--firmware`); without them booter is not recognised.
    pub firmware: FirmwareFiles,
    /// Failures to show (`--fault`).
    pub faults: Faults,
    /// How long the hardware's work takes (`--timing`).
    pub timing: Timing,
}

impl Default for EngineSetup {
    fn default() -> Self {
        EngineSetup {
            core: Box::new(IdleGspCore::new()),
            firmware: FirmwareFiles::default(),
            faults: Faults::default(),
            timing: Timing::default(),
        }
    }
}

/// What the device loop and the ticker thread share.
#[derive(Debug)]
struct State {
    bar0: Bar0,
    dma: GuestMemory,
    /// `PCI_COMMAND_MASTER`, mirrored from the configuration space.
    bus_master: bool,
}

impl State {
    /// Runs `f` on BAR0 with a context over the rest of the state.
    fn with_bar0<R>(
        &mut self,
        counters: &Counters,
        f: impl FnOnce(&mut Bar0, &mut Ctx<'_>) -> R,
    ) -> R {
        let State {
            bar0,
            dma,
            bus_master,
        } = self;
        let mut ctx = Ctx::new(dma, counters);
        ctx.bus_master = *bus_master;
        f(bar0, &mut ctx)
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The longest the ticker sleeps without a deadline in sight.
const TICKER_IDLE: Duration = Duration::from_millis(50);

/// Guest memory, borrowed from the device (see [`GpuDevice::guest_memory`]).
pub struct MemoryGuard<'a>(MutexGuard<'a, State>);

impl Deref for MemoryGuard<'_> {
    type Target = GuestMemory;

    fn deref(&self) -> &GuestMemory {
        &self.0.dma
    }
}

/// The simulated GPU.
#[derive(Debug)]
pub struct GpuDevice {
    chip: &'static Chip,
    config: ConfigSpace,
    shared: Arc<Shared>,
    vbios: Arc<Vbios>,
    bar1: SharedMemory,
    bar3: Option<SharedMemory>,
    io_bar: bool,
    io_bar_reported: bool,
    irqs: Interrupts,
    /// The CPU interrupt tree, which drives MSI vector 0.
    intr: Arc<IntrHub>,
    counters: Arc<Counters>,
    ticker: Option<JoinHandle<()>>,
}

impl Drop for GpuDevice {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.wake.notify_all();
        if let Some(ticker) = self.ticker.take() {
            if ticker.join().is_err() {
                warn!("device: the ticker thread panicked");
            }
        }
    }
}

fn range_error(region: u32, offset: u64, len: usize) -> DeviceError {
    DeviceError::OutOfRange {
        region,
        offset,
        len,
    }
}

impl GpuDevice {
    /// Builds the device for `chip`, reporting `identity` in BAR0, with a BAR1 (VRAM aperture)
    /// of `bar1_size` bytes: [`Chip::bar1_size`], or a Resizable BAR override.
    ///
    /// `bar1_size` must be a power of two; it is checked before any memory is created.
    ///
    /// The PROM window shows the chip's VBIOS as built ([`Corruption::None`]); see
    /// [`GpuDevice::with_vbios`] for another ROM.
    pub fn new(
        chip: &'static Chip,
        identity: Identity,
        bar1_size: u64,
        counters: Arc<Counters>,
        tracer: Option<Tracer>,
    ) -> io::Result<Self> {
        let vbios = Vbios::build(chip, Corruption::None)
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err.to_string()))?;
        Self::with_vbios(chip, identity, bar1_size, counters, tracer, vbios)
    }

    /// Like [`GpuDevice::new`], with `vbios` in the PROM window (a corrupted ROM, typically).
    pub fn with_vbios(
        chip: &'static Chip,
        identity: Identity,
        bar1_size: u64,
        counters: Arc<Counters>,
        tracer: Option<Tracer>,
        vbios: Vbios,
    ) -> io::Result<Self> {
        Self::with_setup(
            chip,
            identity,
            bar1_size,
            counters,
            tracer,
            vbios,
            EngineSetup::default(),
        )
    }

    /// Like [`GpuDevice::with_vbios`], with the engines set up by `setup` (the GSP-RM model
    /// in `setup.core`, booter files, faults).
    pub fn with_setup(
        chip: &'static Chip,
        identity: Identity,
        bar1_size: u64,
        counters: Arc<Counters>,
        tracer: Option<Tracer>,
        vbios: Vbios,
        setup: EngineSetup,
    ) -> io::Result<Self> {
        let vbios = Arc::new(vbios);
        let mut bar0 = Bar0::new(identity, counters.clone(), tracer);
        bar0.add_unit(Box::new(Prom::new(vbios.clone())))
            .map_err(|err| io::Error::other(err.to_string()))?;
        let engines = Engines::with_delays(
            chip,
            &vbios,
            &setup.firmware,
            setup.core,
            setup.faults,
            Delays::new(setup.timing),
        );
        let intr = IntrHub::new();
        let mut engines = engines;
        engines.connect_interrupts(Arc::clone(&intr));
        bar0.add_unit(Box::new(engines))
            .map_err(|err| io::Error::other(err.to_string()))?;
        bar0.add_unit(Box::new(Vfn::new(Arc::clone(&intr))))
            .map_err(|err| io::Error::other(err.to_string()))?;
        let config = ConfigSpace::new(pci_description(chip, bar1_size))
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err.to_string()))?;
        // Sparse: nothing here reads or fills the aperture.
        let bar1 = SharedMemory::new("nova-sim-bar1", bar1_size)?;
        let bar3 = if chip.has_bar3 {
            Some(SharedMemory::new("nova-sim-bar3", BAR3_SIZE)?)
        } else {
            None
        };
        let bus_master = config.bus_master_enabled();
        Ok(GpuDevice {
            chip,
            config,
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    bar0,
                    dma: GuestMemory::new(),
                    bus_master,
                }),
                wake: Condvar::new(),
                stop: AtomicBool::new(false),
            }),
            vbios,
            bar1,
            bar3,
            io_bar: chip.is_vga(),
            io_bar_reported: false,
            irqs: Interrupts::new(1, 1),
            intr,
            counters,
            ticker: None,
        })
    }

    /// Starts the thread that carries out the units' work as it falls due (see the module
    /// documentation). Without it, work is done only at BAR0 accesses and [`GpuDevice::tick`].
    pub fn start_ticker(&mut self) -> io::Result<()> {
        if self.ticker.is_some() {
            return Ok(());
        }
        let shared = Arc::clone(&self.shared);
        let counters = Arc::clone(&self.counters);
        let handle = std::thread::Builder::new()
            .name("nova-sim-ticker".into())
            .spawn(move || {
                let mut state = shared.lock();
                while !shared.stop.load(Ordering::Relaxed) {
                    state.with_bar0(&counters, |bar0, ctx| bar0.tick_in(ctx));
                    let now = state.bar0.now();
                    let wait = state
                        .bar0
                        .next_deadline()
                        .map_or(TICKER_IDLE, |at| at.saturating_sub(now))
                        .clamp(Duration::from_micros(1), TICKER_IDLE);
                    state = shared
                        .wake
                        .wait_timeout(state, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            })?;
        self.ticker = Some(handle);
        Ok(())
    }

    /// Carries out the work that is due now.
    pub fn tick(&self) {
        self.shared
            .lock()
            .with_bar0(&self.counters, |bar0, ctx| bar0.tick_in(ctx));
    }

    /// Measures the units' deadlines with `clock` (tests use a
    /// [`crate::timing::ManualClock`]).
    pub fn set_clock(&self, clock: Arc<dyn Clock>) {
        self.shared.lock().bar0.set_clock(clock);
    }

    /// Whether PCI bus mastering is enabled.
    pub fn bus_master_enabled(&self) -> bool {
        self.config.bus_master_enabled()
    }

    fn sync_bus_master(&self) {
        self.shared.lock().bus_master = self.config.bus_master_enabled();
    }

    /// The chip this device simulates.
    pub fn chip(&self) -> &'static Chip {
        self.chip
    }

    /// The configuration space.
    pub fn config(&self) -> &ConfigSpace {
        &self.config
    }

    /// Reads BAR0 as the guest does (`size` 1, 2, 4 or 8), with DMA reaching guest memory.
    pub fn mmio_read(&mut self, offset: u64, size: usize) -> Result<u64, AccessError> {
        self.shared
            .lock()
            .with_bar0(&self.counters, |bar0, ctx| bar0.read_in(offset, size, ctx))
    }

    /// Writes BAR0 as the guest does.
    pub fn mmio_write(&mut self, offset: u64, size: usize, value: u64) -> Result<(), AccessError> {
        let result = self.shared.lock().with_bar0(&self.counters, |bar0, ctx| {
            bar0.write_in(offset, size, value, ctx)
        });
        // The write may have started work: let the ticker see its deadline.
        self.shared.wake.notify_all();
        result
    }

    /// The VBIOS the PROM window shows.
    pub fn vbios(&self) -> &Vbios {
        &self.vbios
    }

    /// The VRAM aperture behind BAR1.
    pub fn vram(&self) -> &SharedMemory {
        &self.bar1
    }

    /// Guest memory the client made available for DMA. The device's units wait while the
    /// guard is held.
    pub fn guest_memory(&self) -> MemoryGuard<'_> {
        MemoryGuard(self.shared.lock())
    }

    /// Returns a check for the end of the run: it counts a violation for every interrupt the
    /// driver left pending and enabled, unacknowledged, for [`crate::vfn::ACK_GRACE`] or more
    /// (strict mode then fails the run). It may be called from any thread.
    pub fn interrupt_audit(&self) -> impl Fn() + Send + Sync + 'static {
        let shared = Arc::clone(&self.shared);
        let intr = Arc::clone(&self.intr);
        let counters = Arc::clone(&self.counters);
        move || {
            let now = shared.lock().bar0.now();
            for v in intr.unacknowledged(now, crate::vfn::ACK_GRACE) {
                bump(&counters.violations);
                warn!(
                    "violation: VFN: interrupt vector {} (leaf {}, bit {}) was raised and never \
                     acknowledged (NV_VIRTUAL_FUNCTION_PRIV_CPU_INTR_LEAF({}) not written)",
                    v.0,
                    v.leaf(),
                    v.0 % 32,
                    v.leaf()
                );
            }
        }
    }

    /// The interrupt lines.
    pub fn interrupts(&mut self) -> &mut Interrupts {
        &mut self.irqs
    }

    /// Raises the device interrupt the way the guest configured it: MSI when an MSI eventfd is
    /// connected, otherwise INTx unless the command register disables it. Returns whether an
    /// eventfd was signalled.
    pub fn raise_interrupt(&mut self) -> io::Result<bool> {
        let delivered = if self.irqs.is_connected(IrqType::Msi, 0) {
            self.irqs.raise(IrqType::Msi, 0)?
        } else if !self.config.intx_disabled() {
            self.irqs.raise(IrqType::Intx, 0)?
        } else {
            false
        };
        if delivered {
            bump(&self.counters.interrupts);
        }
        Ok(delivered)
    }

    fn violation(&self, err: DeviceError) -> DeviceError {
        bump(&self.counters.violations);
        warn!("device: {err}");
        err
    }

    fn bar0_access_size(&self, offset: u64, len: usize) -> Result<(), DeviceError> {
        if matches!(len, 1 | 2 | 4 | 8) {
            Ok(())
        } else {
            Err(self.violation(DeviceError::Invalid(format!(
                "BAR0 access of {len} bytes at {offset:#x}"
            ))))
        }
    }

    fn memory_bar(&self, region: u32) -> Option<&SharedMemory> {
        match region {
            REGION_BAR1 => Some(&self.bar1),
            REGION_BAR3 => self.bar3.as_ref(),
            _ => None,
        }
    }

    fn io_bar_access(&mut self, offset: u64, len: usize) -> Result<(), DeviceError> {
        let end = offset.checked_add(len as u64);
        if !self.io_bar || end.is_none_or(|end| end > IO_BAR_SIZE) {
            return Err(self.violation(range_error(REGION_BAR5, offset, len)));
        }
        bump(&self.counters.other_region_accesses);
        if !std::mem::replace(&mut self.io_bar_reported, true) {
            info!("device: I/O BAR accessed; it is not modelled (reads zero, writes ignored)");
        }
        Ok(())
    }
}

impl VfioDevice for GpuDevice {
    fn layout(&self) -> DeviceLayout {
        let mut regions = vec![RegionDesc::absent(); NUM_REGIONS as usize];
        regions[REGION_BAR0 as usize] = RegionDesc::trapped(BAR0_SIZE);
        regions[REGION_BAR1 as usize] =
            RegionDesc::mappable(self.bar1.size(), self.bar1.file().as_raw_fd());
        if let Some(bar3) = &self.bar3 {
            regions[REGION_BAR3 as usize] = RegionDesc::trapped(bar3.size());
        }
        if self.io_bar {
            regions[REGION_BAR5 as usize] = RegionDesc::trapped(IO_BAR_SIZE);
        }
        regions[REGION_CONFIG as usize] = RegionDesc::trapped(CONFIG_SPACE_SIZE as u64);
        let irq = |count, maskable, noresize| IrqDesc {
            count,
            maskable,
            automasked: maskable,
            noresize,
        };
        DeviceLayout {
            regions,
            irqs: vec![
                irq(self.irqs.count(IrqType::Intx), true, false),
                irq(self.irqs.count(IrqType::Msi), false, true),
                irq(self.irqs.count(IrqType::Msix), false, true),
                irq(self.irqs.count(IrqType::Err), false, false),
                irq(self.irqs.count(IrqType::Req), false, false),
            ],
            resettable: true,
        }
    }

    fn region_read(
        &mut self,
        region: u32,
        offset: u64,
        data: &mut [u8],
    ) -> Result<(), DeviceError> {
        match region {
            REGION_BAR0 => {
                self.bar0_access_size(offset, data.len())?;
                // Size and range failures are counted by the model.
                let value = self
                    .mmio_read(offset, data.len())
                    .map_err(|_| range_error(region, offset, data.len()))?;
                data.copy_from_slice(&value.to_le_bytes()[..data.len()]);
                Ok(())
            }
            REGION_BAR1 | REGION_BAR3 if self.memory_bar(region).is_some() => {
                bump(&self.counters.other_region_accesses);
                let result = self.memory_bar(region).map(|bar| bar.read(offset, data));
                match result {
                    Some(Ok(())) => Ok(()),
                    _ => Err(self.violation(range_error(region, offset, data.len()))),
                }
            }
            REGION_BAR5 => {
                self.io_bar_access(offset, data.len())?;
                data.fill(0);
                Ok(())
            }
            REGION_CONFIG => {
                bump(&self.counters.config_reads);
                self.config
                    .read(offset, data)
                    .map_err(|_| self.violation(range_error(region, offset, data.len())))
            }
            _ => Err(self.violation(DeviceError::NoSuchRegion(region))),
        }
    }

    fn region_write(&mut self, region: u32, offset: u64, data: &[u8]) -> Result<(), DeviceError> {
        match region {
            REGION_BAR0 => {
                self.bar0_access_size(offset, data.len())?;
                let mut bytes = [0u8; 8];
                bytes[..data.len()].copy_from_slice(data);
                self.mmio_write(offset, data.len(), u64::from_le_bytes(bytes))
                    .map_err(|_| range_error(region, offset, data.len()))
            }
            REGION_BAR1 | REGION_BAR3 if self.memory_bar(region).is_some() => {
                bump(&self.counters.other_region_accesses);
                let result = self.memory_bar(region).map(|bar| bar.write(offset, data));
                match result {
                    Some(Ok(())) => Ok(()),
                    _ => Err(self.violation(range_error(region, offset, data.len()))),
                }
            }
            REGION_BAR5 => self.io_bar_access(offset, data.len()),
            REGION_CONFIG => {
                bump(&self.counters.config_writes);
                let result = self
                    .config
                    .write(offset, data)
                    .map_err(|_| self.violation(range_error(region, offset, data.len())));
                self.sync_bus_master();
                result?;
                if ConfigSpace::initiates_flr(offset, data) {
                    info!("device: function level reset");
                    self.reset()?;
                }
                Ok(())
            }
            _ => Err(self.violation(DeviceError::NoSuchRegion(region))),
        }
    }

    fn dma_map(&mut self, request: DmaMapRequest) -> Result<(), DeviceError> {
        debug!(
            "device: DMA map {:#x}+{:#x} (file offset {:#x}, fd {})",
            request.iova,
            request.size,
            request.file_offset,
            request.fd.is_some()
        );
        self.shared
            .lock()
            .dma
            .map(
                request.iova,
                request.size,
                request.fd.as_ref(),
                request.file_offset,
                request.readable,
                request.writable,
            )
            .map_err(|err| DeviceError::Invalid(err.to_string()))?;
        bump(&self.counters.dma_maps);
        Ok(())
    }

    fn dma_unmap(&mut self, request: DmaUnmapRequest) -> Result<(), DeviceError> {
        debug!("device: DMA unmap {request:?}");
        let mut state = self.shared.lock();
        match request {
            DmaUnmapRequest::All => state.dma.clear(),
            DmaUnmapRequest::Range { iova, size } => {
                state
                    .dma
                    .unmap(iova, size)
                    .map_err(|err| DeviceError::Invalid(err.to_string()))?;
            }
        }
        bump(&self.counters.dma_unmaps);
        Ok(())
    }

    fn set_irqs(&mut self, set: IrqSet, fds: Vec<File>) -> Result<(), DeviceError> {
        debug!("device: SET_IRQS {set:?} with {} fds", fds.len());
        self.irqs.set(set, fds).map_err(|err| match err {
            crate::irq::IrqError::Io(err) => DeviceError::Io(err),
            crate::irq::IrqError::Unsupported(_) => DeviceError::Unsupported(err.to_string()),
            other => DeviceError::Invalid(other.to_string()),
        })?;
        // The tree's line is the function's MSI vector 0 (INTx is not driven by it).
        let msi = self
            .irqs
            .trigger_handle(IrqType::Msi, 0)
            .transpose()
            .map_err(DeviceError::Io)?;
        self.intr.connect_msi(msi);
        Ok(())
    }

    fn reset(&mut self) -> Result<(), DeviceError> {
        info!("device: reset");
        bump(&self.counters.resets);
        self.config.reset();
        self.shared.lock().bar0.reset();
        self.sync_bus_master();
        self.irqs.reset();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips;
    use crate::pci::{BAR_0, COMMAND, DEVICE_ID};
    use std::os::unix::fs::MetadataExt;
    use std::sync::atomic::Ordering;

    fn device(name: &str) -> (GpuDevice, Arc<Counters>) {
        let chip = chips::find(name).unwrap();
        let counters = Arc::new(Counters::default());
        let identity = Identity::of(chip);
        let dev = GpuDevice::new(chip, identity, chip.bar1_size, counters.clone(), None).unwrap();
        (dev, counters)
    }

    #[test]
    fn layout_matches_vfio_pci_expectations() {
        let (dev, _) = device("ad102");
        let layout = dev.layout();
        assert_eq!(layout.regions.len(), 9);
        assert_eq!(layout.regions[0].size, 16 << 20);
        assert!(layout.regions[0].mmap_fd.is_none());
        assert_eq!(layout.regions[1].size, 256 << 20);
        assert!(layout.regions[1].mmap_fd.is_some());
        assert_eq!(layout.regions[2].size, 0);
        assert_eq!(layout.regions[3].size, 32 << 20);
        assert_eq!(layout.regions[5].size, 128);
        assert_eq!(layout.regions[6].size, 0);
        assert_eq!(layout.regions[7].size, 4096);
        assert_eq!(layout.regions[8].size, 0);
        let counts: Vec<u32> = layout.irqs.iter().map(|i| i.count).collect();
        assert_eq!(counts, vec![1, 1, 0, 1, 1]);
        assert!(layout.resettable);
        // A data-centre part has no I/O BAR.
        let (dev, _) = device("gh100");
        assert_eq!(dev.layout().regions[5].size, 0);
    }

    #[test]
    fn resizable_bar1_is_sized_everywhere() {
        const SIZE: u64 = 32 << 30;
        let chip = chips::find("ad102").unwrap();
        let identity = Identity::of(chip);
        let counters = Arc::new(Counters::default());
        let mut dev = GpuDevice::new(chip, identity, SIZE, counters.clone(), None).unwrap();
        // The region the client maps, and the memfd behind it.
        let layout = dev.layout();
        assert_eq!(layout.regions[REGION_BAR1 as usize].size, SIZE);
        assert_eq!(dev.vram().size(), SIZE);
        assert_eq!(dev.vram().file().metadata().unwrap().len(), SIZE);
        // The memfd is sparse: creating it allocated nothing.
        assert_eq!(dev.vram().file().metadata().unwrap().blocks(), 0);
        // BAR sizing through the config region, both dwords of the 64-bit BAR.
        let bar1 = (BAR_0 + 4) as u64;
        let mut low = [0u8; 4];
        let mut high = [0u8; 4];
        dev.region_write(REGION_CONFIG, bar1, &[0xff; 4]).unwrap();
        dev.region_write(REGION_CONFIG, bar1 + 4, &[0xff; 4])
            .unwrap();
        dev.region_read(REGION_CONFIG, bar1, &mut low).unwrap();
        dev.region_read(REGION_CONFIG, bar1 + 4, &mut high).unwrap();
        assert_eq!(u32::from_le_bytes(low), 0x0000_000c);
        assert_eq!(u32::from_le_bytes(high), 0xffff_fff8);
        // The last bytes, far above 4 GiB, are reachable; one past the end is not.
        dev.region_write(REGION_BAR1, SIZE - 4, b"last").unwrap();
        let mut back = [0u8; 4];
        dev.vram().read(SIZE - 4, &mut back).unwrap();
        assert_eq!(&back, b"last");
        assert!(dev.region_read(REGION_BAR1, SIZE - 3, &mut back).is_err());
        assert!(dev
            .region_read(REGION_BAR1, u64::MAX - 1, &mut back)
            .is_err());
        assert_eq!(counters.violations.load(Ordering::Relaxed), 2);
        // Touching one page allocated that page (or one huge page), not the aperture.
        let allocated = dev.vram().file().metadata().unwrap().blocks() * 512;
        assert!(allocated > 0 && allocated < 1 << 30, "{allocated:#x} bytes");
        // A reset does not touch VRAM.
        dev.reset().unwrap();
        dev.vram().read(SIZE - 4, &mut back).unwrap();
        assert_eq!(&back, b"last");
    }

    #[test]
    fn bar1_sizes_that_are_not_powers_of_two_are_refused() {
        let chip = chips::find("ad102").unwrap();
        let identity = Identity::of(chip);
        for size in [0, 24 << 30, (256 << 20) + 4096] {
            let err = GpuDevice::new(chip, identity, size, Arc::default(), None).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{size:#x}");
        }
    }

    #[test]
    fn regions_route_to_their_models() {
        let (mut dev, counters) = device("tu102");
        let mut buf = [0u8; 4];
        dev.region_read(REGION_BAR0, 0, &mut buf).unwrap();
        assert_eq!(u32::from_le_bytes(buf), 0x1620_00a1);
        dev.region_read(REGION_CONFIG, DEVICE_ID as u64, &mut buf[..2])
            .unwrap();
        assert_eq!(u16::from_le_bytes([buf[0], buf[1]]), 0x1e04);
        dev.region_write(REGION_BAR1, 0x1000, b"vram").unwrap();
        let mut back = [0u8; 4];
        dev.vram().read(0x1000, &mut back).unwrap();
        assert_eq!(&back, b"vram");
        assert!(dev.region_read(REGION_BAR1, 256 << 20, &mut buf).is_err());
        assert!(dev.region_read(2, 0, &mut buf).is_err());
        assert!(dev.region_read(REGION_BAR0, 0, &mut [0u8; 3]).is_err());
        assert!(dev.region_read(REGION_BAR5, 126, &mut buf).is_err());
        dev.region_read(REGION_BAR5, 0, &mut buf).unwrap();
        assert_eq!(counters.reads.load(Ordering::Relaxed), 1);
        assert_eq!(counters.violations.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn reset_restores_config_space() {
        let (mut dev, counters) = device("ga102");
        dev.region_write(REGION_CONFIG, COMMAND as u64, &[0x06, 0x00])
            .unwrap();
        dev.region_write(REGION_CONFIG, BAR_0 as u64, &[0xff; 4])
            .unwrap();
        assert!(dev.config().bus_master_enabled());
        assert!(dev.shared.lock().bus_master);
        dev.reset().unwrap();
        assert!(!dev.config().bus_master_enabled());
        assert!(!dev.shared.lock().bus_master);
        assert_eq!(dev.config().read_u32(BAR_0), 0);
        assert_eq!(counters.resets.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn initiating_flr_resets_the_device() {
        let (mut dev, counters) = device("ad102");
        let devcap = dev.config().read_u32(crate::pci::PCIE_CAP + 4);
        assert_ne!(devcap & crate::pci::DEVCAP_FLR, 0);
        dev.region_write(REGION_CONFIG, COMMAND as u64, &[0x06, 0x00])
            .unwrap();
        // DevCtl with Initiate FLR set, as Linux's pcie_flr() writes it.
        let devctl = (crate::pci::PCIE_CAP + 8) as u64;
        dev.region_write(REGION_CONFIG, devctl, &[0x10, 0xa8])
            .unwrap();
        assert_eq!(counters.resets.load(Ordering::Relaxed), 1);
        assert!(!dev.config().bus_master_enabled());
        // The bit reads as 0.
        assert_eq!(dev.config().read_u16(crate::pci::PCIE_CAP + 8) & 0x8000, 0);
        // Other DevCtl writes do not reset.
        dev.region_write(REGION_CONFIG, devctl, &[0x10, 0x28])
            .unwrap();
        assert_eq!(counters.resets.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn interrupts_prefer_msi() {
        let (mut dev, counters) = device("ad102");
        assert!(!dev.raise_interrupt().unwrap());
        // SAFETY: plain syscall; result checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: fresh descriptor.
        let file = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        let set = crate::irq::IrqSet {
            irq: IrqType::Msi,
            action: crate::irq::IrqAction::Trigger,
            data: crate::irq::IrqData::Eventfd,
            start: 0,
            count: 1,
        };
        dev.set_irqs(set, vec![file]).unwrap();
        assert!(dev.raise_interrupt().unwrap());
        assert_eq!(counters.interrupts.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn dma_requests_update_the_guest_memory_map() {
        let (mut dev, counters) = device("ad102");
        let ram = SharedMemory::new("guest-ram", 8192).unwrap();
        let fd = ram.file().try_clone().unwrap();
        dev.dma_map(DmaMapRequest {
            iova: 0x4000_0000,
            size: 8192,
            file_offset: 0,
            readable: true,
            writable: true,
            fd: Some(fd),
        })
        .unwrap();
        dev.guest_memory().write(0x4000_0010, b"dma").unwrap();
        let mut buf = [0u8; 3];
        ram.read(0x10, &mut buf).unwrap();
        assert_eq!(&buf, b"dma");
        assert!(dev
            .dma_unmap(DmaUnmapRequest::Range {
                iova: 0,
                size: 0x1000
            })
            .is_err());
        dev.dma_unmap(DmaUnmapRequest::All).unwrap();
        assert!(dev.guest_memory().is_empty());
        assert_eq!(counters.dma_maps.load(Ordering::Relaxed), 1);
        assert_eq!(counters.dma_unmaps.load(Ordering::Relaxed), 1);
    }
}
