# Tingbro: `make setup` then `make test`. See README.md.
# The venv's interpreter: Debian's python3 (3.11+) when there is one. It is built with PGO and LTO; a pyenv or
# source build without --enable-optimizations ran the bridge ~40 % slower (bridge/README.md, Performance).
# `make setup PYTHON=python3.12` picks another.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
            && echo /usr/bin/python3 || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup setup-debian setup-python setup-node test lint lint-firmware bench demo clean codecs jscodecs firmware flash

setup: setup-debian setup-python setup-node
	@echo "setup done: now run 'make test'"

# Debian packages the tests need: a real MQTT broker.
setup-debian:
	@if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then \
	  echo "installing Debian packages: mosquitto"; \
	  $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q mosquitto; \
	fi
	@# The packaged broker service is not wanted: tests start their own on a free loopback port.
	@-$(SUDO) systemctl disable --now mosquitto >/dev/null 2>&1 || true
	@# PostgreSQL server binaries for the SQL sink tests (each test starts its own cluster on loopback).
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing Debian packages: postgresql"; \
	  $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; \
	fi
	@-$(SUDO) systemctl disable --now postgresql >/dev/null 2>&1 || true
	@# Debian's python3 makes venvs only with python3-venv (ensurepip).
	@if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then \
	  echo "installing Debian packages: python3-venv"; \
	  $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; \
	fi

setup-python:
	@test -x $(BIN)/python || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,postgres]'

setup-node:
	npm ci --no-audit --no-fund --loglevel=error

test:
	$(BIN)/python -m pytest -q

lint: lint-firmware
	$(BIN)/ruff check bridge codecs firmware tests bench
	$(BIN)/ruff format --check bridge codecs tests bench || true

# mypy over the device bundle against the MicroPython stubs of each port (esp32, rp2).
lint-firmware:
	$(BIN)/python firmware/tools/typecheck.py

# The device bundle: tingcodec + lorawan + tingfw compiled with mpy-cross into build/firmware/.
firmware:
	$(BIN)/python firmware/tools/bundle.py

# Install the bundle and a device config on a board over USB:
#   make flash PORT=/dev/ttyUSB0 CONFIG=bin-0042.json [DEVICE=fill_level] [DRY_RUN=1]
flash: firmware
	@test -n "$(PORT)" || { echo "make flash: set PORT=/dev/ttyUSB0 (the board's serial port)"; exit 2; }
	@test -n "$(CONFIG)" || { echo "make flash: set CONFIG=path/to/device.json"; exit 2; }
	$(BIN)/python firmware/tools/flash.py --port "$(PORT)" --config "$(CONFIG)" $(if $(DEVICE),--device "$(DEVICE)") $(if $(DRY_RUN),--dry-run)

bench:
	$(BIN)/python -m bench

# Regenerate what is derived from the message catalogue (tests fail while it is stale).
# Regenerate everything derived from the message catalogue: vectors, the README table, the JS codecs.
codecs: jscodecs
	$(BIN)/python codecs/gen_vectors.py
	$(BIN)/python codecs/gen_readme.py

# Regenerate the ChirpStack/TTN JS codecs from the message catalogue (tests fail when they are stale).
jscodecs:
	PYTHONPATH=codecs $(BIN)/python -m jscodegen

demo:
	PYTHONPATH=bridge:codecs:firmware $(BIN)/python -m tingbro demo $(DEMO_ARGS)

clean:
	rm -rf build .pytest_cache .ruff_cache .mypy_cache
