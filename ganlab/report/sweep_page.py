"""What a sweep's report shows: its figures, its results table and a link to each run's report.

A sweep folder (``ganlab.folders.SweepDir``) holds one run folder per point, its results table and its figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganlab.folders import RunDir, SweepDir
from ganlab.report.embed import image
from ganlab.sweeps.results import read_results


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
        status = RunDir(run).read_status()
        grids = RunDir(run).epoch_grids()
        runs.append({"name": rel, "href": href, "state": status.get("state", "?"), "step": status.get("step", ""),
                     "thumb": image(grids[-1], rel) if grids else None})
    rows = read_results(sweep_dir)
    header = list(dict.fromkeys(k for r in rows for k in r))
    table = [[{"text": _cell(r.get(k, "")), "href": _link_for(r.get(k, ""), links)} for k in header] for r in rows]
    figures = [image(p) for p in sorted(SweepDir(sweep_dir).figures.glob("*.png"))]
    return {"title": sweep_dir.resolve().name, "sweep_dir": str(sweep_dir.resolve()), "figures": figures,
            "header": header, "table": table, "runs": runs}


def _cell(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(value) if float(number).is_integer() and "." not in str(value) else f"{number:.4g}"
