"""``ganlab sweep``: build the spec, train and evaluate what is not done, write the results table and figures."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ganlab.folders import SweepDir, default_sweep_dir
from ganlab.io import atomic_write_json
from ganlab.sweeps.evaluation import metric_column, sweep_floor
from ganlab.sweeps.expand import expand
from ganlab.sweeps.figures import draw_sweep_figures
from ganlab.sweeps.results import Evaluator
from ganlab.sweeps.runner import SweepResult, run_sweep
from ganlab.sweeps.spec import SweepSpec, build_spec, eval_settings, validate_spec


@dataclass
class SweepOutcome:
    spec: SweepSpec
    sweep: SweepResult
    column: str  # the results column the figures draw (e.g. fid10k_test)
    floor: Optional[dict[str, Any]]  # the measured floor of that column, if the metric has one
    figures: list[Path]


def run_sweep_command(source: Optional[str], items: tuple[str, ...] | list[str] = (), *,
                      out: Optional[str | Path] = None, backend: Optional[str] = None, workers: Optional[int] = None,
                      pack_size: Optional[int] = None, address: Optional[str] = None, metric: Optional[str] = None,
                      eval_metrics: Optional[list[str]] = None, eval_n: Optional[int] = None, floor: Optional[bool] = None,
                      stop_after_points: Optional[int] = None, force: bool = False, progress: bool = False,
                      evaluator: Optional[Evaluator] = None, ray_num_cpus: Optional[int] = None) -> SweepOutcome:
    """Run (or resume) the sweep of ``source`` (a sweep YAML or a run config) plus inline ``key=VALUES`` items;
    options given here replace the spec's fields (``eval_metrics`` / ``eval_n``: its eval block's metrics / n).
    Re-running with the same output directory resumes; then measure the floor and draw the figures."""
    spec = build_spec(source, list(items))
    if address is not None and backend is None:
        backend = "ray"
    changes = {k: v for k, v in {"backend": backend, "workers": workers, "pack_size": pack_size, "ray_address": address,
                                 "metric": metric, "floor": floor}.items() if v is not None}
    evals = {k: v for k, v in {"metrics": eval_metrics, "n": eval_n}.items() if v is not None}
    if evals:
        changes["eval"] = {**spec.eval, **evals}
    if changes:
        spec = dataclasses.replace(spec, **changes)
        validate_spec(spec)
    sweep_dir = Path(out) if out else default_sweep_dir(source)
    result = run_sweep(spec, sweep_dir, evaluator=evaluator, stop_after_points=stop_after_points, force=force,
                       progress=progress, ray_num_cpus=ray_num_cpus)
    settings = eval_settings(spec)
    column = metric_column(spec.metric, settings)
    measured = None
    if spec.floor and result.remaining == 0 and any(column in r for r in result.rows):
        measured = sweep_floor(spec.metric, expand(spec)[0].cfg, settings)
        if measured is not None:
            atomic_write_json(SweepDir(sweep_dir).floor(measured["column"]), measured)
    figures = draw_sweep_figures(sweep_dir, result.rows, spec.swept_keys, column, spec.lower_is_better,
                                 measured["value"] if measured else None)
    return SweepOutcome(spec, result, column, measured, figures)
