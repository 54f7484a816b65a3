// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The firmware the simulated falcons recognise, and how a loaded image is told apart.
//!
//! The simulator executes no falcon code. When a falcon is started, [`Catalogue::identify`]
//! compares what the driver put in IMEM (through the block tags, as the falcon fetches it),
//! DMEM, `BOOTVEC` and the BROM registers with the images it knows, and says which one it is
//! and what real HS (heavy-secure) boot ROM verification would have rejected. [`crate::gpu`]
//! then applies the firmware's effect.
//!
//! # Known images
//!
//! * FWSEC, production and debug, from the simulated VBIOS ([`crate::vbios`]): IMEM is the
//!   ucode's first `ImemLoadSize` bytes at the IMEM virtual base, DMEM the following
//!   `DmemLoadSize` bytes at the DMEM physical base (`FALCON_UCODE_DESC_V3` in Open RM's
//!   `kernel_gsp_fwsec.c`; upstream nova-core `firmware.rs`, `FalconUCodeDescV3`). The driver
//!   fills in the DMEMMAPPER `init_cmd` word and the command-in buffer (upstream nova-core
//!   `firmware/fwsec.rs`: `FalconAppifDmemmapperV3`, `FrtsCmd`), and, for V3, patches the
//!   RSA-3K signature selected by the board's fuse version at `PkcDataOffset`. Only the
//!   production FWSEC is accepted; the board is production-fused, so the debug-signed image
//!   fails verification.
//! * booter_load and booter_unload, from Debian's `nvidia/<chip>/gsp/booter_{load,unload}-
//!   570.144.bin` ([`FirmwareFiles::load`]), read through `nova-tlv`'s converter: the same
//!   fields nova-core takes from the TLV (`BLOB`, `CDOF`/`CDSZ`, `DAOF`/`DASZ`, `A0CO`/
//!   `A0CS`, `PLOC`, `FUSE`, `ENID`, `UCID`, `NSIG`/`SIGN`; `tlv-converter.rst`). Application
//!   0's code is the HS code and must be in secure IMEM at virtual address `A0CO`; on
//!   Turing and GA100 the non-secure OS code runs first from virtual address `CDOF`. The data
//!   section goes to DMEM 0 and the signature is patched at `PLOC - DAOF`. The signature a
//!   board accepts is `FUSE - fuse version` of the HS header's list, or the last one when the
//!   fuse reads 0 (nouveau `nvkm_falcon_fw_sign()` / upstream nova-core `firmware/booter.rs`).
//! * scrubber (Ada), from Debian's `nvidia/<chip>/gsp/scrubber-570.144.bin`: a heavy-secure
//!   SEC2 image in Booter's format (Open RM loads it as it loads Booter:
//!   `kgspExecuteScrubberIfNeeded_AD102()` runs it through `kgspExecuteHsFalcon_HAL()` on
//!   SEC2), recognised and verified the same way.
//!
//! * gen_bootloader (Turing, GA100), from Debian's `gen_bootloader-570.144.bin` through the
//!   same converter (`STRT`, `CDSZ`, `BLOB`): its code is non-secure IMEM at virtual address
//!   `STRT << 8`, its entry. It has no effect of its own: it reads `BootloaderDmemDescV2`
//!   from DMEM 0 (upstream nova-core `firmware/fwsec/bootloader.rs`), DMAs the non-secure
//!   code, the secure code (to the IMEM offsets equal to their source offsets, tagged alike)
//!   and the data (to DMEM 0) through `FBIF_TRANSCFG(ctx_dma)`, and jumps to
//!   `code_entry_point` ([`BootloaderDesc`]); what it loaded is then identified in turn.
//!   FWSEC V2's IMEM is a non-secure part from `IMEMVirtBase` and a secure part at
//!   `IMEMSecBase` (`FALCON_UCODE_DESC_V2`).
//!
//! # Board fuses (modelling choices)
//!
//! The simulated board is fused at the newest version each image has a signature for:
//! `NV_FUSE_OPT_FPF_GSP_UCODE<UcodeId>_VERSION` reads the value whose bit count is FWSEC's
//! newest signature version ([`crate::vbios::FwsecInfo::fuse_register_value`]), and
//! `NV_FUSE_OPT_FPF_SEC2_UCODE<UCID>_VERSION` the one whose bit count is booter's `FUSE`, so
//! the expected booter signature is the first, not the last, and a driver that ignores the
//! fuse picks the wrong one. Turing and GA100 read no fuse (upstream nova-core
//! `falcon/hal/tu102.rs` returns 0) and take the last signature.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use nova_tlv::chips::{TlvKind, DEFAULT_VERSION};
use nova_tlv::tlv::{Tag, Tlv};

use crate::chips::Chip;
use crate::falcon::{Engine, Falcon, Generation};
use crate::vbios::{DescVersion, FwsecInfo, Vbios, SIGNATURE_SIZE};

/// `NVFW_FALCON_APPIF_ID_DMEMMAPPER` (upstream nova-core `firmware/fwsec.rs`).
const APPIF_ID_DMEMMAPPER: u32 = 0x4;
/// Offset of `init_cmd` in `FalconAppifDmemmapperV3`.
const DMEMMAPPER_INIT_CMD: usize = 44;
/// Offset of `cmd_in_buffer_offset` and `cmd_in_buffer_size` in `FalconAppifDmemmapperV3`.
const DMEMMAPPER_CMD_IN: usize = 8;
/// `FrtsCmd`: `ReadVbios` (24 bytes) then `FrtsRegion` (20 bytes).
const FRTS_CMD_SIZE: usize = 44;

/// `NVFW_FALCON_APPIF_DMEMMAPPER_CMD_FRTS`.
pub const FWSEC_CMD_FRTS: u32 = 0x15;
/// `NVFW_FALCON_APPIF_DMEMMAPPER_CMD_SB`.
pub const FWSEC_CMD_SB: u32 = 0x19;
/// `NVFW_FRTS_CMD_REGION_TYPE_FB`.
pub const FRTS_REGION_TYPE_FB: u32 = 2;

/// `NV_FUSE_OPT_FPF_SEC2_UCODE1_VERSION`; `UCODE<n>` is at `+ 4 * (n - 1)` (Open RM
/// `ga100/dev_fuse.h`, upstream nova-core `regs.rs`).
pub const FUSE_SEC2_UCODE1: u32 = 0x0082_4140;
/// `NV_FUSE_OPT_FPF_GSP_UCODE1_VERSION`.
pub const FUSE_GSP_UCODE1: u32 = 0x0082_41c0;

/// What an image is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// The production FWSEC from the VBIOS.
    Fwsec,
    /// The debug-signed FWSEC from the VBIOS.
    FwsecDebug,
    /// booter_load.
    BooterLoad,
    /// booter_unload.
    BooterUnload,
    /// The generic falcon bootloader (Turing, GA100).
    GenBootloader,
    /// The FB scrubber (Ada), run on SEC2 when the VBIOS has not scrubbed the FB.
    Scrubber,
}

impl fmt::Display for ImageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageKind::Fwsec => "FWSEC",
            ImageKind::FwsecDebug => "FWSEC (debug-signed)",
            ImageKind::BooterLoad => "booter_load",
            ImageKind::BooterUnload => "booter_unload",
            ImageKind::GenBootloader => "gen_bootloader",
            ImageKind::Scrubber => "scrubber",
        })
    }
}

/// A run of code at a virtual IMEM address.
#[derive(Clone, Debug)]
struct Code {
    va: u32,
    bytes: Vec<u8>,
    secure: bool,
}

/// The BROM parameters an HS image needs on GA102 and later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Brom {
    paraaddr: u32,
    engid_mask: u32,
    ucode_id: u32,
}

/// One image a falcon may be given.
#[derive(Clone, Debug)]
pub struct KnownImage {
    /// What it is.
    pub kind: ImageKind,
    /// The falcon it is built for.
    pub engine: Engine,
    code: Vec<Code>,
    dmem_base: usize,
    data: Vec<u8>,
    /// DMEM ranges the driver fills in (command buffers), not compared.
    holes: Vec<Range<usize>>,
    /// DMEM offset and expected bytes of the patched signature.
    signature: Option<(usize, Vec<u8>)>,
    boot_vector: u32,
    brom: Option<Brom>,
    /// FWSEC only: DMEM offsets of `init_cmd` and of the command-in buffer.
    fwsec_cmd: Option<(usize, usize)>,
}

/// An FWSEC command as the driver wrote it into DMEM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FwsecCommand {
    /// `init_cmd`.
    pub init_cmd: u32,
    /// `FrtsRegion`: version, header size, address (4 KiB units), size (4 KiB units), type.
    pub frts: [u32; 5],
}

impl KnownImage {
    /// The FWSEC command in `falcon`'s DMEM, if this is FWSEC.
    pub fn fwsec_command(&self, falcon: &Falcon) -> Option<FwsecCommand> {
        let (init_at, cmd_at) = self.fwsec_cmd?;
        let dmem = falcon.dmem();
        let init_cmd = read_u32(dmem, init_at)?;
        let mut frts = [0u32; 5];
        for (i, slot) in frts.iter_mut().enumerate() {
            *slot = read_u32(dmem, cmd_at + 24 + 4 * i)?;
        }
        Some(FwsecCommand { init_cmd, frts })
    }
}

/// `BootloaderDmemDescV2` (packed; upstream nova-core `firmware/fwsec/bootloader.rs`), as
/// the driver put it at DMEM 0 for gen_bootloader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootloaderDesc {
    /// FBIF context (`TRANSCFG` index) for the loads.
    pub ctx_dma: u32,
    /// Address of the code image.
    pub code_dma_base: u64,
    /// Offset of the non-secure code in the image, and its IMEM offset.
    pub non_sec_code_off: u32,
    /// Size of the non-secure code.
    pub non_sec_code_size: u32,
    /// Offset of the secure code in the image, and its IMEM offset.
    pub sec_code_off: u32,
    /// Size of the secure code.
    pub sec_code_size: u32,
    /// Where the loaded code starts.
    pub code_entry_point: u32,
    /// Address of the data.
    pub data_dma_base: u64,
    /// Size of the data (to DMEM 0).
    pub data_size: u32,
}

impl BootloaderDesc {
    /// Reads the descriptor from DMEM 0.
    pub fn read(dmem: &[u8]) -> Option<BootloaderDesc> {
        let w = |at: usize| read_u32(dmem, at);
        let q = |at: usize| Some(u64::from(w(at)?) | (u64::from(w(at + 4)?) << 32));
        Some(BootloaderDesc {
            ctx_dma: w(32)?,
            code_dma_base: q(36)?,
            non_sec_code_off: w(44)?,
            non_sec_code_size: w(48)?,
            sec_code_off: w(52)?,
            sec_code_size: w(56)?,
            code_entry_point: w(60)?,
            data_dma_base: q(64)?,
            data_size: w(72)?,
        })
    }
}

/// What a started falcon holds.
#[derive(Debug)]
pub enum Verdict<'a> {
    /// Nothing was loaded into IMEM since the last reset.
    Empty,
    /// IMEM matches no known image.
    Unknown,
    /// A known image; `problems` lists what HS verification or the image itself rejects.
    Known {
        /// The image.
        image: &'a KnownImage,
        /// Empty when the image would run.
        problems: Vec<String>,
    },
}

/// Debian's booter files, converted as nova-core would read them.
#[derive(Clone, Debug, Default)]
pub struct FirmwareFiles {
    /// `booter_load.tlv` contents.
    pub booter_load: Option<Vec<u8>>,
    /// `booter_unload.tlv` contents.
    pub booter_unload: Option<Vec<u8>>,
    /// `gen_bootloader.tlv` contents (Turing, GA100).
    pub gen_bootloader: Option<Vec<u8>>,
    /// `scrubber-570.144.bin` converted as a Booter TLV (Ada).
    pub scrubber: Option<Vec<u8>>,
}

impl FirmwareFiles {
    /// Reads `DIR/nvidia/<chip>/gsp/booter_{load,unload}-570.144.bin` from the firmware root
    /// `dir`. A chip without booter (Hopper and later) gets none; a missing file of a chip
    /// that has them is an error.
    pub fn load(dir: &Path, chip: &Chip) -> Result<FirmwareFiles, String> {
        use crate::chips::Architecture::*;
        if !matches!(chip.arch, Turing | Ampere | Ada) {
            return Ok(FirmwareFiles::default());
        }
        let read = |name: &str, kind: TlvKind| -> Result<Vec<u8>, String> {
            let path = dir.join(format!(
                "nvidia/{}/gsp/{name}-{DEFAULT_VERSION}.bin",
                chip.name
            ));
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            match (name, kind) {
                (_, TlvKind::GenBootloader) => {
                    nova_tlv::convert::gen_bootloader(&bytes, DEFAULT_VERSION)
                }
                ("scrubber", _) => nova_tlv::convert::heavy_secure_file(&bytes, DEFAULT_VERSION),
                _ => nova_tlv::convert::booter(kind, &bytes, DEFAULT_VERSION),
            }
            .map_err(|e| format!("{}: {e}", path.display()))
        };
        let gen_bootloader = if crate::gpu::generation(chip) == Generation::Tu102 {
            Some(read("gen_bootloader", TlvKind::GenBootloader)?)
        } else {
            None
        };
        // The scrubber has Booter's format; the kind only picks the converter.
        let scrubber = if chip.arch == Ada {
            Some(read("scrubber", TlvKind::BooterLoad)?)
        } else {
            None
        };
        Ok(FirmwareFiles {
            booter_load: Some(read("booter_load", TlvKind::BooterLoad)?),
            booter_unload: Some(read("booter_unload", TlvKind::BooterUnload)?),
            gen_bootloader,
            scrubber,
        })
    }
}

/// The images a chip's falcons may be given, and the fuses the board has.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    images: Vec<KnownImage>,
    fuses: Vec<(u32, u32)>,
}

fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..at.checked_add(4)?)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
}

fn usz(v: u32) -> usize {
    v as usize
}

fn slice(data: &[u8], start: u32, len: u32) -> Result<Vec<u8>, String> {
    let s = usz(start);
    s.checked_add(usz(len))
        .and_then(|e| data.get(s..e))
        .map(<[u8]>::to_vec)
        .ok_or_else(|| format!("{start:#x}+{len:#x} is outside the image"))
}

/// A fuse register value whose bit count is `version` (the drivers read `BITS - lz`).
fn fuse_value(version: u32) -> u32 {
    1u32.checked_shl(version)
        .map_or(u32::MAX, |b| b.wrapping_sub(1))
}

impl Catalogue {
    /// The catalogue for `chip`: FWSEC from `vbios`, booter from `files`.
    pub fn new(
        chip: &Chip,
        generation: Generation,
        vbios: &Vbios,
        files: &FirmwareFiles,
    ) -> Catalogue {
        let mut cat = Catalogue::default();
        let info = vbios.info();
        for (fwsec, kind) in [
            (&info.fwsec, ImageKind::Fwsec),
            (&info.fwsec_debug, ImageKind::FwsecDebug),
        ] {
            if let Some(fwsec) = fwsec {
                match fwsec_image(vbios, fwsec, kind, generation) {
                    Ok(image) => cat.images.push(image),
                    Err(e) => log::warn!("{}: {kind} in the VBIOS not usable: {e}", chip.name),
                }
            }
        }
        if let Some(fwsec) = &info.fwsec {
            if let (Some(value), DescVersion::V3) = (fwsec.fuse_register_value(), fwsec.version) {
                let n = u32::from(fwsec.ucode_id.saturating_sub(1));
                cat.fuses.push((FUSE_GSP_UCODE1 + 4 * n, value));
            }
        }
        for (tlv, kind) in [
            (&files.booter_load, ImageKind::BooterLoad),
            (&files.booter_unload, ImageKind::BooterUnload),
            (&files.scrubber, ImageKind::Scrubber),
        ] {
            if let Some(tlv) = tlv {
                match booter_image(tlv, kind, generation) {
                    Ok((image, fuse)) => {
                        if let Some(fuse) = fuse {
                            if !cat.fuses.iter().any(|(a, _)| *a == fuse.0) {
                                cat.fuses.push(fuse);
                            }
                        }
                        cat.images.push(image);
                    }
                    Err(e) => log::warn!("{}: {kind} not usable: {e}", chip.name),
                }
            }
        }
        if let Some(tlv) = &files.gen_bootloader {
            match gen_bootloader_image(tlv) {
                Ok(image) => cat.images.push(image),
                Err(e) => log::warn!("{}: gen_bootloader not usable: {e}", chip.name),
            }
        }
        cat
    }

    /// The fuse registers the board has set: `(BAR0 address, value)`.
    pub fn fuses(&self) -> &[(u32, u32)] {
        &self.fuses
    }

    /// Whether the catalogue knows an image of `kind`.
    pub fn knows(&self, kind: ImageKind) -> bool {
        self.images.iter().any(|i| i.kind == kind)
    }

    /// Identifies what `falcon` was given.
    pub fn identify(&self, falcon: &Falcon) -> Verdict<'_> {
        if !falcon.imem_loaded() {
            return Verdict::Empty;
        }
        let matches_code = |image: &KnownImage| {
            image.code.iter().all(|code| {
                falcon
                    .imem_virtual(code.va, code.bytes.len())
                    .is_some_and(|(bytes, _)| bytes == code.bytes)
            })
        };
        let Some(image) = self.images.iter().find(|i| matches_code(i)) else {
            for image in &self.images {
                for code in &image.code {
                    let what = match falcon.imem_virtual(code.va, code.bytes.len()) {
                        None => "not all blocks are tagged".to_string(),
                        Some((bytes, _)) => {
                            match bytes.iter().zip(&code.bytes).position(|(a, b)| a != b) {
                                Some(i) => format!("differs at +{i:#x}"),
                                None => "matches".to_string(),
                            }
                        }
                    };
                    log::debug!(
                        "{}: not {}: code at {:#x}+{:#x} {what}",
                        falcon.engine().name(),
                        image.kind,
                        code.va,
                        code.bytes.len()
                    );
                }
            }
            return Verdict::Unknown;
        };
        let mut problems = Vec::new();
        if image.engine != falcon.engine() {
            problems.push(format!(
                "{} is built for {}, not {}",
                image.kind,
                image.engine.name(),
                falcon.engine().name()
            ));
        }
        if image.kind == ImageKind::FwsecDebug {
            problems.push("the debug-signed FWSEC fails verification on a production board".into());
        }
        for code in image.code.iter().filter(|c| c.secure) {
            let secure = falcon
                .imem_virtual(code.va, code.bytes.len())
                .is_some_and(|(_, secure)| secure);
            if !secure {
                problems.push(format!(
                    "HS code at {:#x} is not in secure IMEM blocks",
                    code.va
                ));
            }
        }
        let dmem = falcon.dmem();
        let mut bad = None;
        for (i, expected) in image.data.iter().enumerate() {
            let at = image.dmem_base + i;
            if image.holes.iter().any(|h| h.contains(&at)) {
                continue;
            }
            if image
                .signature
                .as_ref()
                .is_some_and(|(s, sig)| (*s..*s + sig.len()).contains(&at))
            {
                continue;
            }
            if dmem.get(at) != Some(expected) {
                bad = Some(at);
                break;
            }
        }
        if let Some(at) = bad {
            problems.push(format!("DMEM differs from the image at {at:#x}"));
        }
        if let Some((at, sig)) = &image.signature {
            if dmem.get(*at..*at + sig.len()) != Some(sig.as_slice()) {
                problems.push(format!(
                    "the signature at DMEM {at:#x} is not the one the board's fuse version accepts"
                ));
            }
        }
        if falcon.bootvec() != image.boot_vector {
            problems.push(format!(
                "BOOTVEC is {:#x}, the image's entry is {:#x}",
                falcon.bootvec(),
                image.boot_vector
            ));
        }
        if let Some(brom) = image.brom {
            let (paraaddr, engid_mask, ucode_id, mod_sel) = falcon.brom();
            if paraaddr != brom.paraaddr {
                problems.push(format!(
                    "BROM_PARAADDR(0) is {paraaddr:#x}, the signature is at {:#x}",
                    brom.paraaddr
                ));
            }
            if engid_mask != brom.engid_mask {
                problems.push(format!(
                    "BROM_ENGIDMASK is {engid_mask:#x}, expected {:#x}",
                    brom.engid_mask
                ));
            }
            if ucode_id != brom.ucode_id {
                problems.push(format!(
                    "BROM_CURR_UCODE_ID is {ucode_id:#x}, expected {:#x}",
                    brom.ucode_id
                ));
            }
            // NV_PFALCON2_FALCON_MOD_SEL_ALGO_RSA3K (ga102/dev_falcon_second_pri.h).
            if mod_sel != 1 {
                problems.push(format!("MOD_SEL is {mod_sel:#x}, not RSA3K (1)"));
            }
        }
        Verdict::Known { image, problems }
    }
}

/// The FWSEC image of `fwsec`, as the driver must load it.
fn fwsec_image(
    vbios: &Vbios,
    fwsec: &FwsecInfo,
    kind: ImageKind,
    generation: Generation,
) -> Result<KnownImage, String> {
    let rom = vbios.bytes();
    let desc = fwsec.desc_offset;
    let field = |i: usize| {
        read_u32(rom, desc + 4 * i).ok_or_else(|| "descriptor outside the ROM".to_string())
    };
    // FALCON_UCODE_DESC_V2: ..., IMEMPhysBase (5), IMEMLoadSize (6), IMEMVirtBase (7),
    // IMEMSecBase (8), IMEMSecSize (9), DMEMOffset (10), DMEMPhysBase (11), DMEMLoadSize (12).
    // FALCON_UCODE_DESC_V3: ..., IMEMPhysBase (4), IMEMLoadSize (5), IMEMVirtBase (6),
    // DMEMPhysBase (7), DMEMLoadSize (8).
    let (imem_virt, dmem_phys, dmem_offset) = match fwsec.version {
        DescVersion::V2 => (field(7)?, field(11)?, field(10)?),
        DescVersion::V3 => (field(6)?, field(7)?, fwsec.imem_load_size),
    };
    // V2: the virtual entry point (field 3); V3 starts at the IMEM virtual base.
    let entry = match fwsec.version {
        DescVersion::V2 => field(3)?,
        DescVersion::V3 => imem_virt,
    };
    let ucode = rom
        .get(fwsec.ucode_offset..)
        .ok_or_else(|| "ucode outside the ROM".to_string())?;
    let code = match fwsec.version {
        DescVersion::V3 => vec![Code {
            va: imem_virt,
            bytes: slice(ucode, 0, fwsec.imem_load_size)?,
            secure: true,
        }],
        DescVersion::V2 => {
            let (sec_base, sec_size) = (field(8)?, field(9)?);
            let sec_start = sec_base.checked_sub(imem_virt).ok_or("IMEMSecBase")?;
            vec![
                Code {
                    va: imem_virt,
                    bytes: slice(ucode, 0, sec_start)?,
                    secure: false,
                },
                Code {
                    va: sec_base,
                    bytes: slice(ucode, sec_start, sec_size)?,
                    secure: true,
                },
            ]
        }
    };
    let data = slice(ucode, dmem_offset, fwsec.dmem_load_size)?;
    let base = usz(dmem_phys);

    // The DMEMMAPPER interface, found like the driver does, in the image's own DMEM.
    let hdr = usz(fwsec.interface_offset);
    let (hsize, esize, count) = match data.get(hdr..hdr + 4) {
        Some([1, h, e, c]) => (usz((*h).into()), usz((*e).into()), usz((*c).into())),
        _ => return Err("no application interface table".into()),
    };
    let mapper = (0..count)
        .map(|i| hdr + hsize + i * esize)
        .find(|at| read_u32(&data, *at) == Some(APPIF_ID_DMEMMAPPER))
        .and_then(|at| read_u32(&data, at + 4))
        .map(usz)
        .ok_or("no DMEMMAPPER interface")?;
    let cmd_in = read_u32(&data, mapper + DMEMMAPPER_CMD_IN)
        .map(usz)
        .ok_or("DMEMMAPPER")?;
    let cmd_in_size = read_u32(&data, mapper + DMEMMAPPER_CMD_IN + 4)
        .map(usz)
        .ok_or("DMEMMAPPER")?;
    if cmd_in_size < FRTS_CMD_SIZE {
        return Err("command buffer too small for FrtsCmd".into());
    }
    let init_cmd = base + mapper + DMEMMAPPER_INIT_CMD;
    let holes = vec![
        init_cmd..init_cmd + 4,
        base + cmd_in..base + cmd_in + cmd_in_size,
    ];

    let signature = match (fwsec.version, fwsec.signature_index()) {
        (DescVersion::V3, Some(index)) => {
            let at = desc + crate::vbios::DESC_V3_SIZE + index * SIGNATURE_SIZE;
            let sig = rom
                .get(at..at + SIGNATURE_SIZE)
                .ok_or("signature outside the ROM")?;
            Some((base + usz(fwsec.pkc_data_offset), sig.to_vec()))
        }
        _ => None,
    };
    let brom =
        (generation == Generation::Ga102 && fwsec.version == DescVersion::V3).then_some(Brom {
            paraaddr: fwsec.pkc_data_offset,
            engid_mask: u32::from(fwsec.engine_id_mask),
            ucode_id: u32::from(fwsec.ucode_id),
        });
    Ok(KnownImage {
        kind,
        engine: Engine::Gsp,
        code,
        dmem_base: base,
        data,
        holes,
        signature,
        boot_vector: entry,
        brom,
        fwsec_cmd: Some((init_cmd, base + cmd_in)),
    })
}

/// The booter image of a TLV, and the SEC2 fuse the board has for it.
fn booter_image(
    tlv: &[u8],
    kind: ImageKind,
    generation: Generation,
) -> Result<(KnownImage, Option<(u32, u32)>), String> {
    let tlv = Tlv::parse(tlv).map_err(|e| e.to_string())?;
    let get = |tag: Tag| tlv.u32(tag).map_err(|e| e.to_string());
    let blob = tlv.bytes(Tag::BLOB).map_err(|e| e.to_string())?;
    let (cdof, cdsz, daof, dasz) = (
        get(Tag::CDOF)?,
        get(Tag::CDSZ)?,
        get(Tag::DAOF)?,
        get(Tag::DASZ)?,
    );
    let (a0co, a0cs, ploc) = (get(Tag::A0CO)?, get(Tag::A0CS)?, get(Tag::PLOC)?);
    let (fuse, enid, ucid, nsig) = (
        get(Tag::FUSE)?,
        get(Tag::ENID)?,
        get(Tag::UCID)?,
        get(Tag::NSIG)?,
    );
    let sigs = tlv.bytes(Tag::SIGN).map_err(|e| e.to_string())?;
    let sig_size = usz(u32::try_from(sigs.len()).map_err(|e| e.to_string())?)
        .checked_div(usz(nsig))
        .filter(|s| *s > 0)
        .ok_or("no signature")?;
    let (index, fuse_reg) = match generation {
        // The board is fused at FUSE: the first signature.
        Generation::Ga102 => {
            let n = ucid.checked_sub(1).ok_or("UCID 0")?;
            (0usize, Some((FUSE_SEC2_UCODE1 + 4 * n, fuse_value(fuse))))
        }
        // No fuse read: the last signature.
        Generation::Tu102 => (usz(nsig) - 1, None),
    };
    let sig = sigs
        .get(index * sig_size..(index + 1) * sig_size)
        .ok_or("signature index")?
        .to_vec();
    let sig_at = usz(ploc.checked_sub(daof).ok_or("PLOC before DAOF")?);
    let mut code = Vec::new();
    if generation == Generation::Tu102 {
        code.push(Code {
            va: cdof,
            bytes: slice(blob, 0, cdsz)?,
            secure: false,
        });
    }
    code.push(Code {
        va: a0co,
        bytes: slice(blob, a0co, a0cs)?,
        secure: true,
    });
    let image = KnownImage {
        kind,
        engine: Engine::Sec2,
        code,
        dmem_base: 0,
        data: slice(blob, daof, dasz)?,
        holes: Vec::new(),
        signature: Some((sig_at, sig)),
        boot_vector: if generation == Generation::Tu102 {
            cdof
        } else {
            a0co
        },
        brom: (generation == Generation::Ga102).then_some(Brom {
            paraaddr: ploc - daof,
            engid_mask: enid,
            ucode_id: ucid,
        }),
        fwsec_cmd: None,
    };
    Ok((image, fuse_reg))
}

/// The generic bootloader of a `gen_bootloader.tlv`.
fn gen_bootloader_image(tlv: &[u8]) -> Result<KnownImage, String> {
    let tlv = Tlv::parse(tlv).map_err(|e| e.to_string())?;
    let strt = tlv.u32(Tag::STRT).map_err(|e| e.to_string())?;
    let cdsz = tlv.u32(Tag::CDSZ).map_err(|e| e.to_string())?;
    let blob = tlv.bytes(Tag::BLOB).map_err(|e| e.to_string())?;
    let entry = strt.checked_mul(256).ok_or("STRT")?;
    Ok(KnownImage {
        kind: ImageKind::GenBootloader,
        engine: Engine::Gsp,
        code: vec![Code {
            va: entry,
            bytes: slice(blob, 0, cdsz)?,
            secure: false,
        }],
        dmem_base: 0,
        data: Vec::new(),
        holes: Vec::new(),
        signature: None,
        boot_vector: entry,
        brom: None,
        fwsec_cmd: None,
    })
}
