"""Sweeps: a grid over config keys and seeds, run sequentially, packed on one device, or on Ray."""

from ganlab.sweeps.expand import Point, expand
from ganlab.sweeps.results import point_metrics, read_results
from ganlab.sweeps.runner import SweepResult, run_sweep
from ganlab.sweeps.spec import SweepSpec, build_spec, load_sweep_file

__all__ = ["Point", "SweepResult", "SweepSpec", "build_spec", "point_metrics", "expand", "load_sweep_file",
           "read_results", "run_sweep"]
