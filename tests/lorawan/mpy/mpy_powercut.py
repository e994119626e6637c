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



# -- the duty-cycle ledger and join back-off across power cuts (flash only: no RTC memory survives) ------
ONE_PERCENT_BAND = 100  # the three default channels (868.0-868.6 MHz) share one 1 % sub-band


def airtime_scenario(device, net, clock):
    assert device.join(attempts=2)
    device.adr = False
    device.session.dr = 0  # SF12: about 1.3 s per frame, so each frame closes the band for over 2 minutes
    for i in range(4):
        device.send(2, b"dc%d" % i)  # back to back: the ledger makes the MAC wait between them


def assert_off_times_kept(frames):
    """Every frame starts no earlier than the previous one's start + 100 x its airtime (1 %)."""
    for i in range(1, len(frames)):
        before, after = frames[i - 1], frames[i]
        airtime = simnet.time_on_air_ms(len(before[1]), before[3], before[4])
        assert after[0] - before[0] >= ONE_PERCENT_BAND * airtime, (before[0], airtime, after[0])


def record_airtime_run():
    net = simnet.Network()
    clock = simnet.Clock()
    radio = simnet.Radio(clock, net)
    log = []

    class RecordingStore(simnet.MemStore):
        def write(self, name, data):  # the moment of the write: store, network, clock, frames on air
            log.append((name, bytes(data), dict(self.files), net.snapshot(), clock.now, len(radio.sent)))
            simnet.MemStore.write(self, name, data)

    device = Device(radio, clock, RecordingStore(), simnet.AES, simnet.DEV_EUI, simnet.JOIN_EUI, simnet.APP_KEY,
                    fcnt_reserve=RESERVE)
    airtime_scenario(device, net, clock)
    assert_off_times_kept(radio.sent)
    return log, radio.sent


def test_power_cut_never_lets_the_device_exceed_the_duty_cycle():
    log, clean_frames = record_airtime_run()
    assert [entry[0] for entry in log].count("airtime.a") >= 3
    runs = 0
    for name, data, files, net_snapshot, cut_ms, sent_before in log:
        for torn in torn_versions(files.get(name), data):
            # back at once (no time off, the strictest case), on a clock that went on or one that restarted
            for restart_ms in (cut_ms, 1000):
                flash = simnet.MemStore()
                flash.files = dict(files)
                flash.files[name] = torn
                net = net_snapshot.snapshot()
                clock = simnet.Clock()
                clock.now = restart_ms
                radio = simnet.Radio(clock, net)
                device = Device(radio, clock, flash, simnet.AES, simnet.DEV_EUI, simnet.JOIN_EUI,
                                simnet.APP_KEY, fcnt_reserve=RESERVE)
                if not device.joined:
                    assert device.join(attempts=3), "rejoin failed after a cut in %s" % name
                device.adr = False
                device.session.dr = 0
                device.send(2, b"after")
                after = [(f[0] - restart_ms + cut_ms,) + f[1:] for f in radio.sent]  # on the first timeline
                assert_off_times_kept(clean_frames[:sent_before] + after)
                runs += 1
    print("duty-cycle power cuts replayed: %d over %d writes" % (runs, len(log)))
    assert runs > 500


mpytest.main(globals())
