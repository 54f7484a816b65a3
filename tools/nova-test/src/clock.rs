// SPDX-License-Identifier: GPL-2.0

//! The TSC frequency of the machine this runs on, for the guest's kernel command line.
//!
//! Under TCG, QEMU gives the guest the host's time stamp counter as the guest's (its
//! `cpu_get_ticks()` reads the host's TSC unless `-icount` is on), but the guest kernel cannot
//! calibrate it: without ACPI there is no HPET or PM timer to calibrate against, and the PIT
//! calibration fails under emulation (`tsc: Marking TSC unstable due to could not calculate
//! TSC khz`). The kernel then falls back to jiffies, and every time the guest measures is a
//! whole number of scheduler ticks. `scripts/nova/guest.py` runs this on the host and passes
//! the result as `tsc_early_khz=`, with `tsc=reliable` (there is no second clocksource for
//! the TSC watchdog to compare with).

use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Reads the TSC.
#[cfg(target_arch = "x86_64")]
fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no preconditions on x86_64; it only reads the time stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// The TSC's rate against the monotonic clock over `span`, in kHz.
#[cfg(target_arch = "x86_64")]
fn sample(span: Duration) -> f64 {
    let (t0, c0) = (Instant::now(), rdtsc());
    while t0.elapsed() < span {
        std::hint::spin_loop();
    }
    let (c1, t1) = (rdtsc(), t0.elapsed());
    // CAST: a tick count over a fraction of a second is far below 2^53.
    c1.wrapping_sub(c0) as f64 / t1.as_secs_f64() / 1000.0
}

/// The median of five 50 ms samples of the TSC rate, in kHz.
#[cfg(target_arch = "x86_64")]
pub fn tsc_khz() -> u64 {
    let mut s: Vec<f64> = (0..5).map(|_| sample(Duration::from_millis(50))).collect();
    s.sort_by(f64::total_cmp);
    // CAST: a clock rate in kHz, positive and far below 2^64.
    s[2].round() as u64
}

/// Prints the TSC frequency in kHz, or fails where there is no TSC.
pub fn print_tsc_khz() -> ExitCode {
    #[cfg(target_arch = "x86_64")]
    {
        println!("{}", tsc_khz());
        ExitCode::SUCCESS
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        eprintln!("nova-test: host-tsc-khz: no TSC on this architecture");
        ExitCode::FAILURE
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn the_tsc_ticks_at_a_plausible_rate() {
        // Between 100 MHz and 10 GHz: any x86 machine of this century.
        let khz = tsc_khz();
        assert!((100_000..10_000_000).contains(&khz), "{khz} kHz");
    }
}
