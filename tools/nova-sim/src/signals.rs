// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Orderly shutdown on SIGTERM and SIGINT.
//!
//! The signals are blocked in every thread and received synchronously by one waiter thread
//! with `sigwait`, so no code runs in signal-handler context.

use std::io;
use std::mem::MaybeUninit;
use std::thread::JoinHandle;

/// The signals that request shutdown.
const SHUTDOWN_SIGNALS: [libc::c_int; 2] = [libc::SIGTERM, libc::SIGINT];

/// Signals that were blocked by [`block_shutdown_signals`].
#[derive(Clone, Copy)]
pub struct BlockedSignals {
    set: libc::sigset_t,
}

impl std::fmt::Debug for BlockedSignals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlockedSignals(SIGTERM, SIGINT)")
    }
}

/// Blocks SIGTERM and SIGINT in the calling thread and the threads it creates afterwards.
/// Call it before creating any thread.
pub fn block_shutdown_signals() -> io::Result<BlockedSignals> {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set; sigaddset and pthread_sigmask only read
    // initialised sets. Return values are checked.
    unsafe {
        if libc::sigemptyset(set.as_mut_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        for signal in SHUTDOWN_SIGNALS {
            if libc::sigaddset(set.as_mut_ptr(), signal) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        let set = set.assume_init();
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(BlockedSignals { set })
    }
}

/// Starts a thread that waits for one of the blocked signals and calls `on_signal` with it.
pub fn spawn_waiter<F>(blocked: BlockedSignals, on_signal: F) -> io::Result<JoinHandle<()>>
where
    F: FnOnce(libc::c_int) + Send + 'static,
{
    std::thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || {
            let mut signal: libc::c_int = 0;
            // SAFETY: `blocked.set` is an initialised signal set and `signal` a valid out
            // pointer. sigwait returns 0 or an error number (then we retry).
            loop {
                let rc = unsafe { libc::sigwait(&blocked.set, &mut signal) };
                if rc == 0 {
                    break;
                }
            }
            on_signal(signal);
        })
}

/// The name of a shutdown signal, for messages.
pub fn name(signal: libc::c_int) -> &'static str {
    match signal {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        _ => "signal",
    }
}
