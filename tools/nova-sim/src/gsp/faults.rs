// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Fault switches: a GSP-RM that misbehaves on purpose, for testing how a driver copes.
//!
//! Two kinds of switch exist (`--gsp-fault`, repeatable):
//!
//! * **Untargeted**, the original four, applied to every message GSP-RM sends: `never-answer`,
//!   `error-status` (`rpc_result` `NV_ERR_GENERIC`), `bad-checksum`, `no-interrupt`.
//! * **Targeted**, `KIND[=STATUS]@TARGET[#N]`, applied to the command that matches `TARGET`:
//!   its `N`th match only (one-shot) with `#N`, every match without. `TARGET` is an RPC
//!   function by its r570 name (`GSP_RM_ALLOC`, `GSP_RM_CONTROL`, `FREE`,
//!   `UNLOADING_GUEST_DRIVER`, `GET_GSP_STATIC_INFO`, ...) or number, `ctrl:CMD` (an
//!   `RM_CONTROL` by its command, `0x20800a5c` or its `NV2080_CTRL_CMD_...` name) or
//!   `class:CLASS` (an `RM_ALLOC` of that class, `0x2080` or `NV20_SUBDEVICE_0`). `KIND` is
//!   one of:
//!   - `error-status[=STATUS]`: GSP-RM refuses the command without carrying it out, with
//!     `STATUS` (a number or an `NV_ERR_...` name; default `NV_ERR_GENERIC`). For
//!     `GSP_RM_ALLOC`, `GSP_RM_CONTROL` and `FREE` the status is in the reply's `rpc_result`
//!     and in its parameters' `status` field, where Kernel RM's `rpcRmApiAlloc_GSP()`,
//!     `rpcRmApiControl_GSP()` and `rpcRmApiFree_GSP()` look for it
//!     (open-gpu-kernel-modules 570.144 `src/nvidia/src/kernel/vgpu/rpc.c`; nouveau
//!     `r535/alloc.c` reads `rpc->status`, `r535/rpc.c` `rpc_result`);
//!   - `never-answer`: the command is carried out, its reply is lost;
//!   - `late-reply`: the command is carried out and its reply held back until GSP-RM next
//!     reads its queue (the driver's next doorbell). A driver sends its next command only
//!     after it gave up on this one, so the reply comes after the driver's timeout; the model
//!     has no clock of its own (`crate::gsp_core`);
//!   - `duplicate-reply`: the reply is sent twice;
//!   - `event-storm`: [`STORM_EVENTS`] `UCODE_LIBOS_PRINT` events are sent while the command is
//!     pending, then its reply. They cannot fit the status queue: GSP-RM sends as the driver
//!     frees room (`GspRm`'s outbox; `msgqTxSubmitBuffers()` in
//!     `src/common/shared/msgq/msgq.c` never overtakes the reader).

use std::cell::Cell;

use super::r570::{function, get_u32, rm_alloc, rm_control, status};
use super::rmserver;

/// How many `UCODE_LIBOS_PRINT` events an `event-storm` sends.
pub const STORM_EVENTS: u32 = 10_000;

/// What a targeted switch does to its command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Refused with this status, not carried out.
    ErrorStatus(u32),
    /// Carried out; no reply.
    NeverAnswer,
    /// Carried out; the reply comes at GSP-RM's next look at its queue.
    LateReply,
    /// Carried out; the reply is sent twice.
    DuplicateReply,
    /// Carried out; [`STORM_EVENTS`] events go before the reply.
    EventStorm,
}

/// Which commands a targeted switch matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Any command of this RPC function.
    Function(u32),
    /// `GSP_RM_CONTROL` of this command.
    Control(u32),
    /// `GSP_RM_ALLOC` of this class.
    Class(u32),
}

impl Target {
    /// Whether the command `function` with `payload` is one of ours.
    pub fn matches(&self, func: u32, payload: &[u8]) -> bool {
        match *self {
            Self::Function(f) => func == f,
            Self::Control(c) => {
                func == function::GSP_RM_CONTROL && get_u32(payload, rm_control::CMD) == Some(c)
            }
            Self::Class(c) => {
                func == function::GSP_RM_ALLOC && get_u32(payload, rm_alloc::H_CLASS) == Some(c)
            }
        }
    }
}

/// One targeted switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Targeted {
    /// What happens.
    pub kind: Kind,
    /// To which commands.
    pub target: Target,
    /// Only the `n`th match (1-based), or every match.
    pub nth: Option<u32>,
    /// Matches seen so far.
    seen: Cell<u32>,
}

/// The RPC functions a target may name (open-gpu-kernel-modules 570.144
/// `src/nvidia/inc/kernel/vgpu/rpc_global_enums.h`).
const FUNCTIONS: &[(&str, u32)] = &[
    ("NOP", function::NOP),
    ("FREE", function::FREE),
    ("UNLOADING_GUEST_DRIVER", function::UNLOADING_GUEST_DRIVER),
    ("GET_GSP_STATIC_INFO", function::GET_GSP_STATIC_INFO),
    ("GSP_RM_CONTROL", function::GSP_RM_CONTROL),
    ("GSP_RM_ALLOC", function::GSP_RM_ALLOC),
];

/// The controls a target may name (the `ctrl20xx*.h`/`ctrl0080*.h` headers of
/// open-gpu-kernel-modules 570.144 `src/common/sdk/nvidia/inc/ctrl/`).
const CONTROLS: &[(&str, u32)] = &[
    (
        "NV2080_CTRL_CMD_GPU_GET_NAME_STRING",
        rm_control::NV2080_CTRL_CMD_GPU_GET_NAME_STRING,
    ),
    (
        "NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE",
        rm_control::NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE,
    ),
    (
        "NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2",
        rm_control::NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2,
    ),
    (
        "NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO",
        rm_control::NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO,
    ),
    (
        "NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO",
        rm_control::NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO,
    ),
    (
        "NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE",
        rm_control::NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE,
    ),
];

/// The classes a target may name (`src/common/sdk/nvidia/inc/class/`).
const CLASSES: &[(&str, u32)] = &[
    ("NV01_ROOT", rmserver::NV01_ROOT),
    ("NV01_DEVICE_0", rmserver::NV01_DEVICE_0),
    ("NV20_SUBDEVICE_0", rmserver::NV20_SUBDEVICE_0),
];

/// Status names an `error-status` switch may name (`src/common/sdk/nvidia/inc/nvstatuscodes.h`).
const STATUSES: &[(&str, u32)] = &[
    ("NV_ERR_GENERIC", status::GENERIC),
    ("NV_ERR_INVALID_ARGUMENT", status::INVALID_ARGUMENT),
    ("NV_ERR_NOT_SUPPORTED", status::NOT_SUPPORTED),
    ("NV_ERR_INSUFFICIENT_RESOURCES", 0x1a),
    ("NV_ERR_INVALID_OBJECT_HANDLE", 0x33),
    ("NV_ERR_NO_MEMORY", 0x51),
    ("NV_ERR_OBJECT_NOT_FOUND", 0x57),
    ("NV_ERR_TIMEOUT", 0x65),
];

/// A number (`0x` hex or decimal) or one of `names`.
fn value(s: &str, names: &[(&str, u32)], what: &str) -> Result<u32, String> {
    if let Some((_, v)) = names.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)) {
        return Ok(*v);
    }
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| {
        let known: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        format!(
            "{what} '{s}' is neither a number nor one of {}",
            known.join(", ")
        )
    })
}

impl Targeted {
    /// Parses `KIND[=STATUS]@TARGET[#N]`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (kind, rest) = spec
            .split_once('@')
            .ok_or_else(|| format!("'{spec}' is not KIND[=STATUS]@TARGET[#N]"))?;
        let (target, nth) = match rest.split_once('#') {
            Some((t, n)) => {
                let n: u32 = n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("'#{n}' in '{spec}' is not a call number from 1"))?;
                (t, Some(n))
            }
            None => (rest, None),
        };
        let (kind_name, status_name) = match kind.split_once('=') {
            Some((k, s)) => (k, Some(s)),
            None => (kind, None),
        };
        let kind = match (kind_name, status_name) {
            ("error-status", None) => Kind::ErrorStatus(status::GENERIC),
            ("error-status", Some(s)) => {
                let v = value(s, STATUSES, "status")?;
                if v == status::OK {
                    return Err("error-status=0 is NV_OK, not an error".into());
                }
                Kind::ErrorStatus(v)
            }
            ("never-answer", None) => Kind::NeverAnswer,
            ("late-reply", None) => Kind::LateReply,
            ("duplicate-reply", None) => Kind::DuplicateReply,
            ("event-storm", None) => Kind::EventStorm,
            (k, Some(_)) if TARGETED_KINDS.contains(&k) => {
                return Err(format!("only error-status takes a status, not {k}"))
            }
            (k, _) => {
                return Err(format!(
                    "unknown targeted GSP-RM fault '{k}' (one of: {})",
                    TARGETED_KINDS.join(", ")
                ))
            }
        };
        let target = if let Some(c) = target.strip_prefix("ctrl:") {
            Target::Control(value(c, CONTROLS, "control")?)
        } else if let Some(c) = target.strip_prefix("class:") {
            Target::Class(value(c, CLASSES, "class")?)
        } else {
            let f = value(target, FUNCTIONS, "RPC function")?;
            if f >= function::NUM_FUNCTIONS {
                return Err(format!("RPC function {f} does not exist in r570.144"));
            }
            Target::Function(f)
        };
        Ok(Self {
            kind,
            target,
            nth,
            seen: Cell::new(0),
        })
    }

    /// Counts the command if it matches; returns the fault if it applies to this one.
    fn apply(&self, func: u32, payload: &[u8]) -> Option<Kind> {
        if !self.target.matches(func, payload) {
            return None;
        }
        let n = self.seen.get().saturating_add(1);
        self.seen.set(n);
        match self.nth {
            Some(want) if want != n => None,
            _ => Some(self.kind),
        }
    }
}

/// The kinds a targeted switch may have.
pub const TARGETED_KINDS: &[&str] = &[
    "error-status",
    "never-answer",
    "late-reply",
    "duplicate-reply",
    "event-storm",
];

/// Fault switches, for testing how a driver copes with a misbehaving GSP.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// GSP-RM reads and checks commands but never sends a message.
    pub never_answer: bool,
    /// Every reply carries `NV_ERR_GENERIC` in `rpc_result`.
    pub error_status: bool,
    /// Every message is sent with a wrong checksum.
    pub bad_checksum: bool,
    /// No SWGEN0 interrupt is raised for messages.
    pub no_interrupt: bool,
    /// The targeted switches, in the order given.
    pub targeted: Vec<Targeted>,
}

impl Faults {
    /// The untargeted names [`Faults::enable`] accepts, for a command line's help text.
    pub const NAMES: &'static [&'static str] = &[
        "never-answer",
        "error-status",
        "bad-checksum",
        "no-interrupt",
    ];

    /// Switches on the fault `spec`: one of [`Faults::NAMES`], or a targeted switch
    /// (`KIND[=STATUS]@TARGET[#N]`, see the module documentation).
    pub fn enable(&mut self, spec: &str) -> Result<(), String> {
        if spec.contains('@') {
            self.targeted.push(Targeted::parse(spec)?);
            return Ok(());
        }
        let flag = match spec {
            "never-answer" => &mut self.never_answer,
            "error-status" => &mut self.error_status,
            "bad-checksum" => &mut self.bad_checksum,
            "no-interrupt" => &mut self.no_interrupt,
            _ => {
                return Err(format!(
                    "unknown GSP-RM fault '{spec}' (one of: {}, or KIND[=STATUS]@TARGET[#N] \
                     with KIND one of {})",
                    Self::NAMES.join(", "),
                    TARGETED_KINDS.join(", ")
                ))
            }
        };
        *flag = true;
        Ok(())
    }

    /// The targeted fault for command `func` with `payload`, counting it against every
    /// switch; the first switch that applies wins.
    pub fn for_command(&self, func: u32, payload: &[u8]) -> Option<Kind> {
        let mut found = None;
        for t in &self.targeted {
            if let Some(k) = t.apply(func, payload) {
                found = found.or(Some(k));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets_kinds_and_counts() {
        let t = Targeted::parse("error-status=NV_ERR_NO_MEMORY@class:NV20_SUBDEVICE_0#2").unwrap();
        assert_eq!(t.kind, Kind::ErrorStatus(0x51));
        assert_eq!(t.target, Target::Class(0x2080));
        assert_eq!(t.nth, Some(2));
        let t = Targeted::parse("late-reply@ctrl:0x20800a5c").unwrap();
        assert_eq!(t.target, Target::Control(0x2080_0a5c));
        assert_eq!(t.nth, None);
        let t = Targeted::parse("event-storm@ctrl:nv0080_ctrl_cmd_gpu_get_classlist_v2").unwrap();
        assert_eq!(t.target, Target::Control(0x0080_0292));
        let t = Targeted::parse("never-answer@UNLOADING_GUEST_DRIVER").unwrap();
        assert_eq!(t.target, Target::Function(47));
        assert_eq!(
            Targeted::parse("error-status@FREE").unwrap().kind,
            Kind::ErrorStatus(status::GENERIC)
        );
        for bad in [
            "slow@FREE",
            "late-reply=5@FREE",
            "error-status=0@FREE",
            "error-status@NOPE",
            "error-status@FREE#0",
            "error-status@999",
            "never-answer@ctrl:junk",
        ] {
            let mut f = Faults::default();
            assert!(f.enable(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nth_match_is_one_shot_and_others_are_counted_apart() {
        let mut f = Faults::default();
        f.enable("duplicate-reply@FREE#2").unwrap();
        f.enable("error-status@class:NV01_DEVICE_0").unwrap();
        let free = [0u8; 16];
        let mut alloc = [0u8; 32];
        alloc[rm_alloc::H_CLASS..rm_alloc::H_CLASS + 4].copy_from_slice(&0x80u32.to_le_bytes());
        assert_eq!(f.for_command(function::FREE, &free), None);
        assert_eq!(
            f.for_command(function::GSP_RM_ALLOC, &alloc),
            Some(Kind::ErrorStatus(status::GENERIC))
        );
        assert_eq!(
            f.for_command(function::FREE, &free),
            Some(Kind::DuplicateReply)
        );
        assert_eq!(f.for_command(function::FREE, &free), None);
        // Without #N: every match.
        assert_eq!(
            f.for_command(function::GSP_RM_ALLOC, &alloc),
            Some(Kind::ErrorStatus(status::GENERIC))
        );
        alloc[rm_alloc::H_CLASS] = 0;
        assert_eq!(f.for_command(function::GSP_RM_ALLOC, &alloc), None);
    }
}
