"""Pure local time from network (GPS) time: UTC, Danish/EU summer time, weekday, minute of day.

DeviceTimeAns gives GPS epoch seconds (from 1980-01-06, no leap seconds). The streetlight's
weekly schedule is in local wall-clock time, so we convert here without any OS time zone data.
"""

GPS_EPOCH_UNIX_S = 315964800
# GPS - UTC since 2017-01-01; no leap second has been announced since (IERS Bulletin C).
GPS_UTC_LEAP_S = 18


def gps_to_unix(gps_s, leap_s=GPS_UTC_LEAP_S):
    return gps_s + GPS_EPOCH_UNIX_S - leap_s


def civil_from_days(days):
    """Days since 1970-01-01 -> (year, month 1..12, day 1..31), proleptic Gregorian."""
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + 3 if month_index < 10 else month_index - 9
    year = year_of_era + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


def days_from_civil(year, month, day):
    year -= 1 if month <= 2 else 0
    era = year // 400
    year_of_era = year - era * 400
    month_index = month - 3 if month > 2 else month + 9
    day_of_year = (153 * month_index + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def weekday(days):
    """Monday = 0 .. Sunday = 6 for days since 1970-01-01 (a Thursday)."""
    return (days + 3) % 7


def _last_sunday_unix(year, month):
    last_day = 31  # March and October both have 31 days
    days = days_from_civil(year, month, last_day)
    days -= (weekday(days) - 6) % 7
    return days * 86400 + 3600  # switch at 01:00 UTC (EU rule)


def eu_summer_time(unix_s):
    """True inside EU summer time: last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC."""
    year = civil_from_days(unix_s // 86400)[0]
    return _last_sunday_unix(year, 3) <= unix_s < _last_sunday_unix(year, 10)


# Zones a streetlight may keep its schedule in, and each one's (standard UTC offset s, follows EU
# summer time). Every EU zone switches at the same instant (01:00 UTC): adding one is a name and a rule.
ZONE_NAMES = ("Europe/Copenhagen", "UTC")
_ZONE_RULES = ((3600, True), (0, False))


def utc_offset_s(unix_s, zone):
    """Local time minus UTC at the instant unix_s, in seconds."""
    standard_s, eu_dst = _ZONE_RULES[ZONE_NAMES.index(zone)]
    return standard_s + 3600 if eu_dst and eu_summer_time(unix_s) else standard_s


def wall_to_unix(wall_s, zone):
    """Local wall-clock seconds (counted from 1970-01-01 00:00 local) -> the UTC instant it names.

    A wall time in the hour repeated in October names its first occurrence (summer time); one in
    the hour skipped in March names the moment the clock jumps (01:00 UTC), so every wall time
    names exactly one instant and a schedule point fires once.
    """
    standard_s, eu_dst = _ZONE_RULES[ZONE_NAMES.index(zone)]
    if eu_dst:
        summer = wall_s - standard_s - 3600
        if eu_summer_time(summer):
            return summer
    standard = wall_s - standard_s
    if eu_dst and eu_summer_time(standard):  # neither reading is valid: inside the skipped hour
        return _last_sunday_unix(civil_from_days(standard // 86400)[0], 3)
    return standard


def sun_times_min(days, latitude_deg, longitude_deg):
    """(sunrise, sunset) in minutes after 00:00 UTC of day `days` (since 1970-01-01).

    The standard sunrise equation (solar disc centre at -0.833 deg), accurate to a minute or
    two, computed in days from J2000 so single-precision floats (ESP32) keep minute resolution.
    Polar day -> (0, 1440); polar night -> (720, 720).
    """
    import math

    rad = math.pi / 180
    day_j2000 = days - 10957  # 2000-01-01 is day 10957; J2000.0 is its noon
    mean_solar_noon = day_j2000 - longitude_deg / 360.0
    anomaly_deg = (357.5291 + 0.98560028 * mean_solar_noon) % 360
    anomaly = anomaly_deg * rad
    center = 1.9148 * math.sin(anomaly) + 0.02 * math.sin(2 * anomaly) + 0.0003 * math.sin(3 * anomaly)
    ecliptic = ((anomaly_deg + center + 180 + 102.9372) % 360) * rad
    transit = mean_solar_noon + 0.0053 * math.sin(anomaly) - 0.0069 * math.sin(2 * ecliptic)
    declination_sin = math.sin(ecliptic) * math.sin(23.4397 * rad)
    declination_cos = math.sqrt(1 - declination_sin * declination_sin)
    latitude = latitude_deg * rad
    cos_hour = (math.sin(-0.833 * rad) - math.sin(latitude) * declination_sin) / (math.cos(latitude) * declination_cos)
    if cos_hour <= -1:
        return 0, 1440
    if cos_hour >= 1:
        return 720, 720
    half_day = math.acos(cos_hour) / (2 * math.pi)  # fraction of a day
    # transit is in days from J2000.0 (noon): minutes after midnight UTC of `days`.
    noon_min = (transit - day_j2000) * 1440 + 720
    return int(noon_min - half_day * 1440 + 0.5), int(noon_min + half_day * 1440 + 0.5)
