# Runs under the real MicroPython with a small heap (the test passes -X heapsize=96K): a
# device can import tingcodec from source, encode its uplinks and decode its downlinks.

import gc

import tingcodec

UPLINKS = (
    ("fill_level", "status", {"distance_mm": 380, "temperature_c": 21.5, "battery_mv": 3600}),
    ("lifebuoy", "presence", {"present": False, "event_seq": 17}),
    ("streetlight", "meter", {"energy_wh": 4294967295, "operating_hours": 175320}),
)
DOWNLINKS = (
    ("fill_level", 21, "84188c0a0a182d"),
    ("lifebuoy", 20, "81195460"),
    ("streetlight", 22, "81841a0fc968641a03c41a321a0fc1861e1a0fd16f80"),
)

for device, message, fields in UPLINKS:
    fport, payload = tingcodec.encode(device, message, fields)
    assert tingcodec.decode(fport, payload, device)["message"] == message
for device, fport, hex_ in DOWNLINKS:
    tingcodec.decode(fport, bytes.fromhex(hex_), device, "down")
gc.collect()
print("small heap ok, %d bytes free" % gc.mem_free())
