"""benchmarks/families.py: generation, scoring and leave-one-family-out on tiny families."""

from __future__ import annotations

import json
import math
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import families  # noqa: E402
from family_tasks import FamilySpec  # noqa: E402

from nht_monitor.analysis import AnalyzerSettings  # noqa: E402
from nht_monitor.analysis.backtest import backtest  # noqa: E402
from nht_monitor.live.recorder import RunRecorder  # noqa: E402
from nht_monitor.runlog import read_run  # noqa: E402
from nht_monitor.runlog.schema import ModelInfo, RunHeader  # noqa: E402

TINY_A = FamilySpec(name="tiny-a", p=7, op="+", train_fraction=0.6, width=8, embed_dim=4,
                    lr=1e-2, steps=30, eval_every=5, weight_decays=[0.1, 10.0], seeds=[0, 1])
TINY_B = FamilySpec(name="tiny-b", p=5, op="*", train_fraction=0.7, width=8, embed_dim=4,
                    optimizer="sgd", schedule="warmup_cosine", lr=0.1, steps=25, eval_every=5,
                    weight_decays=[0.01, 1.0], seeds=[0, 1])


def synthetic_family(cache: Path, name: str, grok_steps: list[int]) -> None:
    """A family of hand-made logs with a known transition: fitted at step 40, V_sc at step 50,
    the norm decaying afterwards and held-out accuracy jumping to 1 at each grok step
    (lr 0.01, λ 1: τ = step / 100, so τ from V_sc to the transition = (grok − 50) / 100)."""
    out = cache / name
    runs = []
    for k, grok in enumerate(grok_steps):
        run_id = f"{name}-{k}"
        header = RunHeader(run_id=run_id, started_at=datetime.now(timezone.utc),
                           model=ModelInfo(class_name="Synthetic", n_params=10),
                           layers=["body", "head"], head="head",
                           config={"every": 1, "demo": {"steps": 400}})
        rec = RunRecorder.open(out, header, assess_every=50)
        for step in range(1, 401):
            tau = step / 100
            norm = 10 + 10 * step / 50 if step <= 50 else 20 * math.exp(-0.3 * (tau - 0.5))
            metrics = {"train_loss": 0.01 if step >= 40 else 2.0,
                       "train_acc": 1.0 if step >= 40 else 0.5}
            if step % 10 == 0:
                metrics["val_acc"] = 1.0 if step >= grok else 0.05
            rec.record(step=step, tau=tau, lr=0.01, weight_decay=1.0,
                       layer_norms={"body": norm * 0.8, "head": norm * 0.6}, metrics=metrics)
        rec.close()
        runs.append({"run_id": run_id, "log": f"{run_id}.jsonl", "wall_s": 0.0})
    (out / "manifest.json").write_text(json.dumps({"family": {"name": name}, "runs": runs,
                                                   "complete": True}))


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("families")
    for spec in (TINY_A, TINY_B):
        families.generate_family(spec, root)
    return root


def test_generation_writes_every_run_and_a_manifest(cache: Path) -> None:
    for spec in (TINY_A, TINY_B):
        manifest = families.read_manifest(cache, spec.name)
        assert manifest["complete"] is True
        assert manifest["family"] == spec.model_dump(mode="json")
        # where it was made: runs regenerated on another CPU differ in the last digits
        assert manifest["machine"] == f"{platform.machine()}, {families.machine()}"
        assert [r["run_id"] for r in manifest["runs"]] == [spec.run_id(w, s) for w, s in spec.runs()]
        for r in manifest["runs"]:
            run = read_run(cache / spec.name / r["log"])
            assert [s.step for s in run.samples] == list(range(1, spec.steps + 1))  # every=1
            assert run.header.config["every"] == 1
            assert run.header.config["demo"]["steps"] == spec.steps
            taus = [s.tau for s in run.samples]
            lrs = [spec.lr * spec.lr_factor(t) for t in range(spec.steps)]
            # the τ clock is the optimizer's own lr × λ of each step, schedule included,
            # × 1/(1 − momentum) for SGD's coupled L2 through the momentum buffer
            gain = 1 / (1 - spec.momentum) if spec.optimizer == "sgd" else 1.0
            assert taus == pytest.approx(np.cumsum(lrs) * r["weight_decay"] * gain, rel=1e-5)


def test_generation_resumes_without_retraining(cache: Path, monkeypatch) -> None:
    import family_tasks

    def fail(*_a, **_k):
        raise AssertionError("a cached run was trained again")

    monkeypatch.setattr(family_tasks, "train_family_run", fail)
    assert families.generate_family(TINY_A, cache)["complete"] is True


def test_interrupted_family_trains_only_missing_runs(tmp_path: Path, monkeypatch) -> None:
    spec = TINY_A.model_copy(update={"name": "tiny-resume", "seeds": [0]})
    families.generate_family(spec, tmp_path)
    mpath = tmp_path / spec.name / "manifest.json"
    manifest = json.loads(mpath.read_text())
    dropped = manifest["runs"].pop()
    manifest["complete"] = False
    for field in ("task", "parity_bits", "parity_k", "parity_train"):  # written before stop 40
        del manifest["family"][field]
    mpath.write_text(json.dumps(manifest))
    with pytest.raises(SystemExit, match="differs from its definition"):
        families.generate_family(spec.model_copy(update={"lr": 0.5}), tmp_path)
    import family_tasks

    trained = []
    real = family_tasks.train_family_run
    monkeypatch.setattr(family_tasks, "train_family_run",
                        lambda s, w, seed, out: trained.append((w, seed)) or real(s, w, seed, out))
    families.generate_family(spec, tmp_path)
    assert trained == [(dropped["weight_decay"], dropped["seed"])]


def test_score_table_columns_and_rows(cache: Path) -> None:
    base = AnalyzerSettings()
    result = families.score(cache, [TINY_A.name, TINY_B.name], base)
    text = families.render(result, ["# header"])
    header = "| " + " | ".join(families.COLUMNS) + " |"
    assert text.count(header) == 3  # default, leave-one-out and sweep-aware tables
    for name in (TINY_A.name, TINY_B.name, "**overall**"):
        lines = [ln for ln in text.splitlines() if ln.startswith(f"| {name} |")]
        assert len(lines) == 4  # + the ≥ 2-references comparison
        assert all(ln.count("|") == len(families.COLUMNS) + 1 for ln in lines[:3])
        assert lines[3].count("|") == 6
    for r in result["rows"]["sweep"][TINY_A.name]:
        assert all(r.get(f"refs@{f:g}", 0) <= len(TINY_A.runs()) - 1
                   for f in families.DELAY_FRACTIONS)
    rows = result["rows"]["default"][TINY_A.name]
    assert len(rows) == len(TINY_A.runs())
    for r in rows:
        assert r["truth"] in ("weak", "intermediate", "strong", "unfitted")
        assert r["end"] is not None and r["at30"] is not None
        assert isinstance(r["at30_fitting"], bool)
        assert not r["at30_fitting"] or r["at30"] == "undetermined"  # read while fitting


def test_logs_without_the_normalization_record_read_as_the_family_models_have_none(
        cache: Path) -> None:
    """Family logs record ``model.normalization`` (``watch()``); one written before that
    was recorded is read as none (the family models have no normalization layer), so the
    default ``budget_law_floor="auto"`` treats old and new caches alike."""
    manifest = families.read_manifest(cache, TINY_A.name)
    path = cache / TINY_A.name / manifest["runs"][0]["log"]
    assert read_run(path).header.model.normalization == []  # recorded by watch()
    old = read_run(path).header.model_copy(update={"model": ModelInfo(class_name="M",
                                                                      n_params=1)})
    assert old.model.normalization is None
    assert families.recorded_normalization(old).model.normalization == []
    normed = old.model_copy(update={"model": ModelInfo(class_name="M", n_params=1,
                                                       normalization=["LayerNorm"])})
    assert families.recorded_normalization(normed) is normed
    assert families.LoadedRun(TINY_A.name, path, AnalyzerSettings()).header.model.normalization == []


def test_logs_record_the_planned_lr_and_older_ones_get_it_from_the_family(
        cache: Path) -> None:
    """Family runs pass their scheduler to ``watch(lr_schedule=...)``; a log written before
    that was recorded gets the same plan from its family's schedule."""
    for spec in (TINY_A, TINY_B):
        manifest = families.read_manifest(cache, spec.name)
        path = cache / spec.name / manifest["runs"][0]["log"]
        recorded = read_run(path).header
        assert recorded.lr_plan == [(s, pytest.approx(spec.lr * spec.lr_factor(s - 1)))
                                    for s in range(1, spec.steps + 1)]
        old = recorded.model_copy(update={"lr_plan": None})
        assert families.recorded_lr_plan(old, spec).lr_plan == [
            (s, pytest.approx(lr, rel=1e-12)) for s, lr in recorded.lr_plan]
        assert families.recorded_lr_plan(old, None) is old
        assert families.recorded_lr_plan(recorded, spec) is recorded


def test_replay_uses_backtests_transition_and_delay(tmp_path: Path) -> None:
    synthetic_family(tmp_path, "synth", [150])
    run = families.load_family(tmp_path, "synth", AnalyzerSettings())[0]
    samples = read_run(run.path)
    bt = backtest(samples.samples, samples.header, AnalyzerSettings())
    assert run.actual.step == bt.actual.step == 150
    assert run.delay_tau == pytest.approx(bt.delay_tau)
    assert run.delay_tau == pytest.approx(1.0)
    assert run.delayed and run.truth == "intermediate"
    row = families.replay(run, AnalyzerSettings())
    assert {"forecast@0.25", "forecast@0.5", "forecast@0.75"} <= set(row)


def test_leave_one_out_never_uses_the_scored_family(cache: Path, tmp_path: Path) -> None:
    for spec in (TINY_A, TINY_B):  # the two trained families, plus two synthetic ones
        (tmp_path / spec.name).symlink_to(cache / spec.name, target_is_directory=True)
    synthetic_family(tmp_path, "synth-x", [150, 170])  # delays 1.0 and 1.2 τ
    synthetic_family(tmp_path, "synth-y", [250, 290])  # delays 2.0 and 2.4 τ
    names = [TINY_A.name, TINY_B.name, "synth-x", "synth-y"]
    base = AnalyzerSettings()
    result = families.score(tmp_path, names, base)
    stats = {n: families.load_family(tmp_path, n, base) for n in names}
    for scored in names:
        others = {n: runs for n, runs in stats.items() if n != scored}
        expected, info = families.choose_settings(others, exclude=scored, base=base)
        chosen = result["settings"][scored]
        assert scored not in chosen["from"]
        for key in families.CALIBRATED:
            assert chosen.get(key) == info.get(key)
    # with the pool synth-x, synth-y, synth-x is scored with synth-y's delays alone and
    # the other way round (the scored family is dropped from the pool)
    pooled = families.score(tmp_path, names, base, pool=["synth-x", "synth-y"])
    assert pooled["settings"]["synth-x"]["from"] == ["synth-y"]
    assert pooled["settings"]["synth-y"]["from"] == ["synth-x"]
    assert pooled["settings"]["synth-x"]["delay_tau"] == pytest.approx(np.median([2.0, 2.4]))
    assert pooled["settings"]["synth-y"]["delay_tau"] == pytest.approx(np.median([1.0, 1.2]))
    assert pooled["settings"]["synth-x"]["delay_log_sd"] == pytest.approx(
        float(np.std(np.log([2.0, 2.4]))))
    ratios_y = [r.ratio for r in stats["synth-y"] if r.delayed and r.ratio and r.ratio > 1]
    assert len(ratios_y) == 2
    assert pooled["settings"]["synth-x"]["ratio_log_sd"] == pytest.approx(
        float(np.std(np.log(ratios_y))))
    # and a family outside the pool gets the pool's settings
    assert pooled["settings"][TINY_A.name]["delay_tau"] == pytest.approx(
        np.median([1.0, 1.2, 2.0, 2.4]))
    # the settings chosen differ between the two synthetic families: each is scored
    # without its own delays (with its own, both would get the same pooled median)
    assert result["settings"]["synth-x"]["delay_tau"] != result["settings"]["synth-y"]["delay_tau"]


def test_sweep_slope_is_the_least_squares_slope_of_log_delay_in_log_rate() -> None:
    from types import SimpleNamespace

    def run(rate: float, delay: float, delayed: bool = True) -> SimpleNamespace:
        return SimpleNamespace(rate=rate, delay_tau=delay, delayed=delayed)

    line = [run(r, 0.6 * (1e-3 / r) ** 0.4) for r in (1e-3, 5e-4, 2.5e-4)]
    assert families.sweep_slope(line) == pytest.approx(-0.4, abs=1e-9)
    assert families.sweep_slope(line + [run(1e-4, 50.0, delayed=False)]) == pytest.approx(
        -0.4, abs=1e-9)  # only delayed runs count
    assert families.sweep_slope(line[:2]) is None  # fewer than three runs
    close = [run(r, 1.0) for r in (1e-3, 1.1e-3, 1.2e-3)]
    assert families.sweep_slope(close) is None  # log rates span < 0.3
    # choose_settings: the root mean square of the families' slopes (here one family)
    base = AnalyzerSettings()
    for r in line:
        r.ratio = None
        r.truth, r.weak_probe, r.actual = "intermediate", None, None
    _, info = families.choose_settings({"a": line}, exclude="", base=base)
    assert info["sweep_slope_sd"] == pytest.approx(0.4, abs=1e-9)


def test_summarize_pools_coverage_over_the_three_checkpoints() -> None:
    def row(covered: list[bool | None], delayed: bool = True) -> dict:
        r = {"truth": "intermediate", "end": "intermediate", "at30": "intermediate",
             "actual": 100.0, "delayed": delayed, "false_alarm": False, "head_lead": None}
        for f, c in zip(families.DELAY_FRACTIONS, covered, strict=True):
            r[f"covered@{f:g}"] = c
            r[f"error@{f:g}"] = None if c is None else 0.1
        return r

    s = families.summarize([row([True, False, True]), row([None, True, False]),
                            row([False, False, False], delayed=False)])
    assert s["coverage_50"] == pytest.approx(0.5) and s["n_coverage"] == 2
    assert s["coverage_all"] == pytest.approx(3 / 5) and s["n_coverage_all"] == 5
    assert "60% (5)" in families.table_line("x", s, "")
    # the misses at 30 % and, of them, the runs read undetermined while still fitting
    missed = [dict(row([None, None, None]), at30=a, at30_fitting=f)
              for a, f in (("undetermined", True), ("weak", False), ("intermediate", False))]
    m = families.summarize(missed)
    assert (m["misses_30"], m["misses_30_fitting"]) == (2, 1)
    assert "| 1 of 2 |" in families.table_line("x", m, "")


def test_flapping_counts_switches_into_or_out_of_an_alarm() -> None:
    assert families.alarm_switches([]) == 0
    assert families.alarm_switches(["undetermined", "intermediate", "intermediate"]) == 0
    assert families.alarm_switches(["intermediate", "weak", "strong", "weak"]) == 1
    seq = ["undetermined", "weak", "intermediate", "weak", "undetermined", "weak"]
    assert families.alarm_switches(seq) == 5
    rows = [{"truth": "weak", "end": "weak", "at30": "weak", "actual": None,
             "delayed": False, "false_alarm": None, "head_lead": None,
             "alarm_switches": n} for n in (0, 2, 3, 7)]
    s = families.summarize(rows)
    assert s["flapping"] == 2
    assert "| 2/4 |" in families.table_line("x", s, "")


def test_chance_table_scores_the_chance_beside_the_regime() -> None:
    def row(chance: float | None, actual: float | None, regime: str,
            truth: str = "intermediate") -> dict:
        return {"truth": truth, "actual": actual, "chance@0.3": chance,
                "regime_c@0.3": regime}

    rows = [row(0.9, 500.0, "intermediate"), row(0.7, None, "intermediate", "weak"),
            row(0.1, None, "weak", "weak"), row(0.3, 800.0, "weak"),
            row(None, 900.0, "intermediate"), row(0.5, None, "weak", "unfitted")]
    lines = families.chance_table(rows)
    assert len(lines) == 3  # header, rule, the one fraction with chances
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    brier = (0.1 ** 2 + 0.7 ** 2 + 0.1 ** 2 + 0.7 ** 2) / 4  # by hand
    regime = (0 + 1 + 0 + 1) / 4
    assert cells[:3] == ["30%", "4", f"{brier:.3f} / {regime:.3f}"]
    assert cells[3:] == ["0.10 → 0.00 (1)", "0.30 → 1.00 (1)", "–", "0.70 → 0.00 (1)",
                         "0.90 → 1.00 (1)"]
    assert families.chance_table([row(1.0, 1.0, "intermediate")])[2].endswith(
        "| 1.00 → 1.00 (1) |")  # 1 falls in the last bin


def test_true_regime_labels() -> None:
    from nht_monitor.analysis.series import Series

    def series(acc_end: float, norm_end: float) -> Series:
        n = 3
        return Series(step=np.arange(1.0, n + 1), tau=np.zeros(n), lr=np.ones(n), wd=np.ones(n),
                      norm=np.array([10.0, 12.0, norm_end]), head=np.full(n, np.nan),
                      loss=np.ones(n), acc=np.array([0.1, 0.3, acc_end]), val=np.zeros(n))

    st = AnalyzerSettings(train_acc_evals=1)  # the best single evaluation (until stop 40)
    assert families.true_regime(series(0.2, 3.0), st, 50.0) == "intermediate"
    held = series(1.0, 30.0)
    held.acc[1] = 1.0
    assert families.true_regime(held, st, None) == "unfitted"  # two evaluations, not three
    held.acc[0] = 1.0
    assert families.true_regime(held, st, None) == "weak"
    assert families.true_regime(series(0.2, 3.0), st, None) == "strong"
    assert families.true_regime(series(0.2, 11.0), st, None) == "unfitted"
    # collapsed but half the training set learnt (a slow fitter): not "nothing learnt"
    assert families.true_regime(series(0.7, 3.0), st, None) == "unfitted"
    assert families.true_regime(series(0.49, 3.0), st, None) == "strong"
    # a two-class task starts at 0.5: 0.68 is a third of the way from there to 1, nothing
    # learnt (until stop 40 an accuracy of 0.5 counted as half learnt: `unfitted`)
    binary = series(0.68, 3.0)
    binary.acc[:2] = [0.5, 0.6]
    assert families.true_regime(binary, st, None) == "strong"
    binary.acc[2] = 0.76
    assert families.true_regime(binary, st, None) == "unfitted"
    # per-step minibatch accuracy: one lucky batch of 0.88 on a run holding 0.6 (chance
    # 0.5) is nothing learnt, read as the best mean of `train_acc_evals` evaluations
    n = 200
    noisy = Series(step=np.arange(1.0, n + 1), tau=np.zeros(n), lr=np.ones(n), wd=np.ones(n),
                   norm=np.linspace(18.0, 1.5, n), head=np.full(n, np.nan), loss=np.ones(n),
                   acc=np.where(np.arange(n) % 50 == 7, 0.88, 0.6), val=np.zeros(n))
    noisy.acc[0] = 0.5
    assert families.true_regime(noisy, AnalyzerSettings(), None) == "strong"
    assert families.true_regime(noisy, st, None) == "unfitted"
    # fitted: the median of three evaluations in a row at 0.99 (the engine's absolute fit);
    # one minibatch at 160/160 in a run holding 0.96–0.98 is no fit (until stop 66 it was)
    def run(acc: list[float]) -> Series:
        k = len(acc)
        return Series(step=np.arange(1.0, k + 1), tau=np.zeros(k), lr=np.ones(k),
                      wd=np.ones(k), norm=np.linspace(10.0, 20.0, k), head=np.full(k, np.nan),
                      loss=np.ones(k), acc=np.array(acc), val=np.zeros(k))

    assert families.true_regime(run([0.1, 1.0, 0.99, 0.96, 0.9]), st, None) == "weak"
    assert families.true_regime(run([0.1, 0.97, 1.0, 0.96, 0.98]), st, None) == "unfitted"
    assert families.true_regime(run([0.1, 0.97, 0.96, 1.0, 1.0]), st, None) == "unfitted"


def test_score_command_writes_the_markdown(cache: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "families.md"
    code = families.main(["score", "--cache", str(cache), "--families",
                          f"{TINY_A.name},{TINY_B.name}", "--out", str(out)])
    assert code == 0
    text = out.read_text()
    assert text.strip() in capsys.readouterr().out
    assert "load " in text and "CPUs" in text and "| family | p | op |" in text and "families.py generate" in text
    assert f"| {TINY_A.name} | 7 | + |" in text and f"| {TINY_B.name} | 5 | * |" in text
    assert "### The transition's chance within the budget" in text
    row = next(line for line in text.splitlines() if line.startswith(f"| {TINY_A.name} | 7 |"))
    assert row.split(" | ")[11] == "full"  # the batch column: full batch
    assert families.main(["score", "--cache", str(cache), "--settings-from", "nope",
                          "--out", str(out)]) == 2


def test_score_takes_a_group_name_as_generate_does(cache: Path, tmp_path: Path,
                                                  monkeypatch, capsys) -> None:
    out = tmp_path / "group.md"
    monkeypatch.setitem(families.GROUPS, "tiny", {TINY_B.name: TINY_B})
    assert families.main(["score", "--cache", str(cache), "--families", "tiny",
                          "--out", str(out)]) == 0
    text = out.read_text()
    assert f"| {TINY_B.name} | 5 | * |" in text and f"| {TINY_A.name} |" not in text
    monkeypatch.setitem(families.GROUPS, "elsewhere", {"not-cached": TINY_B})
    capsys.readouterr()
    assert families.main(["score", "--cache", str(cache), "--families", "elsewhere",
                          "--out", str(out)]) == 1
    assert "no cached families" in capsys.readouterr().err


def test_scoring_a_subset_still_calibrates_on_the_other_families(cache: Path,
                                                                 tmp_path: Path) -> None:
    synthetic_family(tmp_path, "synth-x", [150, 170])
    synthetic_family(tmp_path, "synth-y", [250, 290])
    base = AnalyzerSettings()
    result = families.score(tmp_path, ["synth-x"], base, pool=["synth-x", "synth-y"])
    assert list(result["rows"]["loo"]) == ["synth-x"]
    assert result["settings"]["synth-x"]["from"] == ["synth-y"]
    assert result["settings"]["synth-x"]["delay_tau"] == pytest.approx(2.2)


def test_held_out_families_are_scored_with_settings_from_another_cache(tmp_path: Path,
                                                                       capsys) -> None:
    dev, held = tmp_path / "dev", tmp_path / "held"
    synthetic_family(dev, "synth-x", [150, 170])  # delays 1.0 and 1.2 τ
    synthetic_family(dev, "synth-y", [250, 290])  # delays 2.0 and 2.4 τ
    synthetic_family(held, "synth-h", [400, 400])  # never transitions within 400 steps
    synthetic_family(held, "synth-g", [110, 130])
    base = AnalyzerSettings()
    result = families.score(held, ["synth-h", "synth-g"], base,
                            pool=families.complete_families(dev), pool_cache=dev)
    assert list(result["rows"]["loo"]) == ["synth-h", "synth-g"]  # the dev families unscored
    for name in ("synth-h", "synth-g"):  # chosen on the dev cache alone, never on held
        assert result["settings"][name]["from"] == ["synth-x", "synth-y"]
        assert result["settings"][name]["delay_tau"] == pytest.approx(np.median([1.0, 1.2, 2.0, 2.4]))
    out = tmp_path / "holdout.md"
    assert families.main(["score", "--cache", str(held), "--calibrate-cache", str(dev),
                          "--out", str(out)]) == 0
    assert "synth-g" in out.read_text() and "| synth-x |" not in out.read_text()
    rows = tmp_path / "rows.json"  # a cache given twice pools its families once
    assert families.main(["score", "--cache", str(held), "--calibrate-cache", str(dev),
                          "--calibrate-cache", str(dev), "--out", str(out),
                          "--json", str(rows)]) == 0
    assert json.loads(rows.read_text())["settings"]["synth-g"]["from"] == ["synth-x", "synth-y"]
    assert families.main(["score", "--cache", str(held), "--calibrate-cache", str(dev),
                          "--settings-from", "synth-x", "--out", str(out)]) == 2
    assert "drop --settings-from" in capsys.readouterr().err
    assert set(families.select("mlp-add-p43-f0.35-w48-i1-lr7e-3,mlp-add-p59-f0.8-lr1e-2")) == {
        "mlp-add-p43-f0.35-w48-i1-lr7e-3", "mlp-add-p59-f0.8-lr1e-2"}
    groups = families.GROUPS
    names = [n for group in groups.values() for n in group]
    assert len(names) == len(set(names))  # no family in two groups
    assert families.select(None) == groups["development"] == families.FAMILIES
    assert list(groups) == ["development", "holdout", "holdout2", "holdout3", "holdout4",
                            "holdout5", "holdout6", "holdout7", "holdout8",
                            "holdout9", "holdout10", "holdout11", "holdout12",
                            "holdout13", "holdout14", "holdout15",
                            "holdout16", "holdout17", "holdout18", "holdout19",
                            "holdout20", "holdout21", "holdout22", "holdout23",
                            "holdout24", "holdout25", "holdout26",
                            "holdout27", "holdout28", "holdout29",
                            "holdout30", "holdout31", "holdout32", "holdout33",
                            "holdout34", "holdout35", "holdout36",
                            "holdout37", "holdout38", "holdout39", "holdout40",
                            "holdout41", "holdout42", "holdout43",
                            "holdout44", "holdout45", "holdout46",
                            "holdout47", "holdout48", "holdout49",
                            "holdout50", "holdout51", "holdout52",
                            "holdout53", "holdout54", "holdout55",
                            "holdout56", "holdout57", "holdout58",
                            "holdout59", "holdout60", "holdout61",
                            "holdout62", "holdout63",
                            "holdout64", "holdout65",
                            "holdout66", "holdout67",
                            "holdout68", "holdout69",
                            "holdout70", "holdout71",
                            "holdout72", "holdout73",
                            "holdout74", "holdout75",
                            "holdout76", "holdout77",
                            "holdout78", "holdout79",
                            "holdout80", "holdout81",
                            "holdout82", "holdout83",
                            "holdout84", "holdout85",
                            "holdout86", "holdout87",
                            "holdout88", "holdout89",
                            "holdout90", "holdout91",
                            "holdout92", "holdout93", "holdout94", "holdout95",
                            "holdout96", "holdout97", "holdout98", "holdout99",
                            "holdout100", "holdout101", "holdout102", "holdout103",
                            "holdout104", "holdout105", "holdout106", "holdout107",
                            "holdout108", "holdout109", "holdout110", "holdout111",
                            "holdout112", "holdout113", "holdout114", "holdout115",
                            "holdout116", "holdout117", "holdout118", "holdout119",
                            "holdout120", "holdout121", "holdout122", "holdout123",
                            "holdout124", "holdout125", "holdout126", "holdout127",
                            "holdout128", "holdout129", "holdout130", "holdout131",
                            "holdout132", "holdout133"]
    for group in groups:
        assert families.select(group) == groups[group]
    capsys.readouterr()
    assert families.main(["list"]) == 0
    listed = capsys.readouterr().out
    for title, group in groups.items():
        section = listed.split(f"# {title}\n")[1].split("# ")[0]
        assert all(f"{n}:" in section for n in group), title
    # the score header names the generate command that fills the cache scored
    assert families.generate_command(families.DEFAULT_CACHE, list(families.FAMILIES)[:2]) == (
        "OMP_NUM_THREADS=1 nice -n 15 python benchmarks/families.py generate")
    assert families.generate_command(held, list(groups["holdout2"])) == (
        f"OMP_NUM_THREADS=1 nice -n 15 python benchmarks/families.py generate --cache {held} "
        "--families holdout2")
    assert families.generate_command(held, ["synth-h"]).endswith("--families synth-h")


def test_calibrate_command_prints_the_settings_chosen_on_every_family(tmp_path: Path,
                                                                      capsys) -> None:
    synthetic_family(tmp_path, "synth-x", [150, 170])  # delays 1.0 and 1.2 τ
    synthetic_family(tmp_path, "synth-y", [250, 290])  # delays 2.0 and 2.4 τ
    assert families.main(["calibrate", "--cache", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["families"] == ["synth-x", "synth-y"] and out["n_delays"] == 4
    assert out["chosen"]["delay_tau"] == pytest.approx(np.median([1.0, 1.2, 2.0, 2.4]))
    assert out["chosen"]["delay_log_sd"] == pytest.approx(
        float(np.std(np.log([1.0, 1.2, 2.0, 2.4]))))
    assert out["defaults"]["delay_tau"] == AnalyzerSettings().delay_tau
    # the pooled within-family sd of log Δτ, one degree of freedom per family
    within = [np.log(1.0 / math.sqrt(1.2)), np.log(1.2 / math.sqrt(1.2)),
              np.log(2.0 / math.sqrt(4.8)), np.log(2.4 / math.sqrt(4.8))]
    assert out["chosen"]["sweep_log_sd"] == pytest.approx(
        math.sqrt(sum(x * x for x in within) / (4 - 2)))
    assert families.main(["calibrate", "--cache", str(tmp_path / "none")]) == 1
    assert "no cached families" in capsys.readouterr().err
    # several caches pool their families (a family in two caches counts once)
    other = tmp_path / "other"
    synthetic_family(other, "synth-z", [350, 390])  # delays 3.0 and 3.4 τ
    synthetic_family(other, "synth-x", [150, 170])
    assert families.main(["calibrate", "--cache", str(tmp_path), "--cache", str(other)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["families"] == ["synth-x", "synth-y", "synth-z"] and out["n_delays"] == 6
    result = families.score(tmp_path, ["synth-y"], AnalyzerSettings(),
                            pool=["synth-x", "synth-y", "synth-z"], pool_cache=[tmp_path, other])
    assert result["settings"]["synth-y"]["from"] == ["synth-x", "synth-z"]
    assert result["settings"]["synth-y"]["delay_tau"] == pytest.approx(
        np.median([1.0, 1.2, 3.0, 3.4]))


def test_minibatches_cover_each_epoch_once_and_drop_the_short_slice() -> None:
    from family_tasks import minibatches

    batches = minibatches(10, 4, seed=3)
    epochs = [[next(batches).tolist() for _ in range(2)] for _ in range(3)]
    for epoch in epochs:
        rows = [r for batch in epoch for r in batch]
        assert len(rows) == len(set(rows)) == 8 and set(rows) <= set(range(10))
    assert epochs[0] != epochs[1]  # a fresh permutation each epoch
    again = minibatches(10, 4, seed=3)
    assert [next(again).tolist() for _ in range(2)] == epochs[0]  # seeded
    full = minibatches(10, None, seed=3)
    assert [next(full) for _ in range(3)] == [None, None, None]
    assert next(minibatches(10, 10, seed=3)) is None


def test_a_minibatch_family_logs_the_minibatch_metrics(tmp_path: Path) -> None:
    from family_tasks import train_family_run

    spec = TINY_A.model_copy(update={"name": "tiny-mb", "batch_size": 6, "steps": 12})
    summary = train_family_run(spec, 0.1, 0, tmp_path)
    run = read_run(tmp_path / summary["log"])
    assert [s.step for s in run.samples] == list(range(1, 13))
    assert run.header.config["demo"]["batch_size"] == 6
    accs = [s.metrics["train_acc"] for s in run.samples]
    assert all(abs(a * 6 - round(a * 6)) < 1e-6 for a in accs)  # k of the 6 examples


def test_parity_data_labels_the_parity_of_the_first_k_bits() -> None:
    from family_tasks import PARITY_VAL, parity_data

    d = parity_data(12, 3, 400, seed=1)
    assert d.x_train.shape == (400, 12) and d.x_val.shape == (PARITY_VAL, 12)
    x = np.concatenate([d.x_train.numpy(), d.x_val.numpy()]).astype(np.float64)
    y = np.concatenate([d.y_train.numpy(), d.y_val.numpy()])
    assert set(np.unique(x)) == {-1.0, 1.0}
    assert (y == (np.prod(x[:, :3], axis=1) < 0)).all()  # float64 by hand
    assert 0.4 < y.mean() < 0.6  # two balanced classes: chance 0.5
    again = parity_data(12, 3, 400, seed=1)
    assert (again.x_train == d.x_train).all() and not (parity_data(12, 3, 400, seed=2).x_train
                                                       == d.x_train).all()


def test_a_parity_family_logs_a_two_class_run_with_its_head(tmp_path: Path) -> None:
    from family_tasks import FamilySpec, train_family_run

    spec = FamilySpec(name="tiny-parity", task="parity", parity_bits=10, parity_train=64,
                      width=16, init_scale=1.0, lr=1e-2, batch_size=16, steps=12,
                      eval_every=4, weight_decays=[0.1])
    summary = train_family_run(spec, 0.1, 0, tmp_path)
    run = read_run(tmp_path / summary["log"])
    assert run.header.head == "head" and run.header.layers == ["hidden", "head"]
    assert run.header.config["demo"]["name"] == "parity_family"
    assert [s.step for s in run.samples if "val_acc" in s.metrics] == [4, 8, 12]
    accs = [s.metrics["train_acc"] for s in run.samples]
    assert all(abs(a * 16 - round(a * 16)) < 1e-6 for a in accs)  # k of the 16 examples
    with pytest.raises(ValueError, match="parity family needs model 'mlp'"):
        FamilySpec(name="x", task="parity", model="transformer", weight_decays=[1.0])


@pytest.mark.parametrize("model", ["mlp", "transformer"])
def test_a_layernorm_family_trains_the_demo_model_with_its_layernorms(model: str,
                                                                     tmp_path: Path) -> None:
    from family_tasks import train_family_run
    spec = TINY_A.model_copy(update={"name": f"tiny-ln-{model}", "model": model,
                                     "layernorm": True, "weight_decays": [0.1], "seeds": [0]})
    run = read_run(tmp_path / train_family_run(spec, 0.1, 0, tmp_path)["log"])
    assert run.header.model.normalization == ["LayerNorm"]  # budget_law_floor "auto": off
    assert run.header.config["demo"]["layernorm"] is True
    plain = TINY_A.model_copy(update={"name": "tiny-plain", "weight_decays": [0.1],
                                      "seeds": [0]})
    assert read_run(tmp_path / train_family_run(plain, 0.1, 0, tmp_path)["log"]
                    ).header.model.normalization == []
    with pytest.raises(ValueError, match="no layernorm"):
        FamilySpec(name="x", task="parity", layernorm=True, weight_decays=[1.0])


@pytest.mark.parametrize("model", ["mlp", "transformer"])
def test_a_dropout_family_measures_train_accuracy_with_dropout_on(model: str,
                                                                  tmp_path: Path) -> None:
    """Dropout (a public script's train accuracy under it held the fit back, stop 67): on in
    training mode only — two training-mode passes differ, eval-mode ones agree — and the
    family's runs train with it; 0 leaves the model as it was."""
    import torch
    from family_tasks import train_family_run

    from nht_monitor.demos.modular_arithmetic.model import build_model
    torch.manual_seed(0)
    net = build_model(model, 11, 16, dropout=0.5)
    x = torch.tensor([[1, 2], [3, 4], [5, 6]])
    assert not torch.equal(net(x), net(x))
    net.eval()
    assert torch.equal(net(x), net(x))
    torch.manual_seed(0)
    plain = build_model(model, 11, 16)
    torch.manual_seed(0)
    zero = build_model(model, 11, 16, dropout=0.0)
    assert torch.equal(plain(x), zero(x))  # dropout 0: the model as before
    spec = TINY_A.model_copy(update={"name": f"tiny-do-{model}", "model": model,
                                     "dropout": 0.3, "weight_decays": [0.1], "seeds": [0]})
    run = read_run(tmp_path / train_family_run(spec, 0.1, 0, tmp_path)["log"])
    assert run.header.config["demo"]["dropout"] == 0.3
    with pytest.raises(ValueError, match="no dropout"):
        FamilySpec(name="x", task="parity", dropout=0.1, weight_decays=[1.0])


def test_a_digest_keeps_where_each_family_was_generated(cache: Path, tmp_path: Path) -> None:
    digest = tmp_path / "tiny.json"
    assert families.main(["digest", "--cache", str(cache), "--out", str(digest)]) == 0
    data = json.loads(digest.read_text())
    for spec in (TINY_A, TINY_B):
        manifest = families.read_manifest(cache, spec.name)
        assert data["generated"][spec.name] == {k: manifest[k] for k in (
            "torch", "machine", "started_at")}
        assert [r["run_id"] for r in data["families"][spec.name]] == [
            r["run_id"] for r in manifest["runs"]]


def test_a_digest_calibrates_as_the_caches_it_was_made_from(tmp_path: Path, capsys) -> None:
    dev, held = tmp_path / "dev", tmp_path / "held"
    synthetic_family(dev, "synth-x", [150, 170])  # delays 1.0 and 1.2 τ
    synthetic_family(dev, "synth-y", [250, 290])  # delays 2.0 and 2.4 τ
    synthetic_family(held, "synth-g", [110, 130])
    digest = tmp_path / "calibration" / "dev.json"
    assert families.main(["digest", "--cache", str(dev), "--out", str(digest)]) == 0
    assert "4 runs of 2 families" in capsys.readouterr().err
    assert families.main(["calibrate", "--cache", str(dev)]) == 0
    from_cache = json.loads(capsys.readouterr().out)
    assert families.main(["calibrate", "--digest", str(digest)]) == 0
    from_digest = json.loads(capsys.readouterr().out)
    assert from_digest == from_cache
    assert from_digest["chosen"]["delay_tau"] == pytest.approx(np.median([1.0, 1.2, 2.0, 2.4]))
    rows_cache, rows_digest = tmp_path / "c.json", tmp_path / "d.json"
    out = tmp_path / "holdout.md"
    assert families.main(["score", "--cache", str(held), "--calibrate-cache", str(dev),
                          "--out", str(out), "--json", str(rows_cache)]) == 0
    assert families.main(["score", "--cache", str(held), "--calibrate-digest", str(digest),
                          "--out", str(out), "--json", str(rows_digest)]) == 0
    assert "read with other settings" not in capsys.readouterr().err
    assert json.loads(rows_digest.read_text()) == json.loads(rows_cache.read_text())
    # a digest read with other settings than today's says which
    data = json.loads(digest.read_text())
    data["basis"]["delay_tau"] = 9.0
    digest.write_text(json.dumps(data))
    assert families.main(["calibrate", "--digest", str(digest)]) == 0
    assert f"delay_tau 9.0 → {AnalyzerSettings().delay_tau}" in capsys.readouterr().err


@pytest.mark.parametrize("content", [None, "dir", b"{not json", b'{"format": "other"}',
                                     b"\xff\xfe", "/dev/zero", "huge"])
def test_a_bad_digest_is_one_line_and_exit_2(tmp_path: Path, capsys, content) -> None:
    held = tmp_path / "held"
    synthetic_family(held, "synth-g", [110, 130])
    path = tmp_path / "bad.json"
    if content == "dir":
        path.mkdir()
    elif content == "/dev/zero":
        path = Path("/dev/zero")
    elif content == "huge":  # sparse: refused by its size, never read
        with path.open("wb") as f:
            f.truncate(21_000_000)
    elif content is not None:
        path.write_bytes(content)
    capsys.readouterr()
    for argv in (["calibrate", "--digest", str(path)],
                 ["score", "--cache", str(held), "--calibrate-digest", str(path),
                  "--out", str(tmp_path / "x.md")]):
        assert families.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(path) in err and "Traceback" not in err
    assert not (tmp_path / "x.md").exists()


def test_the_chance_map_command_fits_on_some_caches_and_scores_on_others(tmp_path: Path,
                                                                        capsys) -> None:
    fit, test = tmp_path / "fit", tmp_path / "test"
    synthetic_family(fit, "synth-c", [150, 170, 250, 500])  # 500: after the last step
    synthetic_family(fit, "synth-d", [200, 290, 500, 500])
    synthetic_family(test, "synth-e", [180, 500])
    pairs = families.chance_pairs([fit])
    # the outcome of each run whose forecast was still open at 30 / 50 / 70 % of 400 steps
    # (a transition at or before the checkpoint closes it)
    assert {k: outcome for k, (_, outcome) in pairs.items()} == {
        "0.3": [1, 1, 1, 0, 1, 1, 0, 0], "0.5": [1, 0, 1, 0, 0], "0.7": [0, 1, 0, 0]}
    assert all(0 < c < 1 for chance, _ in pairs.values() for c in chance)
    inside = [(c, y) for chance, outcome in pairs.values() for c, y in zip(chance, outcome)
              if 0 < c < 1]
    assert {y for _, y in inside} == {0.0, 1.0}
    assert families.main(["chance-map", "--cache", str(fit), "--test-cache", str(test)]) == 0
    out = json.loads(capsys.readouterr().out)
    a, b = families.fit_chance_map(*zip(*inside))
    assert out["forecasts"] == len(inside)
    assert out["fitted"] == {"chance_slope": pytest.approx(a), "chance_shift": pytest.approx(b)}
    now = AnalyzerSettings()
    assert out["current"] == {"chance_slope": now.chance_slope,
                              "chance_shift": now.chance_shift}
    for key, (chance, outcome) in pairs.items():
        if chance:
            assert out["brier"][key]["n"] == len(chance)
            assert out["brier"][key]["fitted"] == pytest.approx(
                families.brier(chance, outcome, a, b))
            assert out["brier"][key]["current"] == pytest.approx(
                families.brier(chance, outcome, now.chance_slope, now.chance_shift))
    assert out["test_brier"] and all(v["n"] > 0 for v in out["test_brier"].values())
    assert families.main(["chance-map", "--cache", str(tmp_path / "none")]) == 1
    assert "too few open forecasts" in capsys.readouterr().err


def test_family_names_are_unique_across_every_group():
    """A family's name names its cache folder and its rows: two groups may not reuse one,
    and a group refuses a name given twice."""
    from family_tasks import GROUPS, _group
    names = [name for group in GROUPS.values() for name in group]
    assert len(names) == len(set(names))
    spec = next(iter(GROUPS["holdout114"].values()))
    with pytest.raises(ValueError, match="repeats"):
        _group(spec, spec)
