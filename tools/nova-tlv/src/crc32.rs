// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! The standard CRC-32 (IEEE 802.3, reflected polynomial `0xedb88320`, initial value and final
//! XOR `0xffffffff`), which NVIDIA stores in `sh_info` of the FMC ELF's sections (nouveau checks
//! it in `elf_validate_sections()`, `drivers/gpu/drm/nouveau/nvkm/subdev/gsp/gh100.c`).

/// The byte-at-a-time lookup table.
const TABLE: [u32; 256] = table();

// The loops are bounded by the array size, which the compiler checks in this const context.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                0xedb8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Returns the CRC-32 of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &b| {
        // The low byte of the CRC selects the table entry.
        let index = usize::from(crc.to_le_bytes()[0] ^ b);
        let entry = TABLE.get(index).copied().unwrap_or(0);
        entry ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::crc32;

    #[test]
    fn check_values() {
        // The standard check value, and two more from zlib's crc32().
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414f_a339
        );
    }
}
