// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The vfio-user transport, behind our own [`VfioDevice`] trait.
//!
//! Device models implement [`VfioDevice`] and describe themselves with a [`DeviceLayout`];
//! [`VfioUserServer`] serves them with the rust-vmm `vfio_user` crate. Only this file knows
//! that crate, so it can be replaced without touching the models.
//!
//! Known limits of `vfio_user` 0.1.7 that show through: most error replies carry errno 0
//! (the client sees a failure, not why); one client connection, no reconnect; one blocking
//! loop (slow device work must go to other threads); malformed VERSION messages can make it
//! panic, which [`VfioUserServer::run`] turns into an error.

use std::fmt;
use std::fs::File;
use std::io;
use std::mem::size_of;
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixListener;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use log::{debug, info};
use vfio_bindings::bindings::vfio::{
    vfio_region_info, vfio_region_sparse_mmap_area, VFIO_IRQ_INFO_AUTOMASKED,
    VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_MASKABLE, VFIO_IRQ_INFO_NORESIZE,
    VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_TYPE_MASK,
    VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
    VFIO_IRQ_SET_DATA_TYPE_MASK, VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_READ,
    VFIO_REGION_INFO_FLAG_WRITE,
};
use vfio_user::{
    DmaMapFlags, DmaUnmapFlags, IrqInfo, Server, ServerBackend, ServerRegion, SparseArea,
};

use crate::irq::{IrqAction, IrqData, IrqSet, IrqType};

/// VFIO-PCI region index of BAR0.
pub const REGION_BAR0: u32 = 0;
/// VFIO-PCI region index of BAR1.
pub const REGION_BAR1: u32 = 1;
/// VFIO-PCI region index of BAR2.
pub const REGION_BAR2: u32 = 2;
/// VFIO-PCI region index of BAR3.
pub const REGION_BAR3: u32 = 3;
/// VFIO-PCI region index of BAR4.
pub const REGION_BAR4: u32 = 4;
/// VFIO-PCI region index of BAR5.
pub const REGION_BAR5: u32 = 5;
/// VFIO-PCI region index of the expansion ROM.
pub const REGION_ROM: u32 = 6;
/// VFIO-PCI region index of the configuration space.
pub const REGION_CONFIG: u32 = 7;
/// VFIO-PCI region index of the legacy VGA ranges.
pub const REGION_VGA: u32 = 8;
/// Number of VFIO-PCI regions.
pub const NUM_REGIONS: u32 = 9;

/// One region of the device as the client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionDesc {
    /// Size in bytes; 0 for an absent region.
    pub size: u64,
    /// Whether the client may read the region.
    pub readable: bool,
    /// Whether the client may write the region.
    pub writable: bool,
    /// A file the client maps to reach the whole region directly, instead of trapping each
    /// access. It must stay open as long as the server runs.
    pub mmap_fd: Option<RawFd>,
}

impl RegionDesc {
    /// An absent region.
    pub fn absent() -> Self {
        RegionDesc {
            size: 0,
            readable: false,
            writable: false,
            mmap_fd: None,
        }
    }

    /// A read-write region whose every access goes through [`VfioDevice`].
    pub fn trapped(size: u64) -> Self {
        RegionDesc {
            size,
            readable: true,
            writable: true,
            mmap_fd: None,
        }
    }

    /// A read-write region the client maps from `fd` (offset 0, whole region).
    pub fn mappable(size: u64, fd: RawFd) -> Self {
        RegionDesc {
            mmap_fd: Some(fd),
            ..RegionDesc::trapped(size)
        }
    }
}

/// One interrupt type of the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqDesc {
    /// Number of vectors.
    pub count: u32,
    /// Whether the type can be masked (INTx).
    pub maskable: bool,
    /// Whether raising it masks it (INTx).
    pub automasked: bool,
    /// Whether the vector count is fixed once enabled (MSI, MSI-X).
    pub noresize: bool,
}

/// What the client learns about the device before using it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceLayout {
    /// Regions by VFIO-PCI index; [`NUM_REGIONS`] entries.
    pub regions: Vec<RegionDesc>,
    /// Interrupt types by VFIO-PCI index.
    pub irqs: Vec<IrqDesc>,
    /// Whether the device supports DEVICE_RESET.
    pub resettable: bool,
}

/// A DMA_MAP request: guest memory the device may use from now on.
#[derive(Debug)]
pub struct DmaMapRequest {
    /// I/O virtual address of the region (guest physical without a vIOMMU).
    pub iova: u64,
    /// Size of the region.
    pub size: u64,
    /// Offset of the region in `fd`.
    pub file_offset: u64,
    /// The device may read the region.
    pub readable: bool,
    /// The device may write the region.
    pub writable: bool,
    /// The memory, if the client shares it.
    pub fd: Option<File>,
}

/// A DMA_UNMAP request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmaUnmapRequest {
    /// Remove the regions inside this range.
    Range {
        /// Start of the range.
        iova: u64,
        /// Size of the range.
        size: u64,
    },
    /// Remove every region.
    All,
}

/// Why a device refused a request. Turned into an errno for the client.
#[derive(Debug)]
pub enum DeviceError {
    /// The region does not exist or is absent.
    NoSuchRegion(u32),
    /// The access does not fit in the region.
    OutOfRange {
        /// Region index.
        region: u32,
        /// Offset of the access.
        offset: u64,
        /// Length of the access.
        len: usize,
    },
    /// The request is malformed.
    Invalid(String),
    /// The request is valid but not supported.
    Unsupported(String),
    /// An operating-system call failed.
    Io(io::Error),
}

impl DeviceError {
    fn errno(&self) -> i32 {
        match self {
            DeviceError::NoSuchRegion(_) | DeviceError::Invalid(_) => libc::EINVAL,
            DeviceError::OutOfRange { .. } => libc::EFAULT,
            DeviceError::Unsupported(_) => libc::ENOTSUP,
            DeviceError::Io(err) => err.raw_os_error().unwrap_or(libc::EIO),
        }
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::NoSuchRegion(index) => write!(f, "no region {index}"),
            DeviceError::OutOfRange {
                region,
                offset,
                len,
            } => write!(
                f,
                "access of {len} bytes at {offset:#x} does not fit in region {region}"
            ),
            DeviceError::Invalid(what) => write!(f, "invalid request: {what}"),
            DeviceError::Unsupported(what) => write!(f, "unsupported request: {what}"),
            DeviceError::Io(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for DeviceError {}

/// A PCI device that can be served over a VFIO-like transport.
pub trait VfioDevice {
    /// Regions and interrupts of the device. Called once, before serving.
    fn layout(&self) -> DeviceLayout;
    /// Reads `data.len()` bytes of region `region` at `offset`.
    fn region_read(&mut self, region: u32, offset: u64, data: &mut [u8])
        -> Result<(), DeviceError>;
    /// Writes `data` to region `region` at `offset`.
    fn region_write(&mut self, region: u32, offset: u64, data: &[u8]) -> Result<(), DeviceError>;
    /// Makes guest memory available for DMA.
    fn dma_map(&mut self, request: DmaMapRequest) -> Result<(), DeviceError>;
    /// Withdraws guest memory.
    fn dma_unmap(&mut self, request: DmaUnmapRequest) -> Result<(), DeviceError>;
    /// Configures interrupt delivery.
    fn set_irqs(&mut self, set: IrqSet, fds: Vec<File>) -> Result<(), DeviceError>;
    /// Resets the device.
    fn reset(&mut self) -> Result<(), DeviceError>;
}

/// Decodes the flags of a VFIO SET_IRQS request.
pub fn decode_irq_set(
    index: u32,
    flags: u32,
    start: u32,
    count: u32,
) -> Result<IrqSet, DeviceError> {
    let irq = IrqType::from_index(index)
        .ok_or_else(|| DeviceError::Invalid(format!("no interrupt type {index}")))?;
    let data = match flags & VFIO_IRQ_SET_DATA_TYPE_MASK {
        VFIO_IRQ_SET_DATA_NONE => IrqData::None,
        VFIO_IRQ_SET_DATA_EVENTFD => IrqData::Eventfd,
        other => {
            return Err(DeviceError::Unsupported(format!(
                "SET_IRQS data type {other:#x}"
            )))
        }
    };
    let action = match flags & VFIO_IRQ_SET_ACTION_TYPE_MASK {
        VFIO_IRQ_SET_ACTION_MASK => IrqAction::Mask,
        VFIO_IRQ_SET_ACTION_UNMASK => IrqAction::Unmask,
        VFIO_IRQ_SET_ACTION_TRIGGER => IrqAction::Trigger,
        other => return Err(DeviceError::Invalid(format!("SET_IRQS action {other:#x}"))),
    };
    Ok(IrqSet {
        irq,
        action,
        data,
        start,
        count,
    })
}

/// Adapts a [`VfioDevice`] to `vfio_user`'s backend trait.
struct Backend<'a> {
    device: &'a mut dyn VfioDevice,
}

fn to_io(what: &str, err: DeviceError) -> io::Error {
    debug!("vfio: {what} refused: {err}");
    io::Error::from_raw_os_error(err.errno())
}

impl ServerBackend for Backend<'_> {
    fn region_read(&mut self, region: u32, offset: u64, data: &mut [u8]) -> io::Result<()> {
        self.device
            .region_read(region, offset, data)
            .map_err(|e| to_io("region read", e))
    }

    fn region_write(&mut self, region: u32, offset: u64, data: &[u8]) -> io::Result<()> {
        self.device
            .region_write(region, offset, data)
            .map_err(|e| to_io("region write", e))
    }

    fn dma_map(
        &mut self,
        flags: DmaMapFlags,
        offset: u64,
        address: u64,
        size: u64,
        fd: Option<File>,
    ) -> io::Result<()> {
        let request = DmaMapRequest {
            iova: address,
            size,
            file_offset: offset,
            readable: flags.contains(DmaMapFlags::READ),
            writable: flags.contains(DmaMapFlags::WRITE),
            fd,
        };
        self.device
            .dma_map(request)
            .map_err(|e| to_io("DMA map", e))
    }

    fn dma_unmap(&mut self, flags: DmaUnmapFlags, address: u64, size: u64) -> io::Result<()> {
        let request = if flags.contains(DmaUnmapFlags::UNMAP_ALL) {
            DmaUnmapRequest::All
        } else {
            DmaUnmapRequest::Range {
                iova: address,
                size,
            }
        };
        self.device
            .dma_unmap(request)
            .map_err(|e| to_io("DMA unmap", e))
    }

    fn reset(&mut self) -> io::Result<()> {
        self.device.reset().map_err(|e| to_io("reset", e))
    }

    fn set_irqs(
        &mut self,
        index: u32,
        flags: u32,
        start: u32,
        count: u32,
        fds: Vec<File>,
    ) -> io::Result<()> {
        let set = decode_irq_set(index, flags, start, count).map_err(|e| to_io("SET_IRQS", e))?;
        self.device
            .set_irqs(set, fds)
            .map_err(|e| to_io("SET_IRQS", e))
    }
}

/// A transport failure.
#[derive(Debug)]
pub enum TransportError {
    /// Something other than a socket is in the way of the socket path.
    NotASocket(PathBuf),
    /// A stale socket could not be removed.
    RemoveStale(PathBuf, io::Error),
    /// The layout cannot be served.
    BadLayout(String),
    /// Binding the socket failed.
    Bind(PathBuf, String),
    /// The connection failed other than by the client going away.
    Connection(String),
    /// The transport library panicked (on malformed input).
    Panicked(String),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::NotASocket(path) => write!(
                f,
                "{} exists and is not a socket; not removing it",
                path.display()
            ),
            TransportError::RemoveStale(path, err) => {
                write!(f, "cannot remove stale socket {}: {err}", path.display())
            }
            TransportError::BadLayout(why) => write!(f, "invalid device layout: {why}"),
            TransportError::Bind(path, err) => {
                write!(f, "cannot listen on {}: {err}", path.display())
            }
            TransportError::Connection(err) => write!(f, "connection failed: {err}"),
            TransportError::Panicked(what) => write!(f, "vfio-user library panicked: {what}"),
        }
    }
}

impl std::error::Error for TransportError {}

/// Removes a socket left behind at `path` by an earlier run. Refuses to remove anything else.
pub fn remove_stale_socket(path: &Path) -> Result<(), TransportError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)
            .map_err(|err| TransportError::RemoveStale(path.to_path_buf(), err)),
        Ok(_) => Err(TransportError::NotASocket(path.to_path_buf())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(TransportError::RemoveStale(path.to_path_buf(), err)),
    }
}

fn server_regions(layout: &DeviceLayout) -> Vec<ServerRegion> {
    layout
        .regions
        .iter()
        .enumerate()
        .map(|(index, desc)| {
            let mut flags = 0;
            if desc.readable {
                flags |= VFIO_REGION_INFO_FLAG_READ;
            }
            if desc.writable {
                flags |= VFIO_REGION_INFO_FLAG_WRITE;
            }
            // vfio_user only sends the fd when a sparse area exists; one area covers it all.
            let sparse_areas = match desc.mmap_fd {
                Some(_) if desc.size > 0 => {
                    flags |= VFIO_REGION_INFO_FLAG_MMAP;
                    vec![SparseArea {
                        area: vfio_region_sparse_mmap_area {
                            offset: 0,
                            size: desc.size,
                        },
                    }]
                }
                _ => Vec::new(),
            };
            ServerRegion {
                region_info: vfio_region_info {
                    argsz: size_of::<vfio_region_info>() as u32,
                    flags,
                    // `index` < NUM_REGIONS, checked by the caller.
                    index: index as u32,
                    cap_offset: 0,
                    size: desc.size,
                    offset: 0,
                },
                mmap_fd: if sparse_areas.is_empty() {
                    None
                } else {
                    desc.mmap_fd
                },
                sparse_areas,
            }
        })
        .collect()
}

fn server_irqs(layout: &DeviceLayout) -> Vec<IrqInfo> {
    layout
        .irqs
        .iter()
        .enumerate()
        .map(|(index, desc)| {
            let mut flags = VFIO_IRQ_INFO_EVENTFD;
            if desc.maskable {
                flags |= VFIO_IRQ_INFO_MASKABLE;
            }
            if desc.automasked {
                flags |= VFIO_IRQ_INFO_AUTOMASKED;
            }
            if desc.noresize {
                flags |= VFIO_IRQ_INFO_NORESIZE;
            }
            IrqInfo {
                index: index as u32,
                flags,
                count: desc.count,
            }
        })
        .collect()
}

/// Whether a `vfio_user` error means the client went away.
fn is_disconnect(err: &vfio_user::Error) -> bool {
    let kind_is_disconnect = |kind: io::ErrorKind| {
        matches!(
            kind,
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
        )
    };
    match err {
        vfio_user::Error::StreamRead(e) | vfio_user::Error::StreamWrite(e) => {
            kind_is_disconnect(e.kind())
        }
        vfio_user::Error::ReceiveWithFd(e) | vfio_user::Error::SendWithFd(e) => {
            matches!(
                e.errno(),
                libc::ECONNRESET | libc::EPIPE | libc::ECONNABORTED
            )
        }
        _ => false,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Listens on a UNIX socket at `path`, making the path appear only once the socket listens.
///
/// `bind` creates the socket file before `listen`, and a client connecting in between is
/// refused; harnesses that wait for the file to appear would race with that. So the socket is
/// bound and listening under a temporary name in the same directory, then renamed.
fn listen_at(path: &Path) -> Result<UnixListener, TransportError> {
    let bind_error = |err: io::Error| TransportError::Bind(path.to_path_buf(), err.to_string());
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(".nova-sim-{}.sock", std::process::id()));
    remove_stale_socket(&tmp)?;
    let listener = UnixListener::bind(&tmp).map_err(bind_error)?;
    if let Err(err) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(bind_error(err));
    }
    Ok(listener)
}

/// A listening vfio-user server for one client. The socket file is removed on drop.
pub struct VfioUserServer {
    server: Server,
    path: PathBuf,
}

impl fmt::Debug for VfioUserServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VfioUserServer")
            .field("path", &self.path)
            .finish()
    }
}

impl Drop for VfioUserServer {
    fn drop(&mut self) {
        if let Err(err) = remove_stale_socket(&self.path) {
            debug!("vfio-user: {err}");
        }
    }
}

impl VfioUserServer {
    /// Removes a stale socket at `path`, then binds and listens there.
    ///
    /// When this returns, clients can connect (they wait in the backlog until
    /// [`VfioUserServer::run`]).
    pub fn bind(path: &Path, layout: &DeviceLayout) -> Result<Self, TransportError> {
        if layout.regions.len() != NUM_REGIONS as usize {
            return Err(TransportError::BadLayout(format!(
                "{} regions, VFIO-PCI needs {NUM_REGIONS}",
                layout.regions.len()
            )));
        }
        if layout.irqs.len() < 3 || layout.irqs.len() > IrqType::ALL.len() {
            return Err(TransportError::BadLayout(format!(
                "{} interrupt types, VFIO-PCI needs 3 to {}",
                layout.irqs.len(),
                IrqType::ALL.len()
            )));
        }
        remove_stale_socket(path)?;
        let listener = listen_at(path)?;
        let server = Server::from_owned_fd(
            OwnedFd::from(listener),
            layout.resettable,
            server_irqs(layout),
            server_regions(layout),
        );
        Ok(VfioUserServer {
            server,
            path: path.to_path_buf(),
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts one client and serves `device` until it disconnects.
    ///
    /// The client going away (end of file, reset, broken pipe) is a normal end: `Ok(())`.
    pub fn run(&self, device: &mut dyn VfioDevice) -> Result<(), TransportError> {
        let mut backend = Backend { device };
        let result = panic::catch_unwind(AssertUnwindSafe(|| self.server.run(&mut backend)));
        match result {
            Ok(Ok(())) => {
                info!("vfio-user: client disconnected");
                Ok(())
            }
            Ok(Err(err)) if is_disconnect(&err) => {
                info!("vfio-user: client went away ({err})");
                Ok(())
            }
            Ok(Err(err)) => Err(TransportError::Connection(err.to_string())),
            Err(payload) => Err(TransportError::Panicked(panic_message(payload.as_ref()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irq_set_flags_decode() {
        let set = decode_irq_set(
            1,
            VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
            0,
            1,
        )
        .unwrap();
        assert_eq!(set.irq, IrqType::Msi);
        assert_eq!(set.data, IrqData::Eventfd);
        assert_eq!(set.action, IrqAction::Trigger);
        let set =
            decode_irq_set(0, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 1).unwrap();
        assert_eq!((set.irq, set.action), (IrqType::Intx, IrqAction::Unmask));
        // DATA_BOOL, two actions, unknown index.
        assert!(decode_irq_set(0, 2 | VFIO_IRQ_SET_ACTION_MASK, 0, 1).is_err());
        assert!(decode_irq_set(
            0,
            VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK,
            0,
            1
        )
        .is_err());
        assert!(
            decode_irq_set(9, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 0, 1).is_err()
        );
    }

    #[test]
    fn regions_translate_to_vfio_info() {
        let mut regions = vec![RegionDesc::absent(); NUM_REGIONS as usize];
        regions[0] = RegionDesc::trapped(16 << 20);
        regions[1] = RegionDesc::mappable(256 << 20, 42);
        let layout = DeviceLayout {
            regions,
            irqs: vec![],
            resettable: true,
        };
        let out = server_regions(&layout);
        assert_eq!(out.len(), NUM_REGIONS as usize);
        assert_eq!(
            out[0].region_info.flags,
            VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE
        );
        assert!(out[0].sparse_areas.is_empty() && out[0].mmap_fd.is_none());
        assert_ne!(out[1].region_info.flags & VFIO_REGION_INFO_FLAG_MMAP, 0);
        assert_eq!(out[1].mmap_fd, Some(42));
        assert_eq!(out[1].sparse_areas.len(), 1);
        assert_eq!(out[1].sparse_areas[0].area.size, 256 << 20);
        assert_eq!(out[2].region_info.size, 0);
        assert_eq!(out[2].region_info.flags, 0);
        assert_eq!(out[7].region_info.index, 7);
    }

    #[test]
    fn stale_sockets_are_removed_but_files_are_not() {
        let dir = std::env::temp_dir().join(format!("nova-sim-vfio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("stale.sock");
        let _ = std::fs::remove_file(&sock);
        drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
        assert!(sock.exists());
        remove_stale_socket(&sock).unwrap();
        assert!(!sock.exists());
        remove_stale_socket(&sock).unwrap();
        let file = dir.join("precious");
        std::fs::write(&file, b"data").unwrap();
        assert!(matches!(
            remove_stale_socket(&file),
            Err(TransportError::NotASocket(_))
        ));
        assert!(file.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
