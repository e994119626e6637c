"""`tingbro provision` end to end against the real grpcio ChirpStack stand-in on loopback."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
import segno
from chirpstack_api import api, common
from chirpstack_fake import FakeChirpStack
from conftest import run_cli, run_micropython
from tingbro.control.labels import qr_payload

TOKEN = "provision-token-5b1e"
CSV = """name,device_type,lat,lon,municipality,bin_height_mm,bin_empty_distance_mm,bin_full_distance_mm
bin-0001,fill_level,56.1572,10.2107,Aarhus,1100,1050,150
buoy-0001,lifebuoy,56.1500,10.2200,aarhus,,,
lamp-0001,streetlight,56.1600,10.2000,aarhus,,,
"""


@pytest.fixture
def cs():
    with FakeChirpStack(token=TOKEN) as fake:
        fake.app_id = fake.add_application()
        yield fake


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    codecs = tmp_path / "codecs"
    codecs.mkdir()
    for device_type in ("fill_level", "lifebuoy", "streetlight"):
        (codecs / f"{device_type}.js").write_text(f"function decodeUplink(input) {{ return {{data: {{t: '{device_type}'}}}}; }}\n")
    (tmp_path / "bins.csv").write_text(CSV)
    return tmp_path


def provision(cs: FakeChirpStack, workdir: Path, *extra: str, token: str = TOKEN):
    return run_cli("provision", "--server", cs.target, "--tenant-id", cs.tenant_id, "--application-id", cs.app_id,
                   "--devices", str(workdir / "devices.jsonl"), "--configs-dir", str(workdir / "configs"),
                   "--labels-dir", str(workdir / "labels"), "--codecs-dir", str(workdir / "codecs"), *extra,
                   env={"CHIRPSTACK_API_TOKEN": token}, timeout=60)


def device_list(workdir: Path) -> dict[str, dict]:
    lines = (workdir / "devices.jsonl").read_text().splitlines()
    return {record["name"]: record for record in map(json.loads, lines)}


def test_single_device_requests_field_by_field(cs, workdir):
    result = provision(cs, workdir, "--name", "bin-0042", "--type", "fill-level", "--lat", "56.15", "--lon",
                       "10.21", "--municipality", "Aarhus", "--bin-height-mm", "1200")
    assert result.returncode == 0, result.stderr

    (profile_request,) = cs.calls("DeviceProfileService", "Create")
    profile = profile_request.device_profile
    assert profile.tenant_id == cs.tenant_id
    assert profile.name == "tingbro-fill-level"
    assert profile.region == common.Region.EU868
    assert profile.mac_version == common.MacVersion.LORAWAN_1_0_4
    assert profile.reg_params_revision == common.RegParamsRevision.RP002_1_0_3
    assert profile.adr_algorithm_id == "default"
    assert profile.supports_otaa is True
    assert profile.supports_class_c is False and profile.supports_class_b is False
    assert profile.payload_codec_runtime == api.CodecRuntime.JS
    assert profile.payload_codec_script == (workdir / "codecs" / "fill_level.js").read_text()
    assert profile.uplink_interval == 3600
    assert profile.device_status_req_interval == 1
    assert dict(profile.tags) == {"tingbro_device_type": "fill_level"}

    record = device_list(workdir)["bin-0042"]
    (create,) = cs.calls("DeviceService", "Create")
    device = create.device
    assert device.dev_eui == record["dev_eui"] and re.fullmatch(r"[0-9a-f]{16}", device.dev_eui)
    assert int(device.dev_eui[:2], 16) & 0x03 == 0x02  # locally administered, unicast
    assert device.name == "bin-0042"
    assert device.application_id == cs.app_id
    assert device.device_profile_id == next(iter(cs.device_profiles))
    assert device.join_eui == "0000000000000000"
    assert dict(device.tags) == {
        "tingbro_device_type": "fill_level", "tingbro_latitude": "56.150000", "tingbro_longitude": "10.210000",
        "tingbro_municipality": "aarhus", "tingbro_uplink_interval_s": "3600", "tingbro_bin_height_mm": "1200",
        "tingbro_bin_empty_mm": "1200", "tingbro_bin_full_mm": "0",
    }

    (keys_request,) = cs.calls("DeviceService", "CreateKeys")
    keys = keys_request.device_keys
    assert keys.dev_eui == device.dev_eui
    assert re.fullmatch(r"[0-9a-f]{32}", keys.nwk_key)
    assert keys.nwk_key == record["app_key"]  # LoRaWAN 1.0.x: the AppKey goes in nwk_key
    assert keys.app_key == "" and keys.gen_app_key == ""

    for _svc, _meth, _req, metadata in cs.requests:
        assert metadata["authorization"] == "Bearer " + TOKEN

    # Secrets: files 0600, never on stdout/stderr.
    assert stat.S_IMODE((workdir / "devices.jsonl").stat().st_mode) == 0o600
    config_path = workdir / "configs" / "bin-0042.json"
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    assert record["app_key"] not in result.stdout + result.stderr and TOKEN not in result.stdout + result.stderr
    assert device.dev_eui in result.stderr  # progress line

    config = json.loads(config_path.read_text())
    assert config == record["config"]
    assert config == {"device": "fill_level", "name": "bin-0042", "dev_eui": record["dev_eui"],
                      "join_eui": "0000000000000000", "app_key": record["app_key"], "region": "EU868",
                      "board": "heltec_wifi_lora32_v3", "intervals": {"report_interval_s": 3600}}
    assert record["device"] == "fill_level" and record["join_eui"] == "0000000000000000"


def test_firmware_configs_pass_the_firmware_validator_under_micropython(cs, workdir):
    assert provision(cs, workdir, "--csv", str(workdir / "bins.csv")).returncode == 0
    lamp = json.loads((workdir / "configs" / "lamp-0001.json").read_text())
    assert lamp["location"] == {"latitude_deg": 56.16, "longitude_deg": 10.2}
    script = (
        "import json\nfrom tingfw import config, boards\n"
        f"for name in {sorted(device_list(workdir))!r}:\n"
        f"    with open({str(workdir / 'configs')!r} + '/' + name + '.json') as f:\n"
        "        c = config.load(f.read(), boards.board_names())\n"
        "    print(name, c['device'], c['board'], len(c['settings']))\n"
    )
    result = run_micropython(script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split()[:3] for line in result.stdout.splitlines()] == [
        ["bin-0001", "fill_level", "heltec_wifi_lora32_v3"], ["buoy-0001", "lifebuoy", "heltec_wifi_lora32_v3"],
        ["lamp-0001", "streetlight", "heltec_wifi_lora32_v3"]]


def test_unknown_board_refused_before_anything_is_created(cs, workdir):
    result = provision(cs, workdir, "--name", "lamp-9", "--type", "streetlight", "--lat", "56", "--lon", "10",
                       "--board", "arduino_uno")
    assert result.returncode == 2 and "board must be one of" in result.stderr
    assert cs.requests == []


def test_label_has_name_deveui_and_a_qr_code_of_the_deveui_without_keys(cs, workdir):
    assert provision(cs, workdir, "--csv", str(workdir / "bins.csv")).returncode == 0
    record = device_list(workdir)["lamp-0001"]
    svg = (workdir / "labels" / "lamp-0001.svg").read_text()
    assert "lamp-0001" in svg and "streetlight" in svg
    assert " ".join(record["dev_eui"].upper()[i:i + 4] for i in range(0, 16, 4)) in svg
    assert record["app_key"] not in svg.lower()
    # Rebuild the QR module matrix from the path and compare with what segno makes of the payload.
    expected = segno.make(qr_payload("lamp-0001", record["dev_eui"]), error="m").matrix
    path = re.search(r'<path class="qr"[^>]* d="([^"]+)"', svg).group(1)
    drawn = [[0] * len(expected[0]) for _ in expected]
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        for column in range(int(x), int(x) + int(width)):
            drawn[int(y)][column] = 1
    assert drawn == [list(row) for row in expected]
    # and an A4 sheet with every label of the run, for an office printer
    sheet = (workdir / "labels" / "sheet-001.svg").read_text()
    assert sheet.count('class="qr"') == 3 and path in sheet and not (workdir / "labels" / "sheet-002.svg").exists()


def test_label_sheets_hold_thirty_labels_a_page():
    from tingbro.control.labels import label_sheets

    pages = label_sheets([(f"d{n}", f"{n:016x}", "lifebuoy") for n in range(31)])
    assert [page.count('class="qr"') for page in pages] == [30, 1]
    assert 'translate(12 3.5)' in pages[0] and 'translate(136 264.5)' in pages[0]  # first and last cell


def test_csv_batch_then_rerun_is_idempotent_and_keeps_keys(cs, workdir):
    first = provision(cs, workdir, "--csv", str(workdir / "bins.csv"))
    assert first.returncode == 0, first.stderr
    assert "3 created" in first.stdout
    assert len(re.findall(r"^\[\d/3\] ", first.stderr, re.M)) == 3
    before = device_list(workdir)
    assert sorted(before) == ["bin-0001", "buoy-0001", "lamp-0001"]
    profiles = {p.name: p for p in cs.device_profiles.values()}
    assert profiles["tingbro-streetlight"].supports_class_c is True
    assert profiles["tingbro-streetlight"].class_c_timeout > 0
    assert profiles["tingbro-streetlight"].uplink_interval == 900
    assert profiles["tingbro-lifebuoy"].uplink_interval == 86400
    assert cs.devices[before["lamp-0001"]["dev_eui"]].device_profile_id == profiles["tingbro-streetlight"].id
    assert dict(cs.devices[before["bin-0001"]["dev_eui"]].tags)["tingbro_bin_full_mm"] == "150"
    assert "tingbro_bin_height_mm" not in cs.devices[before["buoy-0001"]["dev_eui"]].tags

    second = provision(cs, workdir, "--csv", str(workdir / "bins.csv"))
    assert second.returncode == 0, second.stderr
    assert "0 created, 3 updated" in second.stdout
    assert device_list(workdir) == before
    assert len(cs.devices) == 3 and len(cs.device_profiles) == 3
    assert len(cs.calls("DeviceService", "Create")) == 3  # no new creates on re-run
    assert len(cs.calls("DeviceService", "CreateKeys")) == 3
    assert len(cs.calls("DeviceProfileService", "Create")) == 3
    assert len(cs.calls("DeviceProfileService", "Update")) == 3
    for name, record in before.items():
        assert cs.keys[record["dev_eui"]].nwk_key == record["app_key"], name


def test_device_in_chirpstack_but_not_in_the_list_is_adopted_with_its_keys(cs, workdir):
    assert provision(cs, workdir, "--csv", str(workdir / "bins.csv")).returncode == 0
    before = device_list(workdir)
    (workdir / "devices.jsonl").unlink()
    again = provision(cs, workdir, "--csv", str(workdir / "bins.csv"))
    assert again.returncode == 0, again.stderr
    assert "3 adopted" in again.stdout
    assert {n: (r["dev_eui"], r["app_key"]) for n, r in device_list(workdir).items()} == \
        {n: (r["dev_eui"], r["app_key"]) for n, r in before.items()}


def test_listed_device_deleted_from_chirpstack_is_recreated_with_the_same_keys(cs, workdir):
    assert provision(cs, workdir, "--csv", str(workdir / "bins.csv")).returncode == 0
    before = device_list(workdir)
    dev_eui = before["bin-0001"]["dev_eui"]
    del cs.devices[dev_eui], cs.keys[dev_eui]
    assert provision(cs, workdir, "--csv", str(workdir / "bins.csv")).returncode == 0
    assert cs.keys[dev_eui].nwk_key == before["bin-0001"]["app_key"]
    assert cs.calls("DeviceService", "Create")[-1].device.dev_eui == dev_eui


def test_missing_codec_file_is_a_clear_error(cs, workdir):
    (workdir / "codecs" / "streetlight.js").unlink()
    result = provision(cs, workdir, "--csv", str(workdir / "bins.csv"))
    assert result.returncode == 2
    assert "streetlight.js not found" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unauthenticated_is_one_line_without_the_token(cs, workdir):
    result = provision(cs, workdir, "--csv", str(workdir / "bins.csv"), token="not-the-" + TOKEN)
    assert result.returncode == 2
    assert "API token" in result.stderr and TOKEN not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (workdir / "devices.jsonl").exists()


def test_missing_token_env(cs, workdir):
    result = provision(cs, workdir, "--csv", str(workdir / "bins.csv"), token="")
    assert result.returncode == 2 and "CHIRPSTACK_API_TOKEN" in result.stderr


def test_unavailable_chirpstack_is_retried(cs, workdir):
    cs.unavailable_calls = 2
    result = provision(cs, workdir, "--csv", str(workdir / "bins.csv"))
    assert result.returncode == 0, result.stderr
    assert len(cs.devices) == 3


@pytest.mark.parametrize(("row", "message"), [
    ("bin-9,fill_level,56.1,10.2,aarhus,,,", "line 2: column bin_height_mm is required"),
    ("bin-9,toaster,56.1,10.2,aarhus,,,", "line 2: unknown device type 'toaster'"),
    ("bin-9,lifebuoy,96.1,10.2,aarhus,,,", "line 2: lat=96.1 is out of range -90..90"),
    ("bin 9,lifebuoy,56.1,10.2,aarhus,,,", "line 2: name 'bin 9'"),
    ("bin-9,fill_level,56.1,10.2,aarhus,1000,500,600", "bin_full_distance_mm must be less than"),
])
def test_csv_errors_name_line_and_column(cs, workdir, row, message):
    (workdir / "bad.csv").write_text(CSV.splitlines()[0] + "\n" + row + "\n")
    result = provision(cs, workdir, "--csv", str(workdir / "bad.csv"))
    assert result.returncode == 2
    assert message in result.stderr
    assert cs.requests == []  # nothing sent before the whole inventory is valid


def test_profiles_get_the_real_js_codecs_which_encode_commands_like_tingbro_send(cs, tmp_path):
    """Default --codecs-dir (codecs/chirpstack of this checkout): the installed script, run in QuickJS,
    encodes a command to the same fPort and bytes that `tingbro send` enqueues."""
    import quickjs
    import tingcodec
    from tingbro.control.commands import build_command

    result = run_cli("provision", "--server", cs.target, "--tenant-id", cs.tenant_id, "--application-id", cs.app_id,
                     "--name", "lamp-7", "--type", "streetlight", "--lat", "56.1", "--lon", "10.2",
                     "--devices", str(tmp_path / "d.jsonl"), "--configs-dir", str(tmp_path / "c"),
                     "--labels-dir", str(tmp_path / "l"), env={"CHIRPSTACK_API_TOKEN": TOKEN}, timeout=60)
    assert result.returncode == 0, result.stderr
    (profile,) = cs.device_profiles.values()
    root = Path(__file__).resolve().parents[2]
    assert profile.payload_codec_script == (root / "codecs" / "chirpstack" / "streetlight.js").read_text()
    context = quickjs.Context()
    context.eval(profile.payload_codec_script)
    fields = {"level_pct": 40, "duration_s": 600, "fade_ms": 2000}
    data = json.dumps({"message": "set_level", "fields": fields})
    answer = json.loads(context.eval("JSON.stringify(encodeDownlink({data: " + data + ", variables: {}}))"))
    built = build_command("streetlight", "level", fields)
    assert answer["fPort"] == built["f_port"] == tingcodec.encode("streetlight", "set_level", fields)[0]
    assert bytes(answer["bytes"]).hex() == built["payload_hex"]


def test_rerun_keeps_tags_and_variables_added_in_chirpstack(cs, workdir):
    assert provision(cs, workdir, "--csv", str(workdir / "bins.csv")).returncode == 0
    dev_eui = device_list(workdir)["bin-0001"]["dev_eui"]
    cs.devices[dev_eui].tags["route"] = "north-3"
    cs.devices[dev_eui].variables["contract"] = "K-17"
    cs.devices[dev_eui].tags["tingbro_latitude"] = "0.0"  # ours wins on a managed tag
    assert provision(cs, workdir, "--csv", str(workdir / "bins.csv")).returncode == 0
    update = [r.device for r in cs.calls("DeviceService", "Update") if r.device.dev_eui == dev_eui][-1]
    assert update.tags["route"] == "north-3" and update.variables["contract"] == "K-17"
    assert update.tags["tingbro_latitude"] == "56.157200"
    assert update.application_id == cs.app_id and update.name == "bin-0001"


def test_dry_run_checks_and_sends_nothing(cs, workdir):
    result = provision(cs, workdir, "--csv", str(workdir / "bins.csv"), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "lamp-0001 streetlight -: new" in result.stdout and "3 devices checked" in result.stdout
    assert cs.requests == [] and not (workdir / "devices.jsonl").exists()
