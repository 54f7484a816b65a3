// SPDX-License-Identifier: GPL-2.0

//! The GSP HAL: every chip policy of the GSP boot, one entry per chip family.
//!
//! A family is named after the first chip with its behaviour, as the falcon and FB HALs are
//! ([`tu102`], [`ga100`], [`ga102`], [`ad102`], [`gh100`]). Its entry says how GSP-RM is booted
//! on it ([`BootPath`]) and whether nova does that yet, which firmware files the chip needs,
//! which of them the boot loads itself, where BAR0 mirrors the PCI configuration space, and
//! which FB HAL lays out its FB. No other module decides any of this by chip or architecture.

mod ad102;
mod ga100;
mod ga102;
mod gh100;
mod tu102;

use kernel::prelude::*;

use crate::{
    boot::BooterParts,
    fb::hal::FbHal,
    firmware::FwFile,
    gpu::{Architecture, Chipset},
};

/// How GSP-RM is started on a chip family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BootPath {
    /// FWSEC (from the VBIOS) sets up WPR2 and FRTS, then SEC2 runs the booter that starts the
    /// GSP's RISC-V bootloader (GA102 and later, up to Ada).
    FwsecBooter,
    /// As [`BootPath::FwsecBooter`], but FWSEC is loaded through the generic falcon bootloader
    /// and GSP-RM takes LibOS 2 arguments (TU102, GA100).
    GenBootloader,
    /// The FSP starts the FMC, which boots GSP-RM (GH100, Blackwell).
    Fsp,
}

/// The window of BAR0 that mirrors the PCI configuration space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConfigMirror {
    /// Offset of the window in BAR0.
    pub(crate) base: u32,
    /// Size of the window.
    pub(crate) size: u32,
}

/// The mirror at 0x88000, up to Ada (nouveau `subdev/pci/gp100.c`).
const CONFIG_MIRROR_GP100: ConfigMirror = ConfigMirror {
    base: 0x88000,
    size: 0x1000,
};

/// `NV_EP_PCFGM` at 0x92000, from Hopper on (nouveau `subdev/pci/gh100.c`,
/// `nvhw/ref/gh100/dev_xtl_ep_pri.h`).
const CONFIG_MIRROR_GH100: ConfigMirror = ConfigMirror {
    base: 0x92000,
    size: 0x1000,
};

/// The chip policy of one chip family.
pub(crate) struct GspHal {
    /// The first chip with this behaviour, which names the family.
    pub(crate) family: &'static str,
    /// How GSP-RM is booted.
    pub(crate) boot_path: BootPath,
    /// Whether nova boots GSP-RM on the family yet.
    pub(crate) boots: bool,
    /// The firmware files the family needs, as the firmware package provides them.
    pub(crate) files: &'static [FwFile],
    /// Where BAR0 mirrors the PCI configuration space.
    pub(crate) config_mirror: ConfigMirror,
    /// The FB HAL, or `None` where nova cannot lay out the FB yet.
    pub(crate) fb: Option<&'static dyn FbHal>,
}

impl GspHal {
    /// Returns the HAL of `chipset`'s family.
    pub(crate) const fn of(chipset: Chipset) -> &'static GspHal {
        match chipset.arch() {
            Architecture::Turing => &tu102::TU102,
            Architecture::Ampere if matches!(chipset, Chipset::GA100) => &ga100::GA100,
            Architecture::Ampere => &ga102::GA102,
            Architecture::Ada => &ad102::AD102,
            Architecture::Hopper | Architecture::BlackwellGB10x | Architecture::BlackwellGB20x => {
                &gh100::GH100
            }
        }
    }

    /// Returns whether the family has the FB scrubber handoff, and the `scrubber` ucode to run
    /// when the VBIOS did not scrub (Ada: `kgspExecuteScrubberIfNeeded_AD102`).
    pub(crate) fn has_scrubber(&self) -> bool {
        self.files.contains(&FwFile::Scrubber)
    }

    /// Returns which parts of booter SEC2 loads on the family.
    pub(crate) const fn booter_parts(&self) -> BooterParts {
        match self.boot_path {
            BootPath::GenBootloader => BooterParts::OsThenApp0,
            BootPath::FwsecBooter | BootPath::Fsp => BooterParts::App0,
        }
    }

    /// Returns the firmware files the GSP boot loads and checks itself, which the probe-time
    /// check of the files can leave out rather than load them twice: none where nova does not
    /// boot GSP-RM.
    pub(crate) const fn loads(&self) -> &'static [FwFile] {
        if !self.boots {
            return &[];
        }
        match self.boot_path {
            BootPath::FwsecBooter => &[
                FwFile::Gsp,
                FwFile::Bootloader,
                FwFile::BooterLoad,
                FwFile::BooterUnload,
            ],
            BootPath::GenBootloader => &[
                FwFile::Gsp,
                FwFile::Bootloader,
                FwFile::BooterLoad,
                FwFile::BooterUnload,
                FwFile::GenBootloader,
            ],
            BootPath::Fsp => &[FwFile::Gsp, FwFile::Bootloader, FwFile::Fmc],
        }
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_gsp_hal)]
mod tests {
    use super::*;

    #[test]
    fn every_chip_has_a_hal() {
        for &chip in Chipset::ALL {
            let hal = GspHal::of(chip);
            assert!(hal.files.contains(&FwFile::Gsp));
            assert!(hal.files.contains(&FwFile::Bootloader));
            // Every file the boot loads is one the chip needs.
            for file in hal.loads() {
                assert!(hal.files.contains(file));
            }
            // A chip nova boots has an FB layout.
            assert!(!hal.boots || hal.fb.is_some());
        }
    }

    #[test]
    fn boots_turing_ampere_and_ada() {
        for &chip in Chipset::ALL {
            let want = matches!(
                chip.arch(),
                Architecture::Turing | Architecture::Ampere | Architecture::Ada
            );
            assert_eq!(GspHal::of(chip).boots, want);
        }
        assert!(GspHal::of(Chipset::TU102)
            .loads()
            .contains(&FwFile::GenBootloader));
        assert!(!GspHal::of(Chipset::GA102)
            .loads()
            .contains(&FwFile::GenBootloader));
        assert!(GspHal::of(Chipset::GH100).loads().is_empty());
    }

    #[test]
    fn families_and_boot_paths() {
        let family = |c| GspHal::of(c).family;
        let path = |c| GspHal::of(c).boot_path;
        assert_eq!(family(Chipset::TU117), "TU102");
        assert_eq!(family(Chipset::GA100), "GA100");
        assert_eq!(family(Chipset::GA107), "GA102");
        assert_eq!(family(Chipset::AD104), "AD102");
        assert_eq!(family(Chipset::GB207), "GH100");
        assert_eq!(path(Chipset::TU102), BootPath::GenBootloader);
        assert_eq!(path(Chipset::GA100), BootPath::GenBootloader);
        assert_eq!(path(Chipset::GA102), BootPath::FwsecBooter);
        assert_eq!(path(Chipset::AD102), BootPath::FwsecBooter);
        assert_eq!(path(Chipset::GH100), BootPath::Fsp);
    }

    /// The file sets match Debian's firmware-nvidia-graphics layout
    /// (`nvidia/<chip>/gsp/<file>-570.144.bin`).
    #[test]
    fn file_sets_match_the_firmware_package() {
        use FwFile::*;
        let files = |c| GspHal::of(c).files;
        assert_eq!(
            files(Chipset::TU104),
            &[Gsp, Bootloader, BooterLoad, BooterUnload, GenBootloader]
        );
        assert_eq!(
            files(Chipset::GA100),
            &[Gsp, Bootloader, BooterLoad, BooterUnload, GenBootloader]
        );
        assert_eq!(
            files(Chipset::GA106),
            &[Gsp, Bootloader, BooterLoad, BooterUnload]
        );
        assert_eq!(
            files(Chipset::AD107),
            &[Gsp, Bootloader, BooterLoad, BooterUnload, Scrubber]
        );
        assert_eq!(files(Chipset::GB202), &[Gsp, Bootloader, Fmc]);
    }

    #[test]
    fn config_mirror_moves_at_hopper() {
        for &chip in Chipset::ALL {
            let want = match chip.arch() {
                Architecture::Turing | Architecture::Ampere | Architecture::Ada => 0x88000,
                _ => 0x92000,
            };
            assert_eq!(GspHal::of(chip).config_mirror.base, want);
            assert_eq!(GspHal::of(chip).config_mirror.size, 0x1000);
        }
    }
}
