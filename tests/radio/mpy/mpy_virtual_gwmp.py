# The virtual radio against a network side played by tests/radio/test_virtual_gwmp.py.
# Usage: micropython mpy_virtual_gwmp.py PORT TIME_SCALE
import sys

from tingfw.radio.clock import SystemClock
from tingfw.radio.virtual import UdpTransport, VirtualGateway, VirtualRadio

port = int(sys.argv[1])
clock = SystemClock(time_scale=int(sys.argv[2]))
gateway = VirtualGateway(UdpTransport("127.0.0.1", port), "0102030405060708", clock, keepalive_ms=1000,
                         stat_interval_ms=1500)
radio = VirtualRadio(gateway, clock, rssi_dbm=-87, snr_db=7.5)
heard = []


def note(label, payload):
    heard.append("%s=%s" % (label, payload.decode() if payload else "-"))


end_ms = radio.transmit(b"uplink-one", 868100000, 7, 125, 14)
# RX1 and RX2 as a Class A MAC opens them: a little early, a little wide.
assert radio.last_snr_db is None
note("rx1", radio.receive(868100000, 7, 125, end_ms + 1000 - 20, 60))
assert radio.last_snr_db == 7.5 and radio.last_rssi_dbm == -87
note("rx2", radio.receive(869525000, 12, 125, end_ms + 2000 - 20, 60))
# Windows where the network sends something this radio must not hear: another SF, normal IQ,
# another frequency.
note("w4", radio.receive(868100000, 7, 125, end_ms + 4000 - 20, 60))
note("w5", radio.receive(868100000, 7, 125, end_ms + 5000 - 20, 60))
note("w6", radio.receive(869525000, 7, 125, end_ms + 6000 - 20, 60))

radio.transmit(b"class-c", 868300000, 7, 125, 14)
radio.listen(869525000, 12, 125)
deadline_ms = clock.ticks_ms() + 3000
class_c = None
while class_c is None and clock.ticks_ms() < deadline_ms:
    class_c = radio.poll()
    clock.sleep_ms(5)
note("classc", class_c)
radio.sleep()
# No more keep-alives or stats, then time for the last acks: every message sent can be acked.
gateway.keepalive_ms = gateway.stat_interval_ms = 10 ** 9
gateway.wait_ms(300)
print("HEARD", " ".join(heard))
print("COUNTS push_sent=%d push_acked=%d pull_sent=%d pull_acked=%d bad=%d" % (
    gateway.push_sent, gateway.push_acked, gateway.pull_sent, gateway.pull_acked, gateway.bad_datagrams))
