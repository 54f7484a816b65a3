// SPDX-License-Identifier: GPL-2.0

//! The PCI driver: binds to NVIDIA display-class devices, identifies the chip and hands it to the
//! second-level drivers.

use kernel::{
    auxiliary,
    device::Core,
    new_mutex,
    pci::{self, Class, ClassMask, Vendor},
    prelude::*,
    sizes::SZ_16M,
    sync::{Arc, Mutex},
};

use crate::{
    boot::GpuState,
    firmware,
    gpu::Spec,
    gsp::rm::RmChannel,
    interface::{GpuInfo, GpuInfoForLt, AUXILIARY_NAME, MODULE_NAME},
    intr::{GspIrq, Interrupts, MsgSignal},
    vbios::Vbios,
};

/// Size of BAR0, the register window, on every chip nova supports.
const BAR0_SIZE: usize = SZ_16M;

/// BAR0 of a bound GPU.
pub(crate) type Bar0<'a> = &'a pci::Bar<'a, BAR0_SIZE>;

/// The mapping of BAR0, shared by the driver state and GSP-RM's RPC channel (which rings the
/// doorbell in BAR0 when an RM object frees itself). The mapping goes away with the last
/// holder, all of which the driver state owns.
pub(crate) type Bar0Owner<'a> = Arc<pci::Bar<'a, BAR0_SIZE>>;

/// The PCI BAR through which the CPU reaches the GPU's memory.
const BAR1: u32 = 1;

/// The driver state of one bound GPU.
#[pin_data]
pub(crate) struct NovaCore<'bound> {
    /// The register window; the chip's units will be reached through it.
    bar: Bar0Owner<'bound>,
    /// The GPU's interrupt, while the GSP's drives GSP-RM's message queue.
    irq: Option<Pin<KBox<Interrupts<'bound>>>>,
    /// GSP-RM and the memory it uses, until unbind stops it.
    #[pin]
    gsp: Mutex<GpuState<'bound>>,
    /// The auxiliary device for nova-drm. Dropped (unregistered) before `bar`.
    _drm: auxiliary::Registration<'bound, GpuInfoForLt>,
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

            let bar = Arc::new(
                pdev.iomap_region_sized::<BAR0_SIZE>(0, c"nova-core/bar0")?,
                GFP_KERNEL,
            )?;
            let spec = Spec::read(pdev.as_ref(), &bar)?;
            // GSP boot loads its own files itself, once (the GSP-RM image is large).
            firmware::check_files(
                pdev.as_ref(),
                spec.chipset(),
                GpuState::loads(spec.chipset()),
            )?;
            // Only needed until the GSP boot has prepared its FWSEC images; dropped after.
            let vbios = Vbios::read(pdev.as_ref(), &bar, spec.chipset())?;
            let bar1_size = pdev.resource_len(BAR1)?;

            dev_info!(
                pdev,
                "[identified] NVIDIA {}, BAR1 {} MiB\n",
                spec,
                bar1_size >> 20
            );

            // Boots GSP-RM where nova does; on failure the GPU is left rebindable. Until the
            // GSP's interrupt vector is known, its message queue is polled.
            let signal = MsgSignal::new(pdev.as_ref())?;
            let (mut gsp, gsp_info) = GpuState::boot(pdev, &bar, &spec, &vbios, &signal)?;
            let irq = gsp
                .gsp_vector()
                .zip(gsp.channel())
                .and_then(|(vector, channel)| {
                    Self::interrupts(pdev, &bar, &signal, channel, &spec, vector)
                });
            // The driver's RM objects, on the interrupt where there is one.
            let facts = gsp.attach(pdev.as_ref()).inspect_err(|_| {
                if let Some(irq) = &irq {
                    irq.disable(pdev.as_ref());
                }
                gsp.shutdown(pdev.as_ref(), &bar)
            })?;

            let gsp_info = match (gsp_info, facts) {
                (Some(info), Some(facts)) => Some(info.with_facts(facts)),
                (info, _) => info,
            };
            let info = GpuInfo::new(spec, bar1_size, pdev.device_id(), gsp_info);
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
                if let Some(irq) = &irq {
                    irq.disable(pdev.as_ref());
                }
                gsp.shutdown(pdev.as_ref(), &bar)
            })?;

            Ok(try_pin_init!(NovaCore {
                bar,
                irq,
                gsp <- new_mutex!(gsp),
                _drm: drm,
            }))
        })
    }

    fn unbind<'bound>(pdev: &'bound pci::Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        let mut gsp = this.gsp.lock();
        // The RM objects go first, on the interrupt; then the interrupt, since stopping
        // GSP-RM resets the GSP (that is polled).
        gsp.detach();
        if let Some(irq) = &this.irq {
            irq.disable(pdev.as_ref());
        }
        // Stop GSP-RM while the BAR is still mapped; its memory is freed with `this`.
        gsp.shutdown(pdev.as_ref(), &this.bar);
    }
}

impl NovaCoreDriver {
    /// Lets the GSP's interrupt, on `vector`, drive GSP-RM's message queue, unless the
    /// `gsp_poll` parameter asks for polling. Without an MSI vector the queue stays polled,
    /// after one log line: the GPU works either way.
    fn interrupts<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        bar: &Bar0Owner<'bound>,
        signal: &Arc<MsgSignal>,
        channel: Arc<RmChannel<'bound>>,
        spec: &Spec,
        vector: crate::intr::Vector,
    ) -> Option<Pin<KBox<Interrupts<'bound>>>> {
        if crate::module_parameters::gsp_poll.value() {
            dev_info!(pdev, "gsp_poll=1: polling GSP-RM's message queue\n");
            return None;
        }
        let irq = GspIrq::new(bar.clone(), signal.clone(), channel, spec.chipset())
            .and_then(|handler| Interrupts::new(pdev, handler));
        match irq {
            Ok(irq) => {
                irq.enable(vector);
                Some(irq)
            }
            Err(e) => {
                dev_warn!(
                    pdev,
                    "no MSI for the GPU (error {}); polling GSP-RM's message queue\n",
                    e.to_errno()
                );
                None
            }
        }
    }
}
