// SPDX-License-Identifier: GPL-2.0

//! The interface nova-core offers to second-level drivers.
//!
//! nova-core owns the PCI device. For every GPU it drives it registers an auxiliary device named
//! [`AUXILIARY_NAME`] under the module name [`MODULE_NAME`], and attaches a [`GpuInfo`] to it as
//! registration data. A second-level driver (nova-drm) binds to that auxiliary device and reads
//! the data with [`kernel::auxiliary::Device::registration_data`], using [`GpuInfoForLt`] as the
//! type key:
//!
//! ```ignore
//! let info = adev.registration_data::<nova_core::interface::GpuInfoForLt>()?;
//! pr_info!("{} with a {} MiB BAR1\n", info.spec(), info.bar1_size() >> 20);
//! ```
//!
//! The auxiliary device is removed before nova-core lets go of the GPU, so the data is valid for
//! as long as the second-level driver is bound.

use kernel::{prelude::*, sync::Arc, types::CovariantForLt};

pub use crate::gpu::{Architecture, Chipset, Revision, Spec};

/// The module name under which nova-core registers its auxiliary devices.
pub const MODULE_NAME: &CStr = c"nova-core";

/// The name of the auxiliary device that nova-drm binds to.
pub const AUXILIARY_NAME: &CStr = c"nova-drm";

/// What nova-core tells a second-level driver about the GPU behind an auxiliary device.
#[derive(Clone, Debug)]
pub struct GpuInfo {
    spec: Spec,
    bar1_size: u64,
    pci_device_id: u16,
    gsp: Option<GspInfo>,
}

impl GpuInfo {
    pub(crate) fn new(
        spec: Spec,
        bar1_size: u64,
        pci_device_id: u16,
        gsp: Option<GspInfo>,
    ) -> Self {
        Self {
            spec,
            bar1_size,
            pci_device_id,
            gsp,
        }
    }

    /// Returns what GSP-RM reported when nova-core booted it, or `None` on chips where
    /// nova-core does not boot GSP-RM yet.
    #[inline]
    pub fn gsp(&self) -> Option<&GspInfo> {
        self.gsp.as_ref()
    }

    /// Returns the GPU's identity (chipset, architecture, revision).
    #[inline]
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Returns the size in bytes of BAR1, the CPU's aperture onto the GPU's memory.
    #[inline]
    pub fn bar1_size(&self) -> u64 {
        self.bar1_size
    }

    /// Returns the PCI device id of the board.
    #[inline]
    pub fn pci_device_id(&self) -> u16 {
        self.pci_device_id
    }
}

/// The [`ForLt`](trait@kernel::types::ForLt) key of [`GpuInfo`] as auxiliary registration data.
/// Both sides of the interface must name this alias, so that the type check on the data matches.
pub type GpuInfoForLt = CovariantForLt!(GpuInfo);

/// The most FB regions [`GspInfo`] keeps.
pub const MAX_USABLE_FB: usize = 16;

/// A range of VRAM, in bytes from its start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FbRange {
    /// First byte.
    pub start: u64,
    /// First byte past the range.
    pub end: u64,
}

/// The most engines [`DeviceFacts`] keeps.
pub const MAX_ENGINES: usize = 64;
/// The most classes [`DeviceFacts`] keeps.
pub const MAX_CLASSES: usize = 128;

/// The kind of an engine that runs work the host submits through channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// Graphics and compute (GR).
    Graphics,
    /// A copy engine (CE).
    Copy,
    /// A video decoder (NVDEC).
    Nvdec,
    /// A video encoder (NVENC).
    Nvenc,
    /// A JPEG decoder (NVJPG).
    Nvjpg,
    /// An optical flow accelerator (OFA).
    Ofa,
    /// The security engine (SEC2).
    Sec2,
    /// GSP-RM's software engine.
    Software,
}

/// One engine of the GPU, as GSP-RM's device info table lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Engine {
    /// The engine's kind, or `None` for one nova does not know.
    pub kind: Option<EngineKind>,
    /// The engine's instance among the engines of its kind (copy engine 3 is 3).
    pub instance: u32,
    /// The runlist that serves the engine.
    pub runlist: u32,
}

/// What GSP-RM's controls report about the GPU's engines, classes and graphics units.
///
/// About 1.3 KiB: it lives on the heap, shared ([`GspInfo::facts`]), never on a stack.
#[derive(Debug)]
pub struct DeviceFacts {
    engines: [Engine; MAX_ENGINES],
    engine_count: usize,
    classes: [u32; MAX_CLASSES],
    class_count: usize,
    gpc_mask: u32,
    tpc_count: u32,
}

impl DeviceFacts {
    /// No engines, no classes, no GPCs.
    pub const fn empty() -> Self {
        Self {
            engines: [Engine {
                kind: None,
                instance: 0,
                runlist: 0,
            }; MAX_ENGINES],
            engine_count: 0,
            classes: [0; MAX_CLASSES],
            class_count: 0,
            gpc_mask: 0,
            tpc_count: 0,
        }
    }

    /// Appends `engine`; `EOVERFLOW` if [`MAX_ENGINES`] are kept already.
    pub(crate) fn push_engine(&mut self, engine: Engine) -> Result {
        let slot = self.engines.get_mut(self.engine_count).ok_or(EOVERFLOW)?;
        *slot = engine;
        self.engine_count = self.engine_count.checked_add(1).ok_or(EOVERFLOW)?;
        Ok(())
    }

    /// Sets the classes to `classes`; `EOVERFLOW` if they are more than [`MAX_CLASSES`].
    pub(crate) fn set_classes(&mut self, classes: &[u32]) -> Result {
        self.classes
            .get_mut(..classes.len())
            .ok_or(EOVERFLOW)?
            .copy_from_slice(classes);
        self.class_count = classes.len();
        Ok(())
    }

    /// Sets the mask of enabled GPCs and the number of enabled TPCs of all of them.
    pub(crate) fn set_units(&mut self, gpc_mask: u32, tpc_count: u32) {
        self.gpc_mask = gpc_mask;
        self.tpc_count = tpc_count;
    }

    /// Returns the engines, in the order of GSP-RM's device info table.
    pub fn engines(&self) -> &[Engine] {
        self.engines.get(..self.engine_count).unwrap_or(&[])
    }

    /// Returns the classes the GPU offers (`NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2`), in GSP-RM's
    /// order.
    pub fn classes(&self) -> &[u32] {
        self.classes.get(..self.class_count).unwrap_or(&[])
    }

    /// Returns the number of enabled GPCs.
    pub fn gpc_count(&self) -> u32 {
        self.gpc_mask.count_ones()
    }

    /// Returns the mask of enabled GPCs (bit `n` for GPC `n`).
    pub fn gpc_mask(&self) -> u32 {
        self.gpc_mask
    }

    /// Returns the number of enabled TPCs, all GPCs together.
    pub fn tpc_count(&self) -> u32 {
        self.tpc_count
    }
}

/// No engines, classes or units: the facts of a [`GspInfo`] that has none.
static NO_FACTS: DeviceFacts = DeviceFacts::empty();

/// What GSP-RM reports about the GPU once booted (`GET_GSP_STATIC_INFO`, and the controls of
/// [`DeviceFacts`]).
#[derive(Clone, Debug)]
pub struct GspInfo {
    name: [u8; 64],
    name_len: usize,
    vram_size: u64,
    usable_fb: [FbRange; MAX_USABLE_FB],
    usable_fb_count: usize,
    facts: Option<Arc<DeviceFacts>>,
}

impl GspInfo {
    /// Builds the summary from GSP-RM's answer: the marketing name (cut at 64 bytes), the VRAM
    /// size, and the FB regions that are not protected.
    pub(crate) fn new(name: &str, vram_size: u64, regions: &[crate::gsp::fw::FbRegion]) -> Self {
        let mut this = Self {
            name: [0; 64],
            name_len: 0,
            vram_size,
            usable_fb: [FbRange::default(); MAX_USABLE_FB],
            usable_fb_count: 0,
            facts: None,
        };
        // Cut at a character boundary so that the stored bytes stay UTF-8.
        let mut len = name.len().min(this.name.len());
        while !name.is_char_boundary(len) {
            len = len.saturating_sub(1);
        }
        if let (Some(dst), Some(src)) = (this.name.get_mut(..len), name.as_bytes().get(..len)) {
            dst.copy_from_slice(src);
            this.name_len = len;
        }
        for region in regions.iter().filter(|r| !r.protected) {
            let Some(end) = region.limit.checked_add(1) else {
                continue;
            };
            if end <= region.base {
                continue;
            }
            if let Some(slot) = this.usable_fb.get_mut(this.usable_fb_count) {
                *slot = FbRange {
                    start: region.base,
                    end,
                };
                this.usable_fb_count = this.usable_fb_count.saturating_add(1);
            }
        }
        this
    }

    /// Returns the GPU's name, as GSP-RM reports it (for example "NVIDIA GeForce RTX 4090").
    pub fn gpu_name(&self) -> &str {
        self.name
            .get(..self.name_len)
            .and_then(|s| core::str::from_utf8(s).ok())
            .unwrap_or("")
    }

    /// Returns the VRAM size in bytes GSP-RM reports.
    #[inline]
    pub fn vram_size(&self) -> u64 {
        self.vram_size
    }

    /// Returns the VRAM ranges GSP-RM reports usable (not protected).
    pub fn usable_fb(&self) -> &[FbRange] {
        self.usable_fb.get(..self.usable_fb_count).unwrap_or(&[])
    }

    /// Returns the same information with the engines, classes and units GSP-RM's controls
    /// reported.
    pub(crate) fn with_facts(self, facts: Arc<DeviceFacts>) -> Self {
        Self {
            facts: Some(facts),
            ..self
        }
    }

    /// Returns the engines, classes and graphics units GSP-RM reports (none if nova-core has
    /// not asked).
    pub fn facts(&self) -> &DeviceFacts {
        self.facts.as_deref().unwrap_or(&NO_FACTS)
    }
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_interface)]
mod tests {
    use super::*;
    use crate::gsp::fw::FbRegion;

    fn region(base: u64, limit: u64, protected: bool) -> FbRegion {
        FbRegion {
            base,
            limit,
            protected,
            ..Default::default()
        }
    }

    #[test]
    fn gsp_info_keeps_name_size_and_unprotected_regions() {
        let regions = [
            region(0, 0x5_f3ff_ffff, false),
            region(0x5_f400_0000, 0x5_ffff_ffff, true),
            // An empty or wrapping region is dropped.
            region(0x10, 0x0f, false),
            region(0, u64::MAX, false),
        ];
        let info = GspInfo::new("NVIDIA GeForce RTX 4090", 24 << 30, &regions);
        assert_eq!(info.gpu_name(), "NVIDIA GeForce RTX 4090");
        assert_eq!(info.vram_size(), 24 << 30);
        assert_eq!(
            info.usable_fb(),
            &[FbRange {
                start: 0,
                end: 0x5_f400_0000
            }]
        );
    }

    #[test]
    fn gsp_info_cuts_long_names_at_a_character() {
        // 63 ASCII bytes and a two-byte character: the character does not fit in 64 bytes.
        let mut long = KVec::new();
        for _ in 0..63 {
            assert!(long.push(b'x', GFP_KERNEL).is_ok());
        }
        assert!(long
            .extend_from_slice("\u{e9}".as_bytes(), GFP_KERNEL)
            .is_ok());
        let name = core::str::from_utf8(&long).unwrap_or("");
        let info = GspInfo::new(name, 0, &[]);
        assert_eq!(info.gpu_name().len(), 63);
        assert!(info.usable_fb().is_empty());
    }

    #[test]
    fn device_facts_are_bounded() -> Result {
        let mut f = DeviceFacts::empty();
        assert!(f.engines().is_empty() && f.classes().is_empty());
        let e = Engine {
            kind: Some(EngineKind::Copy),
            instance: 1,
            runlist: 2,
        };
        for _ in 0..MAX_ENGINES {
            f.push_engine(e)?;
        }
        assert_eq!(f.push_engine(e), Err(EOVERFLOW));
        assert_eq!(f.engines().len(), MAX_ENGINES);
        f.set_classes(&[0xc797, 0xc7c0])?;
        assert_eq!(f.classes(), &[0xc797, 0xc7c0]);
        assert_eq!(f.set_classes(&[0; MAX_CLASSES + 1]), Err(EOVERFLOW));
        f.set_units(0x7f, 41);
        assert_eq!((f.gpc_count(), f.tpc_count()), (7, 41));
        Ok(())
    }

    #[test]
    fn gsp_info_keeps_at_most_max_regions() {
        let mut regions = KVec::new();
        for i in 0..(MAX_USABLE_FB as u64 + 4) {
            assert!(regions
                .push(region(i << 20, (i << 20) + 0xfffff, false), GFP_KERNEL)
                .is_ok());
        }
        let info = GspInfo::new("x", 0, &regions);
        assert_eq!(info.usable_fb().len(), MAX_USABLE_FB);
        assert_eq!(
            info.usable_fb()[MAX_USABLE_FB - 1].end,
            (MAX_USABLE_FB as u64) << 20
        );
    }
}
