"""Thin wrappers the simulation puts around the real radio and the real link; neither changes behaviour.

HeldRadio keeps a device's receive windows in wall-clock time (SimClock.hold_realtime_until) from
the end of each uplink to the end of its last window, whatever way the MAC waits for them.
LoggingLink prints every uplink decoded by the catalogue and what came back, for `tingbro simulate`.
"""

import json

# EU868 defaults (RECEIVE_DELAY1/2, JOIN_ACCEPT_DELAY1/2) plus room for the RX2 window itself.
RX2_DELAY_MS = 2000
JOIN_RX2_DELAY_MS = 6000
WINDOW_SLACK_MS = 600
MHDR_JOIN_REQUEST = 0x00


class HeldRadio:
    def __init__(self, radio, clock):
        self._radio = radio
        self._clock = clock
        self._rx2_opens_ms = None

    def __getattr__(self, name):  # listen, poll, sleep, last_rssi_dbm, ...: the real radio's
        return getattr(self._radio, name)

    def transmit(self, payload, freq_hz, sf, bw_khz, power_dbm):
        end_ms = self._radio.transmit(payload, freq_hz, sf, bw_khz, power_dbm)
        delay_ms = JOIN_RX2_DELAY_MS if payload and payload[0] & 0xE0 == MHDR_JOIN_REQUEST else RX2_DELAY_MS
        self._rx2_opens_ms = end_ms + delay_ms
        self._clock.hold_realtime_until(end_ms + delay_ms + WINDOW_SLACK_MS)
        return end_ms

    def receive(self, freq_hz, sf, bw_khz, open_at_ms, window_ms):
        data = self._radio.receive(freq_hz, sf, bw_khz, open_at_ms, window_ms)
        # A frame came, or the RX2 window (the last) closed empty: nothing more to wait for in real time.
        if data or (self._rx2_opens_ms is not None and open_at_ms >= self._rx2_opens_ms - 100):
            self._rx2_opens_ms = None
            self._clock.release_realtime()
        return data


class LoggingLink:
    def __init__(self, link, codec, device_type, log):
        self._link = link
        self._codec = codec
        self._device_type = device_type
        self._log = log

    def __getattr__(self, name):  # joined, join, poll, network_time, time_until_send_ms, fcnt_up, ...
        return getattr(self._link, name)

    # Boot attaches the group session by assignment (tingfw.main.attach_multicast): it belongs to the MAC.
    @property
    def multicast(self):
        return self._link.multicast

    @multicast.setter
    def multicast(self, session):
        self._link.multicast = session

    def send(self, fport, payload, confirmed=False):
        result = self._link.send(fport, payload, confirmed)
        try:
            decoded = self._codec.decode(fport, payload, self._device_type, direction="up")
            what = "%s %s" % (decoded["message"], json.dumps(decoded["fields"]))
        except ValueError:
            what = "fport %d (%d B)" % (fport, len(payload))
        self._log("up %s%s acked=%s downlinks=%d fcnt_up=%s" % (
            what, " confirmed" if confirmed else "", result.acked, len(result.downlinks),
            getattr(result, "fcnt_up", "?")))
        return result
