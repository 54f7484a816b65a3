// SPDX-License-Identifier: GPL-2.0

//! Check results, and running groups of checks in a child process.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::ExitCode;

/// Collects check results.
#[derive(Default)]
pub struct Report {
    passed: u32,
    failed: u32,
    /// In a child process of `isolated`: where every result is also tallied, one byte each.
    tally: Option<File>,
}

/// What a child of `isolated` writes to its tally pipe.
const TALLY_PASS: u8 = b'p';
const TALLY_FAIL: u8 = b'f';
const TALLY_DONE: u8 = b'.';

impl Report {
    /// Records and prints one check's result.
    pub fn check(&mut self, name: &str, result: Result<(), String>) {
        let tally = match result {
            Ok(()) => {
                self.passed += 1;
                println!("nova-test: ok {name}");
                TALLY_PASS
            }
            Err(why) => {
                self.failed += 1;
                println!("nova-test: not ok {name}: {why}");
                TALLY_FAIL
            }
        };
        if let Some(t) = &mut self.tally {
            // The parent reports a lost tally as a failure of the group.
            let _ = t.write_all(&[tally]);
        }
    }

    /// The number of passed and failed checks.
    #[cfg(test)]
    pub fn counts(&self) -> (u32, u32) {
        (self.passed, self.failed)
    }

    /// Prints the summary; the exit status is 0 only if something passed and nothing failed.
    pub fn finish(self) -> ExitCode {
        println!("nova-test: {} passed, {} failed", self.passed, self.failed);
        if self.failed == 0 && self.passed > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// Runs `checks` in a forked child process with a report of its own, so that a crash (such
    /// as a SIGBUS from a mapping the kernel cannot back) or a changed identity (setuid) stays in
    /// the child. The child prints its checks itself and tallies them to this report through a
    /// pipe; it exits with status 0 if all of them passed and 1 otherwise. A child that dies, or
    /// whose exit status disagrees with its tally, fails the check `group`.
    ///
    /// The child inherits this process's open DRM files, which are the same DRM files (and so
    /// share handles) as the parent's: `checks` should open its own.
    pub fn isolated(&mut self, group: &str, checks: impl FnOnce(&mut Report)) {
        let result = self.run_isolated(checks);
        if let Err(why) = result {
            self.check(group, Err(why));
        }
    }

    fn run_isolated(&mut self, checks: impl FnOnce(&mut Report)) -> Result<(), String> {
        let (rx, tx) = pipe().map_err(|e| format!("pipe: {e}"))?;
        // Whatever is buffered would be printed twice, once by each process.
        let _ = io::stdout().flush();
        // SAFETY: this process is single-threaded, so the child may run arbitrary code.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(format!("fork: {}", io::Error::last_os_error()));
        }
        if pid == 0 {
            drop(rx);
            let mut child = Report {
                tally: Some(File::from(tx)),
                ..Default::default()
            };
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| checks(&mut child)));
            let status = match run {
                Ok(()) => {
                    if let Some(t) = &mut child.tally {
                        let _ = t.write_all(&[TALLY_DONE]);
                    }
                    i32::from(child.failed != 0)
                }
                Err(_) => 3,
            };
            let _ = io::stdout().flush();
            // SAFETY: ends the child without running the parent's exit handlers or destructors.
            unsafe { libc::_exit(status) };
        }
        drop(tx);
        let mut tally = Vec::new();
        let read = File::from(rx).read_to_end(&mut tally);
        let status = wait(pid).map_err(|e| format!("waitpid: {e}"))?;
        read.map_err(|e| format!("reading the child's results: {e}"))?;

        let passed = tally.iter().filter(|&&b| b == TALLY_PASS).count() as u32;
        let failed = tally.iter().filter(|&&b| b == TALLY_FAIL).count() as u32;
        let done = tally.last() == Some(&TALLY_DONE);
        self.passed += passed;
        self.failed += failed;

        let after = format!("after {passed} passed and {failed} failed checks");
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            return Err(format!(
                "child killed by signal {sig} ({}) {after}",
                signal_name(sig)
            ));
        }
        if !libc::WIFEXITED(status) {
            return Err(format!("child ended with wait status {status:#x} {after}"));
        }
        let code = libc::WEXITSTATUS(status);
        if !done {
            return Err(format!(
                "child exited with status {code} without finishing {after} (panic?)"
            ));
        }
        if code != i32::from(failed != 0) {
            return Err(format!(
                "child exited with status {code}, disagreeing with its results {after}"
            ));
        }
        Ok(())
    }
}

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is a writable array of two ints, as pipe2 requires.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both are new descriptors owned by no one else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Waits for child `pid`; returns its wait status.
pub fn wait(pid: libc::pid_t) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a writable int.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if r >= 0 || e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// A signal's name, for messages.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGBUS => "SIGBUS",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolated_children_tally_into_the_parent() {
        let mut r = Report::default();
        r.isolated("group", |c| {
            c.check("a", Ok(()));
            c.check("b", Err("no".into()));
            c.check("c", Ok(()));
        });
        assert_eq!(r.counts(), (2, 1));
    }

    #[test]
    fn a_crashing_child_fails_its_group() {
        let mut r = Report::default();
        r.isolated("group", |c| {
            c.check("a", Ok(()));
            // Touching a mapping past the end of its (empty) file raises SIGBUS, as a GEM
            // mapping does when the kernel cannot provide the page.
            // SAFETY: the name is a valid C string.
            let fd = unsafe { libc::memfd_create(c"nova-test".as_ptr(), libc::MFD_CLOEXEC) };
            assert!(fd >= 0);
            // SAFETY: fd is a new descriptor that we own.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            let m = crate::drm::Mapping::new(std::os::fd::AsFd::as_fd(&fd), 0, 4096).unwrap();
            let _ = m.touch(0, 1);
            c.check("unreachable", Ok(()));
        });
        // "a" passed, and the group failed.
        assert_eq!(r.counts(), (1, 1));
    }

    #[test]
    fn a_panicking_child_fails_its_group() {
        let mut r = Report::default();
        r.isolated("group", |_| panic!("boom"));
        assert_eq!(r.counts(), (0, 1));
    }
}
