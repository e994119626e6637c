# Power cut at every byte offset of every persistence write (flash and RTC memory), under MicroPython
# and CPython. The store below is a fault injector: it records each write of a clean run; every replay
# then starts from the store as it was, with that one write truncated or torn at a byte offset.
# After the cut a fresh Device must restore a session the network accepts, or rejoin; no DevNonce and
# no FCntUp of a session may ever repeat (the network double asserts both).
import mpytest
import simnet
from lorawan import maccommands as mc
from lorawan.device import Device

RESERVE = 3


class Recorder:
    def __init__(self):
        self.log = []
        self.net = None
        self.stores = {}

    def store(self, kind):
        recorder = self

        class RecordingStore(simnet.MemStore):
            def write(self, name, data):
                recorder.log.append((kind, name, bytes(data), dict(recorder.stores["flash"].files),
                                     dict(recorder.stores["rtc"].files), recorder.net.snapshot()))
                simnet.MemStore.write(self, name, data)

        self.stores[kind] = RecordingStore()
        return self.stores[kind]


def new_device(net, clock, flash, rtc):
    radio = simnet.Radio(clock, net)
    device = Device(radio, clock, flash, simnet.AES, simnet.DEV_EUI, simnet.JOIN_EUI, simnet.APP_KEY, rtc_store=rtc,
                    fcnt_reserve=RESERVE)
    return device


def scenario(device, net, clock):
    assert device.join(attempts=2)
    for i in range(7):
        clock.now += 10 ** 6
        device.send(2, b"up%d" % i)
    net.queue.append((None, b"", mc.link_adr_req(3, 1, 0b111, 0, 1), False))
    clock.now += 10 ** 6
    device.send(2, b"adr")  # the MAC change is written to flash
    clock.now += 10 ** 6
    assert device.join(attempts=2)
    for i in range(4):
        clock.now += 10 ** 6
        device.send(2, b"again%d" % i)


def assert_no_repeats(net):
    for session, fcnts in net.sent_fcnts.items():
        assert len(set(fcnts)) == len(fcnts), "FCntUp repeated in session %d: %s" % (session, fcnts)
    assert len(set(net.used_dev_nonces)) == len(net.used_dev_nonces)


def record_clean_run():
    recorder = Recorder()
    net = simnet.Network()
    recorder.net = net
    clock = simnet.Clock()
    flash = recorder.store("flash")
    rtc = recorder.store("rtc")
    scenario(new_device(net, clock, flash, rtc), net, clock)
    assert_no_repeats(net)
    return recorder.log


def torn_versions(old, data):
    """(label, bytes) for a write cut after k bytes: truncated file, or new prefix over the old bytes."""
    for k in range(len(data) + 1):
        yield data[:k]
        if old is not None and k < len(old) and k < len(data):
            yield data[:k] + old[k:]


def replay(kind, name, data, flash_files, rtc_files, net_snapshot):
    runs = 0
    rejoins = 0
    old = (flash_files if kind == "flash" else rtc_files).get(name)
    for torn in torn_versions(old, data):
        flash = simnet.MemStore()
        rtc = simnet.MemStore()
        flash.files = dict(flash_files)
        if kind == "flash":
            flash.files[name] = torn  # power lost: RTC memory is gone too
        else:
            rtc.files = dict(rtc_files)  # a reset that keeps RTC memory, in the middle of writing it
            rtc.files[name] = torn
        net = net_snapshot.snapshot()
        clock = simnet.Clock()
        clock.now = 10 ** 9
        device = new_device(net, clock, flash, rtc)
        if not device.joined:
            rejoins += 1
            assert device.join(attempts=3), "rejoin failed after a cut in %s" % name
        before = len(net.uplinks)
        device.send(2, b"after")
        assert len(net.uplinks) == before + 1 and net.uplinks[-1].payload == b"after", \
            "restored session not accepted (cut in %s/%s)" % (kind, name)
        clock.now += 10 ** 6
        device.send(2, b"after2")
        assert net.uplinks[-1].payload == b"after2"
        assert_no_repeats(net)
        runs += 1
    return runs, rejoins


def test_power_cut_at_every_byte_of_every_write():
    log = record_clean_run()
    kinds = [entry[0] for entry in log]
    assert kinds.count("flash") >= 10 and kinds.count("rtc") >= 10, kinds
    total = 0
    rejoins = 0
    for entry in log:
        runs, joins = replay(*entry)
        total += runs
        rejoins += joins
    print("power cuts replayed: %d over %d writes, %d ended in a rejoin" % (total, len(log), rejoins))
    assert rejoins > 0 and rejoins < total  # both outcomes occur: restore and rejoin


mpytest.main(globals())
