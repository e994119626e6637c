"""devnet as one object: registry + network server + GWMP/UDP + gRPC + event publishers, on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tingbro.devnet import grpc_api, persist
from tingbro.devnet.lns import AES, NetworkServer
from tingbro.devnet.publish import Publisher
from tingbro.devnet.registry import TENANT_ID, Registry
from tingbro.devnet.udp import GwmpServer


class Devnet:
    def __init__(self, api_token: str, devices: Path | None = None, udp_port: int = 0, grpc_port: int = 0,
                 http_url: str | None = None, http_headers: dict[str, str] | None = None,
                 mqtt_host: str | None = None, mqtt_port: int = 1883, dev_status_interval_s: float | None = None,
                 state_dir: Path | None = None) -> None:
        self.registry = Registry()
        self.saver: persist.StateSaver | None = None
        self.restored_sessions = 0
        if state_dir is not None:  # first what the last run knew, then the device list on top
            state_dir.mkdir(parents=True, exist_ok=True)
            path = state_dir / persist.FILE_NAME
            state = persist.read(path)
            if state is not None:
                self.restored_sessions = persist.restore(self.registry, state, AES)
            self.saver = persist.StateSaver(self.registry, path)
        if devices is not None:
            self.registry.load_device_list(devices)
        self.publisher = Publisher(http_url, http_headers, mqtt_host, mqtt_port, self.registry.application.id)
        self.udp = GwmpServer("127.0.0.1", udp_port)
        self.network = NetworkServer(self.registry, self.udp.transmit, self.publisher.emit, dev_status_interval_s,
                                     self.saver.save_now if self.saver is not None else None)
        self.udp.network = self.network
        self.udp.start()
        self.grpc, self.grpc_port = grpc_api.serve(self.registry, self.network, api_token, grpc_port)
        if self.saver is not None:
            self.saver.start()

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
        if self.saver is not None:
            self.saver.stop()
        self.publisher.close()

    def __enter__(self) -> Devnet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
