"""ADR acknowledgement back-off (LoRaWAN 1.0.4 §4.3.1.1) as a pure step function."""


def adr_backoff(adr_ack_cnt, dr, tx_power, limit, delay, dr_min):
    """Called per uplink with the count of uplinks since the last downlink.

    Returns (adr_ack_req, dr, tx_power, restore_default_channels): ADRACKReq is set from
    ADR_ACK_LIMIT on; every ADR_ACK_DELAY uplinks after that without a downlink, first TX power
    goes to maximum (index 0), then DR steps down, and at the lowest DR the default channels return.
    """
    if adr_ack_cnt < limit:
        return False, dr, tx_power, False
    over = adr_ack_cnt - limit
    if over == 0 or over % delay:
        return True, dr, tx_power, False
    if tx_power != 0:
        return True, dr, 0, False
    if dr > dr_min:
        return True, dr - 1, tx_power, False
    return True, dr, tx_power, True
