"""The error types of the MAC. All are ValueErrors; messages never contain key material."""


class FrameError(ValueError):
    """A frame that cannot be parsed (too short, bad lengths, wrong type)."""


class MicError(FrameError):
    """A frame whose MIC does not verify (wrong key, tampered, or a replay at a wrong counter)."""


class ReplayError(FrameError):
    """A downlink whose frame counter is not above the last accepted one."""


class PayloadTooLarge(ValueError):
    """An application payload above the maximum for the current data rate; nothing was sent."""


class NotJoined(ValueError):
    """send() before a session exists."""
