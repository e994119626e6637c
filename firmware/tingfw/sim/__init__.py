"""Host simulation (not part of the device bundle): the real apps, MAC and codec under the MicroPython
unix port, with scripted sensors, over the virtual radio. `tingbro simulate` runs one process per device."""
