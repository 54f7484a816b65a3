// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! End-to-end tests of the command line on synthetic firmware trees: conversions, the
//! refusal of bad input with the right exit status and no partial output, and `verify`.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use common::{names, run, synth, tree, TempDir};
use nova_tlv::chips::{Chipset, TlvKind};
use nova_tlv::crc32::crc32;
use nova_tlv::tlv::{Tag, Tlv};

fn fw_tree(chips: &[&str]) -> TempDir {
    let dir = TempDir::new("fw");
    synth::debian_tree(dir.path(), chips, crc32);
    dir
}

fn convert(fw: &Path, chip: &str, out: &Path) -> common::Output {
    run(&[
        "convert".as_ref(),
        "--firmware-dir".as_ref(),
        fw.as_os_str(),
        "--chip".as_ref(),
        chip.as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
}

fn convert_all(fw: &Path, out: &Path, extra: &[&str]) -> common::Output {
    let mut args = vec![
        "convert-all".into(),
        "--firmware-dir".into(),
        fw.as_os_str().to_owned(),
        "--out".into(),
        out.as_os_str().to_owned(),
    ];
    args.extend(extra.iter().map(|s| s.into()));
    run(&args)
}

/// Checks that `out` holds exactly the files nova-core requests for `chips`, that each TLV
/// passes `verify`, and that no temporary file is left.
fn check_output(out: &Path, chips: &[Chipset]) {
    let mut expected_dirs: Vec<String> = chips.iter().map(|c| c.name().to_string()).collect();
    expected_dirs.sort();
    assert_eq!(names(&out.join("nvidia")), expected_dirs);
    for &chip in chips {
        let dir = out.join(chip.gsp_dir());
        let mut expected: Vec<String> = chip.output_files().iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(names(&dir), expected, "{chip}");
        let tlvs: Vec<_> = chip
            .tlv_files()
            .iter()
            .map(|k| dir.join(k.tlv_name()))
            .collect();
        let v = run(&[
            &["verify".as_ref()],
            &tlvs.iter().map(|p| p.as_os_str()).collect::<Vec<_>>()[..],
        ]
        .concat());
        assert_eq!(v.code, 0, "{chip}: {}{}", v.stdout, v.stderr);
        assert_eq!(v.stdout.matches("  ok: passes").count(), tlvs.len());
    }
    for p in tree(out) {
        assert!(
            !p.to_string_lossy().contains(".nova-tlv-"),
            "temporary file left: {}",
            p.display()
        );
    }
}

#[test]
fn convert_one_chip() {
    let fw = fw_tree(&["ad102"]);
    let out = TempDir::new("out");
    let r = convert(fw.path(), "AD102", out.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("wrote nvidia/ad102/gsp/booter_load.tlv"));
    check_output(out.path(), &[Chipset::AD102]);
    // gsp.bin is a regular file with the .fwimage contents.
    let bin = out.path().join("nvidia/ad102/gsp/gsp.bin");
    assert!(!fs::symlink_metadata(&bin).unwrap().file_type().is_symlink());
    assert_eq!(
        fs::read(&bin).unwrap(),
        synth::gsp_image(synth::GA_FAMILIES)
    );
    let tlv = fs::read(out.path().join("nvidia/ad102/gsp/gsp.tlv")).unwrap();
    let tlv = Tlv::parse(&tlv).unwrap();
    assert_eq!(tlv.bytes(Tag::SIGN).unwrap(), synth::gsp_signature("ad10x"));

    // Converting again replaces the files in place.
    let r = convert(fw.path(), "ad102", out.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    check_output(out.path(), &[Chipset::AD102]);
}

#[test]
fn convert_all_chips_with_shared_images() {
    let chips = [
        "tu102", "tu117", "ga100", "ga102", "ga103", "ad104", "gh100", "gb202",
    ];
    let fw = fw_tree(&chips);
    let out = TempDir::new("out");
    let r = convert_all(fw.path(), out.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut expected: Vec<Chipset> = chips
        .iter()
        .map(|c| Chipset::from_name(c).unwrap())
        .collect();
    expected.sort();
    check_output(out.path(), &expected);
    assert!(r.stdout.contains("converted 8 chip(s)"));

    // The first chip of each GSP-RM image (in nova-core's order) holds gsp.bin, the others
    // link to it.
    let link = |chip: &str| fs::read_link(out.path().join(format!("nvidia/{chip}/gsp/gsp.bin")));
    assert!(link("tu102").is_err());
    assert_eq!(link("tu117").unwrap(), Path::new("../../tu102/gsp/gsp.bin"));
    assert_eq!(link("ga100").unwrap(), Path::new("../../tu102/gsp/gsp.bin"));
    assert!(link("ga102").is_err());
    for chip in ["ga103", "ad104", "gh100", "gb202"] {
        assert_eq!(
            link(chip).unwrap(),
            Path::new("../../ga102/gsp/gsp.bin"),
            "{chip}"
        );
    }
    // Each chip family gets its own signatures.
    for (chip, family) in [
        ("tu117", "tu11x"),
        ("ga100", "ga100"),
        ("gh100", "gh100"),
        ("gb202", "gb20x"),
    ] {
        let data = fs::read(out.path().join(format!("nvidia/{chip}/gsp/gsp.tlv"))).unwrap();
        let tlv = Tlv::parse(&data).unwrap();
        assert_eq!(
            tlv.bytes(Tag::SIGN).unwrap(),
            synth::gsp_signature(family),
            "{chip}"
        );
    }

    // --no-symlinks writes copies.
    let out2 = TempDir::new("out");
    let r = convert_all(fw.path(), out2.path(), &["--no-symlinks"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bin = out2.path().join("nvidia/gb202/gsp/gsp.bin");
    assert!(fs::symlink_metadata(&bin).unwrap().is_file());
    assert_eq!(fs::read(bin).unwrap(), synth::gsp_image(synth::GA_FAMILIES));
}

#[test]
fn output_with_debian_directory_symlinks() {
    // The output already has Debian's layout: ga103/gsp -> ../ga102/gsp. Both chips' files
    // land in ga102/gsp once, and gsp.bin stays a regular file there.
    let fw = fw_tree(&["ga102", "ga103"]);
    let out = TempDir::new("out");
    fs::create_dir_all(out.path().join("nvidia/ga102/gsp")).unwrap();
    fs::create_dir_all(out.path().join("nvidia/ga103")).unwrap();
    symlink("../ga102/gsp", out.path().join("nvidia/ga103/gsp")).unwrap();
    let r = convert_all(fw.path(), out.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r
        .stdout
        .contains("kept nvidia/ga103/gsp/gsp.bin (same file as nvidia/ga102/gsp/gsp.bin)"));
    let bin = out.path().join("nvidia/ga102/gsp/gsp.bin");
    assert!(fs::symlink_metadata(&bin).unwrap().is_file());
    check_output(out.path(), &[Chipset::GA102, Chipset::GA103]);
}

/// Asserts `r` failed with status 1 and a message containing every one of `texts`, and that
/// `out` is still empty.
fn assert_refused(r: &common::Output, out: &Path, texts: &[&str]) {
    assert_eq!(r.code, 1, "stdout {} stderr {}", r.stdout, r.stderr);
    for t in texts {
        assert!(r.stderr.contains(t), "expected {t:?} in {:?}", r.stderr);
    }
    assert_eq!(
        tree(out),
        Vec::<std::path::PathBuf>::new(),
        "partial output written"
    );
}

#[test]
fn missing_file_names_file_and_package() {
    let fw = fw_tree(&["ad102", "tu102"]);
    let victim = fw.path().join("nvidia/ad102/gsp/booter_unload-570.144.bin");
    fs::remove_file(&victim).unwrap();
    let out = TempDir::new("out");
    let r = convert_all(fw.path(), out.path(), &[]);
    assert_refused(
        &r,
        out.path(),
        &[
            &victim.display().to_string(),
            "firmware-nvidia-graphics",
            "nvidia/ad102/gsp/booter_unload.tlv",
        ],
    );
    // The same for a dangling symlink (tu102's GSP-RM image).
    fs::remove_file(fw.path().join("nvidia/shared/gsp-tu.bin")).unwrap();
    let r = convert(fw.path(), "tu102", out.path());
    assert_refused(
        &r,
        out.path(),
        &["gsp-570.144.bin", "dangling", "firmware-nvidia-graphics"],
    );
}

#[test]
fn inconsistent_inputs_are_refused() {
    let out = TempDir::new("out");

    // Bad magic in one chip's booter: convert-all writes nothing at all.
    let fw = fw_tree(&["tu102", "ad102"]);
    let path = fw.path().join("nvidia/ad102/gsp/booter_load-570.144.bin");
    let mut data = fs::read(&path).unwrap();
    data[0] = 0xdf;
    fs::write(&path, &data).unwrap();
    let r = convert_all(fw.path(), out.path(), &[]);
    assert_refused(&r, out.path(), &["booter_load-570.144.bin", "magic 0x10df"]);

    // Bad binary header version.
    data[0] = 0xde;
    data[4] = 2;
    fs::write(&path, &data).unwrap();
    let r = convert(fw.path(), "ad102", out.path());
    assert_refused(&r, out.path(), &["version 2"]);

    // Payload past the end of the file.
    data[4] = 1;
    let size = u32::from_le_bytes(data[20..24].try_into().unwrap());
    data[20..24].copy_from_slice(&(size + 1).to_le_bytes());
    fs::write(&path, &data).unwrap();
    let r = convert(fw.path(), "ad102", out.path());
    assert_refused(&r, out.path(), &["outside the file"]);

    // A GSP-RM ELF without the chip family's signature section: give AD102 the Turing image.
    let fw = fw_tree(&["ad102"]);
    let gsp = fw.path().join("nvidia/ad102/gsp/gsp-570.144.bin");
    fs::remove_file(&gsp).unwrap();
    symlink("../../shared/gsp-tu.bin", &gsp).unwrap();
    let r = convert(fw.path(), "ad102", out.path());
    assert_refused(
        &r,
        out.path(),
        &[".fwsignature_ad10x", "converting for ad102"],
    );

    // Truncated GSP-RM ELF.
    let elf = synth::gsp_elf("570.144", synth::GA_FAMILIES);
    fs::remove_file(&gsp).unwrap();
    fs::write(&gsp, &elf[..elf.len() - 10]).unwrap();
    let r = convert(fw.path(), "ad102", out.path());
    assert_refused(&r, out.path(), &["gsp-570.144.bin", "section"]);

    // A GSP-RM ELF of another version than its name says.
    fs::write(&gsp, synth::gsp_elf("580.65", synth::GA_FAMILIES)).unwrap();
    let r = convert(fw.path(), "ad102", out.path());
    assert_refused(&r, out.path(), &[".fwversion", "580.65"]);

    // An FMC whose image does not match its CRC.
    let fw = fw_tree(&["gh100"]);
    let fmc = fw.path().join("nvidia/gh100/gsp/fmc-570.144.bin");
    let mut data = fs::read(&fmc).unwrap();
    let n = data.len();
    data[n / 2] ^= 0x55;
    fs::write(&fmc, &data).unwrap();
    let r = convert(fw.path(), "gh100", out.path());
    assert_refused(&r, out.path(), &["fmc-570.144.bin", "CRC-32"]);
}

#[test]
fn usage_errors_exit_2() {
    let fw = fw_tree(&["ad102"]);
    let out = TempDir::new("out");
    let r = convert(fw.path(), "gv100", out.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown chip \"gv100\""), "{}", r.stderr);
    for args in [
        &[][..],
        &["convert"],
        &["convert-all", "--out", "/tmp/x"],
        &["bogus"],
        &["verify"],
        &["convert", "--frobnicate"],
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("nova-tlv: error: "), "{}", r.stderr);
    }
    assert_eq!(tree(out.path()), Vec::<std::path::PathBuf>::new());
    let r = run(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("convert-all"));
    let r = run(&["chips"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.lines().count(), Chipset::ALL.len());
}

#[test]
fn input_and_output_directory_problems_exit_1() {
    let out = TempDir::new("out");
    // No firmware directory.
    let r = convert(Path::new("/nonexistent/nova-tlv"), "ad102", out.path());
    assert_refused(&r, out.path(), &["/nonexistent/nova-tlv"]);
    // A firmware directory without files of the version.
    let fw = fw_tree(&["ad102"]);
    let r = convert_all(fw.path(), out.path(), &["--fw-version", "580.1"]);
    assert_refused(&r, out.path(), &["580.1", "firmware-nvidia-graphics"]);
    // The output is a regular file: nothing written, status 1.
    let file = out.path().join("not-a-dir");
    fs::write(&file, b"x").unwrap();
    let r = convert(fw.path(), "ad102", &file);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("not a directory"), "{}", r.stderr);
    assert_eq!(fs::read(&file).unwrap(), b"x");
    // A file in the way of a directory.
    fs::create_dir_all(out.path().join("a")).unwrap();
    fs::write(out.path().join("a/b"), b"file in the way").unwrap();
    let r = convert(fw.path(), "ad102", &out.path().join("a/b/c"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("not a directory"), "{}", r.stderr);

    // A directory in the way of the last chip's gsp.tlv: nothing is written, and the
    // directories created for the other chip are removed again.
    let fw = fw_tree(&["tu102", "ad102"]);
    let out = TempDir::new("out");
    fs::create_dir_all(out.path().join("nvidia/ad102/gsp/gsp.tlv")).unwrap();
    let before = tree(out.path());
    let r = convert_all(fw.path(), out.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("a directory is in the way"),
        "{}",
        r.stderr
    );
    assert_eq!(tree(out.path()), before);
}

#[test]
fn verify_reports_structure_and_refuses_malformed_files() {
    let fw = fw_tree(&["tu102"]);
    let out = TempDir::new("out");
    assert_eq!(convert(fw.path(), "tu102", out.path()).code, 0);
    let dir = out.path().join("nvidia/tu102/gsp");

    let good = dir.join("booter_load.tlv");
    let r = run(&[Path::new("verify"), &good]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for tag in [
        "VERS", "NSIG", "SIGN", "PLOC", "FUSE", "ENID", "UCID", "CDOF", "CDSZ", "DAOF", "DASZ",
        "A0CO", "A0CS", "BLOB",
    ] {
        assert!(
            r.stdout.contains(&format!("  {tag}")),
            "{tag} in {}",
            r.stdout
        );
    }
    assert!(r.stdout.contains("u32 0x1e00"), "{}", r.stdout);

    let data = fs::read(&good).unwrap();
    let bad = out.path().join("bad");
    fs::create_dir_all(&bad).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated.tlv", data[..data.len() - 1].to_vec(), "declares"),
        (
            "magic.tlv",
            [b"NVFX".as_slice(), &data[4..]].concat(),
            "magic",
        ),
        (
            "slack.tlv",
            [data.as_slice(), &[0, 0]].concat(),
            "truncated",
        ),
        ("empty.tlv", Vec::new(), "magic"),
    ];
    for (name, contents, text) in &cases {
        let p = bad.join(name);
        fs::write(&p, contents).unwrap();
        let r = run(&[Path::new("verify"), &p]);
        assert_eq!(r.code, 1, "{name}: {}", r.stdout);
        assert!(r.stderr.contains(text), "{name}: {}", r.stderr);
    }

    // A well-formed booter_load.tlv missing a tag nova-core reads.
    let tlv = Tlv::parse(&data).unwrap();
    let mut w = nova_tlv::tlv::TlvWriter::new();
    for b in tlv.blocks().iter().filter(|b| b.tag != Tag::PLOC) {
        w.bytes(b.tag, b.value).unwrap();
    }
    let sub = bad.join("sub");
    fs::create_dir_all(&sub).unwrap();
    let p = sub.join(TlvKind::BooterLoad.tlv_name());
    fs::write(&p, w.finish().unwrap()).unwrap();
    let r = run(&[Path::new("verify"), &p, &good]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("'PLOC' is missing"), "{}", r.stderr);
    assert!(r.stderr.contains("1 of 2 file(s) failed"), "{}", r.stderr);
    // The good file was still reported.
    assert!(r.stdout.contains("ok: passes"), "{}", r.stdout);

    // gsp.tlv whose gsp.bin has the wrong size.
    fs::write(dir.join("gsp.bin"), b"short").unwrap();
    let r = run(&[Path::new("verify"), &dir.join("gsp.tlv")]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("SIZE says"), "{}", r.stderr);

    // A file under another name is only checked for well-formedness.
    let other = bad.join("other.tlv");
    fs::copy(&good, &other).unwrap();
    let r = run(&[Path::new("verify"), &other]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("unknown file name"));

    // A missing file.
    let r = run(&[Path::new("verify"), &bad.join("nope.tlv")]);
    assert_eq!(r.code, 1);
}
