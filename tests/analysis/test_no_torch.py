"""The analysis package is pure: it imports no torch (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nht_monitor

PACKAGE = Path(nht_monitor.__file__).resolve().parent

# Blocks torch, and stands in for the parent package's __init__ (which imports torch for
# watch()), so that only nht_monitor.analysis and the pure modules it uses are executed.
SCRIPT = f"""
import importlib.abc, sys, types

class BlockTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")
        return None

sys.meta_path.insert(0, BlockTorch())
parent = types.ModuleType("nht_monitor")
parent.__path__ = [{str(PACKAGE)!r}]
sys.modules["nht_monitor"] = parent

from nht_monitor.analysis import Analyzer, AnalyzerSettings
import nht_monitor.analysis.backtest, nht_monitor.analysis.scorecard
from nht_monitor.runlog.schema import Sample
run = [Sample(step=i, tau=i * 1e-3, lr=1e-3, weight_decay=1.0, norm=30.0 * 0.999 ** i,
              metrics={{"train_acc": 1.0}}) for i in range(1, 400)]
a = Analyzer().analyze(run)
assert a.regime == "intermediate", a.regime
assert "torch" not in sys.modules
print("ok", sorted(m for m in sys.modules if m.startswith("nht_monitor")))
"""


def test_analysis_imports_and_runs_without_torch():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
    assert "nht_monitor.analysis.rules" in out.stdout


def test_no_torch_import_in_the_source():
    for path in (PACKAGE / "analysis").rglob("*.py"):
        text = path.read_text()
        assert "import torch" not in text and "from torch" not in text, path


# Runs each offline command through nht_monitor.cli.main in one fresh interpreter and
# checks after each that torch was not imported; a watcher on the import system records
# where torch was first asked for, to name the culprit.
CLI_SCRIPT = r"""
import contextlib, importlib.abc, io, json, sys, traceback

first_import = []

class WatchTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch" and not first_import:
            first_import.append("".join(traceback.format_stack(limit=30)))
        return None

sys.meta_path.insert(0, WatchTorch())
from nht_monitor.cli import main

for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    if code not in (0, None):
        print(f"FAILED {argv}: exit code {code}\n{err.getvalue()}")
        sys.exit(1)
    if "torch" in sys.modules:
        print(f"TORCH imported by {argv}:\n{first_import[0] if first_import else '?'}")
        sys.exit(1)
    print("ok", json.dumps(argv))
"""


def _write_log(path, samples):
    from nht_monitor.runlog import RunLogWriter
    from tests.analysis.test_rules import header

    writer = RunLogWriter(path, header())
    for s in samples:
        writer.write(s.model_dump(mode="python", exclude_none=True))
    writer.close()
    return str(path)


def test_offline_commands_never_import_torch(tmp_path):
    from tests.analysis.synthetic import fit_acc, fit_loss, grokking, make_run

    logs = []
    for wd in (1.0, 2.0, 4.0):
        norm_of, val_of, head_of, _ = grokking(weight_decay=wd, fit_step=100)
        logs.append(_write_log(tmp_path / f"wd{wd:g}.jsonl", make_run(
            norm_of, steps=600, weight_decay=wd, acc_of=fit_acc(100), loss_of=fit_loss(100),
            val_of=val_of, head_of=head_of)))
    commands = [["--help"], ["--version"], ["show", logs[0]], ["analyze", logs[0]],
                ["analyze", logs[0], "--json", "--until", "300"], ["backtest", logs[0]],
                ["scorecard", *logs], ["advise", logs[0], "--budget-steps", "1000"],
                ["report", "--help"], ["exporter", "--help"], ["dashboards", "--help"],
                ["demo", "--help"], ["demo", "modular-arithmetic", "--help"],
                ["demo", "cifar10", "--help"], ["demo", "celeba", "--help"],
                ["demo", "waterbirds", "--help"]]
    out = subprocess.run([sys.executable, "-c", CLI_SCRIPT, json.dumps(commands)],
                         capture_output=True, text=True, timeout=300, cwd=PACKAGE.parent)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert out.stdout.count("ok ") == len(commands)
