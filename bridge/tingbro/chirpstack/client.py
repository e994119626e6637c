"""A small synchronous ChirpStack v4 gRPC client on `chirpstack-api` + `grpcio`.

Every call carries the API token as `authorization: Bearer <token>` metadata and a deadline.
UNAVAILABLE (server down, connection refused) is retried with exponential back-off; other errors
are translated once by `errors.translate`. The token is kept out of `repr`, logs and error text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import grpc
from chirpstack_api import api

from tingbro.chirpstack.errors import UnavailableError, translate

log = logging.getLogger("tingbro.chirpstack")

_STUBS = {
    "DeviceService": api.DeviceServiceStub,
    "DeviceProfileService": api.DeviceProfileServiceStub,
    "MulticastGroupService": api.MulticastGroupServiceStub,
    "ApplicationService": api.ApplicationServiceStub,
}


class ChirpStackClient:
    """`client.call("DeviceService", "Get", api.GetDeviceRequest(dev_eui=...))` -> the response message."""

    def __init__(
        self,
        target: str,
        token: str,
        *,
        tls: bool = False,
        root_certificates: bytes | None = None,
        timeout_s: float = 10.0,
        max_attempts: int = 4,
        backoff_s: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise ValueError("a ChirpStack API token is required")
        self.target = target
        self._token = token
        self._metadata = (("authorization", "Bearer " + token),)
        self.timeout_s = timeout_s
        self.max_attempts = max(1, max_attempts)
        self.backoff_s = backoff_s
        self._sleep = sleep
        if tls:
            credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self._channel = grpc.secure_channel(target, credentials)
        else:
            # ChirpStack itself serves plaintext h2c; TLS is terminated by a proxy in front (§5.1).
            self._channel = grpc.insecure_channel(target)
        self._stubs = {name: factory(self._channel) for name, factory in _STUBS.items()}

    def __repr__(self) -> str:  # never show the token
        return f"ChirpStackClient({self.target!r})"

    def call(self, service: str, method: str, request: Any, what: str = "") -> Any:
        """Invoke `service.method(request)`; `what` names the object for error messages."""
        rpc = getattr(self._stubs[service], method)
        operation = f"{service}.{method}" + (f" {what}" if what else "")
        delay_s = self.backoff_s
        for attempt in range(1, self.max_attempts + 1):
            try:
                return rpc(request, metadata=self._metadata, timeout=self.timeout_s)
            except grpc.RpcError as exc:
                error = translate(exc, operation, self._token)
                if not isinstance(error, UnavailableError) or exc.code() != grpc.StatusCode.UNAVAILABLE:
                    raise error from None
                if attempt == self.max_attempts:
                    raise UnavailableError(f"{error} after {attempt} attempts") from None
                log.warning("%s: ChirpStack unavailable, retry %d/%d in %.2f s", operation, attempt,
                            self.max_attempts - 1, delay_s)
                self._sleep(delay_s)
                delay_s = min(delay_s * 2, 5.0)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> ChirpStackClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
