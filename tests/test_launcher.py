"""The launch identity: read from the launchers' environment variables, overridden by
explicit settings and the process group, validated at construction."""

from __future__ import annotations

import pytest
import torch

import nht_monitor
from nht_monitor.exporter.settings import PrometheusSettings
from nht_monitor.live.launcher import LaunchIdentity
from nht_monitor.runlog.schema import LaunchInfo
from tests.conftest import TinyNet



def test_no_launcher_gives_an_empty_launch_and_rank_0(env):
    assert LaunchIdentity.from_env() == LaunchIdentity("", "", 0, None, 1)


def test_torchrun_variables(env):
    env(TORCHELASTIC_RUN_ID="3f2a-run", RANK="3", LOCAL_RANK="1", WORLD_SIZE="4")
    assert LaunchIdentity.from_env() == LaunchIdentity("3f2a-run", "torchrun", 3, 1, 4)


def test_torchrun_placeholder_id_falls_back_to_slurm(env):
    env(TORCHELASTIC_RUN_ID="none", SLURM_JOB_ID="77", RANK="0")
    identity = LaunchIdentity.from_env()
    assert (identity.launch, identity.source) == ("77", "slurm")


def test_slurm_array_task_and_slurm_ranks(env):
    env(SLURM_JOB_ID="107", SLURM_ARRAY_JOB_ID="100", SLURM_ARRAY_TASK_ID="7",
        SLURM_PROCID="5", SLURM_LOCALID="1", SLURM_NTASKS="8")
    assert LaunchIdentity.from_env() == LaunchIdentity("100_7", "slurm", 5, 1, 8)


def test_plain_slurm_job_and_torchrun_ranks_over_slurm_ones(env):
    env(SLURM_JOB_ID="4242", SLURM_PROCID="0", RANK="2", LOCAL_RANK="0", WORLD_SIZE="4")
    assert LaunchIdentity.from_env() == LaunchIdentity("4242", "slurm", 2, 0, 4)


def test_explicit_environment_mapping_is_read_instead_of_os_environ(env):
    env(TORCHELASTIC_RUN_ID="ignored")
    identity = LaunchIdentity.from_env({"SLURM_JOB_ID": "9", "RANK": "1"})
    assert (identity.launch, identity.rank, identity.world_size) == ("9", 1, 2)


@pytest.mark.parametrize("variable, value", [("RANK", "one"), ("LOCAL_RANK", "-1"),
                                             ("SLURM_PROCID", "1.5")])
def test_a_malformed_rank_variable_is_a_one_line_error_naming_it(env, variable, value):
    env(**{variable: value})
    with pytest.raises(ValueError, match=f"^environment variable {variable}=") as info:
        LaunchIdentity.from_env()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", ["bad\nid", "x" * 129])
def test_a_malformed_launch_variable_is_an_error_naming_it(env, value):
    env(TORCHELASTIC_RUN_ID=value)
    with pytest.raises(ValueError, match="^TORCHELASTIC_RUN_ID .* must be 1-128 printable"):
        LaunchIdentity.from_env()


def test_explicit_values_beat_the_process_group_which_beats_the_environment(env):
    env(TORCHELASTIC_RUN_ID="from-env", RANK="1", LOCAL_RANK="1")
    identity = LaunchIdentity.from_env()
    grouped = identity.overridden(group_rank=3, group_world_size=4)
    assert (grouped.launch, grouped.source, grouped.rank, grouped.local_rank,
            grouped.world_size) == ("from-env", "torchrun", 3, 1, 4)
    explicit = identity.overridden(launch="exp-12", rank=0, group_rank=3, group_world_size=4)
    assert (explicit.launch, explicit.source, explicit.rank) == ("exp-12", "explicit", 0)
    assert identity.overridden() == identity


def test_ports_are_the_base_plus_the_local_rank(env):
    assert LaunchIdentity(rank=5, local_rank=1).exporter_port(9464) == 9465
    assert LaunchIdentity(rank=5).exporter_port(9464) == 9469  # no local rank: the global
    assert LaunchIdentity(rank=5, local_rank=1).exporter_port(0) == 0  # free ports
    with pytest.raises(ValueError, match="^Prometheus port 65535 \\+ local rank 1 = 65536"):
        LaunchIdentity(rank=1, local_rank=1).exporter_port(65535)


def test_header_form_round_trips_through_the_schema():
    identity = LaunchIdentity("3f2a", "torchrun", 1, 1, 2)
    assert LaunchInfo(**identity.to_header()).model_dump() == identity.to_header()


@pytest.mark.parametrize("options, message", [
    ({"launch": ""}, "launch '' must be 1-128 printable characters"),
    ({"launch": "a\tb"}, "must be 1-128 printable characters"),
    ({"rank": -1}, "rank"),
])
def test_bad_explicit_settings_fail_at_construction(options, message):
    with pytest.raises(ValueError, match=message):
        PrometheusSettings(**options)


def test_rank0_only_false_is_per_rank_health():
    assert PrometheusSettings(rank0_only=False).per_rank_health is True
    assert PrometheusSettings().per_rank_health is False


def test_watch_records_the_identity_in_the_header(env, tmp_path):
    env(TORCHELASTIC_RUN_ID="rdzv-5", LOCAL_RANK="0", WORLD_SIZE="1", RANK="0")
    model = TinyNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.1)
    monitor = nht_monitor.watch(model, optimizer, log_dir=tmp_path, run_id="ident")
    monitor.close()
    header = nht_monitor.read_run(monitor.log_path).header
    assert header.launch.model_dump() == {"launch": "rdzv-5", "source": "torchrun", "rank": 0,
                                          "local_rank": 0, "world_size": 1}


def test_watch_with_a_malformed_launcher_variable_fails_before_training(env, tmp_path):
    env(RANK="zero")
    model = TinyNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="^environment variable RANK='zero'"):
        nht_monitor.watch(model, optimizer, log_dir=tmp_path, run_id="bad-rank")
    assert not (tmp_path / "bad-rank.jsonl").exists()


def test_watch_explicit_launch_wins_and_is_recorded(env, tmp_path):
    env(SLURM_JOB_ID="555")
    model = TinyNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = nht_monitor.watch(model, optimizer, log_dir=tmp_path, run_id="explicit",
                                prometheus={"port": 0, "launch": "exp-7"})
    try:
        assert monitor.launch_identity.launch == "exp-7"
        assert monitor.header.launch.source == "explicit"
    finally:
        monitor.close()
