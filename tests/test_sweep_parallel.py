"""The parallel backend: points in worker processes with one thread each, the same results as training them
one after another. (A study whose sweep trains in parallel workers, killed with kill -9 and run again, ends as one
run straight through: tests/test_studies.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sweep_helpers import TINY

from ganlab.sweeps import build_spec, read_results, run_sweep
from ganlab.sweeps.parallel import run_parallel, worker_count

TRAINED = ("step", "loss_d", "loss_g", "d_real", "d_fake", "acc_real", "acc_fake")
ITEMS = [*TINY, "train.steps=15", "train.log_every=5", "model.z_dim=2,4", "seed=0,1"]


def _trained(sweep: Path) -> dict[str, dict]:
    return {r["point"]: {k: r.get(k) for k in TRAINED} for r in read_results(sweep)}


def test_worker_count_fills_the_cores_and_never_exceeds_the_points():
    assert worker_count(4, 2) == 2 and worker_count(1, 8) == 1 and worker_count(3, 0) >= 1


def test_an_error_while_the_pool_runs_stops_the_sweep_with_that_error():
    def fails(job):
        raise RuntimeError("the sweep's own error")

    with pytest.raises(RuntimeError, match="the sweep's own error"):  # not the pool's clean-up failing after it
        run_parallel([object()], fails, lambda job, error: None, False, workers=1)


def test_parallel_trains_what_sequential_trains(tmp_path):
    parallel = run_sweep(_spec("parallel"), tmp_path / "par")
    sequential = run_sweep(_spec("sequential"), tmp_path / "seq")
    assert parallel.trained == sequential.trained == 4 and parallel.remaining == 0
    a, b = _trained(tmp_path / "par"), _trained(tmp_path / "seq")
    assert a.keys() == b.keys() and all(a[p]["step"] == 15 for p in a)
    for point in a:  # one thread against two: the same training up to float summation order
        for key in TRAINED[1:]:
            assert a[point][key] == pytest.approx(b[point][key], rel=1e-3, abs=1e-4), (point, key)


def _spec(backend: str):
    spec = build_spec(None, ITEMS)
    spec.backend, spec.workers = backend, 2
    return spec


def test_a_freed_worker_starts_the_next_point_before_the_finished_one_is_recorded(tmp_path):
    # so it trains while the sweep's process evaluates the finished point (on_done)
    from ganlab.sweeps.expand import expand
    from ganlab.sweeps.jobs import Job
    from ganlab.training.rundir import plan_run

    points = expand(build_spec(None, [*TINY, "model.z_dim=2,4"]))
    jobs = [Job(p, tmp_path / p.id, plan_run(tmp_path / p.id, p.cfg)) for p in points]
    events = []
    run_parallel(jobs, lambda job: events.append(("start", job.point.id)),
                 lambda job, error: events.append(("done", job.point.id, error)), False, workers=1)
    a, b = (p.id for p in points)
    assert events == [("start", a), ("start", b), ("done", a, None), ("done", b, None)]
