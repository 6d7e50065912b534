"""Eager vs fast path, side by side in one run: steps/s and images/s per config and batch size.

    python benchmarks/speed.py --data-root DATA                    # defaults below
    python benchmarks/speed.py --configs configs/mnist_cgan.yaml --batches 64,256 --modes eager,cudagraph
    python benchmarks/speed.py --fid-target 5 --fid-minutes 2      # also: the MNIST preset's time to FID <= 5

Defaults: configs/mnist_cgan.yaml and the CIFAR-10 preset (configs/cifar10_sngan_projection.yaml, else
configs/dcgan_cifar10.yaml), batches 64 and 256, modes eager and the device's fast path (cudagraph on
CUDA, cpu on the CPU); ``--repeats N`` interleaves N rounds over the rows and keeps each row's median. Every
mode gets the same untimed warm-up iterations (they hold the compile or the capture, reported as setup
seconds). Writes benchmarks/results/speed-<device>.json (device name,
versions, every row) and prints a table last. Timing code: benchmarks/train_speed.py.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # this checkout's ganlab, then the eager benchmark beside this file
from train_speed import device_name, measure  # noqa: E402  (the eager benchmark's timing code)

from ganlab.config import load_config  # noqa: E402
from ganlab.devices import resolve_device  # noqa: E402
from ganlab.io import atomic_write_json
from ganlab.training.metrics_log import read_metrics  # noqa: E402
from ganlab.training.run import train  # noqa: E402

CIFAR_PRESETS = ("configs/cifar10_sngan_projection.yaml", "configs/dcgan_cifar10.yaml")


def default_configs() -> list[str]:
    cifar = next((c for c in CIFAR_PRESETS if Path(c).is_file()), CIFAR_PRESETS[-1])
    return ["configs/mnist_cgan.yaml", cifar]


def time_to_fid(config: str, overrides: list[str], mode: str, target: float, minutes: float) -> dict:
    """Training seconds until the first FID <= ``target`` of the evaluation after every epoch (eval.every=1,
    the config's eval protocol, e.g. 10k samples vs test), training for at most ``minutes``. The seconds
    spent evaluating (``eval_time_s`` of each eval record) are left out."""
    cfg = load_config(config, overrides + [f"train.fast_path={mode}", "eval.every=1"])
    with tempfile.TemporaryDirectory() as tmp:
        train(cfg, run_dir=Path(tmp) / "run", stop_after_minutes=minutes, progress=False)
        evals = [r for r in read_metrics(Path(tmp) / "run") if r.get("kind") == "eval"]
    eval_seconds = 0.0
    for r in evals:
        eval_seconds += r["eval_time_s"]
        if r.get("fid") is not None and r["fid"] <= target:
            return {"mode": mode, "target": target, "reached": True, "fid": r["fid"], "fid_name": r["fid_name"],
                    "step": r["step"], "train_seconds": r["time_s"] - eval_seconds, "wall_seconds": r["time_s"]}
    return {"mode": mode, "target": target, "reached": False, "minutes": minutes,
            "fids": [r.get("fid") for r in evals]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", help="comma-separated config files (default: MNIST CGAN and the CIFAR-10 preset)")
    parser.add_argument("--batches", default="64,256")
    parser.add_argument("--modes", help="comma-separated train.fast_path values (default: eager + the device's)")
    parser.add_argument("--iters", type=int, default=200, help="timed iterations per row")
    parser.add_argument("--warmup", type=int, default=20, help="untimed iterations per row (compile, capture)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="rounds over every row, interleaved (each row keeps its median steps/s)")
    parser.add_argument("--data-root")
    parser.add_argument("--fid-target", type=float, help="also time training to this FID (evaluated every epoch)")
    parser.add_argument("--fid-config", default="configs/mnist_strong.yaml", help="config of the FID timing")
    parser.add_argument("--fid-minutes", type=float, default=2.0, help="training budget of the FID timing")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("overrides", nargs="*", help="key=value config overrides for every row")
    args = parser.parse_args()

    overrides = args.overrides + ([f"data.root={args.data_root}"] if args.data_root else [])
    configs = args.configs.split(",") if args.configs else default_configs()
    device = resolve_device(load_config(configs[0], overrides).device)
    modes = args.modes.split(",") if args.modes else ["eager", "cudagraph" if device.type == "cuda" else "cpu"]
    keys = [(c, int(b), m) for c in configs for b in args.batches.split(",") for m in modes]
    rounds: dict[tuple, list[dict]] = {key: [] for key in keys}
    for _ in range(args.repeats):  # interleaved, so that a slow spell of a shared machine hits every row alike
        for config, batch, mode in keys:
            torch._dynamo.reset()  # a fresh compile cache per row (the recompile limit is per function)
            row = measure(config, overrides + [f"train.fast_path={mode}"], batch, args.iters, args.warmup)
            row.update(config=config, requested=mode)
            rounds[(config, batch, mode)].append(row)
            print(f"{config} batch {batch} {mode}: {row['iters_per_s']:.1f} steps/s", flush=True)
    rows = []
    for key in keys:
        ranked = sorted(rounds[key], key=lambda r: r["iters_per_s"])
        row = dict(ranked[len(ranked) // 2], rounds_iters_per_s=[r["iters_per_s"] for r in rounds[key]])
        rows.append(row)
    for row in rows:
        base = next(r for r in rows if r["config"] == row["config"] and r["batch_size"] == row["batch_size"]
                    and r["requested"] == modes[0])
        row["speedup"] = row["iters_per_s"] / base["iters_per_s"]
    fid = []
    if args.fid_target is not None:
        fid = [dict(time_to_fid(args.fid_config, overrides, m, args.fid_target, args.fid_minutes),
                    config=args.fid_config) for m in modes]
    result = {"benchmark": "speed", "command": " ".join(sys.argv), "device": str(device),
              "device_name": device_name(str(device)), "torch": torch.__version__,
              "cuda": torch.version.cuda if device.type == "cuda" else None, "python": platform.python_version(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "overrides": overrides,
              "rows": rows, "time_to_fid": fid}
    out = Path(args.out) / f"speed-{device.type}.json"
    atomic_write_json(out, result)
    print(f"\n{result['device_name']}, torch {torch.__version__}; {args.iters} timed + {args.warmup} warm-up "
          f"iterations per row; written to {out}")
    print(f"{'config':<38} {'batch':>5} {'mode':<10} {'steps/s':>9} {'images/s':>10} {'x eager':>8} {'setup s':>8}")
    for r in rows:
        mode = r["fast_path"] + ("" if r["fast_path"] == r["requested"] else f" (asked {r['requested']})")
        print(f"{Path(r['config']).name:<38} {r['batch_size']:>5} {mode:<10} {r['iters_per_s']:>9.1f} "
              f"{r['images_per_s']:>10.0f} {r['speedup']:>8.2f} {r['warmup_seconds']:>8.1f}")
    for f in fid:
        state = (f"{f['train_seconds']:.1f} s of training (FID {f['fid']:.2f} at step {f['step']})" if f["reached"]
                 else f"not reached in {f['minutes']} min (FIDs {f['fids']})")
        print(f"time to FID <= {f['target']} ({Path(f['config']).name}, {f['mode']}): {state}")


if __name__ == "__main__":
    main()
