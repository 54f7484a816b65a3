// SPDX-License-Identifier: GPL-2.0

//! SEC2's booter images, `booter_load` and `booter_unload`, patched for the board.
//!
//! The files are heavy-secure images ([`HsLayout`], which checks their layout when the file is
//! loaded). On GA102 and later the boot ROM verifies the image against the signature for the
//! board's fused ucode version: the driver patches that signature into the data, and tells the
//! boot ROM where it is (`BROM_PARAADDR`), which engines the image is for and its ucode id.

use kernel::prelude::*;

use crate::{
    falcon::{sec2::Sec2, BromParams, FalconImage, FalconSection},
    firmware::hs::HsLayout,
};

/// Why a checked booter file cannot be used on this board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BooterError {
    /// The file carries no signature for the board's fuse version.
    NoSignature {
        /// The fuse version the board reads.
        fused: u32,
        /// The fuse version of the file's newest signature.
        newest: u32,
        /// How many signatures the file carries.
        count: usize,
    },
    /// Another error (memory allocation, reading the fuse).
    Kernel(Error),
}

impl From<Error> for BooterError {
    fn from(e: Error) -> Self {
        Self::Kernel(e)
    }
}

/// Which parts of a booter image SEC2 loads, by chip family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BooterParts {
    /// Application 0 alone, secure, at IMEM 0; the boot ROM verifies it (GA102 and later).
    App0,
    /// The non-secure OS code at IMEM 0, tagged with its payload offset, where the CPU starts,
    /// and application 0 after it, secure (Turing and GA100: `s_prepareHsFalconDirect` in
    /// open-gpu-kernel-modules `kernel_gsp_falcon_tu102.c`, with the parts
    /// `kgspAllocateBooterUcode` takes from the load header in `kernel_gsp_booter.c`).
    OsThenApp0,
}

/// A booter image patched with the board's signature, ready for SEC2.
pub(crate) struct Booter {
    bytes: KVVec<u8>,
    layout: HsLayout,
    load: BooterParts,
}

impl Booter {
    /// Builds the image from `file` (which `layout` describes) for a board whose SEC2 fuse for
    /// the image reads what `fuse` returns, given the engine mask and ucode id.
    pub(crate) fn new(
        file: &[u8],
        layout: HsLayout,
        load: BooterParts,
        fuse: impl FnOnce(u16, u8) -> Result<u32>,
    ) -> Result<Self, BooterError> {
        let fused = fuse(layout.engine_id_mask, layout.ucode_id)?;
        let no_signature = BooterError::NoSignature {
            fused,
            newest: layout.fuse_version,
            count: layout.count(),
        };
        let sig = layout
            .signature_index(fused)
            .and_then(|i| layout.signature(i))
            .ok_or(no_signature)?;
        let signature = file.get(sig).ok_or(EINVAL)?;

        // The payload is at most `hs::MAX_PAYLOAD` bytes, as the layout check made sure.
        let mut bytes = KVVec::new();
        bytes
            .extend_from_slice(
                file.get(layout.payload.clone()).ok_or(EINVAL)?,
                GFP_KERNEL | __GFP_NOWARN,
            )
            .map_err(|_| ENOMEM)?;
        let at = usize::try_from(layout.patch_at).map_err(|_| EINVAL)?;
        let end = at.checked_add(layout.signature_size).ok_or(EINVAL)?;
        bytes
            .get_mut(at..end)
            .ok_or(EINVAL)?
            .copy_from_slice(signature);
        Ok(Self {
            bytes,
            layout,
            load,
        })
    }
}

impl FalconImage for Booter {
    type Engine = Sec2;

    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn imem_secure(&self) -> Option<FalconSection> {
        let app0 = self.layout.app0;
        // After the OS code where it is loaded; the layout check made its size whole blocks.
        let dst = match self.load {
            BooterParts::App0 => 0,
            BooterParts::OsThenApp0 => self.layout.code.size,
        };
        Some(FalconSection {
            src: app0.offset,
            dst,
            virt: app0.offset,
            len: app0.size,
        })
    }

    fn imem_nonsecure(&self) -> Option<FalconSection> {
        let code = self.layout.code;
        match self.load {
            BooterParts::App0 => None,
            BooterParts::OsThenApp0 => Some(FalconSection {
                src: code.offset,
                dst: 0,
                virt: code.offset,
                len: code.size,
            }),
        }
    }

    fn dmem(&self) -> FalconSection {
        let data = self.layout.data;
        FalconSection {
            src: data.offset,
            dst: 0,
            virt: 0,
            len: data.size,
        }
    }

    fn boot_vector(&self) -> u32 {
        match self.load {
            BooterParts::App0 => self.layout.app0.offset,
            BooterParts::OsThenApp0 => self.layout.code.offset,
        }
    }

    fn brom_params(&self) -> Option<BromParams> {
        if self.load == BooterParts::OsThenApp0 {
            // Turing's boot ROM takes no parameters: the image carries its signature.
            return None;
        }
        Some(BromParams {
            // The layout check put the patch inside the data, so this does not wrap.
            pkc_data_offset: self.layout.patch_at.wrapping_sub(self.layout.data.offset),
            engine_id_mask: self.layout.engine_id_mask,
            ucode_id: self.layout.ucode_id,
        })
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_boot_booter)]
mod tests {
    use super::*;

    use crate::firmware::hs::test_file as file;

    #[test]
    fn patches_the_fused_signature() -> Result {
        let f = file()?;
        let layout = HsLayout::parse(&f).map_err(|_| EINVAL)?;
        let b = Booter::new(&f, layout.clone(), BooterParts::App0, |mask, id| {
            assert_eq!((mask, id), (1, 3));
            Ok(4)
        })
        .map_err(|_| EINVAL)?;
        assert_eq!(&b.bytes()[0x310..0x320], &[0xb2; 16]);
        assert_eq!(b.bytes().len(), 0x400);
        assert_eq!(
            b.brom_params(),
            Some(BromParams {
                pkc_data_offset: 0x10,
                engine_id_mask: 1,
                ucode_id: 3
            })
        );
        assert_eq!(b.boot_vector(), 0x100);
        // A board fused at 3 has no signature in the file.
        assert!(matches!(
            Booter::new(&f, layout.clone(), BooterParts::App0, |_, _| Ok(3)),
            Err(BooterError::NoSignature {
                fused: 3,
                newest: 5,
                count: 2
            })
        ));
        // Turing and GA100: the OS code first, where the CPU starts, application 0 after it.
        let t = Booter::new(&f, layout.clone(), BooterParts::OsThenApp0, |_, _| Ok(0))
            .map_err(|_| EINVAL)?;
        let os = t.imem_nonsecure().ok_or(EINVAL)?;
        let app = t.imem_secure().ok_or(EINVAL)?;
        assert_eq!(
            (os.src, os.dst, os.virt),
            (layout.code.offset, 0, layout.code.offset)
        );
        assert_eq!(app.dst, layout.code.size);
        assert_eq!(t.boot_vector(), layout.code.offset);
        assert_eq!(t.brom_params(), None);
        Ok(())
    }
}
