// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Time: how long the simulated hardware takes to do its work, and the clock it is measured
//! against.
//!
//! No unit finishes work inside the register write that starts it. A unit that is given work
//! (a falcon reset that scrubs its memories, a falcon started on an image, booter starting
//! GSP-RM, GSP-RM answering a command) records a deadline; the work's effects appear when the
//! clock passes it. Deadlines are checked before every BAR0 access (so a driver polling a
//! register sees the change at the first read past the deadline) and by the device's ticker
//! thread (so a driver polling guest memory, as it does for GSP-RM's messages, sees replies
//! without touching BAR0). See [`crate::device`].
//!
//! # Delays
//!
//! `--timing` picks them ([`Timing`]):
//!
//! * `fast`: small but non-zero, the lower bound of each row below;
//! * `realistic`: the upper bound of each row, the order of magnitude the hardware and firmware
//!   take and well inside the timeouts Open RM allows for the same waits;
//! * `random:SEED`: uniformly distributed between the two bounds, drawn from a generator
//!   seeded with `SEED` (SplitMix64), so that a failing run can be repeated exactly.
//!
//! | work ([`Work`])                         | fast    | realistic | Open RM's bound for the wait              |
//! |-----------------------------------------|---------|-----------|-------------------------------------------|
//! | memory scrubbing after a falcon reset   | 10 µs   | 100 µs    | `kflcnWaitForResetToFinish_GA102()`: `GPU_TIMEOUT_DEFAULT` |
//! | one falcon DMA transfer (256 bytes)     | 1 µs    | 10 µs     | `s_dmaTransfer()` (`kernel_falcon.c`): `GPU_TIMEOUT_DEFAULT` |
//! | a falcon program other than the below   | 10 µs   | 1 ms      | `kflcnWaitForHalt_HAL(..., GPU_TIMEOUT_DEFAULT)` |
//! | FWSEC (FRTS, SB)                        | 50 µs   | 10 ms     | same (`kgspExecuteHsFalcon_GA102()`)       |
//! | booter (load, unload)                   | 100 µs  | 50 ms     | same                                      |
//! | GSP-RM initialisation after booter      | 200 µs  | 200 ms    | `kgspWaitForRmInitDone()`: `GPU_TIMEOUT_DEFAULT` scaled |
//! | GSP-RM's handling of a doorbell (every reply) | 20 µs | 1 ms | `message_queue_cpu.c`: 4 s per message      |
//!
//! (open-gpu-kernel-modules `src/nvidia/src/kernel/gpu/falcon/`, `.../gsp/kernel_gsp.c`,
//! `.../gsp/arch/ampere/kernel_gsp_falcon_ga102.c`, `.../gsp/message_queue_cpu.c`.)

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The kinds of work whose duration [`Delays`] decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// IMEM and DMEM scrubbing after a falcon engine reset.
    Scrub,
    /// One falcon DMA transfer (`DMATRFCMD`).
    Dma,
    /// A falcon program the simulator has no better estimate for (an unknown or empty image,
    /// the generic bootloader).
    FalconRun,
    /// FWSEC on the GSP falcon.
    Fwsec,
    /// Booter on SEC2.
    Booter,
    /// GSP-RM starting on the RISC-V core once booter has launched it.
    GspInit,
    /// GSP-RM reading its command queue after a doorbell and answering.
    Rpc,
}

impl Work {
    /// Every kind, in table order.
    pub const ALL: [Work; 7] = [
        Work::Scrub,
        Work::Dma,
        Work::FalconRun,
        Work::Fwsec,
        Work::Booter,
        Work::GspInit,
        Work::Rpc,
    ];

    /// `(fast, realistic)` durations (see the module documentation).
    pub const fn bounds(self) -> (Duration, Duration) {
        match self {
            Work::Scrub => (Duration::from_micros(10), Duration::from_micros(100)),
            Work::Dma => (Duration::from_micros(1), Duration::from_micros(10)),
            Work::FalconRun => (Duration::from_micros(10), Duration::from_millis(1)),
            Work::Fwsec => (Duration::from_micros(50), Duration::from_millis(10)),
            Work::Booter => (Duration::from_micros(100), Duration::from_millis(50)),
            Work::GspInit => (Duration::from_micros(200), Duration::from_millis(200)),
            Work::Rpc => (Duration::from_micros(20), Duration::from_millis(1)),
        }
    }
}

/// The `--timing` choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Timing {
    /// Every delay at its lower bound.
    #[default]
    Fast,
    /// Every delay at its upper bound.
    Realistic,
    /// Delays drawn uniformly between the bounds from a generator seeded with this value.
    Random(u64),
}

impl Timing {
    /// Parses `fast`, `realistic` or `random:SEED` (decimal or `0x` hexadecimal seed).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "fast" => return Ok(Timing::Fast),
            "realistic" => return Ok(Timing::Realistic),
            _ => {}
        }
        let seed = text
            .strip_prefix("random:")
            .ok_or_else(|| format!("'{text}' is not fast, realistic or random:SEED"))?;
        let parsed = match seed.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => seed.parse(),
        };
        parsed
            .map(Timing::Random)
            .map_err(|_| format!("'{seed}' is not a 64-bit seed"))
    }
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timing::Fast => f.write_str("fast"),
            Timing::Realistic => f.write_str("realistic"),
            Timing::Random(seed) => write!(f, "random:{seed}"),
        }
    }
}

/// Hands out the duration of each piece of work as [`Timing`] asks.
#[derive(Clone, Debug)]
pub struct Delays {
    timing: Timing,
    state: u64,
}

impl Delays {
    /// Delays for `timing`.
    pub fn new(timing: Timing) -> Self {
        let state = match timing {
            Timing::Random(seed) => seed,
            _ => 0,
        };
        Delays { timing, state }
    }

    /// The timing these delays follow.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators").
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// How long `work` takes this time.
    pub fn of(&mut self, work: Work) -> Duration {
        let (fast, realistic) = work.bounds();
        match self.timing {
            Timing::Fast => fast,
            Timing::Realistic => realistic,
            Timing::Random(_) => {
                let span = (realistic - fast).as_nanos() as u64;
                fast + Duration::from_nanos(self.next() % (span + 1))
            }
        }
    }
}

impl Default for Delays {
    fn default() -> Self {
        Delays::new(Timing::default())
    }
}

/// A monotonic clock the units measure deadlines against.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Time since the clock's origin.
    fn now(&self) -> Duration;
}

/// The host's monotonic clock.
#[derive(Debug)]
pub struct RealClock {
    origin: Instant,
}

impl RealClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        RealClock {
            origin: Instant::now(),
        }
    }
}

impl Default for RealClock {
    fn default() -> Self {
        RealClock::new()
    }
}

impl Clock for RealClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock for tests: it stands still unless advanced, or, with a step, advances by that step
/// every time it is read (so that a test polling a register sees time pass, as a driver
/// polling real hardware does).
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
    step: AtomicU64,
}

impl ManualClock {
    /// A clock at 0 that stands still.
    pub fn new() -> Arc<Self> {
        Arc::new(ManualClock::default())
    }

    /// A clock at 0 that advances by `step` at every read.
    pub fn stepping(step: Duration) -> Arc<Self> {
        let clock = ManualClock::default();
        clock.step.store(step.as_nanos() as u64, Ordering::Relaxed);
        Arc::new(clock)
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.nanos
            .fetch_add(by.as_nanos() as u64, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        let step = self.step.load(Ordering::Relaxed);
        Duration::from_nanos(self.nanos.fetch_add(step, Ordering::Relaxed) + step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_options_parse() {
        assert_eq!(Timing::parse("fast"), Ok(Timing::Fast));
        assert_eq!(Timing::parse("realistic"), Ok(Timing::Realistic));
        assert_eq!(Timing::parse("random:42"), Ok(Timing::Random(42)));
        assert_eq!(Timing::parse("random:0x10"), Ok(Timing::Random(16)));
        for bad in [
            "",
            "slow",
            "random",
            "random:",
            "random:-1",
            "random:x",
            "Fast",
        ] {
            assert!(Timing::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Timing::Random(7).to_string(), "random:7");
    }

    #[test]
    fn delays_are_never_zero_and_stay_in_bounds() {
        for work in Work::ALL {
            let (fast, realistic) = work.bounds();
            assert!(fast > Duration::ZERO && fast < realistic, "{work:?}");
            assert_eq!(Delays::new(Timing::Fast).of(work), fast);
            assert_eq!(Delays::new(Timing::Realistic).of(work), realistic);
            let mut random = Delays::new(Timing::Random(1));
            for _ in 0..1000 {
                let d = random.of(work);
                assert!(d >= fast && d <= realistic, "{work:?}: {d:?}");
            }
        }
    }

    #[test]
    fn random_delays_repeat_with_the_seed_and_vary_without() {
        let draw = |seed| {
            let mut d = Delays::new(Timing::Random(seed));
            (0..32).map(|_| d.of(Work::Booter)).collect::<Vec<_>>()
        };
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
        let values = draw(5);
        assert!(values.iter().any(|d| *d != values[0]));
    }

    #[test]
    fn manual_clocks_stand_still_or_step() {
        let still = ManualClock::new();
        assert_eq!(still.now(), Duration::ZERO);
        still.advance(Duration::from_micros(3));
        assert_eq!(still.now(), Duration::from_micros(3));
        let stepping = ManualClock::stepping(Duration::from_micros(1));
        assert_eq!(stepping.now(), Duration::from_micros(1));
        assert_eq!(stepping.now(), Duration::from_micros(2));
    }
}
