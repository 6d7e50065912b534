"""Sweeps: a grid over config keys and seeds, run sequentially, packed on one device, or on Ray."""

from ganlab.sweep.expand import Point, expand
from ganlab.sweep.results import point_metrics, read_results
from ganlab.sweep.runner import SweepResult, run_sweep
from ganlab.sweep.spec import SweepSpec, build_spec, load_sweep_file

__all__ = ["Point", "SweepResult", "SweepSpec", "build_spec", "point_metrics", "expand", "load_sweep_file",
           "read_results", "run_sweep"]
