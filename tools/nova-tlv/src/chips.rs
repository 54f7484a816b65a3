// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The chips nova-core supports and the firmware files each needs.
//!
//! The chip list and architectures are those of nova-core's `define_chipset!` and
//! `Chipset::arch()` (`drivers/gpu/nova-core/gpu.rs`); the file set per chip is that of
//! `ModInfoBuilder::make_entry_chipset()` (`drivers/gpu/nova-core/firmware.rs`) and
//! `boot_firmware_files()` (`drivers/gpu/nova-core/gsp/hal.rs`).

use std::fmt;

/// GPU architecture, as nova-core's `Architecture`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// Turing (TU1xx).
    Turing,
    /// Ampere (GA1xx).
    Ampere,
    /// Hopper (GH100).
    Hopper,
    /// Ada (AD10x).
    Ada,
    /// Blackwell GB10x.
    BlackwellGB10x,
    /// Blackwell GB20x.
    BlackwellGB20x,
}

macro_rules! chipsets {
    ($($variant:ident = $name:literal, $arch:ident;)*) => {
        /// A chip nova-core supports.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Chipset {
            $(
                #[doc = concat!("The ", $name, ".")]
                $variant,
            )*
        }

        impl Chipset {
            /// Every chip, in nova-core's order.
            pub const ALL: &'static [Chipset] = &[$(Chipset::$variant),*];

            /// The chip's name as it appears in firmware paths (`nvidia/<name>/gsp/`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Chipset::$variant => $name,)*
                }
            }

            /// The chip's architecture.
            pub const fn arch(self) -> Architecture {
                match self {
                    $(Chipset::$variant => Architecture::$arch,)*
                }
            }
        }
    };
}

chipsets! {
    TU102 = "tu102", Turing;
    TU104 = "tu104", Turing;
    TU106 = "tu106", Turing;
    TU117 = "tu117", Turing;
    TU116 = "tu116", Turing;
    GA100 = "ga100", Ampere;
    GA102 = "ga102", Ampere;
    GA103 = "ga103", Ampere;
    GA104 = "ga104", Ampere;
    GA106 = "ga106", Ampere;
    GA107 = "ga107", Ampere;
    GH100 = "gh100", Hopper;
    AD102 = "ad102", Ada;
    AD103 = "ad103", Ada;
    AD104 = "ad104", Ada;
    AD106 = "ad106", Ada;
    AD107 = "ad107", Ada;
    GB100 = "gb100", BlackwellGB10x;
    GB102 = "gb102", BlackwellGB10x;
    GB202 = "gb202", BlackwellGB20x;
    GB203 = "gb203", BlackwellGB20x;
    GB205 = "gb205", BlackwellGB20x;
    GB206 = "gb206", BlackwellGB20x;
    GB207 = "gb207", BlackwellGB20x;
}

impl Chipset {
    /// Looks a chip up by name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The TLV files nova-core requests for this chip, in the order of its module info:
    /// `gsp_bootloader` and `gsp` for every chip, then `boot_firmware_files()`.
    pub fn tlv_files(self) -> &'static [TlvKind] {
        use TlvKind::*;
        match self.arch() {
            Architecture::Turing => &[GspBootloader, Gsp, BooterLoad, BooterUnload, GenBootloader],
            Architecture::Ampere if self == Chipset::GA100 => {
                &[GspBootloader, Gsp, BooterLoad, BooterUnload, GenBootloader]
            }
            Architecture::Ampere | Architecture::Ada => {
                &[GspBootloader, Gsp, BooterLoad, BooterUnload]
            }
            Architecture::Hopper | Architecture::BlackwellGB10x | Architecture::BlackwellGB20x => {
                &[GspBootloader, Gsp, Fmc]
            }
        }
    }

    /// Every file name nova-core may request for this chip under `nvidia/<chip>/gsp/`: the
    /// TLV files and `gsp.bin`, the GSP-RM image `gsp.tlv` names in its `FILE` tag.
    pub fn output_files(self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.tlv_files().iter().map(|k| k.tlv_name()).collect();
        names.push(GSP_IMAGE_FILE);
        names
    }

    /// The section of `gsp-<version>.bin` holding this chip family's GSP-RM signatures.
    ///
    /// From nouveau's `.sig_section` of each chip (`tu102.c`, `tu116.c`, `ga100.c`, `ga102.c`,
    /// `ad102.c`, `gh100.c`, `gb100.c`, `gb202.c` in `drivers/gpu/drm/nouveau/nvkm/subdev/gsp/`,
    /// TU116 covering TU117 and TU102 covering TU104/TU106), which NVIDIA's own Nova firmware
    /// extraction script uses too.
    pub fn signature_section(self) -> &'static str {
        match self {
            Chipset::TU116 | Chipset::TU117 => ".fwsignature_tu11x",
            Chipset::GA100 => ".fwsignature_ga100",
            _ => match self.arch() {
                Architecture::Turing => ".fwsignature_tu10x",
                Architecture::Ampere => ".fwsignature_ga10x",
                Architecture::Ada => ".fwsignature_ad10x",
                Architecture::Hopper => ".fwsignature_gh100",
                Architecture::BlackwellGB10x => ".fwsignature_gb10x",
                Architecture::BlackwellGB20x => ".fwsignature_gb20x",
            },
        }
    }

    /// The directory, relative to the firmware directory, of this chip's files:
    /// `nvidia/<chip>/gsp` (nova-core's `request_tlv()`, `firmware/tlv.rs`).
    pub fn gsp_dir(self) -> String {
        format!("nvidia/{}/gsp", self.name())
    }
}

impl fmt::Display for Chipset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Name of the GSP-RM image file that `gsp.tlv`'s `FILE` tag points at, as nova-core lists it
/// in its module info (`firmware.rs`).
pub const GSP_IMAGE_FILE: &str = "gsp.bin";

/// The Debian package that ships NVIDIA's original files.
pub const DEBIAN_PACKAGE: &str = "firmware-nvidia-graphics";

/// The GSP-RM release of the files this tool is meant for, and the default `--fw-version`.
pub const DEFAULT_VERSION: &str = "570.144";

/// A TLV file nova-core requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlvKind {
    /// `gsp.tlv`: GSP-RM signatures, and the name and size of `gsp.bin`.
    Gsp,
    /// `gsp_bootloader.tlv`: the GSP's RISC-V bootloader.
    GspBootloader,
    /// `booter_load.tlv`: SEC2's Booter that starts GSP-RM (Turing to Ada).
    BooterLoad,
    /// `booter_unload.tlv`: SEC2's Booter that stops GSP-RM (Turing to Ada).
    BooterUnload,
    /// `gen_bootloader.tlv`: the generic falcon bootloader that loads FWSEC (Turing, GA100).
    GenBootloader,
    /// `fmc.tlv`: FSP's first mutable code (Hopper, Blackwell).
    Fmc,
}

impl TlvKind {
    /// Every kind.
    pub const ALL: &'static [TlvKind] = &[
        TlvKind::Gsp,
        TlvKind::GspBootloader,
        TlvKind::BooterLoad,
        TlvKind::BooterUnload,
        TlvKind::GenBootloader,
        TlvKind::Fmc,
    ];

    /// The name nova-core passes to `request_tlv()`.
    pub const fn stem(self) -> &'static str {
        match self {
            Self::Gsp => "gsp",
            Self::GspBootloader => "gsp_bootloader",
            Self::BooterLoad => "booter_load",
            Self::BooterUnload => "booter_unload",
            Self::GenBootloader => "gen_bootloader",
            Self::Fmc => "fmc",
        }
    }

    /// The file name nova-core requests.
    pub const fn tlv_name(self) -> &'static str {
        match self {
            Self::Gsp => "gsp.tlv",
            Self::GspBootloader => "gsp_bootloader.tlv",
            Self::BooterLoad => "booter_load.tlv",
            Self::BooterUnload => "booter_unload.tlv",
            Self::GenBootloader => "gen_bootloader.tlv",
            Self::Fmc => "fmc.tlv",
        }
    }

    /// The stem of the Debian file the TLV is made from (`<stem>-<version>.bin`).
    pub const fn debian_stem(self) -> &'static str {
        match self {
            Self::Gsp => "gsp",
            Self::GspBootloader => "bootloader",
            Self::BooterLoad => "booter_load",
            Self::BooterUnload => "booter_unload",
            Self::GenBootloader => "gen_bootloader",
            Self::Fmc => "fmc",
        }
    }

    /// The kind of a TLV file by its file name, if it is one nova-core requests.
    pub fn from_file_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.tlv_name() == name)
    }
}

impl fmt::Display for TlvKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tlv_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(Chipset::ALL.len(), 24);
        for &c in Chipset::ALL {
            assert_eq!(Chipset::from_name(c.name()), Some(c));
            assert_eq!(Chipset::from_name(&c.name().to_uppercase()), Some(c));
        }
        assert_eq!(Chipset::from_name("gv100"), None);
        for &k in TlvKind::ALL {
            assert_eq!(TlvKind::from_file_name(k.tlv_name()), Some(k));
            assert_eq!(format!("{}.tlv", k.stem()), k.tlv_name());
        }
    }

    #[test]
    fn file_sets_follow_boot_firmware_files() {
        use TlvKind::*;
        assert_eq!(
            Chipset::TU117.tlv_files(),
            [GspBootloader, Gsp, BooterLoad, BooterUnload, GenBootloader]
        );
        assert_eq!(
            Chipset::GA100.tlv_files(),
            [GspBootloader, Gsp, BooterLoad, BooterUnload, GenBootloader]
        );
        assert_eq!(
            Chipset::GA102.tlv_files(),
            [GspBootloader, Gsp, BooterLoad, BooterUnload]
        );
        assert_eq!(
            Chipset::AD107.tlv_files(),
            [GspBootloader, Gsp, BooterLoad, BooterUnload]
        );
        for c in [Chipset::GH100, Chipset::GB102, Chipset::GB207] {
            assert_eq!(c.tlv_files(), [GspBootloader, Gsp, Fmc]);
        }
        assert_eq!(
            Chipset::GH100.output_files(),
            ["gsp_bootloader.tlv", "gsp.tlv", "fmc.tlv", "gsp.bin"]
        );
        assert_eq!(Chipset::AD104.gsp_dir(), "nvidia/ad104/gsp");
    }

    #[test]
    fn signature_sections() {
        let expect = [
            (Chipset::TU102, ".fwsignature_tu10x"),
            (Chipset::TU106, ".fwsignature_tu10x"),
            (Chipset::TU116, ".fwsignature_tu11x"),
            (Chipset::TU117, ".fwsignature_tu11x"),
            (Chipset::GA100, ".fwsignature_ga100"),
            (Chipset::GA107, ".fwsignature_ga10x"),
            (Chipset::AD103, ".fwsignature_ad10x"),
            (Chipset::GH100, ".fwsignature_gh100"),
            (Chipset::GB102, ".fwsignature_gb10x"),
            (Chipset::GB205, ".fwsignature_gb20x"),
        ];
        for (c, s) in expect {
            assert_eq!(c.signature_section(), s, "{c}");
        }
    }
}
