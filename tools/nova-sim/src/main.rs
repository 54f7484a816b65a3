// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! nova-sim command-line entry point. See `nova-sim --help`.

use std::fs::File;
use std::io::{self, LineWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use log::info;

use nova_sim::bar0::{Identity, Tracer};
use nova_sim::cli::{self, Action, Options, TraceTarget};
use nova_sim::device::{EngineSetup, GpuDevice};
use nova_sim::firmware::FirmwareFiles;
use nova_sim::gsp::GspRm;
use nova_sim::gsp_core::GspCore;
use nova_sim::idle_gsp::IdleGspCore;
use nova_sim::stats::Counters;
use nova_sim::vbios::{Vbios, VbiosError};
use nova_sim::vfio::{self, VfioDevice, VfioUserServer};
use nova_sim::{logger, signals};

/// Exit status: clean exit.
const EXIT_OK: i32 = 0;
/// Exit status: runtime failure.
const EXIT_FAILURE: i32 = 1;
/// Exit status: bad command line.
const EXIT_USAGE: i32 = 2;
/// Exit status: `--strict` and violations were counted.
const EXIT_VIOLATIONS: i32 = 3;

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let default_log = std::env::var("NOVA_SIM_LOG").ok();
    let action = match cli::parse(std::env::args_os().skip(1), default_log.as_deref()) {
        Ok(action) => action,
        Err(err) => {
            eprintln!("nova-sim: error: {err}");
            eprintln!("Try 'nova-sim --help' for more information.");
            return EXIT_USAGE;
        }
    };
    match action {
        Action::Help => emit(cli::USAGE),
        Action::Version => emit(&format!("nova-sim {}\n", env!("CARGO_PKG_VERSION"))),
        Action::ListChips => emit(&cli::list_chips()),
        Action::Describe(options) => emit(&cli::describe(&options)),
        Action::DumpVbios(options) => match vbios_for(&options) {
            Ok(_) => EXIT_OK,
            Err(code) => code,
        },
        Action::Serve(options) => serve(options),
    }
}

/// Prints `text` to stdout; a closed stdout is a failure, not a panic.
fn emit(text: &str) -> i32 {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => EXIT_OK,
        Err(err) => {
            eprintln!("nova-sim: error: cannot write to stdout: {err}");
            EXIT_FAILURE
        }
    }
}

/// Builds the VBIOS `options` ask for and writes it to `--vbios-dump`'s file if given.
/// On failure, prints the error and returns the exit status.
fn vbios_for(options: &Options) -> Result<Vbios, i32> {
    let vbios = match Vbios::build(options.chip, options.vbios_corrupt) {
        Ok(vbios) => vbios,
        Err(err @ VbiosError::NoFwsec { .. }) => {
            eprintln!("nova-sim: error: {err}");
            return Err(EXIT_USAGE);
        }
        Err(err) => {
            eprintln!("nova-sim: error: {err}");
            return Err(EXIT_FAILURE);
        }
    };
    if let Some(path) = &options.vbios_dump {
        if let Err(err) = std::fs::write(path, vbios.bytes()) {
            eprintln!(
                "nova-sim: error: cannot write the VBIOS to {}: {err}",
                path.display()
            );
            return Err(EXIT_FAILURE);
        }
    }
    Ok(vbios)
}

/// What the process needs to wind down, from whichever thread ends it.
struct Shutdown {
    lock: Mutex<()>,
    counters: Arc<Counters>,
    stats: Option<PathBuf>,
    socket: PathBuf,
    strict: bool,
    chip: &'static str,
    identity: Identity,
    /// Counts what the driver left undone at the end (unacknowledged interrupts).
    audit: Box<dyn Fn() + Send + Sync>,
}

impl Shutdown {
    /// Writes the statistics, removes the socket and exits. The first caller wins; a second
    /// one blocks until the process is gone.
    fn finish(&self, reason: &str, failed: bool) -> ! {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        (self.audit)();
        let violations = self.counters.violations();
        let mut code = if failed {
            EXIT_FAILURE
        } else if self.strict && violations > 0 {
            eprintln!("nova-sim: error: {violations} violation(s) counted (--strict)");
            EXIT_VIOLATIONS
        } else {
            EXIT_OK
        };
        if let Some(path) = &self.stats {
            if let Err(err) = self.write_stats(path, reason, code) {
                eprintln!(
                    "nova-sim: error: cannot write statistics to {}: {err}",
                    path.display()
                );
                if code == EXIT_OK {
                    code = EXIT_FAILURE;
                }
            }
        }
        if let Err(err) = vfio::remove_stale_socket(&self.socket) {
            info!("{err}");
        }
        info!("exiting with status {code} ({reason})");
        std::process::exit(code)
    }

    /// Writes the counters to `path` through a temporary file, so readers never see half.
    fn write_stats(&self, path: &Path, reason: &str, code: i32) -> io::Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut file = File::create(&tmp)?;
        let extra = [
            ("chip", self.chip.to_string()),
            ("boot0", format!("{:#010x}", self.identity.boot0)),
            ("boot42", format!("{:#010x}", self.identity.boot42)),
            ("shutdown", reason.to_string()),
            ("exit_status", code.to_string()),
        ];
        self.counters.write_key_values(&mut file, &extra)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    }
}

fn open_tracer(target: &TraceTarget) -> io::Result<Tracer> {
    Ok(match target {
        TraceTarget::Stderr => Tracer::new(Box::new(io::stderr())),
        // Line-buffered so the trace is complete whenever the process ends.
        TraceTarget::File(path) => Tracer::new(Box::new(LineWriter::new(File::create(path)?))),
    })
}

fn serve(options: Options) -> i32 {
    logger::init(options.log_level);
    let Some(socket) = options.socket.clone() else {
        eprintln!("nova-sim: error: --socket PATH is required");
        return EXIT_USAGE;
    };
    // Before any thread exists, so that every thread inherits the mask.
    let blocked = match signals::block_shutdown_signals() {
        Ok(blocked) => blocked,
        Err(err) => {
            eprintln!("nova-sim: error: cannot block SIGTERM/SIGINT: {err}");
            return EXIT_FAILURE;
        }
    };
    let vbios = match vbios_for(&options) {
        Ok(vbios) => vbios,
        Err(code) => return code,
    };
    let tracer = match options.trace.as_ref().map(open_tracer).transpose() {
        Ok(tracer) => tracer,
        Err(err) => {
            eprintln!("nova-sim: error: cannot open the trace file: {err}");
            return EXIT_FAILURE;
        }
    };
    let counters = Arc::new(Counters::default());
    let identity = options.identity();
    let chip = options.chip;
    let bar1_size = options.bar1_size();
    let firmware = match options.firmware.as_deref() {
        Some(dir) => match FirmwareFiles::load(dir, chip) {
            Ok(files) => files,
            Err(err) => {
                eprintln!("nova-sim: error: --firmware: {err}");
                return EXIT_FAILURE;
            }
        },
        None => FirmwareFiles::default(),
    };
    // GSP-RM runs when the firmware files are there to check its image against and the chip
    // has a profile for its static information; otherwise the core boots and stays silent.
    let core: Box<dyn GspCore> = match options.firmware.as_deref() {
        Some(dir) if nova_sim::gsp::profile::find(chip.name).is_some() => {
            match GspRm::from_firmware_dir(dir, chip, options.gsp_faults) {
                Ok(core) => Box::new(core),
                Err(err) => {
                    eprintln!("nova-sim: error: GSP-RM: {err}");
                    return EXIT_FAILURE;
                }
            }
        }
        Some(_) => {
            info!(
                "GSP-RM: no profile for {}; the GSP core boots and stays silent",
                chip.name
            );
            Box::new(IdleGspCore::new())
        }
        None => Box::new(IdleGspCore::new()),
    };
    let setup = EngineSetup {
        core,
        firmware,
        faults: options.faults,
        timing: options.timing,
    };
    let mut device = match GpuDevice::with_setup(
        chip,
        identity,
        bar1_size,
        counters.clone(),
        tracer,
        vbios,
        setup,
    ) {
        Ok(device) => device,
        Err(err) => {
            eprintln!("nova-sim: error: cannot create the device: {err}");
            return EXIT_FAILURE;
        }
    };
    if let Err(err) = device.start_ticker() {
        eprintln!("nova-sim: error: cannot start the ticker thread: {err}");
        return EXIT_FAILURE;
    }
    let server = match VfioUserServer::bind(&socket, &device.layout()) {
        Ok(server) => server,
        Err(err) => {
            eprintln!("nova-sim: error: {err}");
            return EXIT_FAILURE;
        }
    };
    let shutdown = Arc::new(Shutdown {
        lock: Mutex::new(()),
        counters,
        stats: options.stats.clone(),
        socket: socket.clone(),
        strict: options.strict,
        chip: chip.name,
        identity,
        audit: Box::new(device.interrupt_audit()),
    });
    let on_signal = Arc::clone(&shutdown);
    if let Err(err) = signals::spawn_waiter(blocked, move |signal| {
        info!("{} received, shutting down", signals::name(signal));
        on_signal.finish(signals::name(signal), false)
    }) {
        eprintln!("nova-sim: error: cannot start the signal thread: {err}");
        drop(server);
        return EXIT_FAILURE;
    }
    info!(
        "simulating {} ({}, BOOT_0 {:#010x}, BOOT_42 {:#010x}, PCI {:04x}:{:04x}, BAR1 {:#x}, \
         VBIOS {:#x} bytes, corruption {}, timing {})",
        chip.name,
        chip.arch,
        identity.boot0,
        identity.boot42,
        nova_sim::chips::NVIDIA_VENDOR_ID,
        chip.device_id,
        bar1_size,
        device.vbios().bytes().len(),
        options.vbios_corrupt,
        options.timing
    );
    // Printed directly, not logged, so that it appears at every log level.
    eprintln!("nova-sim: listening on {}", socket.display());
    let failed = match server.run(&mut device) {
        Ok(()) => false,
        Err(err) => {
            eprintln!("nova-sim: error: {err}");
            true
        }
    };
    drop(server);
    shutdown.finish(if failed { "error" } else { "disconnect" }, failed)
}
