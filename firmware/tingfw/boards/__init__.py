"""Board pin maps, as data. A config names its board; `pins` in the config override single roles.

radio: the LoRa chip and how it is wired ("sx1262"/"sx1276" on SPI for the own MAC, "at_wio_e5"
on a UART for the AT backend). The sensor pins are Tingbro's default wiring on each board
(chosen from pins that are free, RTC/wake-capable where a wake is needed); firmware/README.md
has the wiring tables. wdt_max_ms is the longest watchdog the MCU allows.
"""

BOARDS = {  # type: dict[str, dict]
    "heltec_wifi_lora32_v3": {
        "mcu": "esp32s3",
        "radio": {"chip": "sx1262", "spi": 1, "sck": 9, "mosi": 10, "miso": 11, "cs": 8,
                  "reset": 12, "busy": 13, "dio1": 14, "tcxo_mv": 1800},
        "wdt_max_ms": 30000,
        "rtc_memory": True,
        # Vext (GPIO36, active low) powers external sensors; battery sense is enabled by GPIO37.
        "sensor_power_active": 0,
        "battery": {"r_top_kohm": 390, "r_bottom_kohm": 100, "enable": 37, "enable_active": 1},
        "pins": {"led": 35, "sensor_power": 36, "battery_adc": 1, "sensor_uart_tx": 6, "sensor_uart_rx": 5,
                 "sensor_trigger": 6, "sensor_echo": 5, "ntc_adc": 2, "tilt_switch": 4, "accel_sda": 41,
                 "accel_scl": 42, "presence": 7, "tamper": 3, "pir": 7, "dim_pwm": 48, "relay": 47,
                 "cf_pulse": 26},
        "wake_pins": (7, 4, 3),
    },
    "ttgo_lora32_v21": {
        "mcu": "esp32",
        "radio": {"chip": "sx1276", "spi": 1, "sck": 5, "mosi": 27, "miso": 19, "cs": 18,
                  "reset": 23, "dio0": 26, "dio1": 33},
        "wdt_max_ms": 30000,
        "rtc_memory": True,
        "battery": {"r_top_kohm": 100, "r_bottom_kohm": 100},
        "pins": {"led": 25, "battery_adc": 35, "sensor_uart_tx": 13, "sensor_uart_rx": 34,
                 "sensor_trigger": 13, "sensor_echo": 34, "sensor_power": 12, "ntc_adc": 36, "tilt_switch": 39,
                 "accel_sda": 21, "accel_scl": 22, "presence": 4, "tamper": 15, "pir": 4, "dim_pwm": 2,
                 "relay": 14, "cf_pulse": 0},
        "wake_pins": (4, 15, 39),
    },
    "lilygo_tbeam_v1": {
        "mcu": "esp32",
        "radio": {"chip": "sx1276", "spi": 1, "sck": 5, "mosi": 27, "miso": 19, "cs": 18,
                  "reset": 23, "dio0": 26, "dio1": 33},
        "wdt_max_ms": 30000,
        "rtc_memory": True,
        # Battery is measured by the AXP192 PMU (I2C 21/22), not a divider: wire a divider to GPIO35
        # (100k/100k) for Tingbro's battery reading.
        "battery": {"r_top_kohm": 100, "r_bottom_kohm": 100},
        "pins": {"led": 4, "battery_adc": 35, "sensor_uart_tx": 13, "sensor_uart_rx": 14,
                 "sensor_trigger": 13, "sensor_echo": 14, "sensor_power": 25, "ntc_adc": 36, "tilt_switch": 39,
                 "accel_sda": 21, "accel_scl": 22, "presence": 2, "tamper": 15, "pir": 2, "dim_pwm": 0,
                 "relay": 32, "cf_pulse": 37},
        "wake_pins": (2, 15, 39),
    },
    "pico_waveshare_sx1262": {
        "mcu": "rp2040",
        "radio": {"chip": "sx1262", "spi": 1, "sck": 10, "mosi": 11, "miso": 12, "cs": 3,
                  "reset": 15, "busy": 2, "dio1": 20},
        # RP2040: the watchdog cannot exceed 8388 ms, so it is fed inside every receive wait.
        "wdt_max_ms": 8300,
        "rtc_memory": False,
        # VSYS/3 on ADC3 (GPIO29).
        "battery": {"r_top_kohm": 200, "r_bottom_kohm": 100},
        "pins": {"led": 25, "battery_adc": 29, "sensor_uart_tx": 4, "sensor_uart_rx": 5,
                 "sensor_trigger": 6, "sensor_echo": 7, "sensor_power": 22, "ntc_adc": 26, "tilt_switch": 8,
                 "accel_sda": 16, "accel_scl": 17, "presence": 9, "tamper": 13, "pir": 9, "dim_pwm": 14,
                 "relay": 18, "cf_pulse": 19},
        "wake_pins": (9, 13, 8),
    },
    "xiao_esp32c3_wio_e5": {
        "mcu": "esp32c3",
        # The Wio-E5 runs the LoRaWAN MAC itself; we talk AT commands at 9600 8N1 (XIAO D6/D7).
        "radio": {"chip": "at_wio_e5", "uart": 1, "tx": 21, "rx": 20, "baud": 9600},
        "wdt_max_ms": 30000,
        "rtc_memory": True,
        "battery": {"r_top_kohm": 100, "r_bottom_kohm": 100},
        # ESP32-C3 wakes from deep sleep on GPIO0..5 only: presence/tamper/tilt live there.
        "pins": {"led": None, "battery_adc": 2, "sensor_uart_tx": 7, "sensor_uart_rx": 6,
                 "sensor_trigger": 7, "sensor_echo": 6, "sensor_power": 10, "ntc_adc": 4, "tilt_switch": 5,
                 "accel_sda": 8, "accel_scl": 9, "presence": 3, "tamper": 5, "pir": 3, "dim_pwm": 10,
                 "relay": 8, "cf_pulse": 4},
        "wake_pins": (3, 5, 4),
    },
}

ALIASES = {"heltec_v3": "heltec_wifi_lora32_v3", "ttgo_lora32": "ttgo_lora32_v21", "tbeam": "lilygo_tbeam_v1",
           "pico_sx1262": "pico_waveshare_sx1262", "xiao_wio_e5": "xiao_esp32c3_wio_e5"}


def board_names():
    return tuple(BOARDS) + tuple(ALIASES)


def pin_map(board_name, overrides=None):
    """The board's pins with the config's overrides applied (a new dict)."""
    board = BOARDS[ALIASES.get(board_name, board_name)]
    pins = dict(board["pins"])
    if overrides:
        for role in overrides:
            pins[role] = overrides[role]
    return pins


def get(board_name):
    return BOARDS[ALIASES.get(board_name, board_name)]
