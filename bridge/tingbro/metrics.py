"""Prometheus metrics, kept in memory and rendered as the text exposition format for `/metrics`."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    inner = ",".join('{}="{}"'.format(key, value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " "))
                     for key, value in pairs)
    return "{" + inner + "}"


class Metrics:
    def __init__(self) -> None:
        self.counters: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(lambda: defaultdict(float))
        self.help: dict[str, str] = {}
        self.gauges: dict[str, Callable[[], dict[tuple[tuple[str, str], ...], float]]] = {}
        self.latency_counts: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = defaultdict(float)
        for name, text in (
            ("tingbro_events_in_total", "ChirpStack events received, by ingest and event type"),
            ("tingbro_ingest_rejected_total", "ingested bodies rejected (4xx) or dead-lettered at ingest"),
            ("tingbro_events_stored_total", "normalized events committed to the outbox"),
            ("tingbro_events_absorbed_total", "events dropped as repeats of an idempotency key already stored"),
            ("tingbro_sink_events_out_total", "events delivered, per sink"),
            ("tingbro_sink_events_failed_total", "events in failed delivery attempts (retried), per sink"),
            ("tingbro_dead_lettered_total", "events dead-lettered, per stage and sink"),
        ):
            self.help[name] = text

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        self.counters[name][tuple(sorted(labels.items()))] += amount

    def series(self, name: str, **labels: str) -> tuple[dict[tuple[tuple[str, str], ...], float], tuple[Any, ...]]:
        """A counter's (series, key) for hot paths: `series[key] += n` is `inc(name, n, **labels)`."""
        key = tuple(sorted(labels.items()))
        series = self.counters[name]
        series.setdefault(key, 0.0)
        return series, key

    def value(self, name: str, **labels: str) -> float:
        return self.counters[name].get(tuple(sorted(labels.items())), 0.0)

    def gauge(self, name: str, text: str, read: Callable[[], dict[tuple[tuple[str, str], ...], float]]) -> None:
        self.help[name] = text
        self.gauges[name] = read

    def observe_latencies(self, sink: str, seconds: Iterable[float]) -> None:
        """Add delivery latencies to a sink's histogram (one call per delivered batch)."""
        counts = self.latency_counts.get(sink)
        if counts is None:
            counts = self.latency_counts[sink] = [0] * (len(LATENCY_BUCKETS_S) + 1)
        total = 0.0
        for value in seconds:
            counts[bisect_left(LATENCY_BUCKETS_S, value)] += 1  # the first bound >= value, else +Inf
            total += value
        self.latency_sum[sink] += total

    def render(self) -> str:
        lines: list[str] = []
        for name, series in sorted(self.counters.items()):
            lines += [f"# HELP {name} {self.help.get(name, name)}", f"# TYPE {name} counter"]
            lines += [f"{name}{_labels(labels)} {value:g}" for labels, value in sorted(series.items())]
        for name, read in sorted(self.gauges.items()):
            lines += [f"# HELP {name} {self.help[name]}", f"# TYPE {name} gauge"]
            lines += [f"{name}{_labels(labels)} {value:g}" for labels, value in sorted(read().items())]
        name = "tingbro_delivery_latency_seconds"
        lines += [f"# HELP {name} time from ingest to sink delivery", f"# TYPE {name} histogram"]
        for sink, counts in sorted(self.latency_counts.items()):
            running = 0
            for bound, count in zip((*LATENCY_BUCKETS_S, float("inf")), counts, strict=True):
                running += count
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                lines.append(f"{name}_bucket{_labels((('le', le), ('sink', sink)))} {running}")
            lines.append(f"{name}_sum{_labels((('sink', sink),))} {self.latency_sum[sink]:g}")
            lines.append(f"{name}_count{_labels((('sink', sink),))} {running}")
        return "\n".join(lines) + "\n"
