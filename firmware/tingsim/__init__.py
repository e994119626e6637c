"""Host simulation of Tingbro devices (MicroPython unix port): the real firmware over simulated sensors,
scripted scenarios and the virtual radio. Never installed on a device."""
