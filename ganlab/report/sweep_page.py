"""What a sweep's report shows: its figures, its results table and a link to each run's report.

A sweep directory holds one run directory per point (found as sub-folders, up to two levels deep,
that hold a config.yaml), a results table (results.csv, else results.jsonl) and figures/*.png.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from ganlab.report.embed import image
from ganlab.report.run_page import read_json

RUN_MARKER = "config.yaml"


def is_sweep_dir(path: Path) -> bool:
    """A folder with a results table, or run folders inside but no config of its own."""
    if (path / RUN_MARKER).is_file():
        return False
    return (path / "results.csv").is_file() or (path / "results.jsonl").is_file() or bool(find_runs(path))


def find_runs(sweep_dir: Path) -> list[Path]:
    """The run directories of a sweep, sorted by path."""
    runs = [p.parent for p in sweep_dir.glob(f"*/{RUN_MARKER}")] + [p.parent for p in sweep_dir.glob(f"*/*/{RUN_MARKER}")]
    return sorted(set(runs))


def results_rows(sweep_dir: Path) -> list[dict[str, Any]]:
    """The rows of results.csv (or results.jsonl); [] when there is neither."""
    csv_path, jsonl_path = sweep_dir / "results.csv", sweep_dir / "results.jsonl"
    if csv_path.is_file():
        with csv_path.open(newline="") as f:
            return list(csv.DictReader(f))
    if jsonl_path.is_file():
        rows = []
        for line in jsonl_path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                rows.append(row)
        return rows
    return []


def _link_for(value: Any, links: dict[str, str]) -> str | None:
    text = str(value).rstrip("/")
    return links.get(text) or links.get(Path(text).name)


def sweep_context(sweep_dir: Path, run_reports: dict[Path, Path]) -> dict[str, Any]:
    """Everything the sweep template shows; ``run_reports`` maps each run directory to its report file."""
    links: dict[str, str] = {}
    runs = []
    for run, report in sorted(run_reports.items()):
        href = report.relative_to(sweep_dir).as_posix()
        rel = run.relative_to(sweep_dir).as_posix()
        for key in (rel, run.name, str(run), str(run.resolve())):
            links[key] = href
        status = read_json(run / "status.json") or {}
        grids = sorted((run / "samples").glob("epoch_*.png"))
        runs.append({"name": rel, "href": href, "state": status.get("state", "?"), "step": status.get("step", ""),
                     "thumb": image(grids[-1], rel) if grids else None})
    rows = results_rows(sweep_dir)
    header = list(dict.fromkeys(k for r in rows for k in r))
    table = [[{"text": _cell(r.get(k, "")), "href": _link_for(r.get(k, ""), links)} for k in header] for r in rows]
    figures = [image(p) for p in sorted((sweep_dir / "figures").glob("*.png"))]
    return {"title": sweep_dir.resolve().name, "sweep_dir": str(sweep_dir.resolve()), "figures": figures,
            "header": header, "table": table, "runs": runs}


def _cell(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(value) if float(number).is_integer() and "." not in str(value) else f"{number:.4g}"
