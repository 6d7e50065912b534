"""Sweep backends side by side on this machine: the same points trained sequentially (one process, every thread)
and by the parallel backend (worker processes, one thread each) with 1 and with all allowed cores as workers.

    python benchmarks/sweep_backends.py --data-root DATA                      # report 000's and 001's cpu scale

Each case trains the same points from scratch into a fresh folder, timed as a whole (with --eval, each point is
also evaluated when it finishes, as a study's sweeps are); the rate is model-iterations per second (points x steps
/ wall time) and the ratio is against sequential in the same round.
Rounds alternate the cases (A B C A B C ...), so a machine whose speed drifts shows in every case alike.
Writes benchmarks/results/sweep_backends-cpu.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_env import environment  # noqa: E402

from ganlab.devices import allowed_cores  # noqa: E402
from ganlab.io import atomic_write_json  # noqa: E402
from ganlab.sweeps.command import run_sweep_command  # noqa: E402

SWEEPS = {  # the cpu scale of each report's sweep (studies/report00N.yaml), a few of its points
    "report000": ("configs/sweep_report000_latent.yaml",
                  ["model.g_width=32", "model.d_width=32", "model.z_dim=2,8", "seed=0,1"]),
    "report001": ("configs/sweep_report001_grid.yaml",
                  ["model.z_dim=16,100", "model.g_width=16", "model.d_width=100", "seed=0,1"]),
}


def run_case(sweep: str, items: list[str], backend: str, workers: int, root: Path, metrics: list[str],
             eval_n: Optional[int]) -> float:
    """Wall seconds of training (and evaluating with ``metrics``) every point of the sweep with one backend, into a
    fresh folder."""
    out = root / f"{Path(sweep).stem}-{backend}-{workers}-{time.monotonic_ns()}"
    t0 = time.perf_counter()
    run_sweep_command(sweep, items, out=out, backend=backend, workers=workers, eval_metrics=metrics, eval_n=eval_n,
                      floor=False)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root")
    parser.add_argument("--steps", type=int, default=300, help="Iterations of every point.")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sweeps", default=",".join(SWEEPS))
    parser.add_argument("--eval", default="", help="Metrics each finished point is evaluated with (e.g. cfd,acc).")
    parser.add_argument("--eval-n", type=int, help="Samples of each evaluation.")
    parser.add_argument("--out", default="benchmarks/results/sweep_backends-cpu.json")
    args = parser.parse_args()
    if args.data_root:
        os.environ["GANLAB_DATA"] = str(Path(args.data_root).resolve())
    cores = allowed_cores()
    cases = [("sequential", 0), ("parallel", 1), ("parallel", cores)]
    metrics = [m for m in args.eval.split(",") if m]
    load_before = os.getloadavg()[0]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sweeps.split(","):
            sweep, items = SWEEPS[name]
            items = items + [f"train.steps={args.steps}", "train.epochs=0", "train.export_every=0"]
            points = 4
            for backend, workers in cases:  # untimed: data caches built, code paths warm
                run_case(sweep, items[:-3] + ["train.steps=5", "train.epochs=0", "train.export_every=0"], backend,
                         workers, Path(tmp), metrics, args.eval_n)
            rounds = []
            for r in range(args.rounds):
                seconds = {f"{b}:{w}": run_case(sweep, items, b, w, Path(tmp), metrics, args.eval_n) for b, w in cases}
                rounds.append(seconds)
                print(name, r, {k: round(v, 1) for k, v in seconds.items()}, flush=True)
            rate = {k: statistics.median(points * args.steps / rd[k] for rd in rounds) for k in rounds[0]}
            sequential = rate["sequential:0"]
            results[name] = {
                "sweep": sweep, "items": items, "points": points, "steps": args.steps, "eval": metrics,
                "eval_n": args.eval_n, "rounds": rounds,
                "model_iterations_per_s": rate,
                "ratio_vs_sequential": {k: v / sequential for k, v in rate.items()},
                "per_worker_rate": rate["parallel:1"],
                "projection_16_cores": 16 * rate["parallel:1"] / sequential,  # if 16 workers each kept one core's rate
            }
            print(name, json.dumps(results[name]["ratio_vs_sequential"]), flush=True)
    record = {"benchmark": "sweep_backends", "command": " ".join(sys.argv), "allowed_cores": cores,
              "machine": platform.machine(), "load_average_before": load_before,
              "load_average_after": os.getloadavg()[0], **environment(torch.device("cpu")), "sweeps": results}
    atomic_write_json(args.out, record)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
