"""A point's final metrics and the sweep's results table (CSV and JSON lines)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Callable, Optional

from ganlab.folders import RunDir, SweepDir
from ganlab.io import atomic_write_text
from ganlab.sweeps.expand import Point
from ganlab.training.metrics_log import read_metrics

SPREAD_FIELDS = ("std", "ci_low", "ci_high", "precision", "recall")  # what a results row keeps of an eval record
Evaluator = Callable[[Path], dict[str, Any]]


def point_metrics(run_dir: str | Path, evaluator: Optional[Evaluator] = None) -> dict[str, Any]:
    """A finished run's metrics: its last training record of metrics.jsonl, the values of its last evaluation
    during training, the results of eval.json (``name`` = its value, ``name.std`` etc. for its spread) and
    ``evaluator(run_dir)`` when given (later sources win on equal names)."""
    run_dir = Path(run_dir)
    metrics: dict[str, Any] = {}
    records = list(read_metrics(run_dir))
    training = [r for r in records if r.get("kind") != "eval"]
    evals = [r for r in records if r.get("kind") == "eval"]
    if training:
        metrics.update(training[-1])
    if evals:
        metrics.update({name: m.get("value") for name, m in evals[-1]["metrics"].items()})
    files = RunDir(run_dir)
    metrics.update({f"parameters_{net}": n for net, n in files.read_status().get("parameters", {}).items()})
    for name, record in (files.read_eval() or {}).items():
        metrics[name] = record.get("value")
        metrics.update({f"{name}.{k}": record[k] for k in SPREAD_FIELDS if k in record})
    if evaluator is not None:
        metrics.update(evaluator(run_dir))
    return metrics


def result_rows(points: list[Point], entries: dict[str, dict[str, Any]], swept_keys: list[str]) -> list[dict[str, Any]]:
    """One row per point: id, state, seed, swept keys, metrics, then every other config key and the run dir."""
    rows = []
    for p in points:
        entry = entries.get(p.id, {})
        config = p.flat_config
        row: dict[str, Any] = {"point": p.id, "state": entry.get("state", "pending"), "seed": p.seed}
        row.update({k: config.get(k, p.values.get(k)) for k in swept_keys})
        row.update(entry.get("metrics", {}))
        row.update({k: v for k, v in config.items() if k not in row})
        row["run_dir"] = entry.get("run_dir", "")
        rows.append(row)
    return rows


def write_results(folders: SweepDir, rows: list[dict[str, Any]]) -> tuple[Path, Path]:
    """results.csv (lists as JSON text) and results.jsonl, both written atomically."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in row.items()})
    csv_path = atomic_write_text(folders.results_csv, buf.getvalue())
    jsonl_path = atomic_write_text(folders.results_jsonl, "".join(json.dumps(r) + "\n" for r in rows))
    return csv_path, jsonl_path


def read_results(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """The rows of a sweep's results.jsonl."""
    path = SweepDir(sweep_dir).results_jsonl
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return [r for r in rows if isinstance(r, dict)]
