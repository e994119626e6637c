# Cross-check helper (not a test by itself): builds uplinks and join-requests with our MAC for the
# cases in the JSON file argv[1] and prints one JSON list of PHYPayloads (hex). MicroPython + CPython.
import json
import sys
from binascii import hexlify, unhexlify

from lorawan.aes import aes_factory
from lorawan.cmac import CmacKey
from lorawan.crypto import UPLINK
from lorawan.frame import CONFIRMED_UP, UNCONFIRMED_UP, build_data, build_join_request

AES = aes_factory()
with open(sys.argv[1]) as handle:
    cases = json.load(handle)
out = []
for case in cases:
    if case["kind"] == "join_request":
        phy = build_join_request(CmacKey(AES, unhexlify(case["app_key"])), unhexlify(case["join_eui"]),
                                 unhexlify(case["dev_eui"]), case["dev_nonce"])
    else:
        phy = build_data(CmacKey(AES, unhexlify(case["nwk_s_key"])), CmacKey(AES, unhexlify(case["app_s_key"])),
                         UPLINK, CONFIRMED_UP if case["confirmed"] else UNCONFIRMED_UP, case["dev_addr"],
                         case["fctrl"], case["fcnt"], unhexlify(case["fopts"]), case["fport"],
                         unhexlify(case["payload"]))
    out.append(hexlify(bytes(phy)).decode())
print(json.dumps(out))
