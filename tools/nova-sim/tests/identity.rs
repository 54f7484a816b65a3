// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! Every chip's identity registers decode back to its chipset and architecture, using a
//! decoder written here from the register layouts (not the simulator's own helpers).

use nova_sim::chips::CHIPS;

/// NV_PMC_BOOT_0: 28:24 architecture_0, 23:20 implementation, 8 architecture_1 (MSB),
/// 7:4 major revision, 3:0 minor revision.
fn decode_boot0(v: u32) -> (u32, u32, u32, u32) {
    let arch = ((v >> 24) & 0x1f) | (((v >> 8) & 1) << 5);
    (arch, (v >> 20) & 0xf, (v >> 4) & 0xf, v & 0xf)
}

/// NV_PMC_BOOT_42: 29:24 architecture, 23:20 implementation, 19:16 major revision,
/// 15:12 minor revision.
fn decode_boot42(v: u32) -> (u32, u32, u32, u32) {
    (
        (v >> 24) & 0x3f,
        (v >> 20) & 0xf,
        (v >> 16) & 0xf,
        (v >> 12) & 0xf,
    )
}

/// The architecture number by chip family, from the chip names.
fn expected_arch(name: &str) -> u32 {
    match &name[..3] {
        "gv1" => 0x14,
        "tu1" => 0x16,
        "ga1" => 0x17,
        "gh1" => 0x18,
        "ad1" => 0x19,
        "gb1" => 0x1a,
        "gb2" => 0x1b,
        other => panic!("unknown family {other}"),
    }
}

#[test]
fn boot0_and_boot42_decode_to_the_chipset() {
    for chip in CHIPS {
        let (arch0, impl0, major0, minor0) = decode_boot0(chip.boot0);
        let (arch42, impl42, major42, minor42) = decode_boot42(chip.boot42);
        let name = chip.name;
        assert_eq!(arch0, expected_arch(name), "{name}: BOOT_0 architecture");
        assert_eq!(arch42, expected_arch(name), "{name}: BOOT_42 architecture");
        assert_eq!(arch42, chip.arch.id(), "{name}: table architecture");
        assert_eq!(
            (arch42 << 4) | impl42,
            chip.chipset,
            "{name}: BOOT_42 chipset"
        );
        assert_eq!((arch0 << 4) | impl0, chip.chipset, "{name}: BOOT_0 chipset");
        // nouveau's decoding of BOOT_0 (nvkm_device_ctor): bits 28:20.
        assert_eq!(
            (chip.boot0 & 0x1ff0_0000) >> 20,
            chip.chipset,
            "{name}: nouveau"
        );
        // Revision A1 in both registers.
        assert_eq!((major0, minor0), (0xa, 0x1), "{name}: BOOT_0 revision");
        assert_eq!((major42, minor42), (0xa, 0x1), "{name}: BOOT_42 revision");
        // Bits outside the documented fields are zero.
        assert_eq!(chip.boot0 & !0x1ff0_01ff, 0, "{name}: BOOT_0 reserved bits");
        assert_eq!(
            chip.boot42 & !0x3fff_f000,
            0,
            "{name}: BOOT_42 reserved bits"
        );
    }
}

#[test]
fn the_brief_example_values_hold() {
    let ad102 = nova_sim::chips::find("ad102").unwrap();
    assert_eq!((ad102.boot0, ad102.boot42), (0x1920_00a1, 0x192a_1000));
    let gv100 = nova_sim::chips::find("gv100").unwrap();
    assert_eq!((gv100.boot0, gv100.boot42), (0x1400_00a1, 0x140a_1000));
    assert_eq!(gv100.device_id, 0x1db1);
    assert!(!gv100.supported);
}

#[test]
fn every_chip_nova_knows_is_present() {
    // drivers/gpu/nova-core/gpu.rs, define_chipset!.
    let nova = [
        0x162, 0x164, 0x166, 0x167, 0x168, 0x170, 0x172, 0x173, 0x174, 0x176, 0x177, 0x180, 0x192,
        0x193, 0x194, 0x196, 0x197, 0x1a0, 0x1a2, 0x1b2, 0x1b3, 0x1b5, 0x1b6, 0x1b7,
    ];
    for chipset in nova {
        let chip = CHIPS.iter().find(|c| c.chipset == chipset);
        assert!(chip.is_some_and(|c| c.supported), "{chipset:#x}");
    }
    assert_eq!(CHIPS.len(), nova.len() + 1);
}
