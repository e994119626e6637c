"""A long sleep made of light sleeps under the watchdog, ended early by a wake condition (pure; I/O passed in).

For MCUs without a usable deep sleep: on the RP2040, machine.deepsleep is a lightsleep followed by a
reset, and the watchdog (at most 8.3 s) keeps counting through lightsleep (micropython#17228), so a
heartbeat-long sleep must be sliced and the watchdog fed between slices.
"""


def sleep_sliced(sleep_ms, slice_ms, light_sleep, ticks_ms, ticks_diff, feed, woken):
    """Light-sleep up to sleep_ms in slices of at most slice_ms, calling feed() after each slice;
    stop as soon as woken() is true (checked before every slice). -> ms actually slept."""
    start = ticks_ms()
    while True:
        slept_ms = ticks_diff(ticks_ms(), start)
        left_ms = sleep_ms - slept_ms
        if left_ms <= 0 or woken():
            return slept_ms
        light_sleep(left_ms if left_ms < slice_ms else slice_ms)
        feed()
