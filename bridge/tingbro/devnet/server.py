"""devnet as one object: registry + network server + GWMP/UDP + gRPC + event publishers, on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tingbro.devnet import grpc_api
from tingbro.devnet.lns import NetworkServer
from tingbro.devnet.publish import Publisher
from tingbro.devnet.registry import TENANT_ID, Registry
from tingbro.devnet.udp import GwmpServer


class Devnet:
    def __init__(self, api_token: str, devices: Path | None = None, udp_port: int = 0, grpc_port: int = 0,
                 http_url: str | None = None, http_headers: dict[str, str] | None = None,
                 mqtt_host: str | None = None, mqtt_port: int = 1883) -> None:
        self.registry = Registry()
        if devices is not None:
            self.registry.load_device_list(devices)
        self.publisher = Publisher(http_url, http_headers, mqtt_host, mqtt_port, self.registry.application.id)
        self.udp = GwmpServer("127.0.0.1", udp_port)
        self.network = NetworkServer(self.registry, self.udp.transmit, self.publisher.emit)
        self.udp.network = self.network
        self.udp.start()
        self.grpc, self.grpc_port = grpc_api.serve(self.registry, self.network, api_token, grpc_port)

    @property
    def udp_port(self) -> int:
        return self.udp.port

    def info(self) -> dict[str, Any]:
        """What a client needs (no secrets): ports and the ids provisioning asks for."""
        return {"udp_port": self.udp_port, "grpc_port": self.grpc_port, "tenant_id": TENANT_ID,
                "application_id": self.registry.application.id}

    def stats(self) -> dict[str, Any]:
        return {**self.network.counts, **self.publisher.counts, "devices": len(self.registry.devices),
                "sessions": sum(1 for d in self.registry.devices.values() if d.session is not None)}

    def close(self) -> None:
        self.grpc.stop(grace=0.5).wait(3)
        self.udp.stop()
        self.publisher.close()

    def __enter__(self) -> Devnet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
