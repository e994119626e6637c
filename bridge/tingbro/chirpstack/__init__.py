"""ChirpStack v4 gRPC access for the control plane (provisioning, commands). See README.md here."""

from tingbro.chirpstack.client import ChirpStackClient
from tingbro.chirpstack.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ChirpStackError,
    InvalidArgumentError,
    NotFoundError,
    UnavailableError,
)

__all__ = [
    "AlreadyExistsError", "AuthenticationError", "ChirpStackClient", "ChirpStackError",
    "InvalidArgumentError", "NotFoundError", "UnavailableError",
]
