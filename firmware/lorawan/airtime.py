# Host-only alias kept for code written before the move: the time-on-air formula is loraphy.airtime.
from loraphy.airtime import *  # noqa: F403
