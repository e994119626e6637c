"""The only module that imports `machine`: makes pins, ADCs, UARTs, PWM, counters, watchdog, sleep.

Everything above it takes the objects it returns, so tests pass `tingfw.fakes.FakeHardware`.
"""

import time

import machine

_RESET_CAUSES = (
    ("PWRON_RESET", "power_on"), ("HARD_RESET", "external_pin"), ("WDT_RESET", "watchdog"),
    ("DEEPSLEEP_RESET", "deep_sleep_wake"), ("SOFT_RESET", "software"), ("BROWNOUT_RESET", "brownout"),
)


class MachineHardware:
    def __init__(self, mcu, ticks_ms=None, ticks_diff=None):
        self.mcu = mcu
        self._ticks_ms = ticks_ms or time.ticks_ms  # injectable for the host tests
        self._ticks_diff = ticks_diff or time.ticks_diff
        self._wdt = None
        self._wdt_ms = 0
        self._slept = False  # an in-place sleep returned (RP2040): the next wake is not a reset
        self._pin_woke = False
        self.slept_ms = None  # how long that sleep lasted (the lifebuoy counts it towards its heartbeat)

    def pin_in(self, number, pull=None):
        return machine.Pin(number, machine.Pin.IN, pull)

    def pin_out(self, number, value=0):
        return machine.Pin(number, machine.Pin.OUT, value=value)

    def adc(self, number):
        adc = machine.ADC(machine.Pin(number))
        if self.mcu.startswith("esp32"):
            adc.atten(machine.ADC.ATTN_11DB)  # full 0..3.3 V range on ESP32 ADCs
        return adc

    def uart(self, uart_id, baud, tx, rx):
        return machine.UART(uart_id, baudrate=baud, tx=tx, rx=rx, timeout=0)

    def pwm(self, number):
        return machine.PWM(machine.Pin(number))

    def i2c(self, sda, scl):
        return machine.I2C(0, sda=machine.Pin(sda), scl=machine.Pin(scl), freq=100000)

    def spi(self, spi_id, sck, mosi, miso):
        return machine.SPI(spi_id, baudrate=2000000, sck=machine.Pin(sck), mosi=machine.Pin(mosi),
                           miso=machine.Pin(miso))

    def counter(self, number):
        """A CF pulse counter: hardware machine.Counter where the port has one, else Pin.irq."""
        pin = machine.Pin(number, machine.Pin.IN)
        counter_class = getattr(machine, "Counter", None)
        if counter_class is not None:
            return _HardwareCounter(counter_class(0, pin))
        from tingfw.drivers.bl0937 import PinPulseCounter

        return PinPulseCounter(pin, machine.Pin.IRQ_RISING)

    def pulse_in(self):
        return machine.time_pulse_us

    def sleep_us(self):
        return time.sleep_us

    def idle_sleep(self):
        """Light sleep for long waits, where the port keeps ticks_ms running through it (ESP32)."""
        return machine.lightsleep if self.mcu.startswith("esp32") else None

    def radio_light_sleep(self):
        """Light sleep while the SPI radio transmits or listens (tingfw.radio.sx12xx), on ESP32 and RP2040.

        Both keep ticks_ms, SPI and GPIO state through machine.lightsleep(ms) (ESP-IDF: peripherals
        are clock-gated, state preserved; rp2: the timer alarm wakes it, the timer keeps counting).
        Not for general waits on rp2: waking from lightsleep has been reported to clobber UART
        settings (micropython PR #16442), and the A02YYUW is read over a UART."""
        return machine.lightsleep if self.mcu.startswith("esp32") or self.mcu.startswith("rp2") else None

    def watchdog(self, timeout_ms):
        self._wdt = machine.WDT(timeout=timeout_ms)
        self._wdt_ms = timeout_ms
        return self._wdt

    def reset_cause(self):
        if self._slept:
            return "deep_sleep_wake"
        cause = machine.reset_cause()
        for name, label in _RESET_CAUSES:
            if getattr(machine, name, None) == cause:
                return label
        return "unknown"

    def woke_by_pin(self):
        if self._slept:
            return self._pin_woke
        reason = getattr(machine, "wake_reason", None)
        if reason is None:
            return False
        return reason() in (getattr(machine, "PIN_WAKE", -1), getattr(machine, "EXT0_WAKE", -1))

    def rtc_memory(self):
        return machine.RTC().memory

    def deep_sleep(self, sleep_ms, wake_pin=None, wake_level=None):
        """ESP32: deep sleep (timer, or the wake pin); never returns, the wake is a reset.
        RP2040: light sleep in place, woken by the timer or the wake pin; returns (see _sleep_in_place)."""
        if self.mcu.startswith("rp2"):
            self._sleep_in_place(sleep_ms, wake_pin, wake_level)
            return
        if wake_pin is not None:
            try:
                esp32 = __import__("esp32")  # only ESP32 ports have it (the rp2 stubs rightly lack it)
                wake_pin.init(pull=None)  # a pull-up would leak through a closed reed switch
                level = esp32.WAKEUP_ANY_HIGH if wake_level else esp32.WAKEUP_ALL_LOW
                if hasattr(esp32, "wake_on_ext0"):
                    esp32.wake_on_ext0(wake_pin, level)
                else:  # ESP32-C3: GPIO0..5 wake from deep sleep
                    esp32.wake_on_gpio((wake_pin,), level)
            except (ImportError, ValueError, AttributeError):
                pass  # no pin wake on this port: heartbeat and retries still run on the timer
        machine.deepsleep(sleep_ms)

    def _sleep_in_place(self, sleep_ms, wake_pin, wake_level):
        """RP2040: machine.deepsleep would be a lightsleep cut short by the watchdog (which keeps
        counting in lightsleep, max 8.3 s) and then a reset that forgets why it woke. Instead light-sleep
        in slices under the watchdog, with a Pin.irq on the wake pin: rp2 ends a timed lightsleep on a
        pin IRQ that has a handler (micropython#7035). main() then runs the next wake without a reboot."""
        from tingfw.timed_sleep import sleep_sliced

        edges = []  # type: list
        if wake_pin is not None:
            wake_pin.init(pull=None)  # a pull-up would leak through a closed reed switch
            trigger = machine.Pin.IRQ_RISING if wake_level else machine.Pin.IRQ_FALLING
            wake_pin.irq(handler=edges.append, trigger=trigger)

        def woken():
            return bool(edges) or (wake_pin is not None and wake_pin.value() == wake_level)

        wdt = self._wdt
        slice_ms = self._wdt_ms // 4 if wdt is not None else sleep_ms
        self.slept_ms = sleep_sliced(sleep_ms, slice_ms, machine.lightsleep, self._ticks_ms, self._ticks_diff,
                                     wdt.feed if wdt is not None else _nothing, woken)
        self._pin_woke = woken()
        if wake_pin is not None:
            wake_pin.irq(handler=None)
        self._slept = True


def _nothing():
    pass


class _HardwareCounter:
    def __init__(self, counter):
        self._counter = counter

    def count(self):
        return self._counter.value()
