// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The command line, run through the built binary.

mod common;

use common::{number, run, spawn_server, value_of, wait_exit, TempDir};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bad_option_exits_2_with_a_message() {
    let out = run(&["--frobnicate", "--socket", "/tmp/x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown option '--frobnicate'"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn unknown_chip_exits_2_with_a_message() {
    let out = run(&["--chip", "nv50", "--describe"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown chip 'nv50'"), "{err}");
    assert!(
        err.contains("ad102"),
        "the message lists the known chips: {err}"
    );
}

#[test]
fn other_usage_errors_exit_2() {
    for args in [
        &[][..],
        &["--socket"],
        &["--boot0", "0xnothex", "--socket", "/tmp/x"],
        &["--boot42", "0x1122334455", "--describe"],
        &["--log-level", "chatty", "--describe"],
        &["positional"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).starts_with("nova-sim: error: "), "{args:?}");
    }
}

#[test]
fn bad_bar1_sizes_exit_2_with_a_message() {
    for (size, why) in [
        ("24G", "is not a power of two"),
        ("16M", "is below the minimum of 32 MiB"),
        ("512G", "is above the maximum of 256 GiB"),
        ("huge", "is not a size"),
        ("99999999999G", "does not fit in 64 bits"),
    ] {
        for args in [
            &["--bar1-size", size, "--describe"][..],
            &[
                "--bar1-size",
                size,
                "--socket",
                "/tmp/nova-sim-never-created.sock",
            ],
        ] {
            let out = run(args);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            let err = stderr(&out);
            assert!(
                err.starts_with(&format!("nova-sim: error: --bar1-size: '{size}' ")),
                "{args:?}: {err}"
            );
            assert!(err.contains(why), "{args:?}: {err}");
            assert!(stdout(&out).is_empty());
        }
    }
}

#[test]
fn describe_reports_a_resized_bar1() {
    let out = run(&["--describe", "--bar1-size", "32G"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.lines().any(|l| l == "bar1_size=0x800000000"), "{text}");
    assert_eq!(value_of(&text, "name").as_deref(), Some("ad102"));
    let out = run(&["--chip", "ga102", "--bar1-size=0x4000000000", "--describe"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        value_of(&stdout(&out), "bar1_size").map(|v| number(&v)),
        Some(256 << 30)
    );
}

#[test]
fn help_and_version() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("--list-chips"));
    assert!(stdout(&out).contains("--bar1-size SIZE"));
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("nova-sim "));
}

#[test]
fn list_chips_prints_one_line_per_chip() {
    let out = run(&["--list-chips"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), nova_sim::chips::CHIPS.len());
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 6, "{line}");
        let chip = nova_sim::chips::find(fields[0]).unwrap();
        assert_eq!(number(fields[2]), u64::from(chip.chipset));
        assert_eq!(number(fields[3]), u64::from(chip.boot0));
        assert_eq!(number(fields[4]), u64::from(chip.boot42));
        assert_eq!(fields[5], format!("10de:{:04x}", chip.device_id));
    }
}

#[test]
fn describe_prints_the_expectations() {
    let out = run(&["--chip", "gh100", "--describe"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let get = |key| value_of(&text, key).unwrap_or_else(|| panic!("no {key} in {text}"));
    assert_eq!(get("name"), "gh100");
    assert_eq!(get("arch"), "hopper");
    assert_eq!(number(&get("chipset")), 0x180);
    assert_eq!(number(&get("boot0")), 0x1800_00a1);
    assert_eq!(number(&get("boot42")), 0x180a_1000);
    assert_eq!(number(&get("device_id")), 0x2330);
    assert_eq!(number(&get("class")), 0x030200);
    assert_eq!(number(&get("bar1_size")), 256 << 20);
    assert_eq!(number(&get("vram_size")), 80 << 30);

    let out = run(&["--chip", "ad102", "--boot42", "0x1c2a1000", "--describe"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert_eq!(value_of(&text, "chipset").as_deref(), Some("0x1c2"));
    // Hardware only: whether a driver supports the chip is not the simulator's to say.
    assert_eq!(value_of(&text, "supported"), None);
}

#[test]
fn a_file_in_the_way_of_the_socket_is_kept() {
    let dir = TempDir::new("cli-file");
    let path = dir.path("not-a-socket");
    std::fs::write(&path, b"precious").unwrap();
    let out = run(&["--socket", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not a socket"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
}

#[test]
fn sigterm_writes_stats_and_exits_0() {
    let dir = TempDir::new("cli-sigterm");
    let socket = dir.path("gpu.sock");
    let stats = dir.path("stats");
    // A stale socket from an earlier run is replaced.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let mut child = spawn_server(
        &socket,
        &["--chip", "tu102", "--stats", stats.to_str().unwrap()],
    );
    // The readiness line comes once the socket is listening.
    let mut err = child.stderr.take().unwrap();
    let ready = format!("nova-sim: listening on {}\n", socket.display());
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains(&ready) {
        let n = std::io::Read::read(&mut err, &mut buf).unwrap();
        assert_ne!(n, 0, "stderr closed before the readiness line: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = wait_exit(&mut child);
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(&stats).unwrap();
    assert_eq!(value_of(&text, "shutdown").as_deref(), Some("SIGTERM"));
    assert_eq!(value_of(&text, "chip").as_deref(), Some("tu102"));
    assert_eq!(value_of(&text, "reads").as_deref(), Some("0"));
    assert_eq!(value_of(&text, "exit_status").as_deref(), Some("0"));
    assert!(!socket.exists(), "the socket is removed on exit");
}

#[test]
fn fault_and_firmware_errors() {
    let out = run(&["--fault", "meteor", "--socket", "/tmp/x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown fault 'meteor'"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("wpr2-preset"), "{}", stderr(&out));
    // A firmware root without the chip's booter files: a runtime error naming the file.
    let dir = TempDir::new("nofw");
    let socket = dir.path("s.sock");
    let out = run(&[
        "--chip",
        "ga102",
        "--firmware",
        dir.path("").to_str().unwrap(),
        "--socket",
        socket.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nvidia/ga102/gsp/booter_load-570.144.bin"),
        "{}",
        stderr(&out)
    );
}
