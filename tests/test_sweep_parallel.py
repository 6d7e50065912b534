"""The parallel backend: points in worker processes with one thread each, the same results as training them
one after another, and a sweep killed with kill -9 ends, once run again, as one run straight through."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_helpers import TINY

from ganlab.folders import RunDir, SweepDir
from ganlab.sweeps import build_spec, read_results, run_sweep
from ganlab.sweeps.parallel import worker_count

TRAINED = ("step", "loss_d", "loss_g", "d_real", "d_fake", "acc_real", "acc_fake")
ITEMS = [*TINY, "train.steps=30", "train.checkpoint_every=5", "train.log_every=5", "model.z_dim=2,4", "seed=0,1"]


def _trained(sweep: Path) -> dict[str, dict]:
    return {r["point"]: {k: r.get(k) for k in TRAINED} for r in read_results(sweep)}


def test_worker_count_fills_the_cores_and_never_exceeds_the_points():
    assert worker_count(4, 2) == 2 and worker_count(1, 8) == 1 and worker_count(3, 0) >= 1


def test_parallel_trains_what_sequential_trains(tmp_path):
    parallel = run_sweep(_spec("parallel"), tmp_path / "par")
    sequential = run_sweep(_spec("sequential"), tmp_path / "seq")
    assert parallel.trained == sequential.trained == 4 and parallel.remaining == 0
    a, b = _trained(tmp_path / "par"), _trained(tmp_path / "seq")
    assert a.keys() == b.keys() and all(a[p]["step"] == 30 for p in a)
    for point in a:  # one thread against two: the same training up to float summation order
        for key in TRAINED[1:]:
            assert a[point][key] == pytest.approx(b[point][key], rel=1e-3, abs=1e-4), (point, key)


def _spec(backend: str):
    spec = build_spec(None, ITEMS)
    spec.backend, spec.workers = backend, 2
    return spec


def _sweep(out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ganlab", "sweep", *ITEMS, "--backend", "parallel", "--workers",
                             "2", "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads worker processes from /proc (Linux)")
def test_parallel_sweep_killed_and_run_again_ends_as_one_run_straight_through(tmp_path):
    straight, cut = tmp_path / "straight", tmp_path / "cut"
    assert _sweep(straight).wait(timeout=600) == 0
    proc = _sweep(cut)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:  # kill once two points train between checkpoints
        runs = [RunDir(r) for r in SweepDir(cut).run_dirs()]
        if sum(r.state() == "running" and r.has_checkpoint() for r in runs) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    workers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)
    assert workers and not [w for w in workers if Path(f"/proc/{w}").exists() and
                            "zombie" not in Path(f"/proc/{w}/status").read_text()]  # died with the sweep
    assert any(r.state() == "running" for r in map(RunDir, SweepDir(cut).run_dirs()))
    again = _sweep(cut)
    assert again.wait(timeout=600) == 0, again.stderr.read()
    assert _trained(cut) == _trained(straight) and len(_trained(cut)) == 4
