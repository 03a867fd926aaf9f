"""README.md (and the docs it points to) agree with the code.

Checked: every ``nht_*`` series named in README.md and the docs exists in the
exporter's ``SERIES`` (and docs/METRICS.md, generated from it, names every one); the
README's alert list is the rules file's; the README's (and docs/METRICS.md's) complete
``prometheus.yml`` snippet passes ``promtool check config`` and is loaded by the real
Prometheus with the rule files beside it; the metric keys the README says the engine
reads are ``AnalyzerSettings``'s; every ``nht-monitor`` command shown names a
subcommand that exists (and concrete ones parse); every repository path exists.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest

from nht_monitor.analysis.settings import AnalyzerSettings
from nht_monitor.cli import build_parser, main
from nht_monitor.exporter.metrics import SERIES

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
METRICS_DOC = ROOT / "docs" / "METRICS.md"
OWN_DOCS = [README, METRICS_DOC, ROOT / "docs" / "DASHBOARDS.md", ROOT / "docs" / "INTEGRATIONS.md"]
RULES = ROOT / "deploy" / "prometheus" / "rules"
ALERT_RULES = RULES / "nht-monitor-alerts.yml"

FENCE_RE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
INLINE_RE = re.compile(r"`([^`\n]+)`")
SPAN_RE = re.compile(r"`([^`]+)`")
RECORDED_RE = re.compile(r"\b\w+:nht_\w+:\w+")  # recording-rule names (level:metric:ops)
SERIES_RE = re.compile(r"(?<![\w./:-])nht_[a-z0-9_]+\*?")  # nht_layer_* is a family
NOT_SERIES = {"nht_monitor"}  # the package
ALERT_RE = re.compile(r"\bNht[A-Z][A-Za-z]+\b")
PATH_RE = re.compile(r"(?<![\w./-])(?:deploy|docs|benchmarks|nht_monitor|scripts|tests)"
                     r"/[\w./*-]*[\w*/]")
SERIES_NAMES = {spec.name for spec in SERIES}
KEY_SETTINGS = ("train_loss_keys", "train_acc_keys", "val_acc_keys")


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def fenced(source: str) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced code block."""
    return FENCE_RE.findall(source)


def inline(source: str) -> list[str]:
    """Inline code spans outside the fenced blocks (a span may wrap a line)."""
    return [" ".join(span.split()) for span in SPAN_RE.findall(FENCE_RE.sub("", source))]


def series_named(source: str) -> set[str]:
    """Series names in ``source``; a family ``nht_layer_*`` stands for the series it
    prefixes (and must prefix at least one)."""
    named = set()
    for name in set(SERIES_RE.findall(RECORDED_RE.sub("", source))) - NOT_SERIES:
        if name.endswith("*"):
            family = {s for s in SERIES_NAMES if s.startswith(name[:-1])}
            assert family, f"{name} matches no series"
            named |= family
        else:
            named.add(name)
    return named


def alerts_in_rules() -> set[str]:
    groups = yaml.safe_load(text(ALERT_RULES))["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


# -- series and alerts -------------------------------------------------------------------

@pytest.mark.parametrize("path", OWN_DOCS, ids=lambda p: p.name)
def test_every_series_named_exists(path):
    named = series_named(text(path))
    unknown = sorted(named - SERIES_NAMES)
    assert not unknown, f"{path.name} names series the exporter does not serve: {unknown}"


def test_readme_names_the_error_counter():
    named = series_named(text(README))
    assert "nht_errors_total" in named and len(named) >= 6
    assert "nht_internal_errors_total" not in text(README)


def test_metrics_doc_names_every_series():
    assert series_named(text(METRICS_DOC)) == SERIES_NAMES


@pytest.mark.parametrize("path", [README, METRICS_DOC], ids=lambda p: p.name)
def test_alert_list_is_the_rules_file(path):
    assert set(ALERT_RE.findall(text(path))) == alerts_in_rules()


# -- the scrape configuration -------------------------------------------------------------

def scrape_snippet(path: Path) -> dict:
    blocks = [body for lang, body in fenced(text(path))
              if lang == "yaml" and "scrape_configs" in body and "global:" in body]
    assert len(blocks) == 1, f"{path.name}: expected one prometheus.yml snippet"
    return yaml.safe_load(blocks[0])


def scrape_job_snippets(path: Path) -> list[dict]:
    """The other YAML snippets holding scrape jobs (federation, per-rank targets), as the
    ``scrape_configs`` list they belong in."""
    out = []
    for lang, body in fenced(text(path)):
        if lang != "yaml" or "global:" in body or "job_name" not in body:
            continue
        loaded = yaml.safe_load(textwrap.dedent(body))
        out.append(loaded["scrape_configs"] if isinstance(loaded, dict) else loaded)
    return out


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed")
def test_scrape_job_snippets_pass_promtool(tmp_path):
    jobs = scrape_job_snippets(README)
    assert len(jobs) >= 2  # per-rank targets, federation
    for i, job in enumerate(jobs):
        path = tmp_path / f"snippet{i}.yml"
        path.write_text(yaml.safe_dump({"scrape_configs": job}))
        result = subprocess.run(["promtool", "check", "config", str(path)],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr


def test_snippets_are_complete_and_agree():
    readme = scrape_snippet(README)
    assert scrape_snippet(METRICS_DOC) == readme
    assert set(readme) == {"global", "rule_files", "alerting", "scrape_configs"}
    interval = readme["global"]["scrape_interval"]
    assert re.fullmatch(r"\d+s", interval) and int(interval[:-1]) * 2 < 60, \
        "the deriv()[1m] recording rules need two samples a minute"
    assert sorted(readme["rule_files"]) == sorted(p.name for p in RULES.glob("*.yml"))
    jobs = {job["job_name"] for job in readme["scrape_configs"]}
    assert jobs == {"nht-monitor", "nht-monitor-sidecar"}
    assert readme["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]


def _with_rules(directory: Path, config: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in config["rule_files"]:
        shutil.copy(RULES / name, directory / name)
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed")
def test_snippet_passes_promtool(tmp_path):
    path = _with_rules(tmp_path, scrape_snippet(README))
    result = subprocess.run(["promtool", "check", "config", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rule files found" in result.stdout


@pytest.mark.prometheus
@pytest.mark.skipif(not shutil.which("prometheus"), reason="prometheus not installed")
def test_real_prometheus_loads_the_snippet(tmp_path):
    from tests.support.prometheus import PrometheusServer

    config = scrape_snippet(README)
    _with_rules(tmp_path, config)  # the rule files beside the config, as the README says
    with PrometheusServer(workdir=tmp_path, config=config) as prometheus:
        groups = prometheus.rules()
        loaded = {rule["name"] for group in groups for rule in group["rules"]}
        assert alerts_in_rules() <= loaded
        assert any(name.endswith(":deriv1m") for name in loaded)
        jobs = prometheus.wait_for(
            lambda: {target["labels"]["job"] for target in prometheus.targets()},
            message="the scrape targets")
        assert jobs == {"nht-monitor", "nht-monitor-sidecar"}
        with urllib.request.urlopen(f"{prometheus.url}/api/v1/alertmanagers",
                                    timeout=5) as response:
            managers = json.loads(response.read())["data"]["activeAlertmanagers"]
        assert [m["url"] for m in managers] == ["http://127.0.0.1:9093/api/v2/alerts"]
        with urllib.request.urlopen(f"{prometheus.url}/api/v1/status/config",
                                    timeout=5) as response:
            running = yaml.safe_load(json.loads(response.read())["data"]["yaml"])
        assert running["global"]["scrape_interval"] == config["global"]["scrape_interval"]


# -- the engine's metric keys -----------------------------------------------------------------

def test_metric_keys_are_the_engines():
    rows = [line for line in text(README).splitlines() if line.startswith("|")]
    defaults = AnalyzerSettings()
    for setting in KEY_SETTINGS:
        (row,) = [r for r in rows if f"`{setting}`" in r]
        keys = INLINE_RE.findall(row.rstrip(" |").rsplit("|", 1)[1])
        assert tuple(keys) == getattr(defaults, setting), setting
    section = text(README).split("### What to pass to `monitor.log`", 1)[1].split("\n## ", 1)[0]
    for key in ("train_loss", "train_acc", "val_acc", "test_acc"):
        assert f"`{key}`" in section


def test_readme_says_where_the_log_path_is_shown(tmp_path, caplog):
    """The README quotes the line ``watch()`` logs (logger, level, wording)."""
    import logging

    torch = pytest.importorskip("torch")
    import nht_monitor

    source = text(README)
    assert "at INFO on logger `nht_monitor`" in source and "monitor.log_path" in source
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    caplog.set_level(logging.INFO, logger="nht_monitor")
    with nht_monitor.watch(model, optimizer, log_dir=tmp_path / "exp1", run_id="r1",
                           assess=False) as monitor:
        pass
    (record,) = [r for r in caplog.records if "watching run" in r.getMessage()]
    assert record.name == "nht_monitor" and record.levelno == logging.INFO
    assert record.getMessage() == f"nht-monitor: watching run r1, log {monitor.log_path}"
    assert "`nht-monitor: watching run <run_id>, log" in " ".join(source.split())


# -- commands ---------------------------------------------------------------------------------

def block_command_lines() -> list[str]:
    """``nht-monitor ...`` command lines of the README's code blocks (comments cut)."""
    lines = []
    for _lang, body in fenced(text(README)):
        for line in body.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("nht-monitor"):
                lines.append(line.split("  #", 1)[0].strip())
    return sorted(set(lines))


def command_lines() -> list[str]:
    """Every ``nht-monitor ...`` of the README: code blocks and inline code (these are
    often references like `nht-monitor backtest` or have placeholders)."""
    spans = [span.strip() for span in inline(text(README)) if span.startswith("nht-monitor ")]
    return sorted(set(block_command_lines()) | set(spans))


def subcommand_path(tokens: list[str]) -> list[str]:
    """The leading tokens that name (nested) subcommands of the CLI."""
    parser, path = build_parser(), []
    for token in tokens:
        actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not actions or token not in actions[0].choices:
            break
        parser = actions[0].choices[token]
        path.append(token)
    return path


def test_readme_shows_commands():
    assert len(command_lines()) >= 10


@pytest.mark.parametrize("line", command_lines())
def test_every_command_exists(line, capsys):
    tokens = line.split()[1:]
    if tokens in (["--help"], ["--version"]):  # a top-level option, no subcommand
        argv = tokens
    else:
        path = subcommand_path(tokens)
        assert path, f"{line!r}: no such subcommand"
        argv = [*path, "--help"]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    capsys.readouterr()



PLACEHOLDER_RE = re.compile(r"[\[\]|<>…]|\.\.\.")


def concrete_lines() -> list[str]:
    """Command lines to parse: every one of a code block, and the inline ones without
    placeholders (``[--json]``, ``...``, ``N``, ``DIR``)."""
    spans = [line for line in command_lines() if line not in block_command_lines()
             and not PLACEHOLDER_RE.search(line)
             and not any(re.fullmatch(r"[A-Z][A-Z_]*", t) for t in line.split())
             and len(line.split()) - 1 > len(subcommand_path(line.split()[1:]))]  # not a name
    return sorted(set(block_command_lines()) | set(spans))


@pytest.mark.parametrize("line", concrete_lines())
def test_concrete_command_lines_parse(line):
    """What the README tells people to type is accepted by the CLI's parser."""
    tokens = line.split()[1:]
    assert not re.search(r"[\[\]|<>…]|\.\.\.", line), \
        f"{line!r}: write a runnable command in a code block (DIR-like names are fine)"
    if tokens in (["--help"], ["--version"]):
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args(tokens)
        assert exit_info.value.code == 0
        return
    build_parser().parse_args(tokens)


def test_console_script_help():
    """The CLI entry point runs in a fresh interpreter (``nht-monitor --help`` exits 0)."""
    script = Path(sys.executable).parent / "nht-monitor"  # the installed console script
    entry = "import sys; from nht_monitor.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [str(script)] if script.is_file() else [sys.executable, "-c", entry]
    result = subprocess.run([*command, "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "exporter" in result.stdout


# -- paths ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", OWN_DOCS, ids=lambda p: p.name)
def test_every_repository_path_exists(path):
    missing = []
    for found in sorted(set(PATH_RE.findall(text(path)))):
        if "<" in found:
            continue
        candidate = found.rstrip("/.")
        if "*" in candidate:
            if not list(ROOT.glob(candidate)):
                missing.append(found)
        elif not (ROOT / candidate).exists():
            missing.append(found)
    assert not missing, f"{path.name} points at paths that do not exist: {missing}"
