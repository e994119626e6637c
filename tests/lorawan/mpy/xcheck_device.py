# Cross-check helper (not a test by itself): lorawan.Device joins and sends uplinks (random payloads,
# counters above 16 bits, MAC answers in FOpts, confirmed or not) through the in-memory radio; prints
# [{case..., "phy": hex}] as JSON for lora-packet to verify. argv[1] = seed.
import json
import random
import sys
from binascii import hexlify

import simnet
from lorawan import maccommands as mc

random.seed(int(sys.argv[1]))
device, radio, net, clock, store = simnet.make(battery=lambda: 200)
assert device.join()
start = random.getrandbits(31)
device.session.fcnt_up = start
device.session.fcnt_up_limit = start
net.sessions[simnet.DEV_ADDR][2] = start - 1
out = []
for i in range(12):
    if i % 3 == 0:
        net.queue.append((None, b"", bytes((mc.DEV_STATUS,)) + mc.link_adr_req(5, 1, 0b111, 0, 1), False))
    clock.now += 10 ** 6
    payload = bytes(random.getrandbits(8) for _ in range(random.getrandbits(5)))
    confirmed = bool(random.getrandbits(1))
    before = len(radio.sent)
    result = device.send(1 + random.getrandbits(7), payload, confirmed=confirmed)
    uplink = net.uplinks[-1]
    for sent in radio.sent[before:]:
        if sent[1][0] == 0x00:
            continue
        out.append({"kind": "uplink", "nwk_s_key": hexlify(device.session.nwk_s_key).decode(),
                    "app_s_key": hexlify(device.session.app_s_key).decode(), "dev_addr": device.session.dev_addr,
                    "fcnt": result.fcnt_up, "fport": uplink.fport, "payload": hexlify(payload).decode(),
                    "fopts": hexlify(uplink.fopts).decode(), "confirmed": confirmed, "fctrl": sent[1][5] & 0xF0,
                    "phy": hexlify(sent[1]).decode()})
print(json.dumps(out))
