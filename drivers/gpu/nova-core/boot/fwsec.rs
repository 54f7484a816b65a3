// SPDX-License-Identifier: GPL-2.0

//! FWSEC from the VBIOS as an image the GSP falcon loads.

use kernel::prelude::*;

use crate::{
    falcon::{gsp::Gsp, BromParams, FalconImage, FalconSection},
    vbios::{FwsecImage, Segment},
};

/// A [`FwsecImage`] with its segments converted to falcon sections.
pub(crate) struct FwsecLoad {
    image: FwsecImage,
    imem_ns: Option<FalconSection>,
    imem_sec: FalconSection,
    dmem: FalconSection,
    brom: Option<BromParams>,
}

/// Converts `seg` to a falcon section, refusing offsets that do not fit the falcon's 32 bits.
fn section(seg: &Segment) -> Result<FalconSection> {
    let len = seg.src.end.checked_sub(seg.src.start).ok_or(EINVAL)?;
    Ok(FalconSection {
        src: u32::try_from(seg.src.start)?,
        dst: seg.dst,
        virt: seg.virt,
        len: u32::try_from(len)?,
    })
}

impl FwsecLoad {
    /// Wraps `image`.
    pub(crate) fn new(image: FwsecImage) -> Result<Self> {
        Ok(Self {
            imem_ns: image.imem_ns.as_ref().map(section).transpose()?,
            imem_sec: section(&image.imem_sec)?,
            dmem: section(&image.dmem)?,
            brom: image.brom,
            image,
        })
    }
}

impl FalconImage for FwsecLoad {
    type Engine = Gsp;

    fn bytes(&self) -> &[u8] {
        &self.image.bytes
    }

    fn imem_secure(&self) -> Option<FalconSection> {
        Some(self.imem_sec)
    }

    fn imem_nonsecure(&self) -> Option<FalconSection> {
        self.imem_ns
    }

    fn dmem(&self) -> FalconSection {
        self.dmem
    }

    fn boot_vector(&self) -> u32 {
        self.image.boot_vector
    }

    fn brom_params(&self) -> Option<BromParams> {
        self.brom
    }
}
