"""The benchmark's pure parts: airtime against AN1200.13 worked values, and the comparison sizes."""

import pytest

from bench import bench_codecs
from bench.airtime import app_payload_airtime_ms, time_on_air_us


@pytest.mark.parametrize(("app_len", "sf", "ms"), [
    (10, 7, 61.696), (10, 12, 1482.752), (0, 7, 46.336), (1, 11, 659.456), (51, 12, 2793.472),
    (242, 7, 399.616), (20, 9, 246.784),
])
def test_airtime_matches_the_reference_table(app_len: int, sf: int, ms: float) -> None:
    assert time_on_air_us(13 + app_len, sf, 125) == round(ms * 1000)
    assert app_payload_airtime_ms(app_len, sf) == pytest.approx(ms)


def test_size_table_has_every_message_and_sane_comparisons() -> None:
    table = bench_codecs.size_table()
    assert len(table) == 18  # 2 common + 4 fill_level + 4 lifebuoy + 8 streetlight
    for entry in table:
        assert entry["floor"] <= entry["ours_max"] <= entry["target"]
        assert entry["ours_max"] < entry["json"]
    status = next(e for e in table if e["message"] == "fill_level.status")
    # distance (4 B data) + temperature (2) + battery voltage (2) + three digital inputs (1 each), +2 B per channel
    assert status["lpp"] == 6 + 4 + 4 + 9
