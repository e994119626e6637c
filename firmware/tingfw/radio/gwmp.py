"""Semtech UDP packet-forwarder protocol (GWMP v2): encode and parse, bytes in, bytes out.

Datagram = version(1)=2 | token(2) | identifier(1) | [gateway EUI(8)] | [JSON].
Gateway -> server: PUSH_DATA (rxpk/stat JSON), PULL_DATA (keep-alive), TX_ACK.
Server -> gateway: PUSH_ACK, PULL_ACK, PULL_RESP (txpk JSON).
Runs under MicroPython and CPython; no sockets here.
"""

import binascii
import json

PROTOCOL_VERSION = 2
PUSH_DATA = 0
PUSH_ACK = 1
PULL_DATA = 2
PULL_RESP = 3
PULL_ACK = 4
TX_ACK = 5

# TX_ACK error codes a packet forwarder reports.
TX_OK = "NONE"
TX_TOO_LATE = "TOO_LATE"
TX_TOO_EARLY = "TOO_EARLY"
TX_FREQ = "TX_FREQ"
TX_COLLISION = "COLLISION_PACKET"

_WITH_EUI = (PUSH_DATA, PULL_DATA, TX_ACK)


class GwmpError(ValueError):
    pass


def eui_bytes(eui):
    """A gateway EUI as 8 bytes, from bytes or 16 hex digits (separators ':' '-' allowed)."""
    if isinstance(eui, (bytes, bytearray)):
        if len(eui) != 8:
            raise GwmpError("gateway EUI must be 8 bytes")
        return bytes(eui)
    text = eui.replace(":", "").replace("-", "")
    if len(text) != 16:
        raise GwmpError("gateway EUI must be 16 hex digits")
    try:
        return binascii.unhexlify(text)
    except ValueError:
        raise GwmpError("gateway EUI is not hex") from None


def _header(token, identifier, eui=None):
    head = bytes((PROTOCOL_VERSION, (token >> 8) & 0xFF, token & 0xFF, identifier))
    return head + eui if eui is not None else head


def format_datr(sf, bw_khz):
    return "SF%dBW%d" % (sf, bw_khz)


def parse_datr(datr):
    """'SF7BW125' -> (7, 125)."""
    if not isinstance(datr, str) or not datr.startswith("SF") or "BW" not in datr:
        raise GwmpError("datr is not a LoRa data rate: %r" % (datr,))
    sf_text, bw_text = datr[2:].split("BW", 1)
    try:
        return int(sf_text), int(bw_text)
    except ValueError:
        raise GwmpError("datr is not a LoRa data rate: %r" % (datr,)) from None


def format_freq_mhz(freq_hz):
    return "%d.%06d" % (freq_hz // 1000000, freq_hz % 1000000)


def freq_hz_from_mhz(freq_mhz):
    # Round to the 100 Hz channel raster: survives single-precision floats on small ports.
    return int(freq_mhz * 10000 + 0.5) * 100


def _b64(data):
    return binascii.b2a_base64(data, newline=False).decode()


def rxpk_json(payload, tmst_us, freq_hz, sf, bw_khz, rssi_dbm, snr_db, chan=0, rfch=0, coding_rate="4/5"):
    """One rxpk object (JSON text) for a received uplink with a good CRC."""
    return (
        '{"tmst":%d,"chan":%d,"rfch":%d,"freq":%s,"stat":1,"modu":"LORA","datr":"%s",'
        '"codr":"%s","rssi":%d,"lsnr":%s,"size":%d,"data":"%s"}'
        % (tmst_us & 0xFFFFFFFF, chan, rfch, format_freq_mhz(freq_hz), format_datr(sf, bw_khz),
           coding_rate, rssi_dbm, "%.1f" % snr_db, len(payload), _b64(payload))
    )


def stat_json(utc, rx_count, tx_count, downlink_count, ack_percent=100.0):
    """A stat object (JSON text); utc is a time tuple (year, month, day, hour, minute, second, ...)."""
    return (
        '{"time":"%04d-%02d-%02d %02d:%02d:%02d GMT","rxnb":%d,"rxok":%d,"rxfw":%d,"ackr":%s,"dwnb":%d,"txnb":%d}'
        % (utc[0], utc[1], utc[2], utc[3], utc[4], utc[5], rx_count, rx_count, rx_count, "%.1f" % ack_percent,
           downlink_count, tx_count)
    )


def encode_push_data(token, gateway_eui, rxpk_items=(), stat=None):
    """PUSH_DATA carrying rxpk JSON objects (from rxpk_json) and/or a stat JSON object."""
    parts = []
    if rxpk_items:
        parts.append('"rxpk":[' + ",".join(rxpk_items) + "]")
    if stat is not None:
        parts.append('"stat":' + stat)
    body = "{" + ",".join(parts) + "}"
    return _header(token, PUSH_DATA, gateway_eui) + body.encode()


def encode_pull_data(token, gateway_eui):
    return _header(token, PULL_DATA, gateway_eui)


def encode_tx_ack(token, gateway_eui, error=TX_OK):
    return _header(token, TX_ACK, gateway_eui) + ('{"txpk_ack":{"error":"%s"}}' % error).encode()


def encode_ack(identifier, token):
    """PUSH_ACK or PULL_ACK (network side)."""
    return _header(token, identifier)


def txpk_json(payload, freq_hz, sf, bw_khz, power_dbm=14, tmst_us=None, imme=False, rfch=0):
    """A txpk object for PULL_RESP (network side): timed by tmst, or immediate (Class C)."""
    timing = '"imme":true' if imme else '"tmst":%d' % (tmst_us & 0xFFFFFFFF)
    return (
        '{%s,"freq":%s,"rfch":%d,"powe":%d,"modu":"LORA","datr":"%s","codr":"4/5","ipol":true,'
        '"size":%d,"data":"%s"}'
        % (timing, format_freq_mhz(freq_hz), rfch, power_dbm, format_datr(sf, bw_khz), len(payload), _b64(payload))
    )


def encode_pull_resp(token, txpk_item):
    return _header(token, PULL_RESP) + ('{"txpk":%s}' % txpk_item).encode()


def parse_datagram(datagram):
    """-> (identifier, token, gateway EUI bytes or None, JSON body bytes). Raises GwmpError."""
    if len(datagram) < 4:
        raise GwmpError("datagram shorter than the 4-byte header")
    if datagram[0] != PROTOCOL_VERSION:
        raise GwmpError("protocol version %d, expected 2" % datagram[0])
    identifier = datagram[3]
    if identifier > TX_ACK:
        raise GwmpError("unknown identifier %d" % identifier)
    token = (datagram[1] << 8) | datagram[2]
    if identifier in _WITH_EUI:
        if len(datagram) < 12:
            raise GwmpError("datagram too short for a gateway EUI")
        return identifier, token, bytes(datagram[4:12]), bytes(datagram[12:])
    return identifier, token, None, bytes(datagram[4:])


def _json_object(body, what):
    try:
        obj = json.loads(body)
    except ValueError:
        raise GwmpError("%s body is not JSON" % what) from None
    if not isinstance(obj, dict):
        raise GwmpError("%s body is not a JSON object" % what)
    return obj


def parse_txpk(body):
    """PULL_RESP JSON -> dict(imme, tmst_us, freq_hz, sf, bw_khz, power_dbm, ipol, payload)."""
    txpk = _json_object(body, "PULL_RESP").get("txpk")
    if not isinstance(txpk, dict):
        raise GwmpError("PULL_RESP has no txpk object")
    if txpk.get("modu", "LORA") != "LORA":
        raise GwmpError("txpk modulation %r is not LORA" % (txpk.get("modu"),))
    imme = txpk.get("imme") is True
    tmst = txpk.get("tmst")
    if not imme and not isinstance(tmst, int):
        raise GwmpError("txpk has neither imme nor an integer tmst")
    freq = txpk.get("freq")
    if not isinstance(freq, (int, float)):
        raise GwmpError("txpk has no freq")
    sf, bw_khz = parse_datr(txpk.get("datr"))
    try:
        payload = binascii.a2b_base64(txpk.get("data", ""))
    except (ValueError, TypeError):
        raise GwmpError("txpk data is not base64") from None
    size = txpk.get("size", len(payload))
    if size != len(payload):
        raise GwmpError("txpk size %r does not match %d data bytes" % (size, len(payload)))
    return {
        "imme": imme,
        "tmst_us": None if imme else tmst,
        "freq_hz": freq_hz_from_mhz(freq),
        "sf": sf,
        "bw_khz": bw_khz,
        "power_dbm": txpk.get("powe", 14),
        "ipol": txpk.get("ipol", False) is True,
        "payload": payload,
    }


def parse_rxpk(body):
    """PUSH_DATA JSON -> list of dicts (network side): payload, tmst_us, freq_hz, sf, bw_khz, rssi, lsnr."""
    found = []
    for rxpk in _json_object(body, "PUSH_DATA").get("rxpk", ()):
        if not isinstance(rxpk, dict) or "data" not in rxpk or "tmst" not in rxpk or "freq" not in rxpk:
            raise GwmpError("rxpk lacks data, tmst or freq")
        sf, bw_khz = parse_datr(rxpk.get("datr"))
        found.append({
            "payload": binascii.a2b_base64(rxpk["data"]),
            "tmst_us": rxpk["tmst"],
            "freq_hz": freq_hz_from_mhz(rxpk["freq"]),
            "sf": sf,
            "bw_khz": bw_khz,
            "rssi": rxpk.get("rssi"),
            "lsnr": rxpk.get("lsnr"),
        })
    return found
