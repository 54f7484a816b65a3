// SPDX-License-Identifier: GPL-2.0

//! The commands nova sends to GSP-RM, each bound to the type of its reply.
//!
//! Boot: `GSP_SET_SYSTEM_INFO` and `SET_REGISTRY` (not answered), `GSP_INIT_DONE` (an event),
//! `GET_GSP_STATIC_INFO`. Stop: `UNLOADING_GUEST_DRIVER`, whose answer is the GSP falcon's
//! MAILBOX0, not a reply. The RM API: `GSP_RM_ALLOC` of a class with its typed parameters
//! ([`AllocParams`]), `GSP_RM_CONTROL` of a control with its typed parameters
//! ([`ControlParams`]), and `FREE` (open-gpu-kernel-modules `rpcRmApiAlloc_GSP`,
//! `rpcRmApiControl_GSP`, `rpcRmApiFree_GSP` in `src/nvidia/src/kernel/vgpu/rpc.c`; nouveau
//! `r535/alloc.c`, `r535/ctrl.c`).

use kernel::fmt;

use kernel::prelude::*;

use super::{
    fw::{
        Abi, ClassList, DecodeError, DeviceInfoPage, EventKind, Function, RmAllocHeader, RmClass,
        RmControlCmd, StaticInfo, SystemInfo, UnloadParams,
    },
    nvstatus::NvStatus,
    rpc::{check, Awaited, CommandToGsp, MessageFromGsp, NoReply, RpcError},
};

/// `GSP_SET_SYSTEM_INFO`: the host's view of the GPU. GSP-RM does not reply.
pub(crate) struct SetSystemInfo<'a>(pub(crate) &'a SystemInfo);

impl CommandToGsp for SetSystemInfo<'_> {
    const FUNCTION: Function = Function::SetSystemInfo;
    type Reply = NoReply;

    fn size(&self, abi: Abi) -> usize {
        abi.system_info_size()
    }

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_system_info(dst, self.0)
    }
}

/// `SET_REGISTRY` with 32-bit values. GSP-RM does not reply.
pub(crate) struct SetRegistry<'a>(pub(crate) &'a [(&'a str, u32)]);

impl CommandToGsp for SetRegistry<'_> {
    const FUNCTION: Function = Function::SetRegistry;
    type Reply = NoReply;

    fn size(&self, abi: Abi) -> usize {
        abi.registry_size(self.0)
    }

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_registry(dst, self.0)
    }
}

/// `GSP_INIT_DONE`: GSP-RM finished initialising.
pub(crate) struct InitDone;

impl MessageFromGsp for InitDone {
    const AWAITED: Awaited = Awaited::Event(EventKind::InitDone);

    fn read(_abi: Abi, _payload: &[u8], _result: NvStatus) -> Result<Self, RpcError> {
        Ok(Self)
    }
}

/// `GET_GSP_STATIC_INFO`: the request carries a zeroed buffer of the reply's size for GSP-RM to
/// fill.
pub(crate) struct GetGspStaticInfo;

impl CommandToGsp for GetGspStaticInfo {
    const FUNCTION: Function = Function::GetGspStaticInfo;
    type Reply = StaticInfo;

    fn size(&self, abi: Abi) -> usize {
        abi.static_info_size()
    }

    fn write(&self, _abi: Abi, dst: &mut [u8]) -> Result {
        dst.fill(0);
        Ok(())
    }
}

impl MessageFromGsp for StaticInfo {
    const AWAITED: Awaited = Awaited::Reply;

    fn min_size(abi: Abi) -> usize {
        abi.static_info_size()
    }

    fn read(abi: Abi, payload: &[u8], result: NvStatus) -> Result<Self, RpcError> {
        check(result)?;
        Ok(abi.static_info(payload)?)
    }
}

/// `UNLOADING_GUEST_DRIVER`, its reply awaited: GSP-RM's status says whether it accepted the
/// request (nouveau `r535_gsp_fini()` waits for it, `NVKM_GSP_RPC_REPLY_POLL`). What counts in
/// the end is the suspended bit in the GSP falcon's MAILBOX0, which the caller polls next.
pub(crate) struct UnloadingGuestDriver(pub(crate) UnloadParams);

/// The reply to `UNLOADING_GUEST_DRIVER`: GSP-RM accepted the request.
pub(crate) struct Unloaded;

impl MessageFromGsp for Unloaded {
    const AWAITED: Awaited = Awaited::Reply;

    fn read(_abi: Abi, _payload: &[u8], result: NvStatus) -> Result<Self, RpcError> {
        check(result).map(|()| Self)
    }
}

impl CommandToGsp for UnloadingGuestDriver {
    const FUNCTION: Function = Function::UnloadingGuestDriver;
    type Reply = Unloaded;

    fn size(&self, abi: Abi) -> usize {
        abi.unloading_guest_driver_size()
    }

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_unloading_guest_driver(dst, &self.0)
    }
}

/// `UNLOADING_GUEST_DRIVER` after a boot that failed: the reply is not waited for (GSP-RM
/// may not answer at all), only the suspended bit is polled before the falcon is reset.
pub(crate) struct UnloadingGuestDriverNoWait(pub(crate) UnloadParams);

impl CommandToGsp for UnloadingGuestDriverNoWait {
    const FUNCTION: Function = Function::UnloadingGuestDriver;
    type Reply = NoReply;

    fn size(&self, abi: Abi) -> usize {
        abi.unloading_guest_driver_size()
    }

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_unloading_guest_driver(dst, &self.0)
    }
}

/// The typed allocation parameters of an RM class.
pub(crate) trait AllocParams {
    /// The class.
    const CLASS: RmClass;

    /// Writes the parameters into `dst` (exactly [`Abi::alloc_params_size`] bytes).
    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result;
}

/// `NV0000_ALLOC_PARAMETERS`: a client whose handle is `client`.
pub(crate) struct RootParams {
    /// The client's handle.
    pub(crate) client: u32,
}

impl AllocParams for RootParams {
    const CLASS: RmClass = RmClass::Root;

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_root_params(dst, self.client)
    }
}

/// `NV0080_ALLOC_PARAMETERS`: device 0, shared with client `client_share`.
pub(crate) struct DeviceParams {
    /// `hClientShare`.
    pub(crate) client_share: u32,
}

impl AllocParams for DeviceParams {
    const CLASS: RmClass = RmClass::Device;

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_device_params(dst, self.client_share)
    }
}

/// `NV2080_ALLOC_PARAMETERS`: subdevice `id` of its device.
pub(crate) struct SubdeviceParams {
    /// `subDeviceId`.
    pub(crate) id: u32,
}

impl AllocParams for SubdeviceParams {
    const CLASS: RmClass = RmClass::Subdevice;

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_subdevice_params(dst, self.id)
    }
}

/// Returns the status of an RM reply: the status in its parameters if that is not `NV_OK`
/// (what `rpcRmApiAlloc_GSP` returns), else the RPC result; `params` is `Err` if the reply
/// is too short to hold them.
fn rm_status(params: Result<u32, DecodeError>, result: NvStatus) -> Result<(), RpcError> {
    match params {
        Ok(status) if status != 0 => Err(RpcError::Status(NvStatus(status))),
        Ok(_) => check(result),
        Err(e) => {
            check(result)?;
            Err(RpcError::Decode(e))
        }
    }
}

/// `GSP_RM_ALLOC`: allocates `object` of `P`'s class under `parent`, in `client`.
pub(crate) struct RmAlloc<'a, P: AllocParams> {
    /// The client.
    pub(crate) client: u32,
    /// The parent object.
    pub(crate) parent: u32,
    /// The new object's handle.
    pub(crate) object: u32,
    /// The class's parameters.
    pub(crate) params: &'a P,
}

/// The reply to `GSP_RM_ALLOC`: the object exists.
pub(crate) struct Allocated;

impl MessageFromGsp for Allocated {
    const AWAITED: Awaited = Awaited::Reply;

    fn read(abi: Abi, payload: &[u8], result: NvStatus) -> Result<Self, RpcError> {
        rm_status(abi.rm_alloc_status(payload), result).map(|()| Self)
    }
}

impl<P: AllocParams> CommandToGsp for RmAlloc<'_, P> {
    const FUNCTION: Function = Function::RmAlloc;
    type Reply = Allocated;

    fn size(&self, abi: Abi) -> usize {
        abi.rm_alloc_size() + abi.alloc_params_size(P::CLASS)
    }

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        let params_size = abi.alloc_params_size(P::CLASS);
        let (head, params) = dst
            .split_at_mut_checked(abi.rm_alloc_size())
            .ok_or(EINVAL)?;
        abi.write_rm_alloc(
            head,
            &RmAllocHeader {
                client: self.client,
                parent: self.parent,
                object: self.object,
                class: P::CLASS,
                params_size: u32::try_from(params_size).map_err(|_| EINVAL)?,
            },
        )?;
        self.params.write(abi, params)
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_fmt(fmt!("GSP_RM_ALLOC({},{:#x})", P::CLASS.name(), self.object))
    }
}

/// The typed parameters of an RM control.
pub(crate) trait ControlParams {
    /// The control.
    const CMD: RmControlCmd;
    /// What GSP-RM writes back.
    type Out;

    /// Writes the parameters into `dst` (exactly [`Abi::control_params_size`] bytes).
    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result;

    /// Decodes what GSP-RM wrote back into the parameters.
    fn read(abi: Abi, params: &[u8]) -> Result<Self::Out, DecodeError>;
}

/// `NV2080_CTRL_CMD_GPU_GET_NAME_STRING` in ASCII: the GPU's name.
pub(crate) struct GpuNameString;

impl ControlParams for GpuNameString {
    const CMD: RmControlCmd = RmControlCmd::GpuGetNameString;
    type Out = [u8; 64];

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_gpu_name_string_params(dst)
    }

    fn read(abi: Abi, params: &[u8]) -> Result<[u8; 64], DecodeError> {
        abi.read_gpu_name_string(params)
    }
}

/// `NV2080_CTRL_CMD_INTERNAL_INTR_GET_KERNEL_TABLE`: the GSP's interrupt vector, as GSP-RM
/// reports it to its own (internal) client. Nothing is sent; everything comes back.
pub(crate) struct IntrKernelTable;

impl ControlParams for IntrKernelTable {
    const CMD: RmControlCmd = RmControlCmd::InternalIntrGetKernelTable;
    /// The GSP's stall vector, if the table names one.
    type Out = Option<u32>;

    fn write(&self, _abi: Abi, dst: &mut [u8]) -> Result {
        // Every field is an output.
        dst.fill(0);
        Ok(())
    }

    fn read(abi: Abi, params: &[u8]) -> Result<Option<u32>, DecodeError> {
        abi.read_gsp_intr_vector(params)
    }
}

/// `GSP_RM_CONTROL`: runs `P`'s control on `object` of `client`.
pub(crate) struct RmControl<'a, P: ControlParams> {
    /// The client.
    pub(crate) client: u32,
    /// The object the control is for.
    pub(crate) object: u32,
    /// The control's parameters.
    pub(crate) params: &'a P,
}

/// The reply to `GSP_RM_CONTROL`: what GSP-RM wrote back into the parameters.
pub(crate) struct Controlled<P: ControlParams>(pub(crate) P::Out);

impl<P: ControlParams> MessageFromGsp for Controlled<P> {
    const AWAITED: Awaited = Awaited::Reply;

    fn read(abi: Abi, payload: &[u8], result: NvStatus) -> Result<Self, RpcError> {
        let reply = abi.rm_control_reply(payload);
        rm_status(reply.map(|(status, _)| status), result)?;
        let (_, params) = reply?;
        Ok(Self(P::read(abi, params)?))
    }
}

impl<P: ControlParams> CommandToGsp for RmControl<'_, P> {
    const FUNCTION: Function = Function::RmControl;
    type Reply = Controlled<P>;

    fn size(&self, abi: Abi) -> usize {
        abi.rm_control_size() + abi.control_params_size(P::CMD)
    }

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        let params_size = abi.control_params_size(P::CMD);
        let (head, params) = dst
            .split_at_mut_checked(abi.rm_control_size())
            .ok_or(EINVAL)?;
        abi.write_rm_control(
            head,
            self.client,
            self.object,
            P::CMD,
            u32::try_from(params_size).map_err(|_| EINVAL)?,
        )?;
        self.params.write(abi, params)
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_fmt(fmt!("GSP_RM_CONTROL({},{:#x})", P::CMD.name(), self.object))
    }
}

/// `FREE`: frees `object` of `client` and everything under it (the whole client if `object`
/// is the client).
pub(crate) struct RmFree {
    /// The client.
    pub(crate) client: u32,
    /// The object.
    pub(crate) object: u32,
}

/// The reply to `FREE`: the object is gone.
pub(crate) struct Freed;

impl MessageFromGsp for Freed {
    const AWAITED: Awaited = Awaited::Reply;

    fn read(abi: Abi, payload: &[u8], result: NvStatus) -> Result<Self, RpcError> {
        rm_status(abi.rm_free_status(payload), result).map(|()| Self)
    }
}

impl CommandToGsp for RmFree {
    const FUNCTION: Function = Function::Free;
    type Reply = Freed;

    fn size(&self, abi: Abi) -> usize {
        abi.rm_free_size()
    }

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_rm_free(dst, self.client, self.object)
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_fmt(fmt!("FREE({:#x})", self.object))
    }
}

/// `NV2080_CTRL_CMD_FIFO_GET_DEVICE_INFO_TABLE`: the page of GSP-RM's device info table (the
/// engines) that starts at entry `base_index`, on a subdevice.
pub(crate) struct FifoDeviceInfoTable {
    /// The first entry of the page: a multiple of the page size.
    pub(crate) base_index: u32,
}

impl ControlParams for FifoDeviceInfoTable {
    const CMD: RmControlCmd = RmControlCmd::FifoGetDeviceInfoTable;
    type Out = DeviceInfoPage;

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_device_info_params(dst, self.base_index)
    }

    fn read(abi: Abi, params: &[u8]) -> Result<DeviceInfoPage, DecodeError> {
        abi.read_device_info(params)
    }
}

/// `NV0080_CTRL_CMD_GPU_GET_CLASSLIST_V2`: the classes the GPU offers, on a device.
pub(crate) struct GpuClassList;

impl ControlParams for GpuClassList {
    const CMD: RmControlCmd = RmControlCmd::GpuGetClasslistV2;
    type Out = ClassList;

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_classlist_params(dst)
    }

    fn read(abi: Abi, params: &[u8]) -> Result<ClassList, DecodeError> {
        abi.read_classlist(params)
    }
}

/// `NV2080_CTRL_CMD_GPU_GET_FERMI_GPC_INFO`: the mask of enabled GPCs, on a subdevice.
pub(crate) struct GpcMask;

impl ControlParams for GpcMask {
    const CMD: RmControlCmd = RmControlCmd::GpuGetFermiGpcInfo;
    type Out = u32;

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_gpc_info_params(dst)
    }

    fn read(abi: Abi, params: &[u8]) -> Result<u32, DecodeError> {
        abi.read_gpc_info(params)
    }
}

/// `NV2080_CTRL_CMD_GPU_GET_FERMI_TPC_INFO`: the mask of enabled TPCs of GPC `gpc`, on a
/// subdevice.
pub(crate) struct TpcMask {
    /// The GPC.
    pub(crate) gpc: u32,
}

impl ControlParams for TpcMask {
    const CMD: RmControlCmd = RmControlCmd::GpuGetFermiTpcInfo;
    type Out = u32;

    fn write(&self, abi: Abi, dst: &mut [u8]) -> Result {
        abi.write_tpc_info_params(dst, self.gpc)
    }

    fn read(abi: Abi, params: &[u8]) -> Result<u32, DecodeError> {
        abi.read_tpc_info(params)
    }
}
