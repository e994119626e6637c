# The one error type of the codec.


class CodecError(ValueError):
    """Malformed, unknown or out-of-range input to encode/decode (a ValueError)."""
