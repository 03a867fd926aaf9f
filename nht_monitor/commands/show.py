"""``nht-monitor show RUN.jsonl``: a short table of a run log's last samples."""

from __future__ import annotations

import argparse


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def render(path: str, last: int = 10) -> str:
    """The table ``show`` prints, as text."""
    from nht_monitor.runlog import read_run

    run = read_run(path)
    header = run.header
    lines = [f"run {header.run_id}  model {header.model.class_name} "
             f"({header.model.n_params:,} params, {len(header.layers)} layers, head "
             f"{header.head or '-'})  samples {len(run.samples)}"
             + (f"  skipped {run.skipped_lines} unreadable line(s) (corrupt or over-long)"
                if run.skipped_lines else "")
             + ("  (last line truncated)" if run.truncated else "")]
    metric_names = sorted({k for s in run.samples[-last:] for k in s.metrics})
    columns = ["step", "tau", "lr", "wd", "norm", "head_norm", "grad_norm", *metric_names, "regime"]
    rows = []
    for s in run.samples[-last:]:
        regime = (s.assessment or {}).get("regime", "")
        rows.append([str(s.step), _fmt(s.tau), _fmt(s.lr), _fmt(s.weight_decay), _fmt(s.norm),
                     _fmt(s.head_norm), _fmt(s.grad_norm),
                     *(_fmt(s.metrics.get(m)) for m in metric_names), regime])
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
              for i, c in enumerate(columns)]
    lines.append("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    lines.extend("  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in rows)
    if not rows:
        lines.append("(no samples yet)")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    print(render(args.run, args.last))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("show", help="print the last samples of a run log")
    parser.add_argument("run", help="path to RUN.jsonl")
    parser.add_argument("-n", "--last", type=int, default=10, help="how many samples (default 10)")
    parser.set_defaults(func=_run)
