"""The analysis package is pure: it imports no torch (checked in a fresh interpreter)."""

from __future__ import annotations

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
