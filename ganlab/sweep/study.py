"""``ganlab sweep``: build the spec, train what is not done, write the results table and figures."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ganlab.sweep.figures import draw_sweep_figures
from ganlab.sweep.results import Evaluator
from ganlab.sweep.runner import SweepResult, run_sweep
from ganlab.sweep.spec import SweepSpec, build_spec, validate_spec


@dataclass
class StudyResult:
    spec: SweepSpec
    sweep: SweepResult
    figures: list[Path]


def default_sweep_dir(source: Optional[str]) -> Path:
    """sweeps/NAME for a sweep file or run config NAME.yaml (sweeps/defaults without one)."""
    return Path("sweeps") / (Path(source).stem if source else "defaults")


def run_study(source: Optional[str], items: tuple[str, ...] | list[str] = (), *, out: Optional[str | Path] = None,
              backend: Optional[str] = None, pack_size: Optional[int] = None, address: Optional[str] = None,
              metric: Optional[str] = None, floor: Optional[float] = None, stop_after_points: Optional[int] = None,
              force: bool = False, progress: bool = False, evaluator: Optional[Evaluator] = None,
              ray_num_cpus: Optional[int] = None) -> StudyResult:
    """Run (or resume) the sweep of ``source`` (a sweep YAML or a run config) plus inline ``key=VALUES`` items;
    options given here replace the spec's fields. Re-running with the same output directory resumes."""
    spec = build_spec(source, list(items))
    if address is not None and backend is None:
        backend = "ray"
    changes = {k: v for k, v in {"backend": backend, "pack_size": pack_size, "ray_address": address,
                                 "metric": metric, "floor": floor}.items() if v is not None}
    if metric is not None and metric != spec.metric and floor is None:
        changes["floor"] = None  # the spec's floor belongs to its own metric
    if changes:
        spec = dataclasses.replace(spec, **changes)
        validate_spec(spec)
    sweep_dir = Path(out) if out else default_sweep_dir(source)
    result = run_sweep(spec, sweep_dir, evaluator=evaluator, stop_after_points=stop_after_points, force=force,
                       progress=progress, ray_num_cpus=ray_num_cpus)
    figures = draw_sweep_figures(sweep_dir, result.rows, spec.swept_keys, spec.metric, spec.lower_is_better,
                                 spec.floor)
    return StudyResult(spec, result, figures)
