// SPDX-License-Identifier: GPL-2.0

//! Integer conversions the kernel crate's [`kernel::num::casts`] does not cover: taking the
//! halves of a 64-bit value, which registers and mailboxes of 32 bits receive in two parts.

use kernel::prelude::*;

/// Returns the low 32 bits of `value` (bits 31:0); the high bits are dropped on purpose.
pub(crate) const fn lower_32(value: u64) -> u32 {
    // CAST: keeping only bits 31:0 is the point of this function.
    value as u32
}

/// Returns the high 32 bits of `value` (bits 63:32).
pub(crate) const fn upper_32(value: u64) -> u32 {
    // CAST: after the shift the value has at most 32 significant bits: lossless.
    (value >> 32) as u32
}

#[cfg(CONFIG_NOVA_CORE_KUNIT_TEST)]
#[kunit_tests(nova_core_num)]
mod tests {
    use super::*;

    #[test]
    fn halves() -> Result {
        let v = 0x0123_4567_89ab_cdef_u64;
        assert_eq!(lower_32(v), 0x89ab_cdef);
        assert_eq!(upper_32(v), 0x0123_4567);
        assert_eq!((u64::from(upper_32(v)) << 32) | u64::from(lower_32(v)), v);
        assert_eq!((lower_32(u64::MAX), upper_32(0)), (u32::MAX, 0));
        Ok(())
    }
}
