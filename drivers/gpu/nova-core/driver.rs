// SPDX-License-Identifier: GPL-2.0

//! The PCI driver: binds to NVIDIA display-class devices, identifies the chip and hands it to the
//! second-level drivers.

use kernel::{
    auxiliary,
    device::Core,
    pci::{self, Class, ClassMask, Vendor},
    prelude::*,
    sizes::SZ_16M,
};

use crate::{
    falcon::{gsp::Gsp, sec2::Sec2, Falcon},
    fb::{FbLayout, SysmemFlush},
    firmware,
    gpu::Spec,
    interface::{GpuInfo, GpuInfoForLt, AUXILIARY_NAME, MODULE_NAME},
    vbios::Vbios,
};

/// Size of BAR0, the register window, on every chip nova supports.
const BAR0_SIZE: usize = SZ_16M;

/// BAR0 of a bound GPU.
pub(crate) type Bar0<'a> = &'a pci::Bar<'a, BAR0_SIZE>;

/// The PCI BAR through which the CPU reaches the GPU's memory.
const BAR1: u32 = 1;

/// The driver state of one bound GPU.
#[pin_data(PinnedDrop)]
pub(crate) struct NovaCore<'bound> {
    /// The register window; the chip's units will be reached through it.
    bar: pci::Bar<'bound, BAR0_SIZE>,
    /// The parsed VBIOS, which holds the FWSEC ucode that GSP boot will run.
    _vbios: Vbios,
    /// The sysmem flush page, if the FB unit was set up; unregistered on drop.
    sysmem_flush: Option<SysmemFlush>,
    /// The auxiliary device for nova-drm. Dropped (unregistered) before `bar`.
    _drm: auxiliary::Registration<'bound, GpuInfoForLt>,
}

#[pinned_drop]
impl PinnedDrop for NovaCore<'_> {
    fn drop(self: Pin<&mut Self>) {
        let this = self.project();
        if let Some(flush) = this.sysmem_flush.take() {
            flush.unregister(&*this.bar);
        }
    }
}

/// The nova-core PCI driver.
pub(crate) struct NovaCoreDriver;

kernel::pci_device_table!(
    PCI_TABLE,
    <NovaCoreDriver as pci::Driver>::IdInfo,
    [
        // NVIDIA GPUs present themselves as VGA controllers, or as 3D controllers when they have
        // no display engine (data-centre parts). The chip itself is identified from BOOT_42.
        (
            pci::DeviceId::from_class_and_vendor(
                Class::DISPLAY_VGA,
                ClassMask::ClassSubclass,
                Vendor::NVIDIA
            ),
            ()
        ),
        (
            pci::DeviceId::from_class_and_vendor(
                Class::DISPLAY_3D,
                ClassMask::ClassSubclass,
                Vendor::NVIDIA
            ),
            ()
        ),
    ]
);

impl pci::Driver for NovaCoreDriver {
    type IdInfo = ();
    type Data<'bound> = NovaCore<'bound>;
    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        pin_init::pin_init_scope(move || {
            pdev.enable_device_mem()?;
            pdev.set_master();

            let bar = pdev.iomap_region_sized::<BAR0_SIZE>(0, c"nova-core/bar0")?;
            let spec = Spec::read(pdev.as_ref(), &bar)?;
            firmware::check_files(pdev.as_ref(), spec.chipset())?;
            let vbios = Vbios::read(pdev.as_ref(), &bar, spec.chipset())?;
            let bar1_size = pdev.resource_len(BAR1)?;

            // Lay out the top of VRAM and reset the falcons that will boot GSP-RM. Skipped
            // (with a line saying why) on chips or simulators without a FB unit to lay out.
            let mut sysmem_flush = match FbLayout::probe(pdev.as_ref(), &bar, spec.chipset())? {
                Some(layout) => {
                    dev_info!(pdev, "{}\n", layout);
                    let flush = SysmemFlush::register(pdev.as_ref(), &bar, spec.chipset())?;
                    let reset = Falcon::<Gsp>::new_reset(pdev.as_ref(), &bar, spec.chipset())
                        .and_then(|_| {
                            Falcon::<Sec2>::new_reset(pdev.as_ref(), &bar, spec.chipset())
                        });
                    if let Err(e) = reset {
                        flush.unregister(&bar);
                        return Err(e);
                    }
                    Some(flush)
                }
                None => None,
            };

            dev_info!(pdev, "NVIDIA {}, BAR1 {} MiB\n", spec, bar1_size >> 20);

            let info = GpuInfo::new(spec, bar1_size, pdev.device_id());
            // The bus/device/function number is unique among the GPUs of a PCI domain and is
            // free again once this device is unbound, so rebinding reuses it.
            let drm = auxiliary::Registration::new(
                pdev.as_ref(),
                AUXILIARY_NAME,
                u32::from(pdev.dev_id()),
                MODULE_NAME,
                info,
            )
            .inspect_err(|_| {
                if let Some(flush) = sysmem_flush.take() {
                    flush.unregister(&bar);
                }
            })?;

            Ok(try_pin_init!(NovaCore {
                bar,
                _vbios: vbios,
                sysmem_flush,
                _drm: drm,
            }))
        })
    }
}
