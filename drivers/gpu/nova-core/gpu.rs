// SPDX-License-Identifier: GPL-2.0

//! GPU identification.
//!
//! Every NVIDIA GPU names itself in two PMC registers. `NV_PMC_BOOT_0` has been at offset 0 since
//! the first chips and is the only one older chips implement; `NV_PMC_BOOT_42` is the identity
//! register NVIDIA documents for current chips. The decoding below is pure, so that it can be
//! tested without hardware; [`Spec::read`] does the register accesses.

use kernel::fmt::{self, Write};

use kernel::{io::Io, num::Bounded, prelude::*};

use crate::regs;

/// A GPU architecture that nova supports, with its `NV_PMC_BOOT_42` architecture code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Architecture {
    /// Turing (TU10x, TU11x).
    Turing = 0x16,
    /// Ampere (GA10x).
    Ampere = 0x17,
    /// Hopper (GH100).
    Hopper = 0x18,
    /// Ada Lovelace (AD10x).
    Ada = 0x19,
    /// Blackwell data-centre chips (GB10x).
    BlackwellGB10x = 0x1a,
    /// Blackwell client chips (GB20x).
    BlackwellGB20x = 0x1b,
}

impl Architecture {
    /// The architecture code of the first chips nova drives (Turing); anything older is refused.
    pub const FIRST_SUPPORTED: u8 = Architecture::Turing.as_raw();

    /// Decodes an `NV_PMC_BOOT_42` architecture code.
    pub const fn from_raw(code: u8) -> Option<Self> {
        match code {
            0x16 => Some(Self::Turing),
            0x17 => Some(Self::Ampere),
            0x18 => Some(Self::Hopper),
            0x19 => Some(Self::Ada),
            0x1a => Some(Self::BlackwellGB10x),
            0x1b => Some(Self::BlackwellGB20x),
            _ => None,
        }
    }

    /// Returns the architecture code, as the uAPI reports it.
    pub const fn as_raw(self) -> u8 {
        // CAST: the enum is `repr(u8)`: its discriminant is the code.
        self as u8
    }

    /// Returns the architecture's name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Turing => "Turing",
            Self::Ampere => "Ampere",
            Self::Hopper => "Hopper",
            Self::Ada => "Ada",
            Self::BlackwellGB10x => "Blackwell (GB10x)",
            Self::BlackwellGB20x => "Blackwell (GB20x)",
        }
    }
}

/// `NV_PMC_BOOT_42`'s architecture field as an [`Architecture`]; a code nova does not know is
/// the error.
impl TryFrom<Bounded<u32, 6>> for Architecture {
    type Error = u32;

    fn try_from(v: Bounded<u32, 6>) -> Result<Self, u32> {
        u8::try_from(v.get())
            .ok()
            .and_then(Self::from_raw)
            .ok_or(v.get())
    }
}

impl From<Architecture> for Bounded<u32, 6> {
    fn from(arch: Architecture) -> Self {
        match arch {
            Architecture::Turing => Bounded::<u32, 6>::new::<0x16>(),
            Architecture::Ampere => Bounded::<u32, 6>::new::<0x17>(),
            Architecture::Hopper => Bounded::<u32, 6>::new::<0x18>(),
            Architecture::Ada => Bounded::<u32, 6>::new::<0x19>(),
            Architecture::BlackwellGB10x => Bounded::<u32, 6>::new::<0x1a>(),
            Architecture::BlackwellGB20x => Bounded::<u32, 6>::new::<0x1b>(),
        }
    }
}

/// The raw architecture code of an `NV_PMC_BOOT_42` value, known or not.
fn architecture_code(boot42: regs::NV_PMC_BOOT_42) -> u32 {
    boot42
        .architecture()
        .map_or_else(|code| code, |arch| u32::from(arch.as_raw()))
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Declares [`Chipset`] from one list, so that the value table, the names and the reverse lookup
/// cannot drift apart.
macro_rules! chipsets {
    ($($(#[$doc:meta])* $variant:ident = $value:literal, $name:literal;)*) => {
        /// A chip that nova supports, with its chipset code (architecture << 4 | implementation).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum Chipset {
            $($(#[$doc])* $variant = $value,)*
        }

        impl Chipset {
            /// Every supported chipset, in ascending order of code.
            pub const ALL: &'static [Chipset] = &[$(Chipset::$variant,)*];

            /// Decodes a chipset code; `None` for a chip nova does not know.
            pub const fn from_raw(code: u16) -> Option<Self> {
                match code {
                    $($value => Some(Chipset::$variant),)*
                    _ => None,
                }
            }

            /// Returns the chip's name in lower case, as NVIDIA's firmware directories spell it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Chipset::$variant => $name,)*
                }
            }
        }
    };
}

chipsets! {
    /// TU102.
    TU102 = 0x162, "tu102";
    /// TU104.
    TU104 = 0x164, "tu104";
    /// TU106.
    TU106 = 0x166, "tu106";
    /// TU117.
    TU117 = 0x167, "tu117";
    /// TU116.
    TU116 = 0x168, "tu116";
    /// GA100.
    GA100 = 0x170, "ga100";
    /// GA102.
    GA102 = 0x172, "ga102";
    /// GA103.
    GA103 = 0x173, "ga103";
    /// GA104.
    GA104 = 0x174, "ga104";
    /// GA106.
    GA106 = 0x176, "ga106";
    /// GA107.
    GA107 = 0x177, "ga107";
    /// GH100.
    GH100 = 0x180, "gh100";
    /// AD102.
    AD102 = 0x192, "ad102";
    /// AD103.
    AD103 = 0x193, "ad103";
    /// AD104.
    AD104 = 0x194, "ad104";
    /// AD106.
    AD106 = 0x196, "ad106";
    /// AD107.
    AD107 = 0x197, "ad107";
    /// GB100.
    GB100 = 0x1a0, "gb100";
    /// GB102.
    GB102 = 0x1a2, "gb102";
    /// GB202.
    GB202 = 0x1b2, "gb202";
    /// GB203.
    GB203 = 0x1b3, "gb203";
    /// GB205.
    GB205 = 0x1b5, "gb205";
    /// GB206.
    GB206 = 0x1b6, "gb206";
    /// GB207.
    GB207 = 0x1b7, "gb207";
}

impl Chipset {
    /// Returns the chipset code (architecture << 4 | implementation).
    pub const fn as_raw(self) -> u16 {
        // CAST: the enum is `repr(u16)`: its discriminant is the code.
        self as u16
    }

    /// Returns the chip's architecture.
    pub const fn arch(self) -> Architecture {
        // CAST: chipset codes have ten bits, so six are left after the shift.
        match Architecture::from_raw((self.as_raw() >> 4) as u8) {
            Some(arch) => arch,
            // Every variant's code has an architecture in the table: the KUnit test
            // `every_chipset_has_its_architecture` checks it.
            None => Architecture::Turing,
        }
    }
}

impl fmt::Display for Chipset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // NVIDIA writes chip names in upper case ("AD102").
        for c in self.name().bytes() {
            f.write_char(char::from(c.to_ascii_uppercase()))?;
        }
        Ok(())
    }
}

/// A chip's stepping, such as A1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revision {
    major: u8,
    minor: u8,
}

impl Revision {
    /// Returns the major revision (the letter of the stepping, 0xa for A).
    pub const fn major(self) -> u8 {
        self.major
    }

    /// Returns the minor revision (the digit of the stepping).
    pub const fn minor(self) -> u8 {
        self.minor
    }

    /// Returns the revision packed as the uAPI reports it: `major << 4 | minor`.
    pub const fn as_raw(self) -> u8 {
        (self.major << 4) | self.minor
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_fmt(fmt!("{:X}{:X}", self.major, self.minor))
    }
}

/// The identity of a supported GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    chipset: Chipset,
    revision: Revision,
}

/// Why a device was not identified as a GPU nova supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdentifyError {
    /// `NV_PMC_BOOT_0` read back an error pattern: the GPU does not answer register reads.
    NoResponse {
        /// The value read from `NV_PMC_BOOT_0`.
        boot0: u32,
    },
    /// The chip predates Fermi and has no `NV_PMC_BOOT_42`.
    PreFermi {
        /// The value read from `NV_PMC_BOOT_0`.
        boot0: u32,
    },
    /// The chip predates Turing, so it has no GSP to run GSP-RM.
    PreTuring {
        /// The value read from `NV_PMC_BOOT_42`.
        boot42: u32,
    },
    /// The chip is Turing or later but not one nova knows.
    Unknown {
        /// The value read from `NV_PMC_BOOT_42`.
        boot42: u32,
    },
}

impl fmt::Display for IdentifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NoResponse { boot0 } => f.write_fmt(fmt!(
                "[chip-no-response] GPU does not answer register reads (NV_PMC_BOOT_0 = {:#010x})",
                boot0
            )),
            Self::PreFermi { boot0 } => f.write_fmt(fmt!(
                "[chip-pre-fermi] pre-Fermi GPU (NV_PMC_BOOT_0 = {:#010x}) is not supported; nova needs Turing or later",
                boot0
            )),
            Self::PreTuring { boot42 } => f.write_fmt(fmt!(
                "[chip-pre-turing] GPU architecture {:#x} (NV_PMC_BOOT_42 = {:#010x}) predates Turing and is not supported",
                architecture_code(regs::NV_PMC_BOOT_42::from(boot42)),
                boot42
            )),
            Self::Unknown { boot42 } => {
                let reg = regs::NV_PMC_BOOT_42::from(boot42);
                f.write_fmt(fmt!(
                    "[chip-unknown] unknown GPU chipset {:#x} (NV_PMC_BOOT_42 = {:#010x})",
                    (architecture_code(reg) << 4) | reg.implementation().get(),
                    boot42
                ))
            }
        }
    }
}

/// Returns whether a register read came back as an error instead of a value: all ones when the
/// device is gone from the bus, or NVIDIA's PRI error code (0xbad in the top twelve bits) when
/// the register does not decode.
const fn is_read_error(value: u32) -> bool {
    value == u32::MAX || (value & 0xfff0_0000) == 0xbad0_0000
}

impl Spec {
    /// Identifies a GPU from its `NV_PMC_BOOT_0` value, reading `NV_PMC_BOOT_42` through
    /// `read_boot42` only on chips that have it.
    pub(crate) fn identify(
        boot0: u32,
        read_boot42: impl FnOnce() -> u32,
    ) -> Result<Spec, IdentifyError> {
        if is_read_error(boot0) {
            return Err(IdentifyError::NoResponse { boot0 });
        }
        if regs::NV_PMC_BOOT_0::from(boot0).is_older_than_fermi() {
            return Err(IdentifyError::PreFermi { boot0 });
        }

        let raw42 = read_boot42();
        if is_read_error(raw42) {
            return Err(IdentifyError::NoResponse { boot0 });
        }
        let boot42 = regs::NV_PMC_BOOT_42::from(raw42);
        let arch = match boot42.architecture() {
            Ok(arch) => arch,
            Err(code) if code < u32::from(Architecture::FIRST_SUPPORTED) => {
                return Err(IdentifyError::PreTuring { boot42: raw42 })
            }
            Err(_) => return Err(IdentifyError::Unknown { boot42: raw42 }),
        };
        // Six bits of architecture and four of implementation: at most ten bits.
        let code = (u16::from(arch.as_raw()) << 4) | u16::from(boot42.implementation());
        let chipset = Chipset::from_raw(code).ok_or(IdentifyError::Unknown { boot42: raw42 })?;

        Ok(Spec {
            chipset,
            revision: Revision {
                // Four-bit fields.
                major: u8::from(boot42.major_revision()),
                minor: u8::from(boot42.minor_revision()),
            },
        })
    }

    /// Reads the identity registers through BAR0 and identifies the GPU. An unsupported or
    /// unresponsive GPU is reported in one log line and gives `ENODEV`.
    pub(crate) fn read(dev: &kernel::device::Device, bar: crate::driver::Bar0<'_>) -> Result<Spec> {
        let boot0 = u32::from(bar.read(regs::NV_PMC_BOOT_0));
        Spec::identify(boot0, || u32::from(bar.read(regs::NV_PMC_BOOT_42))).map_err(|e| {
            dev_err!(dev, "{}\n", e);
            ENODEV
        })
    }

    /// Returns the chipset.
    pub const fn chipset(&self) -> Chipset {
        self.chipset
    }

    /// Returns the architecture.
    pub const fn arch(&self) -> Architecture {
        self.chipset.arch()
    }

    /// Returns the stepping.
    pub const fn revision(&self) -> Revision {
        self.revision
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_fmt(fmt!(
            "{} ({}, chipset {:#x}, revision {})",
            self.chipset,
            self.arch(),
            self.chipset.as_raw(),
            self.revision
        ))
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_gpu_identify)]
mod tests {
    use super::*;

    /// Builds the two identity registers the way a chip reports them, field by field, as the
    /// reference manuals lay them out (BOOT_0: arch 28:24, impl 23:20, rev 7:0; BOOT_42: arch
    /// 29:24, impl 23:20, rev 19:12).
    fn boot_regs(code: u16, major: u32, minor: u32) -> (u32, u32) {
        let arch = u32::from(code >> 4);
        let imp = u32::from(code & 0xf);
        let boot0 = (arch << 24) | (imp << 20) | (major << 4) | minor;
        let boot42 = (arch << 24) | (imp << 20) | (major << 16) | (minor << 12);
        (boot0, boot42)
    }

    #[test]
    fn every_chipset_decodes() {
        for &chip in Chipset::ALL {
            let (boot0, boot42) = boot_regs(chip.as_raw(), 0xa, 1);
            let spec = Spec::identify(boot0, || boot42);
            assert_eq!(
                spec,
                Ok(Spec {
                    chipset: chip,
                    revision: Revision {
                        major: 0xa,
                        minor: 1
                    }
                })
            );
        }
    }

    #[test]
    fn known_register_values() {
        // Values as read from real boards.
        assert_eq!(
            Spec::identify(0x192000a1, || 0x192a1000).map(|s| s.chipset()),
            Ok(Chipset::AD102)
        );
        assert_eq!(
            Spec::identify(0x172000a1, || 0x172a1000).map(|s| s.chipset()),
            Ok(Chipset::GA102)
        );
        assert_eq!(
            Spec::identify(0x162000a1, || 0x162a1000).map(|s| s.arch()),
            Ok(Architecture::Turing)
        );
    }

    #[test]
    fn every_chipset_has_its_architecture() {
        for &chip in Chipset::ALL {
            assert_eq!(
                Architecture::from_raw((chip.as_raw() >> 4) as u8),
                Some(chip.arch())
            );
        }
        assert_eq!(Chipset::GH100.arch(), Architecture::Hopper);
        assert_eq!(Chipset::GB202.arch(), Architecture::BlackwellGB20x);
        assert_eq!(Chipset::GA100.arch(), Architecture::Ampere);
        // The typed field of NV_PMC_BOOT_42, both ways.
        let reg = regs::NV_PMC_BOOT_42::from(0x1940_00a1);
        assert_eq!(reg.architecture(), Ok(Architecture::Ada));
        assert_eq!(
            regs::NV_PMC_BOOT_42::from(0x1c00_0000).architecture(),
            Err(0x1c)
        );
        let built = regs::NV_PMC_BOOT_42::zeroed().with_architecture(Architecture::Turing);
        assert_eq!(u32::from(built), 0x1600_0000);
    }

    #[test]
    fn revision_is_decoded() {
        let (boot0, boot42) = boot_regs(0x194, 0xb, 2);
        let spec = Spec::identify(boot0, || boot42);
        assert_eq!(spec.map(|s| s.revision().as_raw()), Ok(0xb2));
    }

    #[test]
    fn unknown_chipsets_are_refused() {
        // A future architecture, and unknown implementations of known ones.
        for boot42 in [
            0x1c2a1000u32,
            0x191a1000,
            0x19fa1000,
            0x165a1000,
            0x3f0a1000,
        ] {
            assert_eq!(
                Spec::identify(0x192000a1, || boot42),
                Err(IdentifyError::Unknown { boot42 })
            );
        }
    }

    #[test]
    fn pre_turing_is_refused() {
        // GV100 (Volta) and GP102 (Pascal).
        assert_eq!(
            Spec::identify(0x140000a1, || 0x140a1000),
            Err(IdentifyError::PreTuring { boot42: 0x140a1000 })
        );
        assert_eq!(
            Spec::identify(0x132000a1, || 0x132a1000),
            Err(IdentifyError::PreTuring { boot42: 0x132a1000 })
        );
    }

    #[test]
    fn pre_fermi_never_reads_boot42() {
        // NV50 (Tesla): BOOT_42 does not exist there, so it must not be read.
        let mut read = false;
        let result = Spec::identify(0x050000a2, || {
            read = true;
            0
        });
        assert_eq!(result, Err(IdentifyError::PreFermi { boot0: 0x050000a2 }));
        assert!(!read);
    }

    #[test]
    fn read_errors_are_refused() {
        assert_eq!(
            Spec::identify(u32::MAX, || 0x192a1000),
            Err(IdentifyError::NoResponse { boot0: u32::MAX })
        );
        assert_eq!(
            Spec::identify(0xbadf1100, || 0x192a1000),
            Err(IdentifyError::NoResponse { boot0: 0xbadf1100 })
        );
        assert_eq!(
            Spec::identify(0x192000a1, || 0xbadf1100),
            Err(IdentifyError::NoResponse { boot0: 0x192000a1 })
        );
    }
}
