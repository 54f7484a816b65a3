// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Converts the real Debian firmware, when it is on this machine.
//!
//! The firmware directory is `$NOVA_FIRMWARE` (`make check` sets it to the cached Debian root's
//! firmware and sets `NOVA_REQUIRE_FIRMWARE=1`, which turns a missing directory into a failure).
//! Run by hand without it, the test prints why it skips. Expected values come from an
//! independent reading of the 570.144 files.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{names, run, TempDir};
use nova_tlv::chips::{Chipset, TlvKind};
use nova_tlv::expect;
use nova_tlv::tlv::{Tag, Tlv};

fn firmware_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("NOVA_FIRMWARE").unwrap_or_default());
    if dir.join("nvidia").is_dir() {
        Some(dir)
    } else {
        assert!(
            std::env::var_os("NOVA_REQUIRE_FIRMWARE").is_none(),
            "NOVA_REQUIRE_FIRMWARE is set but NOVA_FIRMWARE ({}) has no nvidia/ directory",
            dir.display()
        );
        eprintln!(
            "skipping: no Debian firmware at {} (set NOVA_FIRMWARE to a directory holding \
             nvidia/<chip>/gsp/*-570.144.bin from firmware-nvidia-graphics)",
            dir.display()
        );
        None
    }
}

/// The chips the Debian tree has 570.144 files for.
fn debian_chips(fw: &Path) -> Vec<Chipset> {
    Chipset::ALL
        .iter()
        .copied()
        .filter(|c| {
            fs::read_dir(fw.join(c.gsp_dir())).is_ok_and(|mut entries| {
                entries.any(|e| {
                    e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with("-570.144.bin"))
                })
            })
        })
        .collect()
}

fn read_tlv(out: &Path, chip: &str, kind: TlvKind) -> Vec<u8> {
    fs::read(out.join(format!("nvidia/{chip}/gsp/{}", kind.tlv_name()))).unwrap()
}

#[test]
fn convert_all_debian_firmware() {
    let Some(fw) = firmware_dir() else {
        return;
    };
    let chips = debian_chips(&fw);
    assert!(!chips.is_empty(), "no 570.144 files under {}", fw.display());

    let out = TempDir::new("debian");
    let r = run(&[
        "convert-all".as_ref(),
        "--firmware-dir".as_ref(),
        fw.as_os_str(),
        "--out".as_ref(),
        out.path().as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // Exactly the chips present, each with exactly the files nova-core requests.
    let mut expected_dirs: Vec<String> = chips.iter().map(|c| c.name().to_string()).collect();
    expected_dirs.sort();
    assert_eq!(names(&out.path().join("nvidia")), expected_dirs);
    let mut all_tlvs = Vec::new();
    for &chip in &chips {
        let dir = out.path().join(chip.gsp_dir());
        let mut expected: Vec<String> = chip.output_files().iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(names(&dir), expected, "{chip}");

        // Every TLV parses back and passes nova-core's checks.
        for &kind in chip.tlv_files() {
            let path = dir.join(kind.tlv_name());
            let data = fs::read(&path).unwrap();
            let tlv = Tlv::parse(&data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            expect::check(kind, &tlv).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(tlv.string(Tag::VERS).unwrap(), "570.144");
            all_tlvs.push(path);
        }
        // gsp.bin (possibly through a symlink) has the size gsp.tlv says.
        let data = fs::read(dir.join("gsp.tlv")).unwrap();
        let size = Tlv::parse(&data).unwrap().u32(Tag::SIZE).unwrap();
        assert_eq!(
            fs::metadata(dir.join("gsp.bin")).unwrap().len(),
            u64::from(size)
        );
    }

    // The tool's own verify agrees.
    let mut args = vec!["verify".into()];
    args.extend(all_tlvs.iter().map(|p| p.as_os_str().to_owned()));
    let r = run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // Values read independently from the 570.144 files.
    let o = out.path();
    if chips.contains(&Chipset::AD102) {
        let d = read_tlv(o, "ad102", TlvKind::BooterLoad);
        let t = Tlv::parse(&d).unwrap();
        let u = |tag| t.u32(tag).unwrap();
        assert_eq!(u(Tag::NSIG), 2);
        assert_eq!(t.bytes(Tag::SIGN).unwrap().len(), 768);
        assert_eq!(u(Tag::PLOC), 0x7e10);
        assert_eq!((u(Tag::FUSE), u(Tag::ENID), u(Tag::UCID)), (1, 1, 3));
        assert_eq!((u(Tag::CDOF), u(Tag::CDSZ)), (0, 0x100));
        assert_eq!((u(Tag::DAOF), u(Tag::DASZ)), (0x7e00, 0x6000));
        assert_eq!((u(Tag::A0CO), u(Tag::A0CS)), (0x100, 32000));
        assert_eq!(t.bytes(Tag::BLOB).unwrap().len(), 0xde00);

        let d = read_tlv(o, "ad102", TlvKind::GspBootloader);
        let t = Tlv::parse(&d).unwrap();
        assert_eq!(t.u32(Tag::CDOF).unwrap(), 0x4800);
        assert_eq!(t.u32(Tag::DAOF).unwrap(), 0x800);
        assert_eq!(t.u32(Tag::MFOF).unwrap(), 0);
        assert_eq!(t.bytes(Tag::BLOB).unwrap().len(), 0x9000);

        let d = read_tlv(o, "ad102", TlvKind::Gsp);
        let t = Tlv::parse(&d).unwrap();
        assert_eq!(t.u32(Tag::SIZE).unwrap(), 0x3c9_9000);
        assert_eq!(t.string(Tag::FILE).unwrap(), "gsp.bin");
        assert_eq!(t.bytes(Tag::SIGN).unwrap().len(), 0x1000);
        assert_eq!(
            t.string(Tag::BLID).unwrap(),
            "1e5654b51660fd9c462133e46381af2183dd4371"
        );
    }
    if chips.contains(&Chipset::TU102) {
        let d = read_tlv(o, "tu102", TlvKind::GenBootloader);
        let t = Tlv::parse(&d).unwrap();
        assert_eq!(t.u32(Tag::STRT).unwrap(), 253);
        assert_eq!(t.u32(Tag::CDSZ).unwrap(), 512);
        assert_eq!(t.bytes(Tag::BLOB).unwrap().len(), 768);

        let d = read_tlv(o, "tu102", TlvKind::BooterLoad);
        let t = Tlv::parse(&d).unwrap();
        assert_eq!(t.u32(Tag::NSIG).unwrap(), 1);
        assert_eq!(t.bytes(Tag::SIGN).unwrap().len(), 16);
        assert_eq!(t.u32(Tag::PLOC).unwrap(), 0x8700);
        assert_eq!(t.u32(Tag::UCID).unwrap(), 13);

        let d = read_tlv(o, "tu102", TlvKind::Gsp);
        assert_eq!(Tlv::parse(&d).unwrap().u32(Tag::SIZE).unwrap(), 0x1b3_4ea0);
    }
    if chips.contains(&Chipset::GH100) {
        let d = read_tlv(o, "gh100", TlvKind::Fmc);
        let t = Tlv::parse(&d).unwrap();
        assert_eq!(t.bytes(Tag::HASH).unwrap().len(), 48);
        assert_eq!(t.bytes(Tag::PKEY).unwrap().len(), 384);
        assert_eq!(t.bytes(Tag::SIGN).unwrap().len(), 384);
        assert_eq!(t.bytes(Tag::BLOB).unwrap().len(), 0x2_8648);
    }
    if chips.contains(&Chipset::GB202) {
        let d = read_tlv(o, "gb202", TlvKind::Fmc);
        let t = Tlv::parse(&d).unwrap();
        assert_eq!(t.bytes(Tag::PKEY).unwrap().len(), 97);
        assert_eq!(t.bytes(Tag::SIGN).unwrap().len(), 96);
    }
    // Chips sharing a family share signatures; different families do not.
    let sign = |chip: &str| {
        let d = read_tlv(o, chip, TlvKind::Gsp);
        Tlv::parse(&d).unwrap().bytes(Tag::SIGN).unwrap().to_vec()
    };
    if chips.contains(&Chipset::TU116) && chips.contains(&Chipset::TU117) {
        assert_eq!(sign("tu116"), sign("tu117"));
    }
    if chips.contains(&Chipset::TU102) && chips.contains(&Chipset::TU116) {
        assert_ne!(sign("tu102"), sign("tu116"));
    }
}

#[test]
fn convert_one_debian_chip() {
    let Some(fw) = firmware_dir() else {
        return;
    };
    if !debian_chips(&fw).contains(&Chipset::TU117) {
        eprintln!("skipping: no TU117 files");
        return;
    }
    let out = TempDir::new("debian-one");
    let r = run(&[
        "convert".as_ref(),
        "--firmware-dir".as_ref(),
        fw.as_os_str(),
        "--chip".as_ref(),
        "tu117".as_ref(),
        "--out".as_ref(),
        out.path().as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = out.path().join("nvidia/tu117/gsp");
    // One chip: gsp.bin is a regular file.
    let bin = dir.join("gsp.bin");
    assert!(fs::symlink_metadata(&bin).unwrap().is_file());
    let d = fs::read(dir.join("gsp.tlv")).unwrap();
    let size = Tlv::parse(&d).unwrap().u32(Tag::SIZE).unwrap();
    assert_eq!(fs::metadata(&bin).unwrap().len(), u64::from(size));
    assert_eq!(names(out.path().join("nvidia").as_path()), ["tu117"]);
}
