"""Benchmark: how long ``/metrics`` takes for a 1,000-layer model (target <= 20 ms).

Measures, side by side on the same snapshot (1,000 layers with weight and grad norms,
a full assessment): the collector alone, ``prometheus_client.generate_latest`` on it,
the exporter's renderer (collect + render) and a full HTTP scrape of the server of
``start_exporter``, for each layer-cardinality mode. Prints medians in milliseconds and
the speed-up of the renderer over ``generate_latest``.

    python benchmarks/scrape.py [--layers 1000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import urllib.request
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, generate_latest

from nht_monitor.analysis.assessment import Assessment, CleanNormSeparation, HeadSignal, Transition
from nht_monitor.exporter.settings import PrometheusSettings
from nht_monitor.exporter import RunSnapshot, SnapshotCollector, start_exporter
from nht_monitor.exporter.exposition import TextRenderer
from nht_monitor.runlog.schema import ModelInfo, RunHeader, Sample


def snapshot_with(n_layers: int) -> RunSnapshot:
    layers = [f"blocks.{i // 4}.layer{i % 4}.weight" for i in range(n_layers - 1)] + ["head"]
    header = RunHeader(run_id="bench", started_at=datetime.now(timezone.utc),
                       model=ModelInfo(class_name="Deep", n_params=n_layers * 4096),
                       layers=layers, head="head")
    norms = {layer: 1.0 + (i % 97) / 7.0 for i, layer in enumerate(layers)}
    sample = Sample(step=1000, time=time.time(), tau=1.0, lr=1e-3, weight_decay=0.1,
                    norm=math.sqrt(sum(v * v for v in norms.values())), head_norm=1.0,
                    layer_norms=norms, grad_norm=0.1,
                    layer_grad_norms={layer: v / 100 for layer, v in norms.items()},
                    metrics={"train_loss": 0.1})
    assessment = Assessment(regime="intermediate", phase="transitioning",
                            transition=Transition(status="pending", forecast_step=5000,
                                                  interval=(4000, 6000), steps_remaining=4000),
                            head=HeadSignal(regime="intermediate", lead_steps=300),
                            cns=CleanNormSeparation(ratio=2.5, holds=True), decay_rate=0.3)
    return RunSnapshot("bench", header, sample, assessment, 1000, 0, sample.time)


def median_ms(function, repeat: int) -> float:
    function()  # warm the caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


class Source:
    def __init__(self, snapshot: RunSnapshot) -> None:
        self._snapshot = snapshot

    def snapshot(self) -> RunSnapshot:
        return self._snapshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    snapshot = snapshot_with(args.layers)
    print(f"/metrics for a {args.layers}-layer model (weight + grad norms), "
          f"median of {args.repeat}, ms")
    print(f"{'mode':8} {'series':>7} {'collect':>8} {'generate_latest':>16} "
          f"{'renderer':>9} {'HTTP scrape':>12} {'speed-up':>9}")
    for mode in ("all", "top", "modules"):
        registry = CollectorRegistry()
        collector = SnapshotCollector(lambda: (snapshot,), layers=mode, max_layers=200)
        registry.register(collector)
        renderer = TextRenderer()
        body = renderer.render(registry.collect())
        assert body == generate_latest(registry)
        n_series = sum(1 for line in body.splitlines() if not line.startswith(b"#"))
        collect = median_ms(lambda: list(collector.collect()), args.repeat)
        reference = median_ms(lambda: generate_latest(registry), args.repeat)
        fast = median_ms(lambda: renderer.render(registry.collect()), args.repeat)
        handle = start_exporter(Source(snapshot),
                                PrometheusSettings(port=0, layers=mode, max_layers=200))
        try:
            http = median_ms(lambda: urllib.request.urlopen(handle.url).read(), args.repeat)
        finally:
            handle.close()
        print(f"{mode:8} {n_series:7d} {collect:8.2f} {reference:16.2f} {fast:9.2f} "
              f"{http:12.2f} {reference / fast:8.1f}x")


if __name__ == "__main__":
    main()
