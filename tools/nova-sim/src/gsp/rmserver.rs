// SPDX-License-Identifier: GPL-2.0-only OR MIT

//! GSP-RM's resource server, as a driver sees it through `GSP_RM_ALLOC`, `GSP_RM_CONTROL` and
//! `FREE`.
//!
//! Every client has its own table of objects; each object has a class and a parent. The rules
//! and the status each mistake gets are those of open-gpu-kernel-modules 570.144:
//!
//! - allocation (`RmAlloc` in `src/nvidia/src/kernel/rmapi/alloc_free.c`, `serverAllocClient`
//!   and `serverAllocResource` in `src/nvidia/src/libraries/resserv/src/rs_server.c`,
//!   `clientValidateNewResourceHandle` in `rs_client.c`): a class the GPU does not offer is
//!   `NV_ERR_INVALID_CLASS`; a client handle already in use `NV_ERR_INSERT_DUPLICATE_NAME`; an
//!   unknown client `NV_ERR_INVALID_OBJECT_HANDLE`; an unknown parent `NV_ERR_OBJECT_NOT_FOUND`;
//!   a parent of a class the new one may not have (`resource_list.h`: `NV01_DEVICE_0` under a
//!   client, `NV20_SUBDEVICE_0` under a device) `NV_ERR_INVALID_OBJECT_PARENT`; a handle of 0
//!   or the client's own `NV_ERR_INVALID_OBJECT_HANDLE`; a handle in use
//!   `NV_ERR_INSERT_DUPLICATE_NAME`.
//! - free (`_serverFreeClient`, `clientFreeResource`): an unknown client is
//!   `NV_ERR_INVALID_OBJECT_HANDLE`, an unknown object `NV_ERR_OBJECT_NOT_FOUND`. Freeing an
//!   object frees its descendants; freeing the client handle frees the whole client.
//! - control (`serverControl`, `resControlLookup` in `rs_resource.c`): an unknown client is
//!   `NV_ERR_INVALID_OBJECT_HANDLE`, an unknown object `NV_ERR_OBJECT_NOT_FOUND`, a control the
//!   object's class does not have `NV_ERR_NOT_SUPPORTED`.
//!
//! GSP-RM allocates a client, device and subdevice of its own when it boots and reports their
//! handles in its static information (`hInternalClient` and so on): an internal client handle
//! from `RS_CLIENT_INTERNAL_HANDLE_BASE` (0xc1e00000, `resserv.h`), device and subdevice
//! handles generated from `RS_UNIQUE_HANDLE_BASE` (0xcaf00000, `rs_client.h`) as
//! `clientGenResourceHandle` does.

use std::collections::BTreeMap;

use super::r570::status;

/// `NV01_ROOT` (`src/common/sdk/nvidia/inc/class/cl0000.h`).
pub const NV01_ROOT: u32 = 0x0;
/// `NV01_DEVICE_0` (`class/cl0080.h`).
pub const NV01_DEVICE_0: u32 = 0x80;
/// `NV20_SUBDEVICE_0` (`class/cl2080.h`).
pub const NV20_SUBDEVICE_0: u32 = 0x2080;

/// `NV_ERR_INSERT_DUPLICATE_NAME`.
pub const INSERT_DUPLICATE_NAME: u32 = 0x19;
/// `NV_ERR_INVALID_CLASS`.
pub const INVALID_CLASS: u32 = 0x22;
/// `NV_ERR_INVALID_OBJECT_HANDLE`.
pub const INVALID_OBJECT_HANDLE: u32 = 0x33;
/// `NV_ERR_INVALID_OBJECT_PARENT`.
pub const INVALID_OBJECT_PARENT: u32 = 0x36;
/// `NV_ERR_OBJECT_NOT_FOUND`.
pub const OBJECT_NOT_FOUND: u32 = 0x57;

/// `RS_CLIENT_INTERNAL_HANDLE_BASE`.
pub const INTERNAL_CLIENT: u32 = 0xc1e0_0000;
/// The first handle `clientGenResourceHandle` gives out (`RS_UNIQUE_HANDLE_BASE`).
pub const UNIQUE_HANDLE_BASE: u32 = 0xcaf0_0000;

/// One object of a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Object {
    class: u32,
    /// The parent's handle; the client's own object has none.
    parent: Option<u32>,
}

/// The classes the model's GPU offers and the class each must be allocated under
/// (`resource_list.h`: the device's parent is `RmClientResource`, the subdevice's `Device`).
fn parent_class(class: u32) -> Option<Option<u32>> {
    match class {
        NV01_ROOT => Some(None),
        NV01_DEVICE_0 => Some(Some(NV01_ROOT)),
        NV20_SUBDEVICE_0 => Some(Some(NV01_DEVICE_0)),
        _ => None,
    }
}

/// The resource server.
#[derive(Debug, Default)]
pub struct RmServer {
    /// Each client's objects by handle; the client itself is one of them.
    clients: BTreeMap<u32, BTreeMap<u32, Object>>,
    /// Objects the driver allocated, and freed (GSP-RM's own are not counted).
    allocated: u64,
    freed: u64,
}

/// GSP-RM's own client, device and subdevice.
pub const INTERNAL: (u32, u32, u32) = (INTERNAL_CLIENT, UNIQUE_HANDLE_BASE, UNIQUE_HANDLE_BASE + 1);

impl RmServer {
    /// A server holding GSP-RM's own client, device and subdevice ([`INTERNAL`]).
    pub fn new() -> Self {
        let mut s = Self::default();
        let (c, d, sd) = INTERNAL;
        let mut objects = BTreeMap::new();
        objects.insert(
            c,
            Object {
                class: NV01_ROOT,
                parent: None,
            },
        );
        objects.insert(
            d,
            Object {
                class: NV01_DEVICE_0,
                parent: Some(c),
            },
        );
        objects.insert(
            sd,
            Object {
                class: NV20_SUBDEVICE_0,
                parent: Some(d),
            },
        );
        s.clients.insert(c, objects);
        s
    }

    /// Allocates `object` of `class` under `parent` in `client`; returns the status.
    pub fn alloc(&mut self, client: u32, parent: u32, object: u32, class: u32) -> u32 {
        let Some(parent_class_rule) = parent_class(class) else {
            return INVALID_CLASS;
        };
        if class == NV01_ROOT {
            // The RPC names the new client in `hClient` (and as its own object).
            if client == 0 || object != client {
                return INVALID_OBJECT_HANDLE;
            }
            if self.clients.contains_key(&client) {
                return INSERT_DUPLICATE_NAME;
            }
            let mut objects = BTreeMap::new();
            objects.insert(
                client,
                Object {
                    class,
                    parent: None,
                },
            );
            self.clients.insert(client, objects);
            self.allocated += 1;
            return status::OK;
        }
        let Some(objects) = self.clients.get_mut(&client) else {
            return INVALID_OBJECT_HANDLE;
        };
        let parent = if parent == 0 { client } else { parent };
        let Some(parent_obj) = objects.get(&parent) else {
            return OBJECT_NOT_FOUND;
        };
        if parent_class_rule != Some(parent_obj.class) {
            return INVALID_OBJECT_PARENT;
        }
        if object == 0 || object == client {
            return INVALID_OBJECT_HANDLE;
        }
        if objects.contains_key(&object) {
            return INSERT_DUPLICATE_NAME;
        }
        objects.insert(
            object,
            Object {
                class,
                parent: Some(parent),
            },
        );
        self.allocated += 1;
        status::OK
    }

    /// Frees `object` of `client` and its descendants (the whole client if `object` is the
    /// client); returns the status.
    pub fn free(&mut self, client: u32, object: u32) -> u32 {
        let internal = client == INTERNAL.0;
        let Some(objects) = self.clients.get_mut(&client) else {
            return INVALID_OBJECT_HANDLE;
        };
        if object == client {
            let n = objects.len() as u64;
            self.clients.remove(&client);
            if !internal {
                self.freed += n;
            }
            return status::OK;
        }
        if !objects.contains_key(&object) {
            return OBJECT_NOT_FOUND;
        }
        // The object and everything below it, found by walking parents up.
        let doomed: Vec<u32> = objects
            .keys()
            .copied()
            .filter(|&h| {
                let mut at = Some(h);
                while let Some(x) = at {
                    if x == object {
                        return true;
                    }
                    at = objects.get(&x).and_then(|o| o.parent);
                }
                false
            })
            .collect();
        for h in &doomed {
            objects.remove(h);
        }
        if !internal {
            self.freed += doomed.len() as u64;
        }
        status::OK
    }

    /// Looks up `object` of `client` for a control: returns its class, or the status.
    pub fn control_target(&self, client: u32, object: u32) -> Result<u32, u32> {
        let objects = self.clients.get(&client).ok_or(INVALID_OBJECT_HANDLE)?;
        objects
            .get(&object)
            .map(|o| o.class)
            .ok_or(OBJECT_NOT_FOUND)
    }

    /// The driver's clients still allocated, each with its number of objects.
    pub fn live_clients(&self) -> Vec<(u32, usize)> {
        self.clients
            .iter()
            .filter(|(h, _)| **h != INTERNAL.0)
            .map(|(h, o)| (*h, o.len()))
            .collect()
    }

    /// How many objects the driver allocated and freed so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.allocated, self.freed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: u32 = 0xc1d0_0000;
    const D: u32 = 0xde1d_0000;
    const S: u32 = 0x5d1d_0000;

    #[test]
    fn the_driver_tree_allocates_and_frees_in_order() {
        let mut rm = RmServer::new();
        assert_eq!(rm.alloc(C, C, C, NV01_ROOT), status::OK);
        assert_eq!(rm.alloc(C, C, D, NV01_DEVICE_0), status::OK);
        assert_eq!(rm.alloc(C, D, S, NV20_SUBDEVICE_0), status::OK);
        assert_eq!(rm.live_clients(), vec![(C, 3)]);
        assert_eq!(rm.control_target(C, S), Ok(NV20_SUBDEVICE_0));
        assert_eq!(rm.free(C, S), status::OK);
        assert_eq!(rm.free(C, D), status::OK);
        assert_eq!(rm.free(C, C), status::OK);
        assert!(rm.live_clients().is_empty());
        assert_eq!(rm.counts(), (3, 3));
    }

    #[test]
    fn mistakes_get_resource_server_statuses() {
        let mut rm = RmServer::new();
        assert_eq!(rm.alloc(C, C, D, NV01_DEVICE_0), INVALID_OBJECT_HANDLE);
        assert_eq!(rm.alloc(C, C, C, 0xc56f), INVALID_CLASS);
        assert_eq!(rm.alloc(C, C, C, NV01_ROOT), status::OK);
        assert_eq!(rm.alloc(C, C, C, NV01_ROOT), INSERT_DUPLICATE_NAME);
        assert_eq!(rm.alloc(C, 0x1234, D, NV01_DEVICE_0), OBJECT_NOT_FOUND);
        assert_eq!(rm.alloc(C, C, S, NV20_SUBDEVICE_0), INVALID_OBJECT_PARENT);
        assert_eq!(rm.alloc(C, C, C, NV01_DEVICE_0), INVALID_OBJECT_HANDLE);
        assert_eq!(rm.alloc(C, C, 0, NV01_DEVICE_0), INVALID_OBJECT_HANDLE);
        assert_eq!(rm.alloc(C, C, D, NV01_DEVICE_0), status::OK);
        assert_eq!(rm.alloc(C, C, D, NV01_DEVICE_0), INSERT_DUPLICATE_NAME);
        assert_eq!(rm.alloc(C, D, D + 1, NV01_DEVICE_0), INVALID_OBJECT_PARENT);
        assert_eq!(rm.free(C, S), OBJECT_NOT_FOUND);
        assert_eq!(rm.free(0x1234, S), INVALID_OBJECT_HANDLE);
        assert_eq!(rm.control_target(C, S), Err(OBJECT_NOT_FOUND));
        assert_eq!(rm.control_target(0x1234, S), Err(INVALID_OBJECT_HANDLE));
    }

    #[test]
    fn freeing_cascades() {
        let mut rm = RmServer::new();
        rm.alloc(C, C, C, NV01_ROOT);
        rm.alloc(C, C, D, NV01_DEVICE_0);
        rm.alloc(C, D, S, NV20_SUBDEVICE_0);
        rm.alloc(C, D, S + 1, NV20_SUBDEVICE_0);
        // The device takes its subdevices with it.
        assert_eq!(rm.free(C, D), status::OK);
        assert_eq!(rm.live_clients(), vec![(C, 1)]);
        assert_eq!(rm.free(C, S), OBJECT_NOT_FOUND);
        rm.alloc(C, C, D, NV01_DEVICE_0);
        // The client takes everything.
        assert_eq!(rm.free(C, C), status::OK);
        assert!(rm.live_clients().is_empty());
        assert_eq!(rm.counts(), (5, 5));
        // GSP-RM's own objects stay and are not counted.
        assert_eq!(
            rm.control_target(INTERNAL.0, INTERNAL.2),
            Ok(NV20_SUBDEVICE_0)
        );
    }
}
