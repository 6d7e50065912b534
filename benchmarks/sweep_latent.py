"""Report 000's latent study end to end, timed: z_dim 0..128 x 3 seeds on MNIST, packed on one device.

    python benchmarks/sweep_latent.py [--sweep configs/sweep_report000_latent.yaml] [--data-root DIR]
        [--evaluator MODULE:FUNCTION] [--pack-size N] [--out DIR] [KEY=VALUES ...]

One call trains every point not yet done (re-running resumes), evaluates each finished point with
``--evaluator`` (a function run_dir -> dict of metrics, e.g. the Inception FID; without it the table
holds the training figures only), draws the figure of the metric against z_dim with its band over
seeds and the plateau estimate, prints a short table and writes
benchmarks/results/sweep_latent-<device>.json with the device, versions and timings.
KEY=VALUES items scale the study for a smoke test, e.g. ``model.z_dim=0:129:32 seed=0 train.epochs=1``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's ganlab, installed or not

from ganlab.folders import RunDir, SweepDir
from ganlab.io import atomic_write_json
from ganlab.sweeps.command import run_sweep_command  # noqa: E402


def load_evaluator(spec: str | None):
    """'package.module:function' -> the function (None when not given)."""
    if not spec:
        return None
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parents[1]).stdout.strip()
    except Exception:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", default="configs/sweep_report000_latent.yaml")
    parser.add_argument("--out", default="sweeps/report000_latent")
    parser.add_argument("--data-root")
    parser.add_argument("--evaluator", help="MODULE:FUNCTION taking a run directory, returning {metric: value}")
    parser.add_argument("--pack-size", type=int, help="most models per packed group (default: the sweep's)")
    parser.add_argument("--backend", help="sequential, packed or ray (default: the sweep's)")
    parser.add_argument("--metric", help="column to draw (default: the sweep's, fid)")
    parser.add_argument("--results", default="benchmarks/results")
    parser.add_argument("items", nargs="*", help="KEY=VALUES: more axes or fixed overrides")
    args = parser.parse_args()
    items = list(args.items) + ([f"data.root={args.data_root}"] if args.data_root else [])
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    study = run_sweep_command(args.sweep, items, out=args.out, backend=args.backend, pack_size=args.pack_size,
                              metric=args.metric, evaluator=load_evaluator(args.evaluator), progress=False)
    wall = time.perf_counter() - t0
    rows = study.sweep.rows
    runs = [RunDir(Path(args.out) / r["run_dir"]).read_status() for r in rows if r["state"] == "finished"]
    train_s = sorted({round(s.get("train_time_s", 0.0), 3) for s in runs})  # one value per packed group
    metric = study.column
    plateau_path = SweepDir(args.out).plateau(metric, "model.z_dim")
    device = "cuda" if cuda else "cpu"
    result = {
        "benchmark": "sweep_latent", "sweep": args.sweep, "items": items, "device": device,
        "device_name": (torch.cuda.get_device_name() if cuda
                        else f"{platform.processor() or 'cpu'} x{torch.get_num_threads()} threads"),
        "torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
        "cudnn_tf32": torch.backends.cudnn.allow_tf32, "git_commit": git_commit(),
        "backend": study.spec.backend, "points": len(rows), "trained_this_call": study.sweep.trained,
        "skipped": study.sweep.skipped, "wall_s": wall, "group_train_s": train_s,
        "peak_gpu_memory_gb": torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
        "plateau": json.loads(plateau_path.read_text()) if plateau_path.is_file() else None,
        "figures": [str(p) for p in study.figures],
    }
    out = Path(args.results) / f"sweep_latent-{device}.json"
    atomic_write_json(out, result)
    print(f"{args.sweep} {' '.join(items)} on {result['device_name']} (torch {torch.__version__}, "
          f"{study.spec.backend})")
    print(f"{'points':>7} {'trained':>8} {'wall s':>8} {'groups':>7} {'train s per group':>18}")
    print(f"{len(rows):>7} {study.sweep.trained:>8} {wall:>8.1f} {len(train_s):>7} "
          f"{', '.join(f'{s:.0f}' for s in train_s[:6]):>18}")
    values = [r for r in rows if r.get(metric) is not None]
    if values:
        by_z: dict[int, list[float]] = {}
        for r in values:
            by_z.setdefault(r["model.z_dim"], []).append(float(r[metric]))
        shown = sorted(by_z)[:: max(1, len(by_z) // 8)]
        print(f"{'z_dim':>7} " + " ".join(f"{z:>7}" for z in shown))
        print(f"{metric:>7} " + " ".join(f"{sum(by_z[z]) / len(by_z[z]):>7.2f}" for z in shown))
    if result["plateau"]:
        print(f"plateau: z_dim = {result['plateau'].get('value')} ({result['plateau']['rule']})")
    print(f"results: {Path(args.out) / 'results.csv'}; this summary: {out}")


if __name__ == "__main__":
    main()
