"""Tilt detection: a tilt switch (see switch.Switch) or an accelerometer's gravity vector.

A knocked-over bin points its sensor sideways: the angle between measured gravity and the
mounting axis exceeds max_angle_deg.
"""

import math


def tilt_angle_deg(x_mg, y_mg, z_mg):
    """Angle between the gravity vector and the sensor's z axis, 0..180 degrees."""
    norm = math.sqrt(x_mg * x_mg + y_mg * y_mg + z_mg * z_mg)
    if norm == 0:
        return None
    cos_angle = z_mg / norm
    if cos_angle > 1:
        cos_angle = 1.0
    elif cos_angle < -1:
        cos_angle = -1.0
    return math.acos(cos_angle) * 57.29577951308232  # radians to degrees


class AccelTilt:
    """tilted() -> bool or None (no reading). `read_xyz_mg()` returns (x, y, z) in milli-g."""

    def __init__(self, read_xyz_mg, max_angle_deg=45):
        self._read = read_xyz_mg
        self.max_angle_deg = max_angle_deg

    def tilted(self, max_angle_deg=None):
        try:
            xyz = self._read()
        except OSError:  # I2C error: the accelerometer is not answering
            return None
        angle = tilt_angle_deg(xyz[0], xyz[1], xyz[2])
        if angle is None:
            return None
        return angle > (self.max_angle_deg if max_angle_deg is None else max_angle_deg)


class SwitchTilt:
    """tilted() from a tilt switch."""

    def __init__(self, switch):
        self._switch = switch

    def tilted(self, max_angle_deg=None):
        return self._switch.active()  # the switch has its own fixed angle


class LIS3DH:
    """Minimal LIS3DH reader over I2C: 10 Hz, +-2 g, high-resolution. read_xyz_mg() -> (x, y, z)."""

    def __init__(self, i2c, address=0x18):
        self._i2c = i2c
        self._address = address
        i2c.writeto_mem(address, 0x20, b"\x27")  # CTRL_REG1: 10 Hz, x/y/z enabled
        i2c.writeto_mem(address, 0x23, b"\x08")  # CTRL_REG4: high resolution, +-2 g

    def read_xyz_mg(self):
        raw = self._i2c.readfrom_mem(self._address, 0x28 | 0x80, 6)  # auto-increment from OUT_X_L
        out = []
        for index in (0, 2, 4):
            value = raw[index] | (raw[index + 1] << 8)
            if value & 0x8000:
                value -= 0x10000
            out.append(value >> 4)  # 12-bit left-justified, 1 mg/digit at +-2 g
        return (out[0], out[1], out[2])
