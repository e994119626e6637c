"""ChirpStack gRPC errors, translated into messages an operator can act on.

ChirpStack labels some failures misleadingly (reference chirpstack.md §5.1): a duplicate DevEUI comes
back as INTERNAL with the database's unique-violation text, malformed hex EUIs/keys as INTERNAL
("Odd number of digits"), and permission problems as UNAUTHENTICATED. `translate` maps them to one
exception type per cause. The API token never appears in the text: `scrub` removes it from anything
the server echoes back.
"""

from __future__ import annotations

import grpc


class ChirpStackError(Exception):
    """A ChirpStack API call failed; `str()` is one line for the user, free of secrets."""

    code_name = "UNKNOWN"


class NotFoundError(ChirpStackError):
    code_name = "NOT_FOUND"


class AlreadyExistsError(ChirpStackError):
    code_name = "ALREADY_EXISTS"


class AuthenticationError(ChirpStackError):
    code_name = "UNAUTHENTICATED"


class UnavailableError(ChirpStackError):
    code_name = "UNAVAILABLE"


class InvalidArgumentError(ChirpStackError):
    code_name = "INVALID_ARGUMENT"


_DUPLICATE_MARKERS = ("duplicate key", "unique constraint", "already exists", "unique_violation")
_BAD_HEX_MARKERS = ("odd number of digits", "invalid character", "invalid string length", "invalid length")


def scrub(text: str, secret: str | None) -> str:
    """Remove `secret` (the API token) from `text`."""
    if secret:
        text = text.replace(secret, "<token>")
    return text


def translate(error: grpc.RpcError, operation: str, secret: str | None = None) -> ChirpStackError:
    """Turn a grpc error of `operation` (e.g. "DeviceService.Create 0102...") into a clear ChirpStackError."""
    code = error.code() if hasattr(error, "code") else None
    detail = scrub(str(error.details() if hasattr(error, "details") else error) or "", secret)
    lowered = detail.lower()
    if code == grpc.StatusCode.ALREADY_EXISTS or (
        code == grpc.StatusCode.INTERNAL and any(m in lowered for m in _DUPLICATE_MARKERS)
    ):
        return AlreadyExistsError(f"{operation}: already exists in ChirpStack")
    if code == grpc.StatusCode.INTERNAL and any(m in lowered for m in _BAD_HEX_MARKERS):
        return InvalidArgumentError(f"{operation}: ChirpStack rejected a malformed hex EUI or key ({detail})")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return AuthenticationError(
            f"{operation}: ChirpStack refused the API token (missing, invalid, read-only, or without "
            "permission for this tenant/application; ChirpStack reports all of these as UNAUTHENTICATED)"
        )
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return AuthenticationError(f"{operation}: permission denied by ChirpStack")
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFoundError(f"{operation}: not found in ChirpStack")
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgumentError(f"{operation}: ChirpStack rejected the request: {detail}")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return UnavailableError(f"{operation}: ChirpStack is unreachable or did not answer in time ({code.name})")
    name = code.name if code is not None else "UNKNOWN"
    return ChirpStackError(f"{operation}: ChirpStack error {name}: {detail}")
