"""Issue 17: a crafted run-log header gets one clear line on stderr and exit code 2 from
the CLI, naming what is wrong (not a pydantic dump, not a wrong diagnosis)."""

from __future__ import annotations

import json

import pytest

from nht_monitor.cli import main

HEADER = {"schema": "nht-monitor/run-log", "version": 1, "run_id": "crafted",
          "started_at": "2026-01-01T00:00:00Z", "model": {"class_name": "M", "n_params": 3},
          "layers": ["a"], "config": {}}
SAMPLE = {"step": 1, "tau": 0.1, "lr": 0.1, "weight_decay": 1.0, "norm": 1.0,
          "layer_norms": {"a": 1.0}}


def crafted(tmp_path, **header) -> str:
    path = tmp_path / "crafted.jsonl"
    path.write_text(json.dumps({**HEADER, **header}) + "\n" + json.dumps(SAMPLE) + "\n")
    return str(path)


def one_error_line(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"nht-monitor {argv[0]}: error: ")
    assert "Traceback" not in captured.out + captured.err
    return lines[0]


@pytest.mark.parametrize("command", ["show", "analyze"])
@pytest.mark.parametrize("version", ["1", True, 0, -3, None, 1.0])
def test_a_version_that_is_not_a_version_number_is_not_called_newer(
        tmp_path, capsys, command, version):
    line = one_error_line(capsys, [command, crafted(tmp_path, version=version)])
    assert "newer" not in line and "upgrade" not in line
    assert f"version {version!r} is not a run-log version" in line


@pytest.mark.parametrize("command", ["show", "analyze"])
def test_a_newer_version_still_says_upgrade(tmp_path, capsys, command):
    line = one_error_line(capsys, [command, crafted(tmp_path, version=2)])
    assert "run log version 2 is newer than this nht-monitor reads" in line


@pytest.mark.parametrize("command", ["show", "analyze"])
def test_an_invalid_header_is_one_line_naming_the_fields(tmp_path, capsys, command):
    line = one_error_line(capsys, [command, crafted(
        tmp_path, model={"class_name": 3}, layers="a")])
    assert "invalid header: " in line
    for field in ("model.class_name", "model.n_params", "layers"):
        assert f"{field}: " in line
    assert "errors.pydantic.dev" not in line and "input_value" not in line


def test_many_header_errors_are_cut_short(tmp_path, capsys):
    line = one_error_line(capsys, ["show", crafted(
        tmp_path, run_id=None, started_at="x", model={}, layers="a")])
    assert "(and 2 more)" in line


@pytest.mark.parametrize("argv", [["analyze"], ["backtest"], ["scorecard"], ["advise"]])
def test_bad_recorded_settings_are_blamed_on_the_header_not_on_a_setting(
        tmp_path, capsys, argv):
    path = crafted(tmp_path, config={"analysis": {"min_samples": 1}})
    line = one_error_line(capsys, [*argv, path])
    assert "--setting" not in line
    assert "recorded in the log header" in line and "min_samples" in line


def test_a_bad_setting_given_is_blamed_on_the_setting(tmp_path, capsys):
    path = crafted(tmp_path, config={"analysis": {"min_samples": 1}})
    line = one_error_line(capsys, ["analyze", path, "--setting", "delay_tau=-1"])
    assert "bad --setting: delay_tau" in line


@pytest.mark.parametrize("argv", [
    ["-m", "nht_monitor.demos.modular_arithmetic", "--steps", "-5"],
    ["-m", "nht_monitor.cli", "demo", "modular-arithmetic", "--steps", "-5"],
])
def test_a_bad_demo_option_is_one_line_and_exit_2_both_ways(argv):
    """``python -m nht_monitor.demos.NAME`` answers bad input like ``nht-monitor demo``:
    one line naming the field, no pydantic dump or link, exit 2."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "steps: Input should be greater than or equal to 1" in lines[0]
    assert "errors.pydantic.dev" not in lines[0] and "input_value" not in lines[0]
