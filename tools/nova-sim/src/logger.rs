// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! A minimal stderr logger for the `log` facade.
//!
//! Messages from this crate are shown at the configured level; messages from libraries only
//! at `warn` and above, unless the level is `debug` or `trace`.

use std::io::Write;

use log::{LevelFilter, Log, Metadata, Record};

struct StderrLogger {
    level: LevelFilter,
}

impl StderrLogger {
    fn limit_for(&self, target: &str) -> LevelFilter {
        let ours = target == "nova_sim" || target.starts_with("nova_sim::");
        if ours || self.level >= LevelFilter::Debug {
            self.level
        } else {
            self.level.min(LevelFilter::Warn)
        }
    }
}

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.limit_for(metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = record.level().as_str().to_ascii_lowercase();
        // Logging must never take the process down: write errors are ignored.
        let _ = writeln!(
            std::io::stderr().lock(),
            "nova-sim: {level}: {}",
            record.args()
        );
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// Installs the logger. Later calls have no effect (and leak one small allocation).
pub fn init(level: LevelFilter) {
    let logger: &'static StderrLogger = Box::leak(Box::new(StderrLogger { level }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_are_quieter_than_us() {
        let logger = StderrLogger {
            level: LevelFilter::Info,
        };
        assert_eq!(logger.limit_for("nova_sim::bar0"), LevelFilter::Info);
        assert_eq!(logger.limit_for("vfio_user"), LevelFilter::Warn);
        let logger = StderrLogger {
            level: LevelFilter::Trace,
        };
        assert_eq!(logger.limit_for("vfio_user"), LevelFilter::Trace);
        let logger = StderrLogger {
            level: LevelFilter::Error,
        };
        assert_eq!(logger.limit_for("vfio_user"), LevelFilter::Error);
    }
}
