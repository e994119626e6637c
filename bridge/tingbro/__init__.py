"""Tingbro: LoRaWAN sensors on municipal assets. This package is the bridge and the `tingbro` CLI."""

__version__ = "0.1.0"
