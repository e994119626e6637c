# The AT-modem backend against modem emulators that print the exact response strings of
# firmware.md §4 (Seeed wiki/forum transcripts, RUI3 service_lora.c), through a scripted UART.
import mpytest
from at_emulators import GPS_2026_11_23, WioE5Emulator, rui3, wio
from tingfw.radio import at_parser
from tingfw.radio.at_modem import AtModemError, AtTimeout

DEV_EUI = "2C:F7:F1:20:24:90:03:63"
JOIN_EUI = "8000000000000007"
APP_KEY = "2B7E151628AED2A6ABF7158809CF4F3C"


# -- Wio-E5 ------------------------------------------------------------------
def test_wio_configure_sends_the_otaa_settings_through_noise():
    clock, modem, uart, link = wio(noise=True)
    link.configure(DEV_EUI, JOIN_EUI, APP_KEY)
    assert uart.commands == ["AT", "AT+MODE=LWOTAA", "AT+DR=EU868", "AT+CLASS=A", 'AT+ID=DevEui,"2CF7F12024900363"',
                             'AT+ID=AppEui,"8000000000000007"', 'AT+KEY=APPKEY,"%s"' % APP_KEY, "AT+ADR=ON"]
    assert link.ignored_lines >= 8


def test_wio_join_success_with_the_wiki_transcript():
    clock, modem, uart, link = wio(noise=True)
    assert link.joined is False
    assert link.join() is True and link.joined is True
    assert 6000 <= clock.ticks_ms() - 1000 < 7000, clock.ticks_ms()  # waited for the 6 s join, no longer


def test_wio_joined_already_settles_at_once():
    clock, modem, uart, link = wio(join="already")
    assert link.join() is True
    assert clock.ticks_ms() - 1000 < 100


def test_wio_join_attempts_until_one_succeeds():
    clock, modem, uart, link = wio(join="failed")
    real_join = modem._join
    outcomes = ["failed", "failed", "joined"]

    def scripted_join():
        modem.join = outcomes.pop(0)
        return real_join()

    modem._join = scripted_join
    assert link.join(attempts=2) is False and uart.commands.count("AT+JOIN") == 2
    assert link.join(attempts=2) is True and uart.commands.count("AT+JOIN") == 3


def test_wio_join_failure_returns_false():
    clock, modem, uart, link = wio(join="failed")
    assert link.join() is False and link.joined is False


def test_wio_join_failure_without_done_still_settles_at_the_timeout():
    clock, modem, uart, link = wio(join="failed-no-done")
    assert link.join() is False
    assert clock.ticks_ms() - 1000 >= 30000


def test_wio_silent_module_times_out_with_a_clear_error():
    clock, modem, uart, link = wio(join="silent")
    error = mpytest.raises(AtTimeout, link.join)
    assert "no answer from the module to AT+JOIN within 30000 ms" in str(error), str(error)


def test_wio_join_refused_when_not_in_otaa_mode():
    clock, modem, uart, link = wio(join="not-otaa")
    mpytest.raises(AtModemError, link.join)


def test_wio_unconfirmed_send():
    clock, modem, uart, link = wio(noise=True)
    link.join()
    result = link.send(2, b"\x01\x02\xab")
    assert uart.commands[-3:] == ["AT+PORT=2", 'AT+MSGHEX="0102AB"', "AT+LW=ULDL"], uart.commands
    assert result.acked is None and result.downlinks == [] and result.fcnt_up == 7 and result.fpending is False
    link.send(2, b"\x00")
    assert uart.commands.count("AT+PORT=2") == 1  # the port is set once, not per uplink


def test_wio_confirmed_with_ack_and_downlink_from_the_forum_transcript():
    clock, modem, uart, link = wio(downlink='PORT: 15; RX: "48656C6C6F"', noise=True)
    link.join()
    result = link.send(15, b"hi", confirmed=True)
    assert uart.commands[-2] == 'AT+CMSGHEX="6869"'
    assert result.acked is True and result.downlinks == [(15, b"Hello")] and result.fpending is True


def test_wio_downlink_hex_with_spaces_is_accepted():
    clock, modem, uart, link = wio(downlink='PORT: 3; RX: "01 02 FF"')
    link.join()
    assert link.send(3, b"x").downlinks == [(3, b"\x01\x02\xff")]


def test_wio_confirmed_without_ack():
    clock, modem, uart, link = wio(ack=False)
    link.join()
    result = link.send(2, b"x", confirmed=True)
    assert result.acked is False and result.downlinks == []


def test_wio_send_refusals_are_clear_errors():
    clock, modem, uart, link = wio()
    mpytest.raises(AtModemError, link.send, 2, b"x")  # never joined: refused before the UART
    assert uart.commands == []
    link.join()
    mpytest.raises(AtModemError, link.send, 0, b"x")
    modem.send_result = "length"
    error = mpytest.raises(AtModemError, link.send, 2, b"x" * 60)
    assert "payload too long" in str(error)
    modem.send_result = "not-joined"
    mpytest.raises(AtModemError, link.send, 2, b"x")
    assert link.joined is False  # the module lost its session: the app must join again


def test_wio_send_that_stops_after_start_times_out():
    clock, modem, uart, link = wio()
    link.join()
    modem.send_result = "silent-after-start"
    error = mpytest.raises(AtTimeout, link.send, 2, b"x")
    assert "AT+MSGHEX" in str(error)


def test_wio_a_late_done_does_not_end_the_next_command():
    clock, modem, uart, link = wio()
    link.join()
    uart.inject(0, "+MSGHEX: Done")  # left over from an earlier exchange
    uart.inject(0, '+MSG: PORT: 9; RX: "AA"')  # a Class C downlink printed meanwhile is kept
    result = link.send(2, b"x")
    assert uart.commands[-2] == 'AT+MSGHEX="78"' and result.downlinks == [(9, b"\xaa")]


def test_wio_a_done_arriving_after_the_next_command_is_ignored():
    clock, modem, uart, link = wio()
    link.join()
    link.send(2, b"\x00")  # sets the port: the next send is a single command
    uart.inject(1, "+CMSGHEX: Done")  # an earlier exchange's Done, late on the wire
    result = link.send(2, b"\x01", confirmed=True)  # the module answers with Start ... ACK ... Done
    assert result.acked is True, result.acked


def test_wio_class_c_poll_collects_async_downlinks():
    clock, modem, uart, link = wio()
    uart.inject(300, '+MSG: PORT: 4; RX: "0102"')
    uart.inject(400, '+MSGHEX: PORT: 5; RX: "zz"')  # corrupt hex: not a downlink, ignored
    assert link.poll(1000) == [(4, b"\x01\x02")]
    assert link.poll(0) == []
    assert link.network_time() is None


def test_wio_keys_never_reach_an_error_message():
    clock, modem, uart, link = wio()
    error = mpytest.raises(AtModemError, link.configure, DEV_EUI, JOIN_EUI, APP_KEY[:30])
    assert APP_KEY[:8] not in str(error)
    clock, modem, uart, link = wio()
    modem.respond = lambda cmd: [(5, "+AT: OK")] if cmd == "AT" else []  # goes silent after AT
    error = mpytest.raises(AtTimeout, link.configure, DEV_EUI, JOIN_EUI, APP_KEY)
    assert "AT+MODE" in str(error) and APP_KEY not in str(error)


def test_wio_key_error_from_the_module_names_the_command_only():
    clock, modem, uart, link = wio()
    modem.respond = lambda cmd: ([(5, "+KEY: ERROR(-1)")] if cmd.startswith("AT+KEY")
                                 else WioE5Emulator().respond(cmd))
    error = mpytest.raises(AtModemError, link.configure, DEV_EUI, JOIN_EUI, APP_KEY)
    assert str(error) == "module refused AT+KEY=APPKEY: ERROR(-1)", str(error)


def test_wio_line_noise_bytes_are_skipped():
    clock, modem, uart, link = wio()
    uart.inject(0, b"\xff\xfe\x80")
    assert link.join() is True


# -- RAK3172 / RUI3 ----------------------------------------------------------
def test_rui3_configure_and_join_through_noise():
    clock, modem, uart, link = rui3(noise=True)
    link.configure(DEV_EUI, JOIN_EUI, APP_KEY)
    assert uart.commands == ["AT+NJM=1", "AT+BAND=4", "AT+CLASS=A", "AT+DEVEUI=2CF7F12024900363",
                             "AT+APPEUI=8000000000000007", "AT+APPKEY=%s" % APP_KEY]
    assert link.join() is True and link.joined
    assert uart.commands[-1] == "AT+JOIN=1:0:8:1"


def test_rui3_join_failed_event():
    clock, modem, uart, link = rui3(join="rx-timeout")
    assert link.join() is False


def test_rui3_join_refused_and_join_silent():
    clock, modem, uart, link = rui3(join="error")
    mpytest.raises(AtModemError, link.join)
    clock, modem, uart, link = rui3(join="silent")
    error = mpytest.raises(AtTimeout, link.join)
    assert "AT+JOIN" in str(error)


def test_rui3_unconfirmed_send():
    clock, modem, uart, link = rui3(noise=True)
    link.join()
    result = link.send(2, b"\x12\x34")
    assert uart.commands[-2:] == ["AT+CFM=0", "AT+SEND=2:1234"]
    assert result.acked is None and result.downlinks == [] and result.fcnt_up == 0
    assert link.send(2, b"\x56").fcnt_up == 1


def test_rui3_confirmed_ack_with_a_downlink_printed_after_the_result():
    clock, modem, uart, link = rui3(rx_event="+EVT:RX_1:-70:8:UNICAST:2:1234")
    link.join()
    result = link.send(2, b"\x01", confirmed=True)
    assert uart.commands[-2] == "AT+CFM=1"
    assert result.acked is True and result.downlinks == [(2, b"\x12\x34")]
    link.send(2, b"\x02", confirmed=True)
    assert uart.commands.count("AT+CFM=1") == 1


def test_rui3_confirmed_failed_with_a_status_suffix():
    clock, modem, uart, link = rui3(ack=False)
    link.join()
    assert link.send(2, b"\x01", confirmed=True).acked is False


def test_rui3_errors():
    clock, modem, uart, link = rui3()
    link.joined = True  # the app believes it is joined, the module does not
    error = mpytest.raises(AtModemError, link.send, 2, b"x")
    assert "not joined" in str(error) and link.joined is False
    link.join()
    modem.send_result = "busy"
    assert "busy" in str(mpytest.raises(AtModemError, link.send, 2, b"x"))
    modem.send_result = "silent-after-ok"
    assert "AT+SEND" in str(mpytest.raises(AtTimeout, link.send, 2, b"x"))


def test_rui3_class_c_downlink_via_poll():
    clock, modem, uart, link = rui3()
    uart.inject(100, "+EVT:RX_C:-80:5:UNICAST:10:abcdef")
    assert link.poll(500) == [(10, b"\xab\xcd\xef")]


def test_rui3_appkey_error_hides_the_key():
    clock, modem, uart, link = rui3()
    error = mpytest.raises(AtModemError, link.configure, DEV_EUI, JOIN_EUI, APP_KEY + "00")
    assert APP_KEY[:8] not in str(error)



# -- network time (DeviceTimeReq through each module) -------------------------
def test_wio_network_time_rides_on_the_next_uplink():
    clock, modem, uart, link = wio(noise=True)
    link.join()
    assert link.network_time() is None
    link.request_device_time()
    link.send(2, b"\x01")
    assert uart.commands[-5:] == ["AT+PORT=2", "AT+LW=DTR", 'AT+MSGHEX="01"', "AT+LW=ULDL", "AT+RTC=FULL"]
    assert link.network_time() == GPS_2026_11_23
    clock.advance(90500)
    assert link.network_time() == GPS_2026_11_23 + 90  # advanced by the local clock
    link.send(2, b"\x02")
    assert "AT+LW=DTR" not in uart.commands[-3:]  # answered: not asked again


def test_wio_time_without_an_answer_is_asked_again():
    clock, modem, uart, link = wio()
    link.join()
    modem.time_answer = False
    link.request_device_time()
    link.send(2, b"\x01")
    assert "AT+RTC=FULL" not in uart.commands and link.network_time() is None
    modem.time_answer = True
    link.send(2, b"\x02")
    assert uart.commands.count("AT+LW=DTR") == 2 and link.network_time() == GPS_2026_11_23


def test_wio_rtc_garbage_unset_clock_and_silence_leave_no_time():
    for reply in ("+RTC: garbage", "+RTC: 2000-01-01 00:00:12+00:00, 630720013, 0", "+RTC: , , ", None):
        clock, modem, uart, link = wio()
        link.join()
        modem.rtc_reply = reply
        link.request_device_time()
        result = link.send(2, b"\x01")  # the uplink itself still succeeds
        assert result.fcnt_up == 7 and link.network_time() is None, reply


def test_wio_rtc_calendar_text_and_zone():
    assert at_parser.parse_wio_rtc(" 2026-11-23 11:56:58+00:00, %d, 3" % GPS_2026_11_23) == GPS_2026_11_23
    assert at_parser.parse_wio_rtc(" 2026-11-23 12:56:58+01:00") == GPS_2026_11_23
    assert at_parser.parse_wio_rtc(" 2026-11-23 06:56:58-05:00") == GPS_2026_11_23
    assert at_parser.parse_wio_rtc(" 2026-11-23 11:56:58.465") == GPS_2026_11_23
    assert at_parser.parse_wio_rtc(" 2026-13-23 11:56:58") is None
    assert at_parser.parse_wio_rtc("") is None


def test_rui3_network_time_from_timereq_and_ltime():
    clock, modem, uart, link = rui3(noise=True)
    link.join()
    link.request_device_time()
    link.send(2, b"\x01")
    assert uart.commands[-4:] == ["AT+CFM=0", "AT+TIMEREQ=1", "AT+SEND=2:01", "AT+LTIME=?"], uart.commands
    assert link.network_time() == GPS_2026_11_23
    link.send(2, b"\x02")
    assert uart.commands[-1] == "AT+SEND=2:02"


def test_rui3_time_event_spellings_and_failures():
    for event, expected in (("+EVT:TIMEREQ OK", GPS_2026_11_23), ("+EVT:TIMEREQ_FAILED", None), (None, None)):
        clock, modem, uart, link = rui3()
        link.join()
        modem.time_event = event
        link.request_device_time()
        link.send(2, b"\x01")
        assert link.network_time() == expected, event
        assert ("AT+LTIME=?" in uart.commands) == (expected is not None)


def test_rui3_ltime_garbage_and_silence_leave_no_time():
    for reply in ("LTIME:garbage", "LTIME:00h00m12s on 01/01/2000", "LTIME:25h00m00s on 23/11/2026", None):
        clock, modem, uart, link = rui3()
        link.join()
        modem.ltime = reply
        link.request_device_time()
        assert link.send(2, b"\x01").fcnt_up == 0  # the uplink still counts
        assert link.network_time() is None, reply


def test_rui3_ltime_formats():
    parse = at_parser.parse_rui3_ltime
    assert parse("LTIME:11h56m58s on 23/11/2026") == GPS_2026_11_23  # RAK3172 manual layout, day first
    assert parse("AT+LTIME=11h56m58s on 11/23/2026") == GPS_2026_11_23  # field report, month first
    assert parse("LTIME: 11h56m58s 2026-11-23") == GPS_2026_11_23  # RUI3 source comment
    assert parse("LTIME:00h00m00s on 02/01/2026") == parse("LTIME:00h00m00s on 2026-01-02")
    assert parse("LTIME:00h00m00s on 02/01/2026", day_first=False) == parse("LTIME:00h00m00s on 2026-02-01")
    assert parse("LTIME:02h46m12s on 22/10/2021") is None  # the manual's own example: before MIN_GPS_S
    assert parse("OK") is None and parse("LTIME:") is None


def test_rui3_fcnt_counts_the_modules_own_empty_uplinks():
    clock, modem, uart, link = rui3()
    assert link.join()
    assert link.send(2, b"\x01").fcnt_up == 0
    uart.inject(50, "+EVT:TX_DONE")  # RUI3's automatic empty uplink after a confirmed downlink
    link.poll(100)
    assert link.send(2, b"\x02").fcnt_up == 2
    clock, modem, uart, link = rui3()
    link.joined = True  # a session this link did not join: the counter is unknown
    modem.joined = True
    assert link.send(2, b"\x01").fcnt_up is None


mpytest.main(globals())
