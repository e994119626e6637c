"""Applies the network's MAC commands to a Session and produces the answers (LoRaWAN 1.0.4, EU868-style
regions). Pure: the battery level and SNR arrive as numbers, the duty-cycle ledger as an object."""

from lorawan import maccommands as mc


def _freq_ok(region, freq_hz):
    return region.FREQ_MIN_HZ <= freq_hz <= region.FREQ_MAX_HZ


def _dr_ok(region, dr):
    return 0 <= dr < len(region.DATA_RATES)


def _link_adr_block(region, session, payloads):
    """A contiguous block of LinkADRReq applied atomically; the last one's DR/power/NbTrans count."""
    ch_mask = session.ch_mask
    mask_ok = True
    for payload in payloads:
        mask = payload[1] | payload[2] << 8
        control = (payload[3] >> 4) & 0x07
        if control == 0:
            ch_mask = mask
        elif control == 6:
            ch_mask = 0
            for i in range(len(session.channels)):
                if session.channels[i]:
                    ch_mask |= 1 << i
        else:
            mask_ok = False
    for i in range(len(session.channels)):
        if ch_mask >> i & 1 and not session.channels[i]:
            mask_ok = False
    if not ch_mask:
        mask_ok = False
    last = payloads[-1]
    dr = last[0] >> 4
    tx_power = last[0] & 0x0F
    nb_trans = last[3] & 0x0F
    if dr == 0x0F:
        dr = session.dr
    dr_ok = _dr_ok(region, dr) and mask_ok and any(
        session.channels[i][1] <= dr <= session.channels[i][2]
        for i in range(len(session.channels)) if ch_mask >> i & 1 and session.channels[i])
    if tx_power == 0x0F:
        tx_power = session.tx_power
    power_ok = tx_power < len(region.TX_POWER_DBM)
    status = (4 if power_ok else 0) | (2 if dr_ok else 0) | (1 if mask_ok else 0)
    if status == 7:
        session.ch_mask = ch_mask
        session.dr = dr
        session.tx_power = tx_power
        session.nb_trans = nb_trans or 1
    return status


class MacContext:
    """What a handler needs besides the Session: readings and results exposed to the app."""

    def __init__(self, region, ledger, battery):
        self.region = region
        self.ledger = ledger
        self.battery = battery  # () -> 0 external power, 1..254 level, 255 unknown
        self.snr_db = 0  # SNR of the downlink being handled
        self.link_check = None  # (margin dB, gateway count) from LinkCheckAns
        self.device_time_gps_ms = None  # from DeviceTimeAns
        self.changed = False  # session state worth writing to flash


def handle(context, session, data):
    """Apply the commands in data; return [(cid, answer payload)] to send in the next uplink."""
    region = context.region
    answers = []
    commands = mc.split(data, mc.DOWN_LENGTH)
    i = 0
    while i < len(commands):
        cid, payload = commands[i]
        i += 1
        if cid == mc.LINK_ADR:
            block = [payload]
            while i < len(commands) and commands[i][0] == mc.LINK_ADR:
                block.append(commands[i][1])
                i += 1
            status = _link_adr_block(region, session, block)
            context.changed = True
            for _ in block:  # 1.0.4: one answer per request of the block, same status
                answers.append((cid, bytes((status,))))
        elif cid == mc.LINK_CHECK:
            context.link_check = (payload[0], payload[1])
        elif cid == mc.DEVICE_TIME:
            seconds = payload[0] | payload[1] << 8 | payload[2] << 16 | payload[3] << 24
            context.device_time_gps_ms = seconds * 1000 + payload[4] * 1000 // 256
        elif cid == mc.DUTY_CYCLE:
            session.max_dcycle = payload[0] & 0x0F
            context.ledger.set_max_duty_cycle(session.max_dcycle)
            context.changed = True
            answers.append((cid, b""))
        elif cid == mc.RX_PARAM_SETUP:
            offset = (payload[0] >> 4) & 0x07
            rx2_dr = payload[0] & 0x0F
            freq_hz = mc.freq_from(payload, 1)
            status = (4 if offset <= region.RX1_DR_OFFSET_MAX else 0) | (2 if _dr_ok(region, rx2_dr) else 0) | (
                1 if _freq_ok(region, freq_hz) else 0)
            if status == 7:
                session.rx1_dr_offset, session.rx2_dr, session.rx2_freq_hz = offset, rx2_dr, freq_hz
                context.changed = True
            answers.append((cid, bytes((status,))))
        elif cid == mc.DEV_STATUS:
            margin = max(-32, min(31, int(context.snr_db))) & 0x3F
            answers.append((cid, bytes((context.battery() & 0xFF, margin))))
        elif cid == mc.NEW_CHANNEL:
            answers.append((cid, bytes((_new_channel(region, session, payload),))))
            context.changed = True
        elif cid == mc.RX_TIMING_SETUP:
            session.rx1_delay_ms = ((payload[0] & 0x0F) or 1) * 1000
            context.changed = True
            answers.append((cid, b""))
        elif cid == mc.DL_CHANNEL:
            index = payload[0]
            freq_hz = mc.freq_from(payload, 1)
            exists = index < len(session.channels) and session.channels[index] is not None
            status = (2 if exists else 0) | (1 if _freq_ok(region, freq_hz) else 0)
            if status == 3:
                session.channels[index][3] = freq_hz
                context.changed = True
            answers.append((cid, bytes((status,))))
        # TxParamSetupReq is not implemented in EU868: no answer, as the region specifies
    return answers


def _new_channel(region, session, payload):
    index = payload[0]
    freq_hz = mc.freq_from(payload, 1)
    min_dr = payload[4] & 0x0F
    max_dr = payload[4] >> 4
    fixed = len(region.DEFAULT_CHANNELS)
    if index < fixed or index >= len(session.channels):
        return 0
    if freq_hz == 0:  # delete the channel
        session.channels[index] = None
        session.ch_mask &= ~(1 << index)
        return 3
    freq_ok = _freq_ok(region, freq_hz)
    dr_ok = min_dr <= max_dr and _dr_ok(region, max_dr)
    if freq_ok and dr_ok:
        session.channels[index] = [freq_hz, min_dr, max_dr, 0]
        session.ch_mask |= 1 << index
    return (2 if dr_ok else 0) | (1 if freq_ok else 0)
