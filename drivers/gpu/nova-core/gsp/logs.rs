// SPDX-License-Identifier: GPL-2.0

//! GSP-RM's LibOS log buffers in debugfs.
//!
//! Each GPU that boots GSP-RM gets a directory `nova_core/<pci-name>/` holding the three buffers
//! GSP-RM logs into, as raw binary files: `loginit`, `logintr` and `logrm` (the LibOS regions
//! `LOGINIT`, `LOGINTR` and `LOGRM`, see [`super::boot`]). Each file is the whole buffer: the
//! 64-bit put pointer, the buffer's own page table, then the records.
//!
//! While GSP-RM runs, the files show the live DMA buffers. When a boot fails and the GSP was
//! stopped, the buffers are copied into system memory and the copies stay readable, after the
//! failed probe, until the next probe of that GPU or until the module is unloaded: they are what
//! explains the failure. If the GSP could not be stopped, its memory is leaked by the boot code
//! and nothing of it is shown, as the GPU may still write it.
//!
//! The directories live in a module-wide registry keyed by the PCI device name, so that they
//! outlive the device's driver data.

use kernel::{
    debugfs::{Dir, Scope},
    device,
    dma::Coherent,
    prelude::*,
    str::CString,
    sync::Arc,
};

use super::boot::copy_from_dma;

/// The file names of the three buffers, in the order of [`LiveLogs`].
const NAMES: [&CStr; 3] = [c"loginit", c"logintr", c"logrm"];

/// The name of the debugfs directory holding one directory per GPU.
const ROOT_NAME: &CStr = c"nova_core";

/// `LOGINIT`, `LOGINTR` and `LOGRM` as GSP-RM writes them, shared between the GSP memory and
/// debugfs.
pub(crate) type LiveLogs = Arc<[Coherent<[u8]>; 3]>;

/// What a GPU's directory shows: its log buffers, and while GSP-RM runs the RPC benchmark
/// (with `CONFIG_NOVA_CORE_DEBUG_RPC_BENCH`, see `gsp/bench.rs`).
#[pin_data]
struct GpuDir {
    buffers: Buffers,
    #[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
    #[pin]
    bench: super::bench::RpcBench,
}

/// The log buffers a GPU's directory shows.
enum Buffers {
    /// The buffers of a running GSP-RM.
    Live(LiveLogs),
    /// Copies of the buffers of a failed boot, taken after the GSP was stopped.
    Kept([KVVec<u8>; 3]),
}

/// Values kept by PCI device name, at most one per name.
pub(crate) struct Slots<T> {
    entries: KVec<(CString, T)>,
}

impl<T> Slots<T> {
    /// Returns an empty set of slots.
    pub(crate) const fn new() -> Self {
        Self {
            entries: KVec::new(),
        }
    }

    /// Removes and returns the value kept for `key`, if any.
    pub(crate) fn take(&mut self, key: &CStr) -> Option<T> {
        let i = self
            .entries
            .iter()
            .position(|(k, _)| k.to_bytes() == key.to_bytes())?;
        self.entries.remove(i).ok().map(|(_, v)| v)
    }

    /// Keeps `value` for `key` and returns the value it replaces. On an allocation failure,
    /// `value` is dropped and the old value is still returned (removed).
    pub(crate) fn replace(&mut self, key: &CStr, value: T) -> (Option<T>, Result) {
        let old = self.take(key);
        let pushed = CString::try_from(key)
            .map_err(Error::from)
            .and_then(|k| Ok(self.entries.push((k, value), GFP_KERNEL)?));
        (old, pushed)
    }

    /// Returns the number of values kept.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drops every value.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

/// The module-wide state: the root directory and one directory per GPU.
pub(crate) struct Registry {
    /// `nova_core/`; `None` before [`init`] and after [`exit`].
    root: Option<Dir>,
    /// The per-GPU directories, each owning what its files show.
    gpus: Slots<Pin<KBox<Scope<GpuDir>>>>,
}

impl Registry {
    const fn new() -> Self {
        Self {
            root: None,
            gpus: Slots::new(),
        }
    }
}

kernel::sync::global_lock! {
    // SAFETY: `init` initialises it in the module initialiser, before the PCI driver is
    // registered, which is before anything else uses it.
    unsafe(uninit) static REGISTRY: Mutex<Registry> = Registry::new();
}

/// Sets up the registry and creates `nova_core/` in debugfs.
///
/// # Safety
///
/// Must be called exactly once, from the module initialiser, before any other function of this
/// module.
pub(crate) unsafe fn init() {
    // SAFETY: Called once, before any use (the caller's guarantee).
    unsafe { REGISTRY.init() };
    REGISTRY.lock().root = Some(Dir::new(ROOT_NAME));
}

/// Removes every GPU's directory, frees the kept copies and removes `nova_core/`. Called at
/// module exit, after the PCI driver is unregistered.
pub(crate) fn exit() {
    let mut reg = REGISTRY.lock();
    // The GPU directories go before the root they are in.
    reg.gpus.clear();
    reg.root = None;
}

/// Puts `buffers` in `name`'s directory, replacing what was there.
fn publish(dev: &device::Device, name: &CStr, buffers: Buffers) {
    let mut reg = REGISTRY.lock();
    let Registry { root, gpus } = &mut *reg;
    // Whatever was shown for this GPU goes first: the new directory has the same name.
    drop(gpus.take(name));
    let Some(root) = root.as_ref() else {
        return;
    };
    let data = try_pin_init!(GpuDir {
        buffers,
        #[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
        bench <- super::bench::RpcBench::new(),
    }? Error);
    let scope = root.scope(data, name, |data, dir| match &data.buffers {
        Buffers::Live(logs) => {
            for (file, buf) in NAMES.iter().zip(logs.iter()) {
                dir.read_binary_file(file, buf);
            }
            #[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
            data.bench.show(dir);
        }
        Buffers::Kept(copies) => {
            for (file, buf) in NAMES.iter().zip(copies.iter()) {
                dir.read_binary_file(file, buf);
            }
        }
    });
    let (_, added) = match KBox::pin_init(scope, GFP_KERNEL) {
        Ok(scope) => gpus.replace(name, scope),
        Err(e) => (None, Err(e)),
    };
    if let Err(e) = added {
        dev_warn!(
            dev,
            "cannot show the GSP-RM logs in debugfs (error {})\n",
            e.to_errno()
        );
    }
}

/// Shows the buffers of the GSP-RM now running on `dev`.
pub(crate) fn show_live(dev: &device::Device, logs: &LiveLogs) {
    publish(dev, dev.name(), Buffers::Live(logs.clone()));
}

/// Keeps copies of the buffers of a failed boot on `dev`, in place of anything shown for it.
///
/// The caller must have stopped the GSP: nothing may write `logs` any more.
pub(crate) fn keep(dev: &device::Device, logs: &LiveLogs) {
    let copied = (|| -> Result<[KVVec<u8>; 3]> {
        Ok([
            copy_from_dma(&logs[0])?,
            copy_from_dma(&logs[1])?,
            copy_from_dma(&logs[2])?,
        ])
    })();
    match copied {
        Ok(copies) => {
            publish(dev, dev.name(), Buffers::Kept(copies));
            let (dirs, kept) = usage();
            dev_dbg!(
                dev,
                "GSP-RM logs kept in debugfs: {} KiB in all, for {} GPU(s)\n",
                kept >> 10,
                dirs
            );
        }
        Err(e) => {
            hide(dev.name());
            dev_warn!(
                dev,
                "cannot keep the GSP-RM logs (error {})\n",
                e.to_errno()
            );
        }
    }
}

/// Removes the directory of the GPU named `name`, and frees what it kept.
pub(crate) fn hide(name: &CStr) {
    let old = REGISTRY.lock().gpus.take(name);
    drop(old);
}

/// Runs `f` on the RPC benchmark of the GPU named `name`, if it has a directory, with the
/// registry locked (so that the directory stays while `f` runs).
#[cfg(CONFIG_NOVA_CORE_DEBUG_RPC_BENCH)]
pub(crate) fn with_bench(name: &CStr, f: impl FnOnce(&super::bench::RpcBench)) {
    let reg = REGISTRY.lock();
    if let Some((_, scope)) = reg
        .gpus
        .entries
        .iter()
        .find(|(k, _)| k.to_bytes() == name.to_bytes())
    {
        f(&scope.bench);
    }
}

/// Returns how many GPUs have a directory, and how many bytes of kept copies there are.
pub(crate) fn usage() -> (usize, usize) {
    let reg = REGISTRY.lock();
    let kept = reg
        .gpus
        .entries
        .iter()
        .map(|(_, scope)| match &scope.buffers {
            Buffers::Live(_) => 0,
            Buffers::Kept(copies) => copies.iter().map(|c| c.len()).sum(),
        })
        .sum();
    (reg.gpus.len(), kept)
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_gsp_logs)]
mod tests {
    use super::*;

    #[test]
    fn slots_replace_take() -> Result {
        let mut slots = Slots::<u32>::new();
        let (old, r) = slots.replace(c"0000:01:00.0", 1);
        r?;
        assert_eq!(old, None);
        let (old, r) = slots.replace(c"0000:02:00.0", 2);
        r?;
        assert_eq!(old, None);
        assert_eq!(slots.len(), 2);

        // The next probe of a GPU replaces its slot, and only its slot.
        let (old, r) = slots.replace(c"0000:01:00.0", 3);
        r?;
        assert_eq!(old, Some(1));
        assert_eq!(slots.len(), 2);

        // A prefix is another name.
        assert_eq!(slots.take(c"0000:01:00"), None);
        assert_eq!(slots.take(c"0000:01:00.0"), Some(3));
        assert_eq!(slots.take(c"0000:01:00.0"), None);
        assert_eq!(slots.len(), 1);

        slots.clear();
        assert_eq!(slots.len(), 0);
        assert_eq!(slots.take(c"0000:02:00.0"), None);
        Ok(())
    }
}
