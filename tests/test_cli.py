"""The console script: --version, subcommands, show, clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

import nht_monitor
from nht_monitor.cli import COMMAND_MODULES, build_parser, main
from tests.conftest import train_steps


@pytest.mark.parametrize("module", ["nht_monitor.cli", "nht_monitor"])
def test_version_and_help(module):
    out = subprocess.run([sys.executable, "-m", module, "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"nht-monitor {nht_monitor.__version__}"
    assert main([]) == 2
    bad = subprocess.run([sys.executable, "-m", module, "analyze", "/nonexistent.jsonl"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1


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
    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_command_table_matches_the_registered_commands():
    """cli.COMMANDS (what --help lists without importing a command) agrees with what the
    command modules register: the same commands, in order, with the same help."""
    from nht_monitor.cli import COMMANDS

    action = build_parser()._subparsers._group_actions[0]  # noqa: SLF001
    registered = {a.dest: a.help for a in action._choices_actions}  # noqa: SLF001
    assert list(registered) == list(COMMANDS)
    assert registered == {name: help_text for name, (_, help_text) in COMMANDS.items()}
    commands_dir = Path(__file__).resolve().parents[1] / "nht_monitor" / "commands"
    assert set(COMMAND_MODULES) == {f.stem for f in commands_dir.glob("*.py")} - {"__init__"}
    for name, (module, _) in COMMANDS.items():  # only the command's module registers
        choices = build_parser(name)._subparsers._group_actions[0].choices  # noqa: SLF001
        assert list(choices) == list(COMMANDS)  # the others are listed (help, errors)
        real = {n for n, p in choices.items() if p.add_help}
        assert real == {n for n, (m, _) in COMMANDS.items() if m == module}


def test_help_and_errors_before_a_command_import_no_command_module():
    script = ("import sys\nfrom nht_monitor.cli import main\n"
              "for argv in (['--help'], [], ['-v'], ['nonsense']):\n"
              "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
              "loaded = [m for m in sys.modules if m.startswith('nht_monitor.commands.')]\n"
              "assert not loaded, loaded\n"
              "assert 'pydantic' not in sys.modules and 'numpy' not in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "show" in out.stdout and "invalid choice: 'nonsense'" in out.stderr


def test_options_before_the_command(tmp_path, capsys):
    path = tmp_path / "missing.jsonl"
    assert main(["-v", "show", str(path)]) == 2
    assert "No such file" in capsys.readouterr().err


def test_modular_arithmetic_option_defaults_are_the_config_defaults():
    """The demo's options take their defaults from ModArithConfig (torch-free)."""
    from nht_monitor.demos.common.cli import build_parser as demo_parser
    from nht_monitor.demos.modular_arithmetic.cli import config_from_args
    from nht_monitor.demos.modular_arithmetic.config import ModArithConfig

    args = demo_parser("modular-arithmetic").parse_args([])
    config = config_from_args(args, args._default_weight_decay)
    assert config.model_dump(exclude={"log_dir"}) == ModArithConfig().model_dump(
        exclude={"log_dir"})


def test_a_reader_that_goes_away_ends_the_command_quietly(tiny_net, log_dir):
    """``nht-monitor analyze RUN | head``: the pipe closed before the output was written
    gives exit 141 (as a command killed by SIGPIPE) and nothing on stderr."""
    optimizer = torch.optim.AdamW(tiny_net.parameters(), lr=1e-3, weight_decay=0.1)
    monitor = nht_monitor.watch(tiny_net, optimizer, log_dir=log_dir, run_id="pipe", assess=False)
    train_steps(tiny_net, optimizer, 12, monitor=monitor)
    monitor.close()
    proc = subprocess.Popen([sys.executable, "-m", "nht_monitor.cli", "analyze",
                             str(log_dir / "pipe.jsonl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command prints anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""
