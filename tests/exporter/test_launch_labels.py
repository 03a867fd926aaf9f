"""The job identity labels ``launch`` and ``rank`` on every series, and the bounded
cardinality: rank 0 exports everything, the other ranks only their health series."""

from __future__ import annotations

import socket
import urllib.request
from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from nht_monitor.exporter import (
    SERIES,
    PrometheusSettings,
    RunLogDirectory,
    SnapshotCollector,
    start_exporter,
)
from nht_monitor.exporter.exposition import TextRenderer
from nht_monitor.exporter.metrics import HEALTH_SERIES, JOB_LABELS
from nht_monitor.live.launcher import LaunchIdentity
from nht_monitor.runlog.schema import LaunchInfo
from tests.exporter.snapshots import SnapshotSource, full_snapshot
from tests.exporter.training import watched_run
from tests.support.prometheus import free_port

SPECS = {spec.name: spec for spec in SERIES}




def scraped(text: str) -> list:
    """Every sample of a text exposition, as Prometheus parses it."""
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def collected(*snapshots, **kwargs) -> list:
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(lambda: snapshots, **kwargs))
    return scraped(generate_latest(registry).decode())


def with_launch(snapshot, **launch):
    """``snapshot`` whose header records the launch identity ``launch``."""
    return replace(snapshot, header=snapshot.header.model_copy(
        update={"launch": LaunchInfo(**launch)}))


def test_every_series_carries_exactly_run_launch_rank_and_its_own_labels():
    identity = LaunchIdentity("rdzv-42", "torchrun", 0, 0, 2)
    samples = collected(full_snapshot("run-a"), identity=identity)
    assert {s.name for s in samples} == set(SPECS)
    for sample in samples:
        assert set(sample.labels) == set(SPECS[sample.name].labels), sample.name
        assert (sample.labels["run"], sample.labels["launch"], sample.labels["rank"]) == \
            ("run-a", "rdzv-42", "0"), sample.name
    assert all(SPECS[name].labels[:3] == ("run", *JOB_LABELS) for name in SPECS)


def test_a_rank_other_than_0_exports_only_its_health_series():
    identity = LaunchIdentity("rdzv-42", "torchrun", 1, 1, 2)
    snapshot = full_snapshot("run-a", step=40)
    samples = collected(snapshot, identity=identity)
    assert {s.name for s in samples} == HEALTH_SERIES == {
        "nht_step", "nht_samples_total", "nht_errors_total",
        "nht_last_sample_timestamp_seconds", "nht_run_info"}
    values = {s.name: (s.labels, s.value) for s in samples}
    job = {"run": "run-a", "launch": "rdzv-42", "rank": "1"}
    assert values["nht_step"] == (job, 40.0)
    assert values["nht_samples_total"] == (job, 40.0)
    assert values["nht_errors_total"] == (job, 2.0)
    assert values["nht_last_sample_timestamp_seconds"] == (job, snapshot.last_sample_time)
    assert values["nht_run_info"] == ({**job, "source": "monitor", "model": "TinyNet",
                                       "head": "head"}, 1.0)


def test_without_an_identity_the_labels_come_from_each_runs_header():
    """The sidecar's case: one snapshot per log, each labelled by its own header."""
    rank0 = with_launch(full_snapshot("run-a"), launch="1234_5", source="slurm", rank=0)
    rank1 = with_launch(full_snapshot("run-a.rank1"), launch="1234_5", source="slurm",
                        rank=1)
    old = full_snapshot("old-log")  # written before the header had a launch
    old = replace(old, header=old.header.model_copy(update={"config": {"rank": 0}}))
    samples = collected(rank0, rank1, old, source="sidecar")
    job_of = {(s.labels["run"], s.labels["launch"], s.labels["rank"]) for s in samples}
    assert job_of == {("run-a", "1234_5", "0"), ("run-a.rank1", "1234_5", "1"),
                      ("old-log", "", "0")}
    names_of_rank1 = {s.name for s in samples if s.labels["run"] == "run-a.rank1"}
    assert names_of_rank1 == HEALTH_SERIES
    assert {s.name for s in samples if s.labels["run"] == "run-a"} == set(SPECS)


@pytest.mark.parametrize("config_rank, label", [(2, "2"), ("two", "0"), (True, "0"),
                                                (-1, "0")])
def test_a_header_rank_that_is_not_a_rank_is_exported_as_0(config_rank, label):
    snapshot = full_snapshot("run-a")
    snapshot = replace(snapshot, header=snapshot.header.model_copy(
        update={"config": {"rank": config_rank}}))
    assert {s.labels["rank"] for s in collected(snapshot)} == {label}


def test_label_values_are_escaped_and_the_fast_renderer_agrees():
    launch = 'exp "7" \\ night'
    registry = CollectorRegistry()
    identity = LaunchIdentity(launch, "explicit", 0, 0, 1)
    snapshot = full_snapshot("run-a")
    registry.register(SnapshotCollector(lambda: (snapshot,), identity=identity))
    fast = TextRenderer().render(registry.collect())
    assert fast == generate_latest(registry)
    assert b'launch="exp \\"7\\" \\\\ night"' in fast
    assert {s.labels["launch"] for s in scraped(fast.decode())} == {launch}


def scrape_url(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def free_pair() -> int:
    """A port ``p`` such that ``p`` and ``p + 1`` are free now."""
    for _ in range(50):
        base = free_port()
        if base < 65535:
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", base + 1))
                except OSError:
                    continue
            return base
    raise RuntimeError("no two consecutive free ports")


def test_watch_on_rank_1_serves_health_on_the_base_port_plus_local_rank(env, tmp_path):
    env(TORCHELASTIC_RUN_ID="rdzv-7", RANK="1", LOCAL_RANK="1", WORLD_SIZE="2")
    base = free_pair()
    monitor = watched_run(tmp_path, "ranked", steps=3, assess=False, close=False,
                          prometheus=PrometheusSettings(port=base, per_rank_health=True))
    try:
        assert monitor.prometheus_url == f"http://127.0.0.1:{base + 1}/metrics"
        samples = scraped(scrape_url(monitor.prometheus_url))
    finally:
        monitor.close()
    assert {s.name for s in samples} == HEALTH_SERIES
    assert {(s.labels["launch"], s.labels["rank"]) for s in samples} == {("rdzv-7", "1")}


def test_watch_on_rank_1_serves_nothing_without_per_rank_health(env, tmp_path):
    env(TORCHELASTIC_RUN_ID="rdzv-7", RANK="1", LOCAL_RANK="1", WORLD_SIZE="2")
    monitor = watched_run(tmp_path, "quiet", steps=2, assess=False,
                          prometheus=PrometheusSettings(port=0))
    assert monitor.prometheus_url is None


def test_a_base_port_beyond_the_range_fails_at_construction(env, tmp_path):
    env(RANK="3", LOCAL_RANK="3")
    with pytest.raises(ValueError, match="^Prometheus port 65534 \\+ local rank 3 = 65537"):
        watched_run(tmp_path, "too-high", steps=1, assess=False,
                    prometheus=PrometheusSettings(port=65534, per_rank_health=True))
    assert not (tmp_path / "too-high.jsonl").exists()


def test_only_rank_0_pushes_the_final_summary():
    port = free_port()  # nothing listens there: a push would fail
    settings = PrometheusSettings(port=0, pushgateway=f"127.0.0.1:{port}")
    source = SnapshotSource(full_snapshot("run-a"))
    handle = start_exporter(source, settings, identity=LaunchIdentity("l", "explicit", 1))
    handle.close()
    assert handle.push_error is None
    handle = start_exporter(source, settings, identity=LaunchIdentity("l", "explicit", 0))
    handle.close()
    assert isinstance(handle.push_error, OSError)


def test_the_sidecar_labels_a_log_with_the_launch_of_the_process_that_wrote_it(env, tmp_path):
    env(SLURM_ARRAY_JOB_ID="900", SLURM_ARRAY_TASK_ID="3", SLURM_JOB_ID="903",
        SLURM_PROCID="0", SLURM_LOCALID="0", SLURM_NTASKS="1")
    watched_run(tmp_path, "from-slurm", steps=3, assess=False)
    directory = RunLogDirectory(tmp_path, analyze=False)
    directory.poll()
    with start_exporter(directory, PrometheusSettings(port=0), source_kind="sidecar") as handle:
        samples = scraped(scrape_url(handle.url))
    assert {(s.labels["run"], s.labels["launch"], s.labels["rank"]) for s in samples} == \
        {("from-slurm", "900_3", "0")}
    assert "nht_layer_weight_norm" in {s.name for s in samples}
