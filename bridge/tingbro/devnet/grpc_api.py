"""The part of ChirpStack's gRPC API that Tingbro uses, served by grpcio on 127.0.0.1 from chirpstack-api's
servicer classes: applications (read), device profiles, devices and keys, the device queue, multicast.

Behaves like ChirpStack where the bridge and the CLI depend on it: `authorization: Bearer <token>` on every
call, NOT_FOUND for unknown objects, a server-made queue-item id per Enqueue (later in txack/ack events).
"""

from __future__ import annotations

import secrets
from concurrent import futures
from typing import Any

import grpc
from chirpstack_api import api
from google.protobuf import empty_pb2

from tingbro.devnet.lns import NetworkServer
from tingbro.devnet.registry import CLASS_C_TYPES, TENANT_ID, Device, Registry


def _eui(text: str, context: grpc.ServicerContext) -> str:
    try:
        if len(bytes.fromhex(text)) == 8:
            return text.lower()
    except ValueError:
        pass
    context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid EUI")
    raise AssertionError  # abort raises


class _Base:
    def __init__(self, registry: Registry, network: NetworkServer, token: str) -> None:
        self.registry, self.network, self.token = registry, network, token

    def admit(self, context: grpc.ServicerContext) -> None:
        metadata = dict(context.invocation_metadata())
        if not secrets.compare_digest(str(metadata.get("authorization", "")), "Bearer " + self.token):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "Invalid or missing API token")

    def device(self, dev_eui: str, context: grpc.ServicerContext) -> Device:
        device = self.registry.devices.get(_eui(dev_eui, context))
        if device is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Object does not exist (id: {dev_eui})")
        return device  # type: ignore[return-value]


def _page(items: list[Any], limit: int, offset: int) -> list[Any]:
    return items[offset:offset + limit] if limit else []


class DeviceService(_Base, api.DeviceServiceServicer):
    def Create(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC names)
        self.admit(context)
        spec = request.device
        dev_eui = _eui(spec.dev_eui, context)
        if spec.application_id != self.registry.application.id:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (application)")
        profile = self.registry.profiles.get(spec.device_profile_id)
        if profile is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (device profile)")
        if dev_eui in self.registry.devices:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, "Object already exists")
        self.registry.add_device(self._from_spec(spec, None))
        return empty_pb2.Empty()

    def _from_spec(self, spec: Any, known: Device | None) -> Device:
        profile = self.registry.profiles.get(spec.device_profile_id)
        device_type = spec.tags.get("tingbro_device_type") or None
        return Device(spec.dev_eui.lower(), spec.join_eui.lower() or "0" * 16, known.app_key if known else None,
                      spec.name, device_type, dict(spec.tags), spec.device_profile_id,
                      class_c=bool(profile and profile.supports_class_c) or device_type in CLASS_C_TYPES)

    def _as_api(self, device: Device) -> api.Device:
        return api.Device(dev_eui=device.dev_eui, name=device.name, application_id=self.registry.application.id,
                          device_profile_id=device.profile_id, join_eui=device.join_eui, tags=device.tags)

    def Get(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        return api.GetDeviceResponse(device=self._as_api(self.device(request.dev_eui, context)))

    def Update(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        known = self.device(request.device.dev_eui, context)
        self.registry.add_device(self._from_spec(request.device, known))
        return empty_pb2.Empty()

    def List(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        found = [d for d in self.registry.devices.values()
                 if not request.search or request.search.lower() in d.name.lower()]
        items = [api.DeviceListItem(dev_eui=d.dev_eui, name=d.name, device_profile_id=d.profile_id, tags=d.tags)
                 for d in found]
        return api.ListDevicesResponse(total_count=len(items), result=_page(items, request.limit, request.offset))

    def CreateKeys(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        device = self.device(request.device_keys.dev_eui, context)
        if device.app_key is not None:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, "Object already exists")
        try:
            key = bytes.fromhex(request.device_keys.nwk_key)  # LoRaWAN 1.0.x: the AppKey is stored as nwk_key
        except ValueError:
            key = b""
        if len(key) != 16:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid key")
        device.app_key = key
        return empty_pb2.Empty()

    def GetKeys(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        device = self.device(request.dev_eui, context)
        if device.app_key is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (device keys)")
        keys = api.DeviceKeys(dev_eui=device.dev_eui, nwk_key=device.app_key.hex(), app_key="0" * 32)  # type: ignore[union-attr]
        return api.GetDeviceKeysResponse(device_keys=keys)

    def Enqueue(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        source = request.queue_item
        device = self.device(source.dev_eui, context)
        if not 1 <= (source.f_port & 0xFF) <= 223:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "FPort must be between 1 - 223")
        item = api.DeviceQueueItem()
        item.CopyFrom(source)
        return api.EnqueueDeviceQueueItemResponse(id=self.network.enqueue(device, item, request.flush_queue))

    def GetQueue(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        queue = list(self.device(request.dev_eui, context).queue)
        return api.GetDeviceQueueItemsResponse(total_count=len(queue), result=[] if request.count_only else queue)


class DeviceProfileService(_Base, api.DeviceProfileServiceServicer):
    def Create(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        profile = api.DeviceProfile()
        profile.CopyFrom(request.device_profile)
        if profile.tenant_id != TENANT_ID:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (tenant)")
        profile.id = self.registry.new_id()
        self.registry.profiles[profile.id] = profile
        return api.CreateDeviceProfileResponse(id=profile.id)

    def Get(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        if request.id not in self.registry.profiles:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist")
        return api.GetDeviceProfileResponse(device_profile=self.registry.profiles[request.id])

    def Update(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        if request.device_profile.id not in self.registry.profiles:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist")
        self.registry.profiles[request.device_profile.id].CopyFrom(request.device_profile)
        return empty_pb2.Empty()

    def List(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        items = [api.DeviceProfileListItem(id=p.id, name=p.name, region=p.region, mac_version=p.mac_version,
                                           supports_otaa=p.supports_otaa, supports_class_c=p.supports_class_c)
                 for p in self.registry.profiles.values()
                 if not request.search or request.search.lower() in p.name.lower()]
        return api.ListDeviceProfilesResponse(total_count=len(items), result=_page(items, request.limit, request.offset))


class MulticastGroupService(_Base, api.MulticastGroupServiceServicer):
    def _group(self, group_id: str, context: Any) -> api.MulticastGroup:
        group = self.registry.multicast_groups.get(group_id)
        if group is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (multicast group)")
        return group  # type: ignore[return-value]

    def Create(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        group = api.MulticastGroup()
        group.CopyFrom(request.multicast_group)
        group.id = self.registry.new_id()
        self.registry.multicast_groups[group.id] = group
        self.registry.multicast_members[group.id] = set()
        return api.CreateMulticastGroupResponse(id=group.id)

    def Get(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        return api.GetMulticastGroupResponse(multicast_group=self._group(request.id, context))

    def List(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        items = [api.MulticastGroupListItem(id=g.id, name=g.name, region=g.region, group_type=g.group_type)
                 for g in self.registry.multicast_groups.values()
                 if not request.search or request.search.lower() in g.name.lower()]
        return api.ListMulticastGroupsResponse(total_count=len(items),
                                               result=_page(items, request.limit, request.offset))

    def AddDevice(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        self._group(request.multicast_group_id, context)
        self.device(request.dev_eui, context)
        self.registry.multicast_members[request.multicast_group_id].add(request.dev_eui.lower())
        return empty_pb2.Empty()

    def Enqueue(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        item = request.queue_item
        group = self._group(item.multicast_group_id, context)
        members = [self.registry.devices[eui] for eui in self.registry.multicast_members[group.id]]
        return api.EnqueueMulticastGroupQueueItemResponse(f_cnt=self.network.send_multicast(group, members, item))


class ApplicationService(_Base, api.ApplicationServiceServicer):
    def Get(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        if request.id != self.registry.application.id:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (application)")
        return api.GetApplicationResponse(application=self.registry.application)

    def List(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.admit(context)
        app = self.registry.application
        return api.ListApplicationsResponse(total_count=1, result=[api.ApplicationListItem(id=app.id, name=app.name)])


def serve(registry: Registry, network: NetworkServer, token: str, port: int = 0) -> tuple[grpc.Server, int]:
    """Start the gRPC server on 127.0.0.1 (port 0: a free one); -> (server, port)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    api.add_DeviceServiceServicer_to_server(DeviceService(registry, network, token), server)
    api.add_DeviceProfileServiceServicer_to_server(DeviceProfileService(registry, network, token), server)
    api.add_MulticastGroupServiceServicer_to_server(MulticastGroupService(registry, network, token), server)
    api.add_ApplicationServiceServicer_to_server(ApplicationService(registry, network, token), server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound
