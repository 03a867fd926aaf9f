"""The console script: --version, subcommands, show, clear errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import nht_monitor
from nht_monitor.cli import COMMAND_MODULES, build_parser, main
from tests.conftest import train_steps


def test_version_and_help():
    out = subprocess.run([sys.executable, "-m", "nht_monitor.cli", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"nht-monitor {nht_monitor.__version__}"
    assert main([]) == 2


def test_every_subcommand_module_registers():
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices  # noqa: SLF001
    for name in ("show", "analyze", "backtest", "scorecard", "advise", "exporter",
                 "dashboards", "report", "demo"):
        assert name in choices, name
    assert len(COMMAND_MODULES) == 7


def test_show_prints_the_last_samples(tiny_net, log_dir, capsys):
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-3, weight_decay=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="cli", assess=False)
    train_steps(tiny_net, optimizer, 12, monitor=monitor)
    monitor.close()
    assert main(["show", str(log_dir / "cli.jsonl"), "-n", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("run cli  model TinyNet") and "samples 12" in out[0]
    assert out[1].split()[:3] == ["step", "tau", "lr"] and "train_loss" in out[1]
    assert [row.split()[0] for row in out[2:]] == ["10", "11", "12"]


@pytest.mark.parametrize("content, message", [
    (None, "No such file"), ('{"schema": "x"}\n', "not an nht-monitor run log")])
def test_show_errors_are_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.jsonl"
    if content is not None:
        path.write_text(content)
    assert main(["show", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
