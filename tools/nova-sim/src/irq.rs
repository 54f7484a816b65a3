// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Interrupt lines of the simulated device, delivered through the eventfds the client hands
//! over with SET_IRQS.
//!
//! The semantics follow `VFIO_DEVICE_SET_IRQS` (linux/vfio.h): per interrupt type, eventfds are
//! assigned to vectors with `ACTION_TRIGGER | DATA_EVENTFD`, removed with
//! `ACTION_TRIGGER | DATA_NONE` and a count of zero, and INTx is masked and unmasked with
//! `ACTION_MASK` / `ACTION_UNMASK`. INTx is automasked: raising it masks it until the client
//! unmasks it (after the guest's end-of-interrupt).

use std::fmt;
use std::fs::File;
use std::io::{self, Write};

use log::debug;

/// The interrupt types of a PCI device, in VFIO's index order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqType {
    /// Legacy INTx (index 0).
    Intx,
    /// MSI (index 1).
    Msi,
    /// MSI-X (index 2).
    Msix,
    /// Error reporting (index 3).
    Err,
    /// Device release request (index 4).
    Req,
}

impl IrqType {
    /// Every type, in index order.
    pub const ALL: [IrqType; 5] = [
        IrqType::Intx,
        IrqType::Msi,
        IrqType::Msix,
        IrqType::Err,
        IrqType::Req,
    ];

    /// The VFIO index of this type.
    pub const fn index(self) -> u32 {
        match self {
            IrqType::Intx => 0,
            IrqType::Msi => 1,
            IrqType::Msix => 2,
            IrqType::Err => 3,
            IrqType::Req => 4,
        }
    }

    /// The type with VFIO index `index`.
    pub fn from_index(index: u32) -> Option<IrqType> {
        IrqType::ALL.iter().copied().find(|t| t.index() == index)
    }
}

/// The action of a SET_IRQS request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqAction {
    /// Mask the vectors.
    Mask,
    /// Unmask the vectors.
    Unmask,
    /// Assign trigger eventfds, or fire the vectors.
    Trigger,
}

/// The data of a SET_IRQS request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqData {
    /// No data.
    None,
    /// Event file descriptors (passed alongside the message).
    Eventfd,
}

/// A decoded SET_IRQS request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqSet {
    /// Interrupt type.
    pub irq: IrqType,
    /// What to do.
    pub action: IrqAction,
    /// What the request carries.
    pub data: IrqData,
    /// First vector.
    pub start: u32,
    /// Number of vectors.
    pub count: u32,
}

/// A SET_IRQS request the device cannot honour.
#[derive(Debug)]
pub enum IrqError {
    /// The vectors do not exist for this interrupt type.
    BadVectors(IrqSet),
    /// The request is valid VFIO but not supported for this interrupt type.
    Unsupported(IrqSet),
    /// The number of file descriptors does not match the request.
    FdCount {
        /// The request.
        set: IrqSet,
        /// Descriptors received.
        fds: usize,
    },
    /// Writing to an eventfd failed.
    Io(io::Error),
}

impl fmt::Display for IrqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IrqError::BadVectors(set) => write!(
                f,
                "{:?} has no vectors {}..{}",
                set.irq,
                set.start,
                u64::from(set.start) + u64::from(set.count)
            ),
            IrqError::Unsupported(set) => write!(f, "unsupported SET_IRQS request {set:?}"),
            IrqError::FdCount { set, fds } => write!(
                f,
                "SET_IRQS for {} vectors came with {fds} file descriptors",
                set.count
            ),
            IrqError::Io(err) => write!(f, "cannot signal eventfd: {err}"),
        }
    }
}

impl std::error::Error for IrqError {}

/// Writes the eventfd increment of one.
fn signal(fd: &File) -> io::Result<()> {
    let mut file = fd;
    file.write_all(&1u64.to_ne_bytes())
}

/// Per-type trigger eventfds and INTx mask state.
#[derive(Debug)]
pub struct Interrupts {
    counts: [u32; 5],
    triggers: [Vec<Option<File>>; 5],
    intx_masked: bool,
    intx_pending: bool,
    intx_unmask_fd: Option<File>,
}

impl Interrupts {
    /// Creates the lines with `intx` INTx vectors (0 or 1) and `msi` MSI vectors, no MSI-X,
    /// and one ERR and one REQ vector (as Linux's vfio-pci offers for a PCI Express device;
    /// QEMU connects an eventfd to each).
    pub fn new(intx: u32, msi: u32) -> Self {
        let counts = [intx.min(1), msi, 0, 1, 1];
        Interrupts {
            counts,
            triggers: counts.map(|n| (0..n).map(|_| None).collect()),
            intx_masked: false,
            intx_pending: false,
            intx_unmask_fd: None,
        }
    }

    /// Number of vectors of `irq`.
    pub fn count(&self, irq: IrqType) -> u32 {
        self.counts[irq.index() as usize]
    }

    /// Whether `irq` vector `vector` has a trigger eventfd.
    pub fn is_connected(&self, irq: IrqType, vector: u32) -> bool {
        self.slot(irq, vector).is_some_and(|fd| fd.is_some())
    }

    /// Whether INTx is masked.
    pub fn intx_masked(&self) -> bool {
        self.intx_masked
    }

    fn slot(&self, irq: IrqType, vector: u32) -> Option<&Option<File>> {
        self.triggers[irq.index() as usize].get(vector as usize)
    }

    /// Applies a SET_IRQS request with its file descriptors.
    pub fn set(&mut self, set: IrqSet, fds: Vec<File>) -> Result<(), IrqError> {
        let n = self.count(set.irq);
        let in_range = u64::from(set.start) + u64::from(set.count) <= u64::from(n);
        let fd_count_ok = match set.data {
            IrqData::None => fds.is_empty(),
            // QEMU sends either one descriptor per vector, or none to deassign them.
            IrqData::Eventfd => fds.is_empty() || fds.len() == set.count as usize,
        };
        if !fd_count_ok {
            return Err(IrqError::FdCount {
                set,
                fds: fds.len(),
            });
        }
        match (set.action, set.data) {
            (IrqAction::Trigger, IrqData::None) if set.count == 0 => {
                // Disable every vector of the type.
                let slots = &mut self.triggers[set.irq.index() as usize];
                slots.iter_mut().for_each(|slot| *slot = None);
                if set.irq == IrqType::Intx {
                    self.intx_masked = false;
                    self.intx_pending = false;
                    self.intx_unmask_fd = None;
                }
                debug!("irq: {:?} disabled", set.irq);
                Ok(())
            }
            _ if !in_range || set.count == 0 => Err(IrqError::BadVectors(set)),
            (IrqAction::Trigger, IrqData::None) => {
                // Loopback test: fire the vectors.
                for vector in set.start..set.start + set.count {
                    self.raise(set.irq, vector).map_err(IrqError::Io)?;
                }
                Ok(())
            }
            (IrqAction::Trigger, IrqData::Eventfd) => {
                let slots = &mut self.triggers[set.irq.index() as usize];
                let first = set.start as usize;
                if fds.is_empty() {
                    for slot in &mut slots[first..first + set.count as usize] {
                        *slot = None;
                    }
                } else {
                    for (slot, fd) in slots[first..].iter_mut().zip(fds) {
                        *slot = Some(fd);
                    }
                }
                debug!(
                    "irq: {:?} vectors {}..{} {}",
                    set.irq,
                    set.start,
                    set.start + set.count,
                    if self.is_connected(set.irq, set.start) {
                        "connected"
                    } else {
                        "disconnected"
                    }
                );
                Ok(())
            }
            (IrqAction::Mask, IrqData::None) if set.irq == IrqType::Intx => {
                self.intx_masked = true;
                Ok(())
            }
            (IrqAction::Unmask, IrqData::None) if set.irq == IrqType::Intx => {
                self.intx_masked = false;
                if std::mem::take(&mut self.intx_pending) {
                    self.raise(IrqType::Intx, 0).map_err(IrqError::Io)?;
                }
                Ok(())
            }
            (IrqAction::Unmask, IrqData::Eventfd) if set.irq == IrqType::Intx => {
                // The client signals this eventfd on end-of-interrupt (KVM resampling). Kept
                // for later: nothing polls it yet, QEMU without KVM unmasks with DATA_NONE.
                self.intx_unmask_fd = fds.into_iter().next();
                Ok(())
            }
            _ => Err(IrqError::Unsupported(set)),
        }
    }

    /// Raises vector `vector` of `irq`. Returns whether an eventfd was signalled: `false` if
    /// none is connected, or if INTx is masked (it is then delivered on unmask).
    pub fn raise(&mut self, irq: IrqType, vector: u32) -> io::Result<bool> {
        if irq == IrqType::Intx && self.intx_masked {
            self.intx_pending = true;
            return Ok(false);
        }
        let Some(Some(fd)) = self.slot(irq, vector) else {
            return Ok(false);
        };
        signal(fd)?;
        if irq == IrqType::Intx {
            self.intx_masked = true;
        }
        Ok(true)
    }

    /// A duplicate of the trigger eventfd of `irq` vector `vector`, for a thread that wants to
    /// signal it directly (no INTx masking is applied then).
    pub fn trigger_handle(&self, irq: IrqType, vector: u32) -> Option<io::Result<File>> {
        match self.slot(irq, vector) {
            Some(Some(fd)) => Some(fd.try_clone()),
            _ => None,
        }
    }

    /// Returns INTx to its reset state (unmasked, nothing pending). Eventfds stay assigned.
    pub fn reset(&mut self) {
        self.intx_masked = false;
        self.intx_pending = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::FromRawFd;

    fn eventfd() -> File {
        // SAFETY: plain syscall; result checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        assert!(fd >= 0);
        // SAFETY: fresh descriptor.
        unsafe { File::from_raw_fd(fd) }
    }

    fn take(fd: &File) -> u64 {
        let mut buf = [0u8; 8];
        let mut file = fd;
        match file.read(&mut buf) {
            Ok(8) => u64::from_ne_bytes(buf),
            _ => 0,
        }
    }

    fn set(irq: IrqType, action: IrqAction, data: IrqData, start: u32, count: u32) -> IrqSet {
        IrqSet {
            irq,
            action,
            data,
            start,
            count,
        }
    }

    #[test]
    fn msi_is_delivered_to_its_eventfd() {
        let mut irqs = Interrupts::new(1, 1);
        assert!(!irqs.raise(IrqType::Msi, 0).unwrap());
        let fd = eventfd();
        let copy = fd.try_clone().unwrap();
        irqs.set(
            set(IrqType::Msi, IrqAction::Trigger, IrqData::Eventfd, 0, 1),
            vec![fd],
        )
        .unwrap();
        assert!(irqs.is_connected(IrqType::Msi, 0));
        assert!(irqs.raise(IrqType::Msi, 0).unwrap());
        assert!(irqs.raise(IrqType::Msi, 0).unwrap());
        assert_eq!(take(&copy), 2);
        // Deassign with DATA_EVENTFD and no descriptors.
        irqs.set(
            set(IrqType::Msi, IrqAction::Trigger, IrqData::Eventfd, 0, 1),
            vec![],
        )
        .unwrap();
        assert!(!irqs.raise(IrqType::Msi, 0).unwrap());
    }

    #[test]
    fn intx_automasks_until_unmasked() {
        let mut irqs = Interrupts::new(1, 1);
        let fd = eventfd();
        let copy = fd.try_clone().unwrap();
        irqs.set(
            set(IrqType::Intx, IrqAction::Trigger, IrqData::Eventfd, 0, 1),
            vec![fd],
        )
        .unwrap();
        assert!(irqs.raise(IrqType::Intx, 0).unwrap());
        assert!(irqs.intx_masked());
        assert!(!irqs.raise(IrqType::Intx, 0).unwrap());
        assert_eq!(take(&copy), 1);
        // Unmasking delivers the pending interrupt (and masks again).
        irqs.set(
            set(IrqType::Intx, IrqAction::Unmask, IrqData::None, 0, 1),
            vec![],
        )
        .unwrap();
        assert_eq!(take(&copy), 1);
        assert!(irqs.intx_masked());
        // Disable: count 0 with DATA_NONE.
        irqs.set(
            set(IrqType::Intx, IrqAction::Trigger, IrqData::None, 0, 0),
            vec![],
        )
        .unwrap();
        assert!(!irqs.is_connected(IrqType::Intx, 0));
        assert!(!irqs.intx_masked());
    }

    #[test]
    fn bad_requests_are_refused() {
        let mut irqs = Interrupts::new(1, 1);
        assert!(matches!(
            irqs.set(
                set(IrqType::Msix, IrqAction::Trigger, IrqData::Eventfd, 0, 1),
                vec![eventfd()]
            ),
            Err(IrqError::BadVectors(_))
        ));
        assert!(matches!(
            irqs.set(
                set(IrqType::Msi, IrqAction::Trigger, IrqData::Eventfd, 0, 1),
                vec![eventfd(), eventfd()]
            ),
            Err(IrqError::FdCount { .. })
        ));
        assert!(matches!(
            irqs.set(
                set(IrqType::Msi, IrqAction::Mask, IrqData::None, 0, 1),
                vec![]
            ),
            Err(IrqError::Unsupported(_))
        ));
        assert!(matches!(
            irqs.set(
                set(IrqType::Msi, IrqAction::Trigger, IrqData::None, u32::MAX, 2),
                vec![]
            ),
            Err(IrqError::BadVectors(_))
        ));
        assert!(irqs.trigger_handle(IrqType::Msi, 0).is_none());
        assert_eq!(IrqType::from_index(2), Some(IrqType::Msix));
        assert_eq!(IrqType::from_index(5), None);
    }
}
