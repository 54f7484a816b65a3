// SPDX-License-Identifier: GPL-2.0

//! GSP registers the driver writes directly.

use kernel::io::register;

register! {
    /// The doorbell of GSP-RM's command queue 0: writing the queue index tells GSP-RM that the
    /// queue's write pointer moved (`NV_PGSP_QUEUE_HEAD(i)` at 0x110c00 + 8 * i in
    /// open-gpu-kernel-modules `src/common/inc/swref/published/turing/tu102/dev_gsp.h`).
    pub(crate) NV_PGSP_QUEUE_HEAD(u32) @ 0x00110c00 {
        /// The queue index.
        31:0    address;
    }
}
