# Cross-check helper (not a test by itself): feeds multicast frames that lora-packet built (JSON file
# argv[1]; each group's frames in counter order) to tingfw.multicast, each one tampered first, then
# untouched, and prints per frame [payload hex or None, whether the tampered copy got through] as JSON.
import json
import sys
from binascii import hexlify, unhexlify

import simnet
from tingfw.multicast import MulticastSession

with open(sys.argv[1]) as handle:
    groups = json.load(handle)
out = []
for group in groups:
    session = MulticastSession(simnet.AES, group["mc_addr"], unhexlify(group["mc_nwk_s_key"]),
                               unhexlify(group["mc_app_s_key"]), simnet.MemStore(), group["f_cnt_min"])
    for frame in group["frames"]:
        session.offer(unhexlify(frame["tampered"]))
        tampered_through = len(session.take()) > 0
        session.offer(unhexlify(frame["phy"]))
        taken = session.take()
        out.append([hexlify(taken[0][1]).decode() if len(taken) == 1 else None, tampered_through])
print(json.dumps(out))
