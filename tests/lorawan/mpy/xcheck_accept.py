# Cross-check helper (not a test by itself): feeds downlinks and join-accepts that lora-packet built
# (JSON file argv[1]) to our MAC, untouched and tampered, and prints what was accepted as JSON.
import json
import sys
from binascii import hexlify, unhexlify

import simnet
from lorawan.cmac import CmacKey
from lorawan.errors import FrameError
from lorawan.frame import parse_join_accept
from lorawan.session import Session

with open(sys.argv[1]) as handle:
    cases = json.load(handle)
device = simnet.make()[0]
out = []
for case in cases:
    results = []
    for key in ("phy", "tampered"):
        phy = unhexlify(case[key])
        if case["kind"] == "join_accept":
            try:
                accept = parse_join_accept(CmacKey(simnet.AES, unhexlify(case["app_key"])), phy)
                results.append([accept.join_nonce, accept.net_id, accept.dev_addr, accept.rx1_dr_offset,
                                accept.rx2_dr, accept.rx_delay_s,
                                hexlify(accept.cflist).decode() if accept.cflist else ""])
            except FrameError:
                results.append(None)
            continue
        session = Session(device.region, case["dev_addr"], unhexlify(case["nwk_s_key"]),
                          unhexlify(case["app_s_key"]))
        session.fcnt_down = case["fcnt"] - 1 if case["fcnt"] else 0xFFFFFFFF
        device._activate(session)
        downlinks = []
        ack = device._accept_downlink(phy, True, downlinks)
        if ack is None:
            results.append(None)
        else:
            results.append([ack, device.session.fcnt_down, [[p, hexlify(d).decode()] for p, d in downlinks]])
    out.append(results)
print(json.dumps(out))
