// SPDX-License-Identifier: GPL-2.0

//! The GSP-RM image file (`gsp-<version>.bin`).
//!
//! An ELF64 object whose `.fwimage` section is the image the GSP bootloader loads, `.fwversion`
//! its release as a NUL-terminated string ("570.144"), and `.fwsignature_<family>` one signature
//! per chip family. Only references into the file are kept: the image (60 MiB on GA102) is
//! copied once, into the DMA pages the GSP reads.

// Used by the GSP boot code, which probe does not run yet.
#![allow(dead_code, reason = "the GSP boot sequence is not wired into probe yet")]

use super::{elf, signature_section, FwError};
use crate::gpu::Chipset;

/// The parts of a GSP-RM image file one chip needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GspImage<'a> {
    /// The image (`.fwimage`).
    pub(crate) image: &'a [u8],
    /// The release, up to its first NUL (`.fwversion`).
    pub(crate) version: &'a [u8],
    /// The signature for the chip's family.
    pub(crate) signature: &'a [u8],
}

impl<'a> GspImage<'a> {
    /// Finds the image, version and `chipset`'s signature in `data`; every offset is checked.
    pub(crate) fn parse(data: &'a [u8], chipset: Chipset) -> Result<Self, FwError> {
        let image = elf::section(data, ".fwimage")?;
        if image.is_empty() {
            return Err(FwError::Malformed("empty GSP-RM image"));
        }
        let raw_version = elf::section(data, ".fwversion")?;
        let end = raw_version
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(raw_version.len());
        let version = raw_version.get(..end).ok_or(FwError::Truncated)?;
        let signature = elf::section(data, signature_section(chipset)).map_err(|e| match e {
            FwError::MissingSection => FwError::Malformed("no signature section for this chip's family"),
            e => e,
        })?;
        if signature.is_empty() {
            return Err(FwError::Malformed("empty signature"));
        }
        Ok(Self {
            image,
            version,
            signature,
        })
    }
}
