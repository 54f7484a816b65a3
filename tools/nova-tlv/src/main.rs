// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! nova-tlv command-line entry point. See `nova-tlv --help`.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io;

use nova_tlv::error::EXIT_OK;

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let command = match nova_tlv::cli::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("nova-tlv: error: {e}");
            return e.exit_code();
        }
    };
    let mut out = io::stdout().lock();
    let mut err = io::stderr();
    match nova_tlv::run(command, &mut out, &mut err) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("nova-tlv: error: {e}");
            e.exit_code()
        }
    }
}
