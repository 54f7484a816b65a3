// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! End to end: the server as a process, a vfio-user client (the `vfio_user` crate's) talking
//! to it over the socket.

mod common;

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};

use common::{spawn_server, value_of, wait_exit, TempDir};
use nova_sim::bar0::PRI_ERROR_DECODE;
use nova_sim::memory::{Mapping, SharedMemory};
use vfio_bindings::bindings::vfio::{
    VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE,
    VFIO_REGION_INFO_FLAG_MMAP,
};
use vfio_user::Client;

fn read_u32(client: &mut Client, region: u32, offset: u64) -> u32 {
    let mut buf = [0u8; 4];
    client.region_read(region, offset, &mut buf).unwrap();
    u32::from_le_bytes(buf)
}

fn eventfd() -> File {
    // SAFETY: plain syscall; result checked.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    assert!(fd >= 0);
    // SAFETY: fresh descriptor.
    unsafe { File::from_raw_fd(fd) }
}

#[test]
fn client_reads_config_and_boot0_then_server_exits_0() {
    let dir = TempDir::new("e2e");
    let socket = dir.path("gpu.sock");
    let stats = dir.path("stats");
    let trace = dir.path("trace");
    let mut child = spawn_server(
        &socket,
        &[
            "--chip",
            "ga102",
            "--stats",
            stats.to_str().unwrap(),
            "--trace",
            trace.to_str().unwrap(),
        ],
    );
    let mut client = Client::new(&socket).unwrap();

    // Region layout.
    assert_eq!(client.region(0).unwrap().size, 16 << 20);
    let bar1 = client.region(1).unwrap();
    assert_eq!(bar1.size, 256 << 20);
    assert_ne!(bar1.flags & VFIO_REGION_INFO_FLAG_MMAP, 0);
    assert_eq!(bar1.sparse_areas.len(), 1);
    assert_eq!(
        (bar1.sparse_areas[0].offset, bar1.sparse_areas[0].size),
        (0, 256 << 20)
    );
    let bar1_fd = bar1
        .file_offset
        .as_ref()
        .expect("BAR1 comes with its memfd");
    let vram = Mapping::new(bar1_fd.file(), bar1_fd.start(), 4096, true).unwrap();
    assert_eq!(client.region(2).unwrap().size, 0);
    assert_eq!(client.region(3).unwrap().size, 32 << 20);
    assert_eq!(client.region(5).unwrap().size, 128);
    assert_eq!(client.region(6).unwrap().size, 0);
    assert_eq!(client.region(7).unwrap().size, 4096);
    assert_eq!(client.region(8).unwrap().size, 0);

    // Configuration space.
    assert_eq!(read_u32(&mut client, 7, 0x00), 0x2204_10de);
    assert_eq!(read_u32(&mut client, 7, 0x08), 0x0300_00a1);
    assert_eq!(read_u32(&mut client, 7, 0x2c) & 0xffff, 0x10de);
    client.region_write(7, 0x10, &[0xff; 4]).unwrap();
    assert_eq!(read_u32(&mut client, 7, 0x10), 0xff00_0000);
    let mut whole = vec![0u8; 4096];
    client.region_read(7, 0, &mut whole).unwrap();
    assert_eq!(whole[0x34], 0x60);

    // BAR0.
    assert_eq!(read_u32(&mut client, 0, 0x0), 0x1720_00a1);
    assert_eq!(read_u32(&mut client, 0, 0xa00), 0x172a_1000);
    assert_eq!(read_u32(&mut client, 0, 0x2000), PRI_ERROR_DECODE);

    // BAR1 is the same memory whether mapped or trapped.
    vram.write(0x80, b"nova").unwrap();
    let mut seen = [0u8; 4];
    client.region_read(1, 0x80, &mut seen).unwrap();
    assert_eq!(&seen, b"nova");

    // Interrupts: INTx 1, MSI 1, MSI-X 0, ERR 1, REQ 1. A loopback trigger reaches MSI.
    assert_eq!(client.get_irq_info(0).unwrap().count, 1);
    assert_eq!(client.get_irq_info(1).unwrap().count, 1);
    assert_eq!(client.get_irq_info(2).unwrap().count, 0);
    assert_eq!(client.get_irq_info(3).unwrap().count, 1);
    assert_eq!(client.get_irq_info(4).unwrap().count, 1);
    let msi = eventfd();
    client
        .set_irqs(
            1,
            VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
            0,
            1,
            &[msi.as_raw_fd()],
        )
        .unwrap();
    client
        .set_irqs(
            1,
            VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
            0,
            1,
            &[],
        )
        .unwrap();
    let mut count = [0u8; 8];
    std::io::Read::read_exact(&mut &msi, &mut count).unwrap();
    assert_eq!(u64::from_ne_bytes(count), 1);

    // DMA map and unmap of shared guest memory, and a reset.
    let ram = SharedMemory::new("guest-ram", 1 << 20).unwrap();
    client
        .dma_map(0, 0x1_0000_0000, 1 << 20, ram.file().as_raw_fd())
        .unwrap();
    client.dma_unmap(0x1_0000_0000, 1 << 20).unwrap();
    client.reset().unwrap();

    client.shutdown().unwrap();
    drop(client);
    let status = wait_exit(&mut child);
    assert_eq!(status.code(), Some(0));

    let text = std::fs::read_to_string(&stats).unwrap();
    assert_eq!(value_of(&text, "shutdown").as_deref(), Some("disconnect"));
    assert_eq!(value_of(&text, "reads").as_deref(), Some("3"));
    assert_eq!(value_of(&text, "unimplemented_reads").as_deref(), Some("1"));
    // The read of 0x2000, where no register is.
    assert_eq!(value_of(&text, "violations").as_deref(), Some("1"));
    assert_eq!(value_of(&text, "dma_maps").as_deref(), Some("1"));
    assert_eq!(value_of(&text, "dma_unmaps").as_deref(), Some("1"));
    assert_eq!(value_of(&text, "resets").as_deref(), Some("1"));
    let trace = std::fs::read_to_string(&trace).unwrap();
    assert_eq!(
        trace,
        "R 0x000000 4 0x172000a1\n\
         R 0x000a00 4 0x172a1000\n\
         R 0x002000 4 0xbadf1100 unimplemented\n"
    );
    assert!(!socket.exists());
}

/// Resident memory of process `pid` in bytes (`VmRSS`), which includes the shared memory it
/// touched.
fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or_else(|| panic!("no VmRSS in {status}"));
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

#[test]
fn a_32_gib_bar1_is_served_sparse() {
    const SIZE: u64 = 32 << 30;
    let dir = TempDir::new("e2e-rebar");
    let socket = dir.path("gpu.sock");
    let mut child = spawn_server(&socket, &["--bar1-size", "32G"]);
    let mut client = Client::new(&socket).unwrap();

    // The region and its one mappable area span the whole aperture. The client maps the
    // last page of the memfd (QEMU maps all of it).
    let bar1 = client.region(1).unwrap();
    assert_eq!(bar1.size, SIZE);
    assert_ne!(bar1.flags & VFIO_REGION_INFO_FLAG_MMAP, 0);
    assert_eq!(
        (bar1.sparse_areas[0].offset, bar1.sparse_areas[0].size),
        (0, SIZE)
    );
    let bar1_fd = bar1
        .file_offset
        .as_ref()
        .expect("BAR1 comes with its memfd");
    let last = Mapping::new(bar1_fd.file(), bar1_fd.start() + SIZE - 4096, 4096, true).unwrap();

    // Config-space sizing of the 64-bit BAR, both dwords.
    client.region_write(7, 0x14, &[0xff; 4]).unwrap();
    client.region_write(7, 0x18, &[0xff; 4]).unwrap();
    assert_eq!(read_u32(&mut client, 7, 0x14), 0x0000_000c);
    assert_eq!(read_u32(&mut client, 7, 0x18), 0xffff_fff8);
    // The other BARs keep their sizes.
    assert_eq!(client.region(0).unwrap().size, 16 << 20);
    assert_eq!(client.region(3).unwrap().size, 32 << 20);

    // The server sees what the client writes through its mapping, 32 GiB in.
    last.write(4092, b"end!").unwrap();
    let mut seen = [0u8; 4];
    client.region_read(1, SIZE - 4, &mut seen).unwrap();
    assert_eq!(&seen, b"end!");
    // (Accesses past the end are refused by the device, see its unit tests; they are not
    // tried here because `vfio_user`'s client waits for data that an error reply lacks.)

    // Serving a 32 GiB aperture did not make it resident.
    let rss = resident_bytes(child.id());
    assert!(rss < 128 << 20, "nova-sim is resident for {rss:#x} bytes");

    client.shutdown().unwrap();
    drop(client);
    assert_eq!(wait_exit(&mut child).code(), Some(0));
}

#[test]
fn strict_mode_fails_on_a_violation() {
    let dir = TempDir::new("e2e-strict");
    let socket = dir.path("gpu.sock");
    let stats = dir.path("stats");
    let mut child = spawn_server(&socket, &["--strict", "--stats", stats.to_str().unwrap()]);
    let mut client = Client::new(&socket).unwrap();
    // Writing the read-only BOOT_0 is a violation; the register keeps its value.
    client.region_write(0, 0x0, &0u32.to_le_bytes()).unwrap();
    assert_eq!(read_u32(&mut client, 0, 0x0), 0x1920_00a1);
    drop(client);
    let status = wait_exit(&mut child);
    assert_eq!(status.code(), Some(3));
    let text = std::fs::read_to_string(&stats).unwrap();
    assert_eq!(value_of(&text, "violations").as_deref(), Some("1"));
    assert_eq!(value_of(&text, "writes").as_deref(), Some("1"));
    assert_eq!(value_of(&text, "exit_status").as_deref(), Some("3"));
}

#[test]
fn strict_mode_fails_on_an_unimplemented_register() {
    // A driver with a mistyped offset (BOOT_42 is 0xa00) in strict mode.
    let dir = TempDir::new("e2e-strict-unimplemented");
    let socket = dir.path("gpu.sock");
    let stats = dir.path("stats");
    let mut child = spawn_server(&socket, &["--strict", "--stats", stats.to_str().unwrap()]);
    let mut client = Client::new(&socket).unwrap();
    assert_eq!(read_u32(&mut client, 0, 0xa04), PRI_ERROR_DECODE);
    drop(client);
    assert_eq!(wait_exit(&mut child).code(), Some(3));
    let text = std::fs::read_to_string(&stats).unwrap();
    assert_eq!(value_of(&text, "violations").as_deref(), Some("1"));
}
