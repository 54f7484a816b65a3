// SPDX-License-Identifier: GPL-2.0

//! Booting GSP-RM, and stopping it again.
//!
//! On Turing, Ampere and Ada, GSP-RM is started the way NVIDIA's driver starts it
//! (open-gpu-kernel-modules `kgspBootstrap_GA102`/`kgspBootstrapRiscvOSEarly_TU102` in
//! `kernel_gsp_ga102.c`/`kernel_gsp_tu102.c`; upstream nova-core `gsp/hal/tu102.rs` and
//! `gsp/boot.rs`):
//!
//! 1. The FB layout is computed; WPR2 must be down (else the GPU needs a reset).
//! 2. FWSEC-FRTS from the VBIOS runs on the GSP falcon: it copies the VBIOS data GSP-RM needs
//!    into FRTS at the top of VRAM and raises WPR2 over it. Its error code is in a scratch
//!    register; WPR2 must come up exactly over FRTS.
//! 3. The GSP falcon is reset and given the bus address of the LibOS arguments in its
//!    mailboxes; then booter_load runs on SEC2 with the bus address of `GspFwWprMeta` in SEC2's
//!    mailboxes. Booter copies the bootloader and the GSP-RM image into WPR2 and starts the
//!    GSP's RISC-V core.
//! 4. Once the RISC-V core is active, the driver sends `GSP_SET_SYSTEM_INFO` and
//!    `SET_REGISTRY`, runs the register sequence GSP-RM asks for (`GSP_RUN_CPU_SEQUENCER`),
//!    waits for `GSP_INIT_DONE` and asks for the static information (`GET_GSP_STATIC_INFO`).
//!
//! Stopping ([`GpuState::shutdown`]) is the reverse: `UNLOADING_GUEST_DRIVER`, a wait for
//! GSP-RM to report itself suspended in the GSP falcon's MAILBOX0 (bit 31), FWSEC-SB (which
//! resets the GSP falcon), and booter_unload on SEC2, which lowers WPR2. Afterwards the GPU can
//! be booted again without a reset. The images for stopping are prepared before anything is
//! started, so that a failure half-way through boot can always be undone.
//!
//! Turing and GA100 start FWSEC through the generic bootloader (`kgspExecuteHsFalcon_TU102`
//! with `KGSP_FLCN_UCODE_BOOT_WITH_LOADER`), and GA100, whose FB has no FRTS, skips FWSEC-FRTS:
//! booter raises WPR2 there. Hopper and Blackwell boot through the FSP; nova does not boot the
//! GSP on those yet.

mod booter;
mod fwsec;
mod layout;
mod regs;
mod sequencer;

use kernel::{
    device,
    dma::Coherent,
    firmware::Firmware,
    io::{poll::read_poll_timeout, Io},
    num::casts::FromSafeCast,
    pci,
    prelude::*,
    str::CString,
    sync::Arc,
    time::Delta,
};

use crate::{
    driver::{Bar0, Bar0Owner},
    falcon::{gsp::Gsp, sec2::Sec2, Falcon, FalconImage},
    fb::{self, FbLayout, SysmemFlush},
    firmware::{
        self, gen_bootloader::GenBootloader, gsp::GspImage, hs::HsLayout, riscv::Bootloader, FwFile,
    },
    gpu::{Chipset, Spec},
    gsp::{
        self,
        boot::{GspFwImage, GspMemory},
        commands::{
            GetGspStaticInfo, InitDone, IntrKernelTable, RmControl, SetRegistry, SetSystemInfo,
            UnloadingGuestDriver, UnloadingGuestDriverNoWait,
        },
        fw::{Abi, InternalHandles, StaticInfo, UnloadParams},
        hal::{BootPath, GspHal},
        logs,
        rm::{RmChannel, RmObjects, RM_TIMEOUT},
        rpc::{self, Incoming, Rpc},
    },
    interface::{DeviceFacts, GspInfo},
    intr::{MsgSignal, Vector},
    num,
    vbios::{FwsecCommand, FwsecImage, Vbios},
};

pub(crate) use booter::BooterParts;
use booter::{Booter, BooterError};
use fwsec::{FwsecLoad, FwsecThroughBootloader};
use regs::ScrubberHandoff;

/// How long the GSP's RISC-V core may take to become active after booter started it
/// (upstream nova-core `gsp/boot.rs`).
const RISCV_ACTIVE_TIMEOUT: Delta = Delta::from_secs(5);

/// How long GSP-RM may take to initialise.
// TIMEOUT: GSP-RM on real hardware initialises in well under a second after the sequencer.
const INIT_TIMEOUT: Delta = Delta::from_secs(5);

/// How long GSP-RM may take to suspend after `UNLOADING_GUEST_DRIVER`.
const SUSPEND_TIMEOUT: Delta = Delta::from_secs(2);

/// `LIBOS_INTERRUPT_PROCESSOR_SUSPENDED`: the GSP falcon's MAILBOX0 bit GSP-RM sets once it has
/// suspended (open-gpu-kernel-modules `libos_interface.h`; upstream nova-core `gsp/boot.rs`).
const MAILBOX0_SUSPENDED: u32 = 1 << 31;

/// The largest user virtual address GSP-RM is told a client may use (upstream nova-core
/// `gsp/fw/commands.rs`: 128 TiB less a page).
const MAX_USER_VA: u64 = (1 << 47) - 4096;

/// The registry GSP-RM is given (upstream nova-core `gsp/commands.rs`): allow a secondary bus
/// reset, keep the PCI configuration over resets, and boot whatever the PCI device id is.
const REGISTRY: [(&str, u32); 3] = [
    ("RMSecBusResetEnable", 1),
    ("RMForcePcieConfigSave", 1),
    ("RMDevidCheckIgnore", 1),
];

/// The engines a boot step uses.
struct Hw<'a> {
    dev: &'a device::Device<device::Bound>,
    chipset: Chipset,
    bar: Bar0<'a>,
    gsp: Falcon<'a, Gsp>,
    sec2: Falcon<'a, Sec2>,
}

impl<'a> Hw<'a> {
    /// Returns the engines; with `reset`, both falcons are reset first (before boot, when
    /// nothing runs on them yet).
    fn new(
        dev: &'a device::Device<device::Bound>,
        bar: Bar0<'a>,
        chipset: Chipset,
        reset: bool,
    ) -> Result<Self> {
        let (gsp, sec2) = if reset {
            (
                Falcon::new_reset(dev, bar, chipset)?,
                Falcon::new_reset(dev, bar, chipset)?,
            )
        } else {
            (
                Falcon::new(dev, bar, chipset)?,
                Falcon::new(dev, bar, chipset)?,
            )
        };
        Ok(Self {
            dev,
            chipset,
            bar,
            gsp,
            sec2,
        })
    }

    /// Resets `falcon`, loads `image` and runs it with the given mailboxes; fails unless it
    /// halts with MAILBOX0 = 0.
    fn run<I: FalconImage>(
        &self,
        falcon: &Falcon<'a, I::Engine>,
        image: &I,
        what: &str,
        mbox0: u32,
        mbox1: Option<u32>,
    ) -> Result {
        falcon.reset()?;
        falcon.load(image)?;
        let (status, _) = falcon.boot(Some(mbox0), mbox1)?;
        self.check_status(what, status)
    }

    /// Fails, after one log line, unless the ucode `what` reported success in MAILBOX0.
    fn check_status(&self, what: &str, status: u32) -> Result {
        if status != 0 {
            dev_err!(
                self.dev,
                "[ucode-failed] {} failed with status {:#x}\n",
                what,
                status
            );
            return Err(EIO);
        }
        Ok(())
    }

    fn wpr2(&self) -> Result<Option<core::ops::Range<u64>>> {
        fb::read_wpr2(self.bar).map_err(|e| {
            dev_err!(self.dev, "{}\n", e);
            EIO
        })
    }
}

/// Returns where the FB scrubber handoff stands (Ada; other chips do not have the register).
fn scrubber_handoff(bar: Bar0<'_>) -> ScrubberHandoff {
    bar.read(regs::NV_PGC6_BSI_VPR_SECURE_SCRATCH_15)
        .scrubber_handoff()
}

/// Splits a bus address into the values of two 32-bit mailboxes.
fn split(addr: u64) -> (u32, u32) {
    (num::lower_32(addr), num::upper_32(addr))
}

/// A FWSEC command ready to run on the GSP falcon, the way the chip loads it.
enum Fwsec {
    /// Loaded by DMA, its signature checked by the boot ROM (GA102 and later).
    Direct(FwsecLoad),
    /// Loaded by the generic bootloader (Turing, GA100).
    ThroughBootloader(FwsecThroughBootloader),
}

impl Fwsec {
    /// Prepares `image`, through `bl` where the chip needs the generic bootloader.
    fn new(
        dev: &device::Device<device::Bound>,
        image: FwsecImage,
        bl: Option<&GenBootloader<'_>>,
    ) -> Result<Self> {
        let load = FwsecLoad::new(image)?;
        Ok(match bl {
            None => Self::Direct(load),
            Some(bl) => Self::ThroughBootloader(FwsecThroughBootloader::new(dev, &load, bl)?),
        })
    }

    /// Runs FWSEC on the GSP falcon; fails unless it halts with MAILBOX0 = 0.
    fn run(&self, hw: &Hw<'_>, what: &str) -> Result {
        match self {
            Self::Direct(load) => hw.run(&hw.gsp, load, what, 0, None),
            Self::ThroughBootloader(bl) => {
                let status = bl.run(&hw.gsp, 0)?;
                hw.check_status(what, status)
            }
        }
    }
}

/// What stops GSP-RM and lowers WPR2, prepared before anything is started.
struct Teardown {
    fwsec_sb: Fwsec,
    booter_unload: Booter,
}

/// GSP-RM's memory, the channel to it, the driver's RM objects in it, and the images that stop
/// it.
struct GspRm<'b> {
    /// The RPC benchmark's loan of the channel and the subdevice, while the objects live. It
    /// is the first field, so that it is dropped (and the loan taken back) before the objects
    /// and the channel.
    #[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
    bench: Option<gsp::bench::Lease>,
    /// The PCI device name, naming the GPU's log directory in debugfs.
    name: CString,
    abi: Abi,
    mem: GspMemory,
    /// The RPC channel.
    channel: Arc<RmChannel<'b>>,
    /// The client, device and subdevice, once GSP-RM runs.
    objects: Option<RmObjects<'b>>,
    /// The GSP's interrupt vector, as GSP-RM reported it.
    vector: Option<Vector>,
    /// The GPU's name in GSP-RM's static information.
    static_name: [u8; 64],
    /// GSP-RM's own client, device and subdevice.
    internal: InternalHandles,
    _fw: GspFwImage,
    wpr_meta: Coherent<[u8]>,
    teardown: Teardown,
    /// Whether booter_load started GSP-RM (so that it must be asked to unload).
    started: bool,
}

impl<'b> GspRm<'b> {
    /// Steps 2 and 3: FWSEC-FRTS, then booter_load.
    fn start(
        &mut self,
        hw: &Hw<'_>,
        top: &FbLayout,
        frts: Option<&Fwsec>,
        scrubber: Option<&Booter>,
        booter_load: &Booter,
        app_version: u32,
    ) -> Result {
        if let Some(frts) = frts {
            Self::run_frts(hw, top, frts)?;
        }
        self.start_booter(hw, scrubber, booter_load, app_version)
    }

    /// Step 2: FWSEC-FRTS, and the check that it raised WPR2 over FRTS.
    fn run_frts(hw: &Hw<'_>, top: &FbLayout, frts: &Fwsec) -> Result {
        let dev = hw.dev;
        frts.run(hw, "FWSEC-FRTS")?;
        let code = hw
            .bar
            .read(regs::NV_PBUS_SW_SCRATCH_0E)
            .frts_err_code()
            .get();
        if code != 0 {
            dev_err!(
                dev,
                "[fwsec-frts-error] FWSEC-FRTS failed with error code {:#x}\n",
                code
            );
            return Err(EIO);
        }
        // As Open RM checks it (`kgspExecuteFwsec_TU102()`, open-gpu-kernel-modules
        // `kernel_gsp_frts_tu102.c`): WPR2 is up (HI non-zero) and starts where FRTS does. The
        // end is not compared: nothing of NVIDIA's says where FWSEC puts it.
        match hw.wpr2()? {
            Some(wpr2) if wpr2.start == top.frts.start => {}
            Some(wpr2) => {
                dev_err!(
                    dev,
                    "FWSEC-FRTS raised WPR2 at {:#x}..{:#x}, not at FRTS at {:#x}..{:#x}\n",
                    wpr2.start,
                    wpr2.end,
                    top.frts.start,
                    top.frts.end
                );
                return Err(EIO);
            }
            None => {
                dev_err!(dev, "FWSEC-FRTS did not raise WPR2\n");
                return Err(EIO);
            }
        }
        Ok(())
    }

    /// Step 3: booter_load, and the wait for the GSP's RISC-V core.
    fn start_booter(
        &mut self,
        hw: &Hw<'_>,
        scrubber: Option<&Booter>,
        booter_load: &Booter,
        app_version: u32,
    ) -> Result {
        let dev = hw.dev;
        // The GSP falcon waits, reset, with the LibOS arguments in its mailboxes.
        hw.gsp.reset()?;
        let (lo, hi) = split(self.mem.libos.dma_address());
        hw.gsp.write_mailboxes(Some(lo), Some(hi));

        // An FB the VBIOS did not scrub is scrubbed now, before GSP-RM uses it, as Open RM's
        // `kgspBootstrap_TU102` does (`kgspExecuteScrubberIfNeeded_AD102`).
        if let Some(scrubber) = scrubber {
            hw.run(&hw.sec2, scrubber, "scrubber", 0, None)?;
            if scrubber_handoff(hw.bar) != ScrubberHandoff::Done {
                dev_err!(
                    dev,
                    "[ucode-failed] scrubber ran but the FB scrubber handoff is not done\n"
                );
                return Err(EIO);
            }
        }

        let (lo, hi) = split(self.wpr_meta.dma_address());
        hw.run(&hw.sec2, booter_load, "booter_load", lo, Some(hi))?;
        self.started = true;

        hw.gsp.write_os_version(app_version);
        read_poll_timeout(
            || Ok(hw.gsp.is_riscv_active()),
            |active| *active,
            Delta::from_millis(1),
            RISCV_ACTIVE_TIMEOUT,
        )
        .inspect_err(|_| dev_err!(dev, "the GSP's RISC-V core did not start\n"))?;
        Ok(())
    }

    /// Step 4: the conversation up to GSP_INIT_DONE and the static information, then the
    /// driver's RM objects.
    fn init(
        &mut self,
        hw: &Hw<'_>,
        pdev: &pci::Device<device::Bound>,
        app_version: u32,
    ) -> Result<KBox<StaticInfo>> {
        let dev = hw.dev;
        let info = gsp::system_info(pdev, hw.chipset, MAX_USER_VA)?;
        let mut seq = sequencer::Sequencer {
            dev,
            bar: hw.bar,
            gsp: &hw.gsp,
            sec2: &hw.sec2,
            libos_addr: self.mem.libos.dma_address(),
            app_version,
            saved: [0; 8],
        };
        let abi = self.abi;
        let events_log = self.channel.events();
        let static_info = self.channel.with(|rpc, ring| -> Result<KBox<StaticInfo>> {
            // Until GSP_INIT_DONE, GSP-RM asks for the CPU sequence; nothing else may come.
            let mut boot_events = |m: Incoming| match m {
                Incoming::Sequencer(payload) => rpc::run_sequencer(abi, &payload, &mut seq)
                    .map(|_| ())
                    .inspect_err(|e| {
                        dev_err!(
                            dev,
                            "GSP-RM's CPU sequence failed (error {})\n",
                            e.to_errno()
                        );
                    }),
                Incoming::Event(event) => {
                    events_log.handle(dev, &event);
                    Ok(())
                }
                Incoming::StaleReply { function, seq } => {
                    rpc::log_stale_reply(dev, function, seq);
                    Ok(())
                }
                Incoming::InitDone => {
                    dev_err!(dev, "GSP-RM reported GSP_INIT_DONE twice\n");
                    Err(EPROTO)
                }
            };
            rpc.call(
                dev,
                &SetSystemInfo(&info),
                ring,
                RM_TIMEOUT,
                &mut boot_events,
            )?;
            rpc.call(
                dev,
                &SetRegistry(&REGISTRY),
                ring,
                RM_TIMEOUT,
                &mut boot_events,
            )?;
            rpc.wait_event::<InitDone>(INIT_TIMEOUT, &mut boot_events)
                .inspect_err(|why| {
                    dev_err!(
                        dev,
                        "[gsp-init-failed] [{}] GSP-RM did not finish initialising: {}\n",
                        why.tag(),
                        why
                    );
                })?;
            let mut events = |m: Incoming| match m {
                Incoming::Event(event) => {
                    events_log.handle(dev, &event);
                    Ok(())
                }
                Incoming::StaleReply { function, seq } => {
                    rpc::log_stale_reply(dev, function, seq);
                    Ok(())
                }
                Incoming::InitDone | Incoming::Sequencer(_) => {
                    dev_err!(
                        dev,
                        "unexpected boot message from GSP-RM after GSP_INIT_DONE\n"
                    );
                    Err(EPROTO)
                }
            };
            let info = rpc.call(dev, &GetGspStaticInfo, ring, RM_TIMEOUT, &mut events)?;
            rpc::log_static_info(dev, &info);
            Ok(KBox::new(info, GFP_KERNEL)?)
        })?;

        self.static_name = static_info.name;
        self.internal = static_info.internal;
        self.vector = self.gsp_vector(dev, &static_info);
        Ok(static_info)
    }

    /// Step 5: the driver's own objects, in nouveau's order (client, device, subdevice);
    /// dropping them frees them again. Done once the GSP's interrupt is set up, so that
    /// these calls run on it. Returns what GSP-RM reports of the device's engines, classes
    /// and graphics units.
    fn attach(&mut self, dev: &device::Device) -> Result<Arc<DeviceFacts>> {
        let objects = RmObjects::new(&self.channel)?;
        let name = objects.subdevice.name_string()?;
        if name != self.static_name {
            dev_warn!(
                dev,
                "GSP-RM names the GPU {} in its static information but {} by control\n",
                rpc::c_text(&self.static_name),
                rpc::c_text(&name)
            );
        }
        let (client, device, subdevice) = objects.handles();
        let internal = self.internal;
        dev_info!(
            dev,
            "RM client {:#x} device {:#x} subdevice {:#x}; GSP-RM's own {:#x}/{:#x}/{:#x}\n",
            client,
            device,
            subdevice,
            internal.client,
            internal.device,
            internal.subdevice
        );
        let facts = gsp::query::device_facts(dev, &objects)?;
        dev_info!(
            dev,
            "GSP-RM lists {} engines and {} classes; {} GPCs, {} TPCs\n",
            facts.engines().len(),
            facts.classes().len(),
            facts.gpc_count(),
            facts.tpc_count()
        );
        self.objects = Some(objects);
        #[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
        {
            // SAFETY: `self.channel` outlives the lease, and the subdevice lives while the
            // lease does: the lease is dropped before either, as the first field of `self`,
            // and `stop` and `detach` drop it before they free the objects.
            let lease =
                unsafe { gsp::bench::Lease::new(&self.name, &self.channel, client, subdevice) };
            self.bench = lease.ok();
        }
        Ok(facts)
    }

    /// Asks GSP-RM for the GSP's interrupt vector. Without one (GSP-RM refused, or reported
    /// none or one outside the tree) the message queue is polled, after one log line.
    fn gsp_vector(&self, dev: &device::Device, info: &StaticInfo) -> Option<Vector> {
        let raw = self
            .channel
            .call(&RmControl {
                client: info.internal.client,
                object: info.internal.subdevice,
                params: &IntrKernelTable,
            })
            .ok()?
            .0;
        match raw.map(|v| (v, Vector::new(v))) {
            Some((_, Some(vector))) => {
                dev_dbg!(dev, "GSP interrupt vector {}\n", vector.raw());
                Some(vector)
            }
            Some((v, None)) => {
                dev_warn!(
                    dev,
                    "GSP-RM reports GSP interrupt vector {}, outside the interrupt tree; polling\n",
                    v
                );
                None
            }
            None => {
                dev_warn!(
                    dev,
                    "GSP-RM reports no interrupt vector for the GSP; polling its message queue\n"
                );
                None
            }
        }
    }

    /// Stops GSP-RM (if it was started) and lowers WPR2. Returns `Ok` only if the GPU no longer
    /// runs anything that may touch the memory of `self`, and WPR2 is down. `quiet` leaves out
    /// the warning about a GSP-RM that does not suspend, for a boot that already failed.
    fn stop(&mut self, hw: &Hw<'_>, quiet: bool) -> Result {
        let dev = hw.dev;
        // The driver's objects go first, while GSP-RM still answers: subdevice, device,
        // client; the benchmark's loan of them before.
        #[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
        {
            self.bench = None;
        }
        self.objects = None;
        self.vector = None;
        if self.started {
            // GSP-RM sets the suspended bit once it has processed the request; its reply is not
            // needed, as the falcon is reset next.
            let params = UnloadParams {
                in_pm_transition: false,
                gc6_entering: false,
                new_level: 0,
            };
            // A GSP-RM that runs normally answers, and a refusal is logged with its status;
            // after a failed boot only the suspended bit is looked for.
            let sent = self.channel.with(|rpc, ring| {
                let mut events = |m: Incoming| {
                    if let Incoming::StaleReply { function, seq } = m {
                        rpc::log_stale_reply(dev, function, seq);
                    }
                    Ok(())
                };
                if quiet {
                    rpc.call(
                        dev,
                        &UnloadingGuestDriverNoWait(params),
                        ring,
                        RM_TIMEOUT,
                        &mut events,
                    )
                    .map(|_| ())
                } else {
                    rpc.call(
                        dev,
                        &UnloadingGuestDriver(params),
                        ring,
                        RM_TIMEOUT,
                        &mut events,
                    )
                    .map(|_| ())
                }
                .map_err(Error::from)
            });
            let suspended = sent.and_then(|()| {
                read_poll_timeout(
                    || Ok(hw.gsp.read_mailboxes().0),
                    |mbox0| mbox0 & MAILBOX0_SUSPENDED != 0,
                    Delta::from_micros(100),
                    SUSPEND_TIMEOUT,
                )
            });
            if suspended.is_err() && !quiet {
                dev_warn!(dev, "GSP-RM did not suspend; stopping it by a reset\n");
            }
        } else if hw.wpr2()?.is_none() {
            // Neither GSP-RM nor WPR2 is up: nothing to undo.
            return Ok(());
        }

        // FWSEC-SB resets the GSP falcon (which stops GSP-RM) and leaves it in its pre-LibOS
        // state; booter_unload then lowers WPR2.
        let sb = self.teardown.fwsec_sb.run(hw, "FWSEC-SB");
        self.started = false;
        if hw.wpr2()?.is_some() {
            // Booter reports success by clearing MAILBOX0 (upstream nova-core
            // `gsp/hal/tu102.rs` starts it with 0xff in both mailboxes).
            hw.run(
                &hw.sec2,
                &self.teardown.booter_unload,
                "booter_unload",
                0xff,
                Some(0xff),
            )?;
            if let Some(wpr2) = hw.wpr2()? {
                dev_err!(
                    dev,
                    "WPR2 is still up ({:#x}..{:#x}) after booter_unload\n",
                    wpr2.start,
                    wpr2.end
                );
                return Err(EBUSY);
            }
        }
        sb
    }

    /// Frees the memory if `stopped`, else leaks it: the GPU may still read or write it. Either
    /// way the log buffers leave debugfs first.
    fn release(self, stopped: bool) {
        logs::hide(&self.name);
        if !stopped {
            core::mem::forget(self);
        }
    }
}

impl GspRm<'_> {
    /// As [`GspRm::release`], after a failed boot: if `stopped`, copies of the log buffers stay
    /// in debugfs for after the failed probe.
    fn release_keeping_logs(self, dev: &device::Device, stopped: bool) {
        let kept = stopped.then(|| self.mem.logs.clone());
        self.release(stopped);
        if let Some(buffers) = kept {
            // GSP-RM can no longer write them: the GSP falcon was reset.
            logs::keep(dev, &buffers);
        }
    }
}

/// The GSP state of a bound GPU: the sysmem flush page and GSP-RM, while they are in use.
pub(crate) struct GpuState<'b> {
    chipset: Chipset,
    flush: Option<SysmemFlush>,
    rm: Option<GspRm<'b>>,
}

impl<'b> GpuState<'b> {
    /// Returns the firmware files [`GpuState::boot`] loads and checks itself on `chipset`, which
    /// the probe-time check of the files can leave out rather than load them twice.
    /// The list is the GSP HAL's ([`GspHal::loads`]).
    pub(crate) fn loads(chipset: Chipset) -> &'static [FwFile] {
        GspHal::of(chipset).loads()
    }

    /// Boots GSP-RM on the GPU, where nova does that, and returns the state to stop it with and
    /// what GSP-RM reported. On other chips logs why not and returns an idle state.
    ///
    /// On failure the GPU is left as it was found, WPR2 down, after one line naming the step
    /// that failed; if even that cannot be done, the memory the GPU may use is leaked.
    pub(crate) fn boot(
        pdev: &'b pci::Device<device::Bound>,
        bar_owner: &Bar0Owner<'b>,
        spec: &Spec,
        vbios: &Vbios,
        signal: &Arc<MsgSignal>,
    ) -> Result<(Self, Option<GspInfo>)> {
        let dev: &device::Device<device::Bound> = pdev.as_ref();
        let bar: Bar0<'_> = bar_owner;
        let chipset = spec.chipset();
        let idle = Self {
            chipset,
            flush: None,
            rm: None,
        };
        if !GspHal::of(chipset).boots {
            dev_info!(dev, "GSP boot on {} not supported yet\n", chipset);
            return Ok((idle, None));
        }
        let Some(top) = FbLayout::probe(dev, bar, chipset)? else {
            return Ok((idle, None));
        };
        dev_dbg!(dev, "{}\n", top);

        // The logs a previous probe of this GPU kept are replaced by this boot's.
        logs::hide(dev.name());
        let flush = SysmemFlush::register(dev, bar, chipset)?;
        match Self::boot_rm(pdev, bar_owner, chipset, vbios, &top, signal) {
            Ok((rm, info)) => {
                let gsp = GspInfo::new(info.name(), info.vram_size, info.fb_regions());
                dev_info!(
                    dev,
                    "[gsp-running] GSP-RM {} running: {}, VRAM {} MiB\n",
                    rm.abi.version(),
                    gsp.gpu_name(),
                    gsp.vram_size() >> 20
                );
                logs::show_live(dev, &rm.mem.logs);
                Ok((
                    Self {
                        chipset,
                        flush: Some(flush),
                        rm: Some(rm),
                    },
                    Some(gsp),
                ))
            }
            Err((e, stopped)) => {
                if stopped {
                    flush.unregister(bar);
                }
                Err(e)
            }
        }
    }

    /// Prepares everything, then starts GSP-RM. On failure returns the error and whether the
    /// GPU was left quiet (nothing running that may use the driver's memory).
    fn boot_rm(
        pdev: &'b pci::Device<device::Bound>,
        bar_owner: &Bar0Owner<'b>,
        chipset: Chipset,
        vbios: &Vbios,
        top: &FbLayout,
        signal: &Arc<MsgSignal>,
    ) -> Result<(GspRm<'b>, KBox<StaticInfo>), (Error, bool)> {
        let dev: &'b device::Device<device::Bound> = pdev.as_ref();
        let bar: Bar0<'_> = bar_owner;
        // Nothing touches the hardware until `rm.start`: a failure before is quiet.
        let quiet = |e: Error| (e, true);

        // Every file is loaded and checked before the GPU is touched at all.
        let gsp_file = firmware::request_checked(dev, chipset, FwFile::Gsp).map_err(quiet)?;
        let image = GspImage::parse(gsp_file.data(), chipset).map_err(|_| (EINVAL, true))?;
        let abi = gsp::abi_of(dev, &image).map_err(quiet)?;
        let bl_file = firmware::request_checked(dev, chipset, FwFile::Bootloader).map_err(quiet)?;
        let bootloader = Bootloader::parse(bl_file.data()).map_err(|_| (EINVAL, true))?;
        let app_version = bootloader.desc.app_version;
        let unload_file =
            firmware::request_checked(dev, chipset, FwFile::BooterUnload).map_err(quiet)?;
        let load_file =
            firmware::request_checked(dev, chipset, FwFile::BooterLoad).map_err(quiet)?;
        let hal = GspHal::of(chipset);
        let gen_bl_file = match hal.boot_path {
            BootPath::GenBootloader => Some(
                firmware::request_checked(dev, chipset, FwFile::GenBootloader).map_err(quiet)?,
            ),
            BootPath::FwsecBooter | BootPath::Fsp => None,
        };
        // The scrubber is needed only where the VBIOS did not scrub the FB (reading the handoff
        // changes nothing).
        let scrubber_file = if hal.has_scrubber() && scrubber_handoff(bar) != ScrubberHandoff::Done
        {
            dev_info!(
                dev,
                "[fb-unscrubbed] the FB is not scrubbed yet; running the scrubber ucode\n"
            );
            Some(firmware::request_checked(dev, chipset, FwFile::Scrubber).map_err(quiet)?)
        } else {
            None
        };
        // `request_checked` checked the file; parsing again cannot fail.
        let gen_bl = gen_bl_file
            .as_ref()
            .map(|f| GenBootloader::parse(f.data()))
            .transpose()
            .map_err(|_| (EINVAL, true))?;

        let hw = Hw::new(dev, bar, chipset, true).map_err(quiet)?;

        let name = CString::try_from(dev.name()).map_err(|e| quiet(e.into()))?;
        let prepared = (|| -> Result<(GspRm<'b>, Option<Fwsec>, Option<Booter>, Booter)> {
            let fuse = |mask, id| hw.sec2.signature_fuse_version(mask, id);
            let booter = |file: FwFile, fw: &Firmware| -> Result<Booter> {
                // `request_checked` checked the layout; parsing again cannot fail.
                let layout = HsLayout::parse(fw.data()).map_err(|_| EINVAL)?;
                Booter::new(fw.data(), layout, hal.booter_parts(), fuse).map_err(|e| match e {
                    BooterError::NoSignature {
                        fused,
                        newest,
                        count,
                    } => {
                        dev_err!(
                            dev,
                            "[fw-unsigned] firmware file nvidia/{}/gsp/{}-{}.bin has no signature \
                             for this board's fuse version {} (its {} are for fuse versions {} \
                             and below)\n",
                            chipset.name(),
                            file.name(),
                            firmware::VERSION,
                            fused,
                            count,
                            newest
                        );
                        EINVAL
                    }
                    BooterError::Kernel(e) => e,
                })
            };
            // What stops GSP-RM again is checked and prepared first: if it cannot be, GSP-RM is
            // not started.
            let teardown = Teardown {
                fwsec_sb: Fwsec::new(dev, vbios.fwsec_image(FwsecCommand::Sb)?, gen_bl.as_ref())?,
                booter_unload: booter(FwFile::BooterUnload, &unload_file)?,
            };
            let booter_load = booter(FwFile::BooterLoad, &load_file)?;
            let scrubber = scrubber_file
                .as_ref()
                .map(|f| booter(FwFile::Scrubber, f))
                .transpose()?;

            let fw = GspFwImage::new(dev, &image, &bootloader)?;
            let (mem, queues) = GspMemory::new(dev, abi)?;
            let rpc = Rpc::new(queues, abi).with_signal(signal.clone());
            let channel = RmChannel::new(dev, bar_owner.clone(), rpc)?;
            let mut params = fw.wpr_meta_params();
            let meta_size = u64::from_safe_cast(abi.wpr_meta(&params)?.len());
            params.fb = layout::gsp_layout(
                chipset,
                top,
                params.bootloader_size,
                params.image_size,
                meta_size,
            )
            .inspect_err(|_| dev_err!(dev, "GSP-RM does not fit in VRAM below FRTS\n"))?;
            let wpr_meta = Coherent::from_slice(dev, &abi.wpr_meta(&params)?, GFP_KERNEL)?;

            // FWSEC-FRTS runs where the chip has FRTS; GA100 has none (Open RM's
            // `kgspGetFrtsSize_GA100()` is 0, and booter raises WPR2 itself).
            let frts = if top.frts.is_empty() {
                None
            } else {
                let image = vbios.fwsec_image(FwsecCommand::Frts {
                    addr: top.frts.start,
                    size: top.frts.end.checked_sub(top.frts.start).ok_or(EINVAL)?,
                })?;
                Some(Fwsec::new(dev, image, gen_bl.as_ref())?)
            };
            Ok((
                GspRm {
                    name,
                    abi,
                    mem,
                    #[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
                    bench: None,
                    channel,
                    objects: None,
                    vector: None,
                    static_name: [0; 64],
                    internal: InternalHandles::default(),
                    _fw: fw,
                    wpr_meta,
                    teardown,
                    started: false,
                },
                frts,
                scrubber,
                booter_load,
            ))
        })();
        let (mut rm, frts, scrubber, booter_load) = prepared.map_err(quiet)?;

        let booted = rm
            .start(
                &hw,
                top,
                frts.as_ref(),
                scrubber.as_ref(),
                &booter_load,
                app_version,
            )
            .and_then(|()| rm.init(&hw, pdev, app_version));
        match booted {
            Ok(info) => Ok((rm, info)),
            Err(e) => {
                let stopped = rm.stop(&hw, true).is_ok();
                if !stopped {
                    dev_err!(
                        dev,
                        "[gsp-stop-failed] [needs-reset] the GSP could not be stopped; the GPU \
                         needs a reset (echo 1 > /sys/bus/pci/devices/{}/reset)\n",
                        dev.name()
                    );
                }
                rm.release_keeping_logs(dev, stopped);
                Err((e, stopped))
            }
        }
    }

    /// Allocates the driver's RM objects in GSP-RM, if it runs. On failure the caller shuts
    /// the GPU down.
    /// Returns what GSP-RM reports of the device, for [`GspInfo::with_facts`].
    pub(crate) fn attach(&mut self, dev: &device::Device) -> Result<Option<Arc<DeviceFacts>>> {
        self.rm.as_mut().map(|rm| rm.attach(dev)).transpose()
    }

    /// Frees the driver's RM objects, if there are any, while GSP-RM still runs (stopping
    /// it frees them anyway).
    pub(crate) fn detach(&mut self) {
        if let Some(rm) = self.rm.as_mut() {
            #[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
            {
                rm.bench = None;
            }
            rm.objects = None;
        }
    }

    /// Returns the channel to GSP-RM, if it runs.
    pub(crate) fn channel(&self) -> Option<Arc<RmChannel<'b>>> {
        self.rm.as_ref().map(|rm| rm.channel.clone())
    }

    /// Returns the GSP's interrupt vector, if GSP-RM runs and reported one.
    pub(crate) fn gsp_vector(&self) -> Option<Vector> {
        self.rm.as_ref().and_then(|rm| rm.vector)
    }

    /// Stops GSP-RM, lowers WPR2 and unregisters the sysmem flush page, so that the GPU can be
    /// bound again without a reset. If GSP-RM cannot be stopped, its memory and the flush page
    /// are leaked rather than freed under the GPU's feet.
    pub(crate) fn shutdown(&mut self, dev: &device::Device<device::Bound>, bar: Bar0<'_>) {
        let mut stopped = true;
        if let Some(mut rm) = self.rm.take() {
            stopped = Hw::new(dev, bar, self.chipset, false)
                .and_then(|hw| rm.stop(&hw, false))
                .inspect_err(|e| {
                    dev_err!(
                        dev,
                        "[gsp-shutdown-failed] [needs-reset] stopping GSP-RM failed (error {}); \
                         the GPU needs a reset (echo 1 > /sys/bus/pci/devices/{}/reset)\n",
                        e.to_errno(),
                        dev.name()
                    )
                })
                .is_ok();
            rm.release(stopped);
        }
        if let Some(flush) = self.flush.take() {
            if stopped {
                flush.unregister(bar);
            }
        }
    }
}

impl Drop for GpuState<'_> {
    fn drop(&mut self) {
        // Still running (`shutdown` was not called): the GPU may use this memory, so it is
        // leaked rather than freed. `SysmemFlush` does the same for its page.
        if let Some(rm) = self.rm.take() {
            rm.release(false);
        }
    }
}
