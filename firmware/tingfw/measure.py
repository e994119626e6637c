"""Pure filtering of repeated distance samples: median, outlier rejection, fault classes.

An ultrasonic sensor in a bin sees echoes from the walls, from a bag edge, or nothing at
all. A bogus distance would look like a fill level to the bridge, so a bad measurement
becomes a fault code instead.
"""

FAULT_NONE = 0
FAULT_NO_ECHO = 1  # most samples had no echo (empty deep bin, sensor fault, wet transducer)
FAULT_BLIND_ZONE = 2  # most echoes were inside the blind zone (bin over-full or sensor covered)
FAULT_UNSTABLE = 3  # echoes too scattered to agree on one surface


def median(sorted_values):
    count = len(sorted_values)
    middle = count // 2
    if count % 2:
        return sorted_values[middle]
    return (sorted_values[middle - 1] + sorted_values[middle]) // 2


def filter_distance(samples_mm, blind_zone_mm, max_range_mm, outlier_mm, min_valid):
    """Return (distance_mm or None, fault code, number of samples kept).

    samples_mm: readings in mm, None for no echo. Readings under blind_zone_mm are blind,
    over max_range_mm are no echo. Of the rest, those within outlier_mm of the median are
    kept and their median reported; fewer than min_valid kept is a fault.
    """
    valid = []
    blind = 0
    no_echo = 0
    for value in samples_mm:
        if value is None or value > max_range_mm:
            no_echo += 1
        elif value < blind_zone_mm:
            blind += 1
        else:
            valid.append(value)
    if len(valid) < min_valid:
        if blind >= no_echo and blind > 0:
            return None, FAULT_BLIND_ZONE, 0
        return None, FAULT_NO_ECHO, 0
    valid.sort()
    center = median(valid)
    kept = [value for value in valid if abs(value - center) <= outlier_mm]
    if len(kept) < min_valid:
        return None, FAULT_UNSTABLE, len(kept)
    return median(kept), FAULT_NONE, len(kept)
