"""The ChirpStack device profile of each device type (pure: builds the protobuf message).

Every field that proto3 would otherwise default dangerously is set explicitly (reference §5.4):
LoRaWAN 1.0.4 (not 1.0.0), RP002-1.0.3 regional parameters, OTAA (not ABP), ADR "default".
"""

from __future__ import annotations

from collections.abc import Callable

from chirpstack_api import api, common

from tingbro.control.device_types import DEVICE_CLASS

PROFILE_PREFIX = "tingbro-"
# Seconds ChirpStack waits for a Class C device to acknowledge a confirmed downlink.
CLASS_C_ACK_TIMEOUT_S = 30


def profile_name(device_type: str) -> str:
    return PROFILE_PREFIX + device_type.replace("_", "-")


def build_profile(tenant_id: str, device_type: str, interval_s: int, codec_js: str,
                  profile_id: str = "") -> api.DeviceProfile:
    class_c = DEVICE_CLASS[device_type] == "C"
    return api.DeviceProfile(
        id=profile_id,
        tenant_id=tenant_id,
        name=profile_name(device_type),
        description=f"Tingbro {device_type} (managed by `tingbro provision`; edits are overwritten)",
        region=common.Region.EU868,
        mac_version=common.MacVersion.LORAWAN_1_0_4,
        reg_params_revision=common.RegParamsRevision.RP002_1_0_3,
        adr_algorithm_id="default",
        payload_codec_runtime=api.CodecRuntime.JS,
        payload_codec_script=codec_js,
        flush_queue_on_activate=True,
        uplink_interval=interval_s,
        device_status_req_interval=1,
        supports_otaa=True,
        supports_class_b=False,
        supports_class_c=class_c,
        class_c_timeout=CLASS_C_ACK_TIMEOUT_S if class_c else 0,
        tags={"tingbro_device_type": device_type},
        auto_detect_measurements=True,
    )


# EU868 RX2 defaults: a Class C multicast group transmits where every member listens anyway.
MULTICAST_FREQUENCY_HZ = 869525000
MULTICAST_DR = 0


def build_multicast_group(name: str, application_id: str, random_bytes: Callable[[int], bytes]) -> api.MulticastGroup:
    """A Class C multicast group with fresh session keys (a whole street dimmed by one downlink)."""
    return api.MulticastGroup(
        name=name, application_id=application_id, region=common.Region.EU868,
        mc_addr=random_bytes(4).hex(), mc_nwk_s_key=random_bytes(16).hex(), mc_app_s_key=random_bytes(16).hex(),
        f_cnt=0, group_type=api.MulticastGroupType.CLASS_C, dr=MULTICAST_DR, frequency=MULTICAST_FREQUENCY_HZ,
        class_c_scheduling_type=api.MulticastGroupSchedulingType.DELAY,
    )
