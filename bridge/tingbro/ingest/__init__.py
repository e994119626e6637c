"""Ingest: where ChirpStack events enter the bridge (HTTP integration, MQTT integration) and are parsed."""
