# The persistence edges: FileStore on a real directory, RtcStore over an RTC-memory-like callable,
# and a Device restoring its session from them. MicroPython + CPython.
import os

import mpytest
import simnet
from lorawan.stores import FileStore, RtcStore

DIR = "/tmp/lorawan-filestore-%d" % (os.getpid() if hasattr(os, "getpid") else 1)


def _clean():
    try:
        for name in os.listdir(DIR):
            os.remove(DIR + "/" + name)
        os.rmdir(DIR)
    except OSError:
        pass


class FakeRtc:
    """Stands in for machine.RTC: memory() reads, memory(data) writes, 2048 bytes at most."""

    def __init__(self):
        self.blob = b""

    def memory(self, data=None):
        if data is None:
            return self.blob
        assert len(data) <= 2048
        self.blob = bytes(data)
        return None


def test_file_store_round_trip_and_missing():
    _clean()
    store = FileStore(DIR)
    assert store.read("nonce.a") is None
    store.write("nonce.a", b"\x01\x02")
    store.write("nonce.a", b"\x03")
    assert FileStore(DIR).read("nonce.a") == b"\x03"
    assert "nonce.a.tmp" not in os.listdir(DIR)
    _clean()


def test_rtc_store_keeps_several_records_in_one_blob():
    rtc = FakeRtc()
    store = RtcStore(rtc.memory)
    store.write("session.a", b"A" * 150)
    store.write("session.b", b"B" * 150)
    store.write("session.a", b"C" * 10)
    again = RtcStore(rtc.memory)
    assert again.read("session.a") == b"C" * 10 and again.read("session.b") == b"B" * 150
    assert again.read("other") is None
    mpytest.raises(ValueError, store.write, "big", bytes(2000))


def test_device_restores_from_file_and_rtc_stores():
    _clean()
    rtc = FakeRtc()
    device, radio, net, clock, store = simnet.make(store=FileStore(DIR), rtc=RtcStore(rtc.memory))
    assert device.join()
    for _ in range(5):
        clock.now += 10 ** 6
        device.send(2, b"x")
    # deep sleep: RTC memory kept -> exact counter
    woken = simnet.make(store=FileStore(DIR), rtc=RtcStore(rtc.memory), net=net, clock=clock)[0]
    assert woken.joined and woken.session.fcnt_up == 5
    # power loss: RTC memory gone -> resume at the counter reserved in flash
    rebooted = simnet.make(store=FileStore(DIR), rtc=RtcStore(FakeRtc().memory), net=net, clock=clock)[0]
    assert rebooted.joined and rebooted.session.fcnt_up == 16
    _clean()


mpytest.main(globals())
