"""One simulated device: lorawan.Device over the virtual radio, pointed at a Semtech UDP server.

    micropython -m tingfw.radio.simdevice --server 127.0.0.1:1700 --gateway-eui 00800000a0001234 \\
        --dev-eui 70b3d57ed0000001 --join-eui 70b3d57ed0000000 --app-key <32 hex> \\
        --state-dir /tmp/sim-1 --uplinks 3 --interval-s 60 --confirmed

The session and DevNonce live in --state-dir (lorawan.stores.FileStore), so a second run resumes
the session and never reuses a DevNonce (ChirpStack refuses a reused one). One line per event on
stdout; a usage error is one line on stderr and exit 2; a failed join exits 1. Runs under the
MicroPython unix port and CPython. A fleet is one process per device (see README.md).
"""

import binascii
import sys

USAGE = ("usage: simdevice --server HOST:PORT --gateway-eui HEX16 --dev-eui HEX16 --join-eui HEX16 "
         "--app-key HEX32 --state-dir DIR [--uplinks N] [--interval-s S] [--fport N] [--payload-hex HEX] "
         "[--confirmed] [--class A|C] [--time-scale X] [--join-attempts N]")
_FLAGS = ("--confirmed",)
_DEFAULTS = {"--uplinks": "1", "--interval-s": "60", "--fport": "2", "--payload-hex": "", "--class": "A",
             "--time-scale": "1", "--join-attempts": "3"}
_REQUIRED = ("--server", "--gateway-eui", "--dev-eui", "--join-eui", "--app-key", "--state-dir")


class UsageError(ValueError):
    pass


def parse_args(argv):
    """argv -> dict of option -> text (flags -> True). Raises UsageError; never echoes the AppKey."""
    options = dict(_DEFAULTS)
    index = 0
    while index < len(argv):
        name = argv[index]
        if name in _FLAGS:
            options[name] = True
            index += 1
        elif name.startswith("--") and (name in _DEFAULTS or name in _REQUIRED) and index + 1 < len(argv):
            options[name] = argv[index + 1]
            index += 2
        else:  # name only options, never values: a stray value may be a key
            raise UsageError("unknown or incomplete option %s" % (name if name.startswith("--") else "(a value)"))
    for name in _REQUIRED:
        if name not in options:
            raise UsageError("missing %s" % name)
    return options


def _hex_bytes(options, name, size):
    text = options[name].replace(":", "").replace("-", "")
    try:
        value = binascii.unhexlify(text)
    except ValueError:
        value = b""
    if size and len(value) != size:
        raise UsageError("%s must be %d hex digits" % (name, 2 * size))
    return value


def _number(options, name, kind=int):
    try:
        return kind(options[name])
    except ValueError:
        raise UsageError("%s must be a number" % name) from None


def build(options):
    """-> (device, gateway, clock) from parsed options: the objects a test may also drive."""
    from lorawan import Device
    from lorawan.aes import aes_factory
    from lorawan.stores import FileStore

    from tingfw.radio.clock import SystemClock
    from tingfw.radio.virtual import UdpTransport, VirtualGateway, VirtualRadio

    host, _, port = options["--server"].rpartition(":")
    if not host or not port.isdigit():
        raise UsageError("--server must be HOST:PORT")
    device_class = options["--class"]
    if device_class not in ("A", "C"):
        raise UsageError("--class must be A or C")
    clock = SystemClock(time_scale=_number(options, "--time-scale", float))
    gateway = VirtualGateway(UdpTransport(host, int(port)), _hex_bytes(options, "--gateway-eui", 8), clock)
    device = Device(VirtualRadio(gateway, clock), clock, FileStore(options["--state-dir"]), aes_factory(),
                    _hex_bytes(options, "--dev-eui", 8), _hex_bytes(options, "--join-eui", 8),
                    _hex_bytes(options, "--app-key", 16), device_class=device_class)
    return device, gateway, clock


def run(options, out=print):
    device, gateway, clock = build(options)
    uplinks = _number(options, "--uplinks")
    interval_ms = int(_number(options, "--interval-s", float) * 1000)
    fport = _number(options, "--fport")
    payload = _hex_bytes(options, "--payload-hex", 0)
    if device.joined:
        out("session restored")
    elif device.join(attempts=_number(options, "--join-attempts")):
        out("joined")
    else:
        out("join failed")
        return 1
    for index in range(uplinks):
        if index and options["--class"] == "C":
            for fport_down, data in device.poll(interval_ms):
                out("class C downlink %d:%s" % (fport_down, binascii.hexlify(data).decode()))
        elif index:
            clock.sleep_ms(interval_ms)
        result = device.send(fport, payload or bytes((index & 0xFF,)), options.get("--confirmed") is True)
        out("uplink fcnt_up=%d acked=%s downlinks=%s" % (
            result.fcnt_up, result.acked, " ".join("%d:%s" % (p, binascii.hexlify(d).decode())
                                                   for p, d in result.downlinks) or "-"))
    gateway.wait_ms(200)  # answer late PULL_RESPs before leaving
    out("gateway push_acked=%d pull_acked=%d tx_acks=%s" % (
        gateway.push_acked, gateway.pull_acked,
        ",".join("%s:%d" % (k, v) for k, v in sorted(gateway.tx_ack_counts.items())) or "-"))
    return 0


def main(argv):
    if "--help" in argv or "-h" in argv:
        print(USAGE)
        return 0
    try:
        return run(parse_args(argv))
    except UsageError as error:
        sys.stderr.write("simdevice: %s (--help for usage)\n" % error)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
