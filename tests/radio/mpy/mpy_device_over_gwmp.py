# lorawan.Device (Class C) over the virtual radio, against the network side in tests/radio/test_device_over_gwmp.py.
# Usage: micropython mpy_device_over_gwmp.py PORT TIME_SCALE
import sys

from lorawan import Device
from lorawan.aes import aes_factory
from tingfw.radio.clock import SystemClock
from tingfw.radio.virtual import UdpTransport, VirtualGateway, VirtualRadio

APP_KEY = bytes(range(16))
DEV_EUI = bytes((0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0, 0, 1))
JOIN_EUI = bytes((0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0, 0, 0))


class MemStore:
    def __init__(self):
        self.files = {}

    def read(self, name):
        return self.files.get(name)

    def write(self, name, data):
        self.files[name] = bytes(data)


clock = SystemClock(time_scale=int(sys.argv[2]))
gateway = VirtualGateway(UdpTransport("127.0.0.1", int(sys.argv[1])), "00800000a0001234", clock)
device = Device(VirtualRadio(gateway, clock), clock, MemStore(), aes_factory(), DEV_EUI, JOIN_EUI, APP_KEY,
                device_class="C")
print("JOINED", device.join(attempts=2))
result = device.send(2, b"fill 380mm", confirmed=True)
print("SEND acked=%s fcnt_up=%d downlinks=%s" % (result.acked, result.fcnt_up,
                                                   ",".join("%d:%s" % (p, d.decode()) for p, d in result.downlinks)))
result = device.send(2, b"second")
print("SEND2 acked=%s fcnt_up=%d downlinks=%d" % (result.acked, result.fcnt_up, len(result.downlinks)))
# Class C: the network sends at once (imme) on RX2 while the device listens between uplinks.
print("CLASS_C", ",".join("%d:%s" % (p, d.decode()) for p, d in device.poll(4000)))
# Class C between the uplink and RX1: a downlink on RX2 300 ms after the uplink ended.
result = device.send(2, b"rxc")
print("RXC downlinks=%s" % ",".join("%d:%s" % (p, d.decode()) for p, d in result.downlinks))
gateway.wait_ms(200)
print("GATEWAY push_acked=%d tx_acks=%s" % (gateway.push_acked, ",".join(e for _t, e in gateway.tx_acks)))
