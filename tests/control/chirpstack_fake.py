"""A ChirpStack v4 stand-in: a real grpcio server on 127.0.0.1 built from chirpstack-api's servicers.

It keeps state in memory and behaves like ChirpStack where our code depends on it: bearer-token
auth on every call (UNAUTHENTICATED otherwise), strict hex/UUID parsing, duplicate DevEUI, a
server-generated queue-item id per Enqueue, multicast groups with their own frame counter, and an
UNAVAILABLE mode. It records every request (a copy) with its metadata so tests can check the
requests field by field; the checks themselves live in the tests, not here.

    with FakeChirpStack(token="t0k") as cs:
        client = ChirpStackClient(cs.target, "t0k")
"""

from __future__ import annotations

import threading
import uuid
from concurrent import futures
from typing import Any

import grpc
from chirpstack_api import api
from google.protobuf import empty_pb2

TENANT_ID = "52f14cd4-c6f1-4fbd-8f87-4025e1d49242"


def _is_eui(text: str) -> bool:
    try:
        return len(bytes.fromhex(text)) == 8 and len(text) == 16
    except ValueError:
        return False


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class FakeChirpStack:
    """State and the server. Attributes tests may set: `unavailable_calls` (answer UNAVAILABLE for
    the next N calls), `duplicate_code` (ALREADY_EXISTS, or INTERNAL as real ChirpStack does)."""

    def __init__(self, token: str = "test-token", tenant_id: str = TENANT_ID,
                 tls: tuple[bytes, bytes] | None = None) -> None:
        self.token = token
        self.tls = tls  # (private key PEM, certificate PEM): serve TLS like a proxy in front of ChirpStack
        self.tenant_id = tenant_id
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, Any, dict[str, str]]] = []
        self.unavailable_calls = 0
        self.duplicate_code = grpc.StatusCode.ALREADY_EXISTS
        self.applications: dict[str, api.Application] = {}
        self.device_profiles: dict[str, api.DeviceProfile] = {}
        self.devices: dict[str, api.Device] = {}
        self.keys: dict[str, api.DeviceKeys] = {}
        self.last_seen_s: dict[str, int] = {}  # dev_eui -> epoch seconds, reported by DeviceService.List
        self.queues: dict[str, list[api.DeviceQueueItem]] = {}
        self.multicast_groups: dict[str, api.MulticastGroup] = {}
        self.multicast_members: dict[str, set[str]] = {}
        self.multicast_queues: dict[str, list[api.MulticastGroupQueueItem]] = {}
        self.server: grpc.Server | None = None
        self.port = 0

    # -- helpers used by the servicers --------------------------------------------------------
    def admit(self, service: str, method: str, request: Any, context: grpc.ServicerContext) -> None:
        """Record the call, then fail it like ChirpStack would for a bad token or an outage."""
        metadata = {key: value for key, value in context.invocation_metadata()}
        copy = type(request)()
        copy.CopyFrom(request)
        with self.lock:
            self.requests.append((service, method, copy, metadata))
            if self.unavailable_calls > 0:
                self.unavailable_calls -= 1
                context.abort(grpc.StatusCode.UNAVAILABLE, "connection refused")
        if metadata.get("authorization") != "Bearer " + self.token:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "Invalid or missing API token")

    def calls(self, service: str, method: str) -> list[Any]:
        """The recorded requests of one RPC, in order."""
        return [req for svc, meth, req, _ in self.requests if (svc, meth) == (service, method)]

    def add_application(self, name: str = "tingbro") -> str:
        app_id = str(uuid.uuid4())
        self.applications[app_id] = api.Application(id=app_id, name=name, tenant_id=self.tenant_id)
        return app_id

    # -- server lifecycle ---------------------------------------------------------------------
    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FakeChirpStack:
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        api.add_DeviceServiceServicer_to_server(_DeviceService(self), self.server)
        api.add_DeviceProfileServiceServicer_to_server(_DeviceProfileService(self), self.server)
        api.add_MulticastGroupServiceServicer_to_server(_MulticastGroupService(self), self.server)
        api.add_ApplicationServiceServicer_to_server(_ApplicationService(self), self.server)
        if self.tls is not None:
            credentials = grpc.ssl_server_credentials([self.tls])
            self.port = self.server.add_secure_port("127.0.0.1:0", credentials)
        else:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(grace=0.5).wait(5)
            self.server = None

    def __enter__(self) -> FakeChirpStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _page(items: list[Any], limit: int, offset: int) -> list[Any]:
    return items[offset:offset + limit] if limit else []


class _DeviceService(api.DeviceServiceServicer):
    def __init__(self, cs: FakeChirpStack) -> None:
        self.cs = cs

    def _need_device(self, dev_eui: str, context: grpc.ServicerContext) -> api.Device:
        if not _is_eui(dev_eui):
            context.abort(grpc.StatusCode.INTERNAL, "Odd number of digits")
        if dev_eui not in self.cs.devices:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Object does not exist (id: {dev_eui})")
        return self.cs.devices[dev_eui]

    def Create(self, request, context):
        self.cs.admit("DeviceService", "Create", request, context)
        device = request.device
        if not _is_eui(device.dev_eui):
            context.abort(grpc.StatusCode.INTERNAL, "Odd number of digits")
        if not _is_uuid(device.application_id) or not _is_uuid(device.device_profile_id):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid UUID")
        if device.application_id not in self.cs.applications:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (application)")
        if device.device_profile_id not in self.cs.device_profiles:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (device profile)")
        with self.cs.lock:
            if device.dev_eui in self.cs.devices:
                context.abort(self.cs.duplicate_code,
                              'duplicate key value violates unique constraint "device_pkey"')
            stored = api.Device()
            stored.CopyFrom(device)
            self.cs.devices[device.dev_eui] = stored
        return empty_pb2.Empty()

    def Get(self, request, context):
        self.cs.admit("DeviceService", "Get", request, context)
        return api.GetDeviceResponse(device=self._need_device(request.dev_eui, context))

    def Update(self, request, context):
        self.cs.admit("DeviceService", "Update", request, context)
        self._need_device(request.device.dev_eui, context)
        self.cs.devices[request.device.dev_eui].CopyFrom(request.device)
        return empty_pb2.Empty()

    def List(self, request, context):
        self.cs.admit("DeviceService", "List", request, context)
        found = [d for d in self.cs.devices.values()
                 if (not request.application_id or d.application_id == request.application_id)
                 and (not request.search or request.search.lower() in d.name.lower())]
        items = [api.DeviceListItem(dev_eui=d.dev_eui, name=d.name, device_profile_id=d.device_profile_id,
                                    tags=dict(d.tags)) for d in found]
        for item in items:
            if item.dev_eui in self.cs.last_seen_s:
                item.last_seen_at.FromSeconds(self.cs.last_seen_s[item.dev_eui])
        return api.ListDevicesResponse(total_count=len(items),
                                       result=_page(items, request.limit, request.offset))

    def CreateKeys(self, request, context):
        self.cs.admit("DeviceService", "CreateKeys", request, context)
        keys = request.device_keys
        self._need_device(keys.dev_eui, context)
        for key in (keys.nwk_key, keys.app_key):
            if key and (len(key) != 32 or not all(c in "0123456789abcdefABCDEF" for c in key)):
                context.abort(grpc.StatusCode.INTERNAL, "Odd number of digits")
        if keys.dev_eui in self.cs.keys:
            context.abort(self.cs.duplicate_code, 'duplicate key value violates unique constraint "device_keys_pkey"')
        stored = api.DeviceKeys()
        stored.CopyFrom(keys)
        self.cs.keys[keys.dev_eui] = stored
        return empty_pb2.Empty()

    def GetKeys(self, request, context):
        self.cs.admit("DeviceService", "GetKeys", request, context)
        self._need_device(request.dev_eui, context)
        if request.dev_eui not in self.cs.keys:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (device keys)")
        return api.GetDeviceKeysResponse(device_keys=self.cs.keys[request.dev_eui])

    def Enqueue(self, request, context):
        self.cs.admit("DeviceService", "Enqueue", request, context)
        item = request.queue_item
        self._need_device(item.dev_eui, context)
        if not 1 <= (item.f_port & 0xFF) <= 255:  # ChirpStack casts `as u8` before checking
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "FPort must be between 1 - 255")
        stored = api.DeviceQueueItem()
        stored.CopyFrom(item)
        stored.id = str(uuid.uuid4())
        with self.cs.lock:
            queue = self.cs.queues.setdefault(item.dev_eui, [])
            if request.flush_queue:
                queue[:] = [q for q in queue if q.is_pending]
            queue.append(stored)
        return api.EnqueueDeviceQueueItemResponse(id=stored.id)

    def GetQueue(self, request, context):
        self.cs.admit("DeviceService", "GetQueue", request, context)
        self._need_device(request.dev_eui, context)
        queue = self.cs.queues.get(request.dev_eui, [])
        return api.GetDeviceQueueItemsResponse(total_count=len(queue),
                                               result=[] if request.count_only else queue)


class _DeviceProfileService(api.DeviceProfileServiceServicer):
    def __init__(self, cs: FakeChirpStack) -> None:
        self.cs = cs

    def Create(self, request, context):
        self.cs.admit("DeviceProfileService", "Create", request, context)
        profile = api.DeviceProfile()
        profile.CopyFrom(request.device_profile)
        if profile.tenant_id != self.cs.tenant_id:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (tenant)")
        profile.id = str(uuid.uuid4())
        self.cs.device_profiles[profile.id] = profile
        return api.CreateDeviceProfileResponse(id=profile.id)

    def Get(self, request, context):
        self.cs.admit("DeviceProfileService", "Get", request, context)
        if request.id not in self.cs.device_profiles:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist")
        return api.GetDeviceProfileResponse(device_profile=self.cs.device_profiles[request.id])

    def Update(self, request, context):
        self.cs.admit("DeviceProfileService", "Update", request, context)
        if request.device_profile.id not in self.cs.device_profiles:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist")
        self.cs.device_profiles[request.device_profile.id].CopyFrom(request.device_profile)
        return empty_pb2.Empty()

    def List(self, request, context):
        self.cs.admit("DeviceProfileService", "List", request, context)
        items = [api.DeviceProfileListItem(id=p.id, name=p.name, region=p.region, mac_version=p.mac_version,
                                           supports_otaa=p.supports_otaa, supports_class_c=p.supports_class_c)
                 for p in self.cs.device_profiles.values()
                 if p.tenant_id == request.tenant_id
                 and (not request.search or request.search.lower() in p.name.lower())]
        return api.ListDeviceProfilesResponse(total_count=len(items),
                                              result=_page(items, request.limit, request.offset))


class _MulticastGroupService(api.MulticastGroupServiceServicer):
    def __init__(self, cs: FakeChirpStack) -> None:
        self.cs = cs

    def _need_group(self, group_id: str, context: grpc.ServicerContext) -> api.MulticastGroup:
        if not _is_uuid(group_id):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid UUID")
        if group_id not in self.cs.multicast_groups:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (multicast group)")
        return self.cs.multicast_groups[group_id]

    def Create(self, request, context):
        self.cs.admit("MulticastGroupService", "Create", request, context)
        group = api.MulticastGroup()
        group.CopyFrom(request.multicast_group)
        if group.application_id not in self.cs.applications:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (application)")
        group.id = str(uuid.uuid4())
        self.cs.multicast_groups[group.id] = group
        self.cs.multicast_members[group.id] = set()
        self.cs.multicast_queues[group.id] = []
        return api.CreateMulticastGroupResponse(id=group.id)

    def Get(self, request, context):
        self.cs.admit("MulticastGroupService", "Get", request, context)
        return api.GetMulticastGroupResponse(multicast_group=self._need_group(request.id, context))

    def List(self, request, context):
        self.cs.admit("MulticastGroupService", "List", request, context)
        items = [api.MulticastGroupListItem(id=g.id, name=g.name, region=g.region, group_type=g.group_type)
                 for g in self.cs.multicast_groups.values()
                 if (not request.application_id or g.application_id == request.application_id)
                 and (not request.search or request.search.lower() in g.name.lower())]
        return api.ListMulticastGroupsResponse(total_count=len(items),
                                               result=_page(items, request.limit, request.offset))

    def AddDevice(self, request, context):
        self.cs.admit("MulticastGroupService", "AddDevice", request, context)
        self._need_group(request.multicast_group_id, context)
        if request.dev_eui not in self.cs.devices:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (device)")
        if request.dev_eui in self.cs.multicast_members[request.multicast_group_id]:
            context.abort(self.cs.duplicate_code,
                          'duplicate key value violates unique constraint "multicast_group_device_pkey"')
        self.cs.multicast_members[request.multicast_group_id].add(request.dev_eui)
        return empty_pb2.Empty()

    def Enqueue(self, request, context):
        self.cs.admit("MulticastGroupService", "Enqueue", request, context)
        item = request.queue_item
        group = self._need_group(item.multicast_group_id, context)
        if not 1 <= (item.f_port & 0xFF) <= 255:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "FPort must be between 1 - 255")
        stored = api.MulticastGroupQueueItem()
        stored.CopyFrom(item)
        stored.f_cnt = group.f_cnt
        group.f_cnt += 1
        self.cs.multicast_queues[group.id].append(stored)
        return api.EnqueueMulticastGroupQueueItemResponse(f_cnt=stored.f_cnt)


class _ApplicationService(api.ApplicationServiceServicer):
    def __init__(self, cs: FakeChirpStack) -> None:
        self.cs = cs

    def Get(self, request, context):
        self.cs.admit("ApplicationService", "Get", request, context)
        if request.id not in self.cs.applications:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist (application)")
        return api.GetApplicationResponse(application=self.cs.applications[request.id])

    def List(self, request, context):
        self.cs.admit("ApplicationService", "List", request, context)
        items = [api.ApplicationListItem(id=a.id, name=a.name) for a in self.cs.applications.values()
                 if a.tenant_id == request.tenant_id]
        return api.ListApplicationsResponse(total_count=len(items),
                                            result=_page(items, request.limit, request.offset))
