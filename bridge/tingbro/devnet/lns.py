"""devnet's network server: OTAA joins, uplinks (MIC, counters, decryption), downlinks in the device's
receive windows (Class A) or at once (Class C), and the integration events of each step.

The LoRaWAN work is done by `lorawan.network` (the firmware's own core, checked against lora-packet);
GWMP text by `tingfw.radio.gwmp`. I/O is passed in: `transmit(gateway_eui, txpk_text) -> token` sends a
PULL_RESP and `emit(event)` hands an integration protobuf to the publishers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from chirpstack_api import api, integration
from lorawan import maccommands as mc
from lorawan import network
from lorawan.aes import aes_factory
from lorawan.errors import FrameError, MicError
from tingfw.radio import gwmp

from tingbro.devnet import codec, events
from tingbro.devnet.registry import Device, Registry, Session

log = logging.getLogger("tingbro.devnet")

AES = aes_factory()
NET_ID = 0x000013
RX1_DELAY_US = 1_000_000
JOIN_ACCEPT_DELAY1_US = 5_000_000
RX2_FREQ_HZ = 869_525_000
RX2_SF = 12  # EU868 RX2 DR0, also the Class C window
CFLIST_HZ = (867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000)
GPS_EPOCH_UNIX_S = 315_964_800
GPS_LEAP_S = 18
MAX_FOPTS = 15
# After an uplink a Class C device is in RX1/RX2 (same channel as Class C) for ~2 s: ChirpStack's Class C
# scheduler leaves it alone meanwhile, or a frame sent then (e.g. a command re-sent on a NACK) is lost.
CLASS_C_LOCK_S = 3.0
# How long a Class C confirmed downlink waits for its ACK when the device profile sets no class_c_timeout.
CLASS_C_TIMEOUT_S = 5.0


def gps_time_s(unix_s: float) -> float:
    return unix_s - GPS_EPOCH_UNIX_S + GPS_LEAP_S



def windows_left_s(sessions: list[Session]) -> float:
    """Seconds until none of these devices is in the receive windows of its last uplink (<= 0: none is).

    A Class C device in RX1/RX2 is not listening on the Class C channel, and a gateway's RX1 answer would
    collide with a frame sent meanwhile."""
    return max(session.last_uplink_s + CLASS_C_LOCK_S for session in sessions) - time.monotonic()


def start_timer(delay_s: float, function: Callable[..., None], *args: Any) -> threading.Timer:
    """Run function(*args) on its own daemon thread after delay_s (devnet never waits for them at exit)."""
    timer = threading.Timer(delay_s, function, args)
    timer.daemon = True
    timer.start()
    return timer

class PendingTx:
    def __init__(self, device: Device, item: api.DeviceQueueItem | None, fcnt_down: int, gateway_eui: str,
                 txpk: dict[str, Any]) -> None:
        self.device, self.item, self.fcnt_down, self.gateway_eui, self.txpk = device, item, fcnt_down, gateway_eui, txpk


class NetworkServer:
    def __init__(self, registry: Registry, transmit: Callable[[str, str], int],
                 emit: Callable[[Any], None], dev_status_interval_s: float | None = None,
                 on_join: Callable[[], None] | None = None) -> None:
        """dev_status_interval_s: ask every device's status this often (DevStatusReq), instead of its
        profile's device_status_req_interval (times a day) - simulated devices live faster than a day."""
        self.registry = registry
        self.dev_status_interval_s = dev_status_interval_s
        self.on_join = on_join  # e.g. persist the new session at once
        self.transmit = transmit
        self.emit = emit
        self.pending_tx: dict[tuple[str, int], PendingTx] = {}
        self.counts = {"joins": 0, "uplinks": 0, "downlinks": 0, "rejected": 0, "txack": 0, "tx_errors": 0,
                       "ack_timeouts": 0}
        self._uplink_id = 0

    # -- uplinks ------------------------------------------------------------------------------
    def handle_rxpk(self, gateway_eui: str, rxpk: dict[str, Any]) -> None:
        phy = rxpk["payload"]
        if not phy:
            return
        mtype = phy[0] >> 5
        with self.registry.lock:
            if mtype == 0:
                self._join(gateway_eui, rxpk, phy)
            elif mtype in (2, 4):
                self._uplink(gateway_eui, rxpk, phy)

    def _join(self, gateway_eui: str, rxpk: dict[str, Any], phy: bytes) -> None:
        if len(phy) != 23:
            return
        dev_eui = phy[9:17][::-1].hex()
        device = self.registry.devices.get(dev_eui)
        if device is None or device.app_key is None:
            self.counts["rejected"] += 1
            log.info("join-request from unknown device %s", dev_eui)
            return
        try:
            _join_eui, _dev_eui, dev_nonce = network.accept_join_request(network.cmac_key(AES, device.app_key), phy)
        except MicError:
            self.counts["rejected"] += 1
            self.emit(events.log_event(self.registry, device, integration.UPLINK_MIC,
                                       "MIC of join-request is invalid, make sure keys are correct"))
            return
        if device.last_dev_nonce is not None and dev_nonce <= device.last_dev_nonce:
            self.counts["rejected"] += 1
            self.emit(events.log_event(self.registry, device, integration.OTAA, "DevNonce has already been used"))
            return
        device.last_dev_nonce = dev_nonce
        device.join_nonce += 1
        dev_addr = self.registry.new_dev_addr()
        nwk, app = network.session_keys(AES, device.app_key, device.join_nonce, NET_ID, dev_nonce)
        if device.session is not None:
            self.registry.by_addr.pop(device.session.dev_addr, None)
        device.session = Session(dev_addr, network.cmac_key(AES, nwk), network.cmac_key(AES, app))
        device.session.raw_keys = (nwk, app)
        device.session.gateway_eui = gateway_eui
        self.registry.by_addr[dev_addr] = device
        accept = network.build_join_accept(AES, device.app_key, device.join_nonce, NET_ID, dev_addr,
                                           cflist=network.build_cflist(list(CFLIST_HZ)))
        self._send(device, None, -1, gateway_eui, rxpk["freq_hz"], rxpk["sf"], rxpk["bw_khz"], accept,
                   tmst_us=rxpk["tmst_us"] + JOIN_ACCEPT_DELAY1_US)
        self.counts["joins"] += 1
        if self.on_join is not None:
            self.on_join()
        self.emit(events.join_event(self.registry, device, dev_addr))

    def _uplink(self, gateway_eui: str, rxpk: dict[str, Any], phy: bytes) -> None:
        if len(phy) < 12:
            return
        dev_addr = int.from_bytes(phy[1:5], "little")
        device = self.registry.by_addr.get(dev_addr)
        if device is None or device.session is None:
            self.counts["rejected"] += 1
            return
        session = device.session
        try:
            uplink = network.open_uplink(session.nwk_key, session.app_key, phy, session.fcnt_up)
        except (MicError, FrameError):
            self.counts["rejected"] += 1
            self.emit(events.log_event(self.registry, device, integration.UPLINK_MIC, "MIC of uplink is invalid"))
            return
        if session.fcnt_up is not None and uplink.fcnt <= session.fcnt_up:
            self.counts["rejected"] += 1
            self.emit(events.log_event(self.registry, device, integration.UPLINK_F_CNT_RETRANSMISSION,
                                       f"Frame-counter {uplink.fcnt} already seen (last {session.fcnt_up})",
                                       level=integration.WARNING))
            return
        session.fcnt_up = uplink.fcnt
        session.gateway_eui = gateway_eui
        session.last_uplink_s = time.monotonic()
        self.counts["uplinks"] += 1
        self._uplink_id = (self._uplink_id + 1) & 0xFFFFFFFF
        up = events.uplink_event(self.registry, device, uplink, gateway_eui, rxpk, self._uplink_id)
        self._resolve_ack(device, uplink.ack, up.deduplication_id)
        mac = uplink.payload if uplink.fport == 0 else uplink.fopts
        answers = self._mac_answers(mac, rxpk)
        if len(answers) < MAX_FOPTS and self._status_due(device):
            answers += bytes((mc.DEV_STATUS,))
            session.status_requested_s = time.time()
        codec_error = self._decode_object(device, up)
        self.emit(up)
        if codec_error is not None:  # after the `up` (ChirpStack: `up` without `object`, then this `log`)
            self.emit(events.log_event(self.registry, device, integration.UPLINK_CODEC, codec_error,
                                       {"deduplication_id": up.deduplication_id}))
        self._status_events(device, mac, up.deduplication_id)
        item = device.queue.pop(0) if device.queue and session.pending_ack is None else None
        if item is None and not uplink.confirmed and not answers:
            return
        self._send_data(device, item, gateway_eui, rxpk["freq_hz"], rxpk["sf"], rxpk["bw_khz"],
                        tmst_us=rxpk["tmst_us"] + RX1_DELAY_US, ack=uplink.confirmed, fopts=answers)

    def _resolve_ack(self, device: Device, acked: bool, deduplication_id: str) -> None:
        """A Class C confirmed downlink waits for its ACK until class_c_timeout (the timer NACKs it); in
        Class A the next uplink decides, ACK bit or not (ChirpStack's downlink/data.rs behaves so)."""
        session = device.session
        if session is None or session.pending_ack is None or not (acked or session.ack_timer is None):
            return
        item_id, fcnt_down = session.pending_ack
        session.pending_ack = None
        self._cancel_ack_timer(session)
        self.emit(events.ack_event(self.registry, device, item_id, acked, fcnt_down, deduplication_id))

    def _status_events(self, device: Device, mac: bytes, deduplication_id: str) -> None:
        """A `status` event for a DevStatusAns among the uplink's MAC commands."""
        for cid, payload in mc.split(mac, mc.UP_LENGTH):
            if cid == mc.DEV_STATUS and len(payload) == 2:
                margin_db = payload[1] & 0x3F
                margin_db = margin_db - 64 if margin_db >= 32 else margin_db  # 6-bit two's complement
                self.emit(events.status_event(self.registry, device, deduplication_id, payload[0], margin_db))

    def _status_due(self, device: Device) -> bool:
        interval_s = self.dev_status_interval_s
        if interval_s is None:
            profile = self.registry.profiles.get(device.profile_id)
            if profile is None or profile.device_status_req_interval <= 0:
                return False
            interval_s = 86400 / profile.device_status_req_interval
        last_s = device.session.status_requested_s if device.session is not None else None
        return last_s is None or time.time() - last_s >= interval_s

    def _decode_object(self, device: Device, up: integration.UplinkEvent) -> str | None:
        """Fill `object` with the profile codec's result; -> the codec's error text, or None."""
        try:
            decoded = codec.decode_uplink(self.registry.profiles.get(device.profile_id), up.f_port, up.data,
                                          up.time.ToNanoseconds() / 1e9)
        except codec.CodecError as exc:
            return str(exc)
        if decoded is not None:
            up.object.update(decoded)
        return None

    def _mac_answers(self, data: bytes, rxpk: dict[str, Any]) -> bytes:
        out = []
        for cid, _payload in mc.split(data, mc.UP_LENGTH):
            if cid == mc.DEVICE_TIME:
                gps_s = gps_time_s(time.time())
                seconds = int(gps_s)
                out.append((cid, seconds.to_bytes(4, "little") + bytes((int((gps_s - seconds) * 256) & 0xFF,))))
            elif cid == mc.LINK_CHECK:
                margin_db = max(0, int((rxpk.get("lsnr") or 0) + 20))  # SF-dependent floor approximated
                out.append((cid, bytes((min(margin_db, 254), 1))))
        return mc.join(out)[:MAX_FOPTS]

    # -- downlinks ----------------------------------------------------------------------------
    def _send_data(self, device: Device, item: api.DeviceQueueItem | None, gateway_eui: str, freq_hz: int,
                   sf: int, bw_khz: int, tmst_us: int | None = None, ack: bool = False, fopts: bytes = b"") -> None:
        session = device.session
        assert session is not None
        fcnt_down = session.fcnt_down
        session.fcnt_down += 1
        kwargs: dict[str, Any] = {"ack": ack, "fopts": fopts, "fpending": bool(device.queue)}
        if item is not None:
            kwargs.update(fport=item.f_port, payload=bytes(item.data), confirmed=item.confirmed)
            item.f_cnt_down = fcnt_down
            item.is_pending = True
            if item.confirmed:
                session.pending_ack = (item.id, fcnt_down)
        frame = network.build_downlink(session.nwk_key, session.app_key, session.dev_addr, fcnt_down, **kwargs)
        self._send(device, item, fcnt_down, gateway_eui, freq_hz, sf, bw_khz, frame, tmst_us=tmst_us)

    def _send(self, device: Device, item: api.DeviceQueueItem | None, fcnt_down: int, gateway_eui: str,
              freq_hz: int, sf: int, bw_khz: int, frame: bytes, tmst_us: int | None = None) -> None:
        imme = tmst_us is None
        text = gwmp.txpk_json(frame, freq_hz, sf, bw_khz, 14, None if tmst_us is None else tmst_us & 0xFFFFFFFF, imme)
        txpk = {"freq_hz": freq_hz, "sf": sf, "bw_khz": bw_khz, "power_dbm": 14, "imme": imme,
                "delay_s": 5 if fcnt_down < 0 else 1}
        token = self.transmit(gateway_eui, text)
        self.counts["downlinks"] += 1
        self.pending_tx[(gateway_eui, token)] = PendingTx(device, item, fcnt_down, gateway_eui, txpk)
        if len(self.pending_tx) > 4096:  # gateways that never answer TX_ACK: forget the oldest
            self.pending_tx.pop(next(iter(self.pending_tx)))

    def on_tx_ack(self, gateway_eui: str, token: int, error: str) -> None:
        with self.registry.lock:
            pending = self.pending_tx.pop((gateway_eui, token), None)
            if pending is None:
                return
            device, item = pending.device, pending.item
            if error == gwmp.TX_OK:
                self.counts["txack"] += 1
                if item is not None:  # ChirpStack: txack only for application-payload downlinks
                    self.emit(events.txack_event(self.registry, device, token, item.id, pending.fcnt_down,
                                                 gateway_eui, pending.txpk))
                return
            self.counts["tx_errors"] += 1
            self.emit(events.log_event(self.registry, device, integration.DOWNLINK_GATEWAY,
                                       "Gateway rejected the downlink: " + error,
                                       {"queue_item_id": item.id} if item is not None else {}))
            if item is not None:  # try again at the next opportunity
                item.is_pending = False
                if device.session is not None and device.session.pending_ack is not None \
                        and device.session.pending_ack[0] == item.id:
                    device.session.pending_ack = None
                    self._cancel_ack_timer(device.session)
                device.queue.insert(0, item)

    def enqueue(self, device: Device, item: api.DeviceQueueItem, flush: bool = False) -> str:
        """Queue a downlink; a Class C device with a session gets it at once. -> the queue-item id."""
        with self.registry.lock:
            item.id = self.registry.new_id()
            if flush:
                device.queue[:] = []
            device.queue.append(item)
            self.send_class_c(device)
            return item.id

    def send_class_c(self, device: Device) -> None:
        session = device.session
        if not device.class_c or session is None or session.gateway_eui is None or not device.queue:
            return
        if session.pending_ack is not None:
            return  # one confirmed downlink in flight at a time, as ChirpStack does
        wait_s = windows_left_s([session])
        if wait_s > 0:
            start_timer(wait_s, self._send_class_c_locked, device)
            return
        item = device.queue.pop(0)
        self._send_data(device, item, session.gateway_eui, RX2_FREQ_HZ, RX2_SF, 125)
        if item.confirmed:
            timeout_s = self._class_c_timeout_s(device)
            session.ack_timer = start_timer(timeout_s, self._ack_timed_out, device, session.pending_ack)

    def _class_c_timeout_s(self, device: Device) -> float:
        profile = self.registry.profiles.get(device.profile_id)
        return float(profile.class_c_timeout) if profile is not None and profile.class_c_timeout > 0 \
            else CLASS_C_TIMEOUT_S

    def _ack_timed_out(self, device: Device, pending: tuple[str, int] | None) -> None:
        """No ACK within class_c_timeout: the item is dropped with ack{acknowledged: false, deduplicationId: ""}
        (ChirpStack never re-sends it; the application may enqueue it again)."""
        with self.registry.lock:
            session = device.session
            if session is None or pending is None or session.pending_ack != pending:
                return  # acknowledged meanwhile, rejoined, or put back after a gateway error
            session.pending_ack = None
            session.ack_timer = None
            self.counts["ack_timeouts"] += 1
            self.emit(events.ack_event(self.registry, device, pending[0], False, pending[1], deduplication_id=""))
            self.send_class_c(device)

    @staticmethod
    def _cancel_ack_timer(session: Session) -> None:
        if session.ack_timer is not None:
            session.ack_timer.cancel()
            session.ack_timer = None

    def _send_class_c_locked(self, device: Device) -> None:
        with self.registry.lock:
            self.send_class_c(device)

    def send_multicast(self, group: api.MulticastGroup, members: list[Device], item: Any) -> int:
        """A Class C multicast frame (group keys and address) through every gateway that heard a member.

        A gateway whose members sent an uplink in the last CLASS_C_LOCK_S transmits once their receive
        windows are over (as for unicast Class C): a member in RX1/RX2 is not listening on the group's channel.
        """
        with self.registry.lock:
            nwk = network.cmac_key(AES, bytes.fromhex(group.mc_nwk_s_key))
            app = network.cmac_key(AES, bytes.fromhex(group.mc_app_s_key))
            f_cnt = group.f_cnt
            group.f_cnt += 1
            frame = network.build_downlink(nwk, app, int(group.mc_addr, 16), f_cnt, fport=item.f_port,
                                           payload=bytes(item.data))
            text = gwmp.txpk_json(frame, group.frequency or RX2_FREQ_HZ, 12 - group.dr if group.dr <= 5 else 7,
                                  125, 14, None, True)
            by_gateway: dict[str, list[Session]] = {}
            for device in members:
                session = device.session
                if session is not None and session.gateway_eui is not None:
                    by_gateway.setdefault(session.gateway_eui, []).append(session)
            for gateway_eui, sessions in sorted(by_gateway.items()):
                self._transmit_when_quiet(gateway_eui, text, sessions)
            return f_cnt

    def _transmit_when_quiet(self, gateway_eui: str, text: str, sessions: list[Session]) -> None:
        """Transmit now, or once no member on this gateway is in its receive windows. Checked again when the
        timer fires: a member may have sent another uplink meanwhile (its RX1 downlink would collide)."""
        wait_s = windows_left_s(sessions)
        if wait_s > 0:
            start_timer(wait_s, self._transmit_locked, gateway_eui, text, sessions)
        else:
            self.transmit(gateway_eui, text)

    def _transmit_locked(self, gateway_eui: str, text: str, sessions: list[Session]) -> None:
        with self.registry.lock:
            self._transmit_when_quiet(gateway_eui, text, sessions)
