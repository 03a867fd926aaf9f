"""Ray Tune: a real ``tune.Tuner(...).fit()`` on CPU with the NHTStopper — a trial with a
huge weight decay is stopped as strong, a healthy one runs its budget — and the stopper,
the report and the watch options on their own."""

from __future__ import annotations

import logging

import pytest

pytest.importorskip("ray.tune")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import nht_monitor  # noqa: E402
from nht_monitor.integrations.early_stop import STATE_FIELDS, StopPolicy  # noqa: E402
from nht_monitor.integrations.ray_tune import (  # noqa: E402
    NHTStopper, experiment_name, report_fields, trial_watch_options)
from nht_monitor.runlog import read_run  # noqa: E402

BUDGET = 300
REPORT_EVERY = 20


def modarith_trial(config):
    """The modular-arithmetic demo's run (p = 31) at the trial's λ, reporting to Tune."""
    from ray import tune

    from nht_monitor.demos.modular_arithmetic import ModArithConfig, train_run

    torch.set_num_threads(1)
    cfg = ModArithConfig(p=31, width=64, lr=1e-2, weight_decay=config["weight_decay"],
                         steps=BUDGET, device="cpu", log_dir=config["log_dir"],
                         eval_every=10)
    options = trial_watch_options(config)

    def progress(step, monitor):
        if step % REPORT_EVERY == 0:
            tune.report({"log_path": str(monitor.log_path), **report_fields(monitor)})

    train_run(cfg.model_copy(update={"run_id": options["run_id"]}), progress=progress,
              monitor_kwargs={"budget_steps": BUDGET, "sweep": options.get("sweep"),
                              "assess_every": 1, "assess_interval": 0.0,
                              "write_interval": 0.0})


def linear_trial(config):
    """A separable linear task that generalises at once (transition done early)."""
    from ray import tune

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(512, 8, generator=g)
    y = (x @ torch.randn(8, generator=g) > 0).long()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=config["weight_decay"])
    options = trial_watch_options(config)
    with nht_monitor.watch(model, opt, log_dir=config["log_dir"], budget_steps=BUDGET,
                           assess_every=1, assess_interval=0.0, write_interval=0.0,
                           **options) as monitor:
        for step in range(1, BUDGET + 1):
            out = model(x[:384])
            loss = F.cross_entropy(out, y[:384])
            opt.zero_grad()
            loss.backward()
            opt.step()
            metrics = {"train_loss": loss.detach(),
                       "train_acc": (out.argmax(1) == y[:384]).float().mean()}
            if step % 10 == 0:
                with torch.no_grad():
                    metrics["val_acc"] = (model(x[384:]).argmax(1) == y[384:]).float().mean()
            monitor.log(**metrics)
            if step % REPORT_EVERY == 0:
                tune.report({"log_path": str(monitor.log_path), **report_fields(monitor)})


CASES = {"strong": (modarith_trial, 30.0), "healthy": (linear_trial, 0.01)}
"""Trial case → (trainable, weight decay): λ = 30 at lr 1e-2 collapses the modular
arithmetic MLP's norm (strong); the linear task generalises at λ = 0.01."""


def trial(config):
    fn, weight_decay = CASES[config["case"]]
    fn({**config, "weight_decay": weight_decay})


@pytest.fixture(scope="module")
def ray_local():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_tuner_stops_the_strong_trial_and_runs_the_healthy_one_to_budget(
        ray_local, tmp_path, caplog):
    from ray import tune

    caplog.set_level(logging.INFO, logger="nht_monitor.integrations.ray_tune")
    stopper = NHTStopper(grace_fraction=0.1)
    tuner = tune.Tuner(
        trial,
        param_space={"log_dir": str(tmp_path / "runs"),
                     "case": tune.grid_search(["strong", "healthy"])},
        tune_config=tune.TuneConfig(max_concurrent_trials=2),
        run_config=tune.RunConfig(name="nht-tune-test", storage_path=str(tmp_path / "ray"),
                                  stop=stopper, verbose=0))
    results = tuner.fit()
    assert not results.errors
    by_case = {r.config["case"]: r for r in results}
    strong, healthy = by_case["strong"].metrics, by_case["healthy"].metrics

    # the strong trial: stopped by the stopper, with the reason in the result
    assert strong["nht/stop"] is True
    assert strong["nht/stop_rule"] in ("strong", "diverged")
    assert strong["nht/regime"] in ("strong", "diverged")
    assert "confidence" in strong["nht/stop_reason"]
    assert "collapsed" in strong["nht/reasons"]
    assert BUDGET * 0.1 <= strong["nht/step"] < BUDGET
    strong_log = read_run(strong["log_path"])
    assert strong_log.samples[-1].step < BUDGET  # the trial really stopped early

    # the healthy trial: kept at every report, ran its whole budget
    assert healthy["nht/stop"] is False
    assert healthy["nht/step"] == BUDGET
    assert healthy["nht/transition_status"] == "done"
    assert read_run(healthy["log_path"]).samples[-1].step == BUDGET
    assert all(set(STATE_FIELDS) <= set(r.metrics) for r in results)

    # both trials are one sweep: the experiment's name, in each run log's header
    for m in (strong, healthy):
        assert read_run(m["log_path"]).header.sweep == "nht-tune-test"

    # the decision was logged with the engine's reasons
    stops = [r.getMessage() for r in caplog.records if "nht-monitor: stop trial" in r.getMessage()]
    assert len(stops) == 1
    assert "(strong)" in stops[0] or "(diverged)" in stops[0]
    assert "Engine reasons:" in stops[0] and "collapsed" in stops[0]


# ------------------------------------------------------------- the parts on their own
def result(**fields):
    """A result with the ``nht/`` fields of a strong trial; ``regime=...`` etc. override."""
    base = {"nht/step": 500, "nht/budget_steps": 1000, "nht/n_samples": 500,
            "nht/regime": "strong", "nht/confidence": 0.9, "nht/reasons": "collapsed | x"}
    return {"training_iteration": 3, **base, **{f"nht/{k}": v for k, v in fields.items()}}


def test_stopper_decides_logs_and_annotates_the_result(caplog):
    caplog.set_level(logging.DEBUG, logger="nht_monitor.integrations.ray_tune")
    stopper = NHTStopper()
    r = result()
    assert stopper("t1", r) is True
    assert r["nht/stop"] is True and r["nht/stop_rule"] == "strong"
    assert "0.90 ≥ 0.6" in r["nht/stop_reason"]
    assert stopper.decisions["t1"].stop
    assert any("stop trial t1" in m and "collapsed; x" in m for m in caplog.messages)
    kept = result(regime="undetermined")
    assert stopper("t2", kept) is False and kept["nht/stop_rule"] == "undetermined"
    assert stopper.stop_all() is False


def test_stopper_leaves_other_results_alone_and_never_raises(caplog):
    stopper = NHTStopper()
    plain = {"training_iteration": 1, "loss": 0.3}
    assert stopper("t", plain) is False and "nht/stop" not in plain
    assert stopper("t", result(step="not a number")) is False
    assert any("cannot decide" in m for m in caplog.messages)


def test_stopper_policy_is_validated_at_construction():
    assert NHTStopper(min_confidence=0.9).policy.min_confidence == 0.9
    assert NHTStopper({"grace_fraction": 0.3}).policy.grace_fraction == 0.3
    assert NHTStopper(StopPolicy(min_samples=3)).policy.min_samples == 3
    with pytest.raises(ValueError, match="min_confidence"):
        NHTStopper(min_confidence=2.0)
    with pytest.raises(ValueError, match="grace"):
        NHTStopper(grace=0.5)
    strict = NHTStopper(min_confidence=0.95)
    assert strict("t", result()) is False


def test_report_fields_of_a_real_monitor(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    with nht_monitor.watch(model, opt, log_dir=tmp_path, budget_steps=50, assess_every=1,
                           assess_interval=0.0) as monitor:
        empty = report_fields(monitor)
        assert empty["nht/step"] == 0 and empty["nht/regime"] is None
        for _ in range(12):
            loss = model(torch.randn(16, 4)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            monitor.log(train_loss=loss.detach())
        fields = report_fields(monitor)
    assert set(fields) == set(STATE_FIELDS)
    assert fields["nht/step"] == 12 and fields["nht/budget_steps"] == 50
    assert fields["nht/regime"] in ("undetermined", "weak", "intermediate", "strong")
    assert fields["nht/n_samples"] >= 1 and isinstance(fields["nht/reasons"], str)
    assert report_fields(object()) == {}  # never raises


def test_watch_options_outside_a_session():
    assert experiment_name({"nht/sweep": "grid/λ 1"}) == "grid-1"
    assert trial_watch_options({"nht/sweep": "my-sweep"}) == {"sweep": "my-sweep"}
    assert trial_watch_options() == {}


@pytest.mark.slow
def test_demo_grid_counts_steps_and_compares_the_best(ray_local, tmp_path):
    """The ``demo modular-arithmetic --tune`` grid on a quick config: the strong trial is
    stopped, the other runs its budget; compute and the best trial as the demo prints."""
    from nht_monitor.demos.modular_arithmetic.config import ModArithConfig
    from nht_monitor.demos.modular_arithmetic.tune import run_grid, saved_fraction, summary

    cfg = ModArithConfig(p=31, width=64, steps=BUDGET, device="cpu", log_dir=tmp_path)
    outcomes = run_grid(cfg, [(30.0, 1e-2), (2.0, 1e-2)], name="demo-grid-test",
                        storage=tmp_path / "ray", stopper=NHTStopper(), report_every=20)
    by_wd = {o.weight_decay: o for o in outcomes}
    assert by_wd[30.0].stopped and by_wd[30.0].stop_rule == "strong"
    assert by_wd[30.0].steps_run == by_wd[30.0].stop_step < BUDGET
    assert not by_wd[2.0].stopped and by_wd[2.0].steps_run == BUDGET
    assert by_wd[2.0].final_val_acc >= 0.9
    run, full, saved = saved_fraction(outcomes)
    assert (run, full) == (by_wd[30.0].steps_run + BUDGET, 2 * BUDGET) and 0 < saved < 0.5
    reference = {(o.weight_decay, o.lr): o.final_val_acc for o in outcomes}
    text = summary(outcomes, reference, 1.0, 0.0, "test")
    assert "stopped 1 of 2 trials" in text and f"{saved:.1%} saved" in text
    assert "unchanged" in text
