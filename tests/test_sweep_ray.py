"""The Ray backend on a local instance on the CPU (skipped where ray is not installed)."""

from __future__ import annotations

import json

import pytest

ray = pytest.importorskip("ray")

from sweep_helpers import TINY  # noqa: E402

from ganlab.folders import RunDir
from ganlab.sweeps import build_spec, run_sweep  # noqa: E402


def test_ray_backend_trains_points_as_tasks(tmp_path):
    spec = build_spec(None, [*TINY, "model.z_dim=2,4", "seed=0"])
    out = tmp_path / "sw"
    spec.backend = "sequential"  # one point trained beforehand (one Ray start-up is enough for the test)
    first = run_sweep(spec, out, stop_after_points=1)
    assert (first.trained, first.remaining) == (1, 1)
    spec.backend = "ray"
    result = run_sweep(spec, out, ray_num_cpus=2)
    assert (result.trained, result.skipped, result.remaining) == (1, 1, 0)
    assert not ray.is_initialized()  # the local instance it started is shut down
    for row in result.rows:
        assert row["state"] == "finished" and row["step"] == 6
        run = out / row["run_dir"]
        assert json.loads(RunDir(run).status.read_text())["state"] == "finished"
        assert RunDir(run).export().is_file()
