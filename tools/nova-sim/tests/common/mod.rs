// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The binary under test.
pub const SIM: &str = env!("CARGO_BIN_EXE_nova-sim");

/// A scratch directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir =
            std::env::temp_dir().join(format!("nova-sim-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the simulator to completion with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(SIM)
        .args(args)
        .env_remove("NOVA_SIM_LOG")
        .output()
        .unwrap()
}

/// Starts a server and waits until its socket exists.
pub fn spawn_server(socket: &Path, args: &[&str]) -> Child {
    let mut child = Command::new(SIM)
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env_remove("NOVA_SIM_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !socket.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("nova-sim exited early: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nova-sim did not create its socket"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// Waits for `child` to exit, killing it after ten seconds.
pub fn wait_exit(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("nova-sim did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads a `key=value` file into pairs.
pub fn key_values(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The value of `key` in `key=value` text.
pub fn value_of(text: &str, key: &str) -> Option<String> {
    key_values(text)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Parses `0x`-prefixed hexadecimal or decimal.
pub fn number(text: &str) -> u64 {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => text.parse().unwrap(),
    }
}
