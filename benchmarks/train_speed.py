"""Training speed of a config: iterations/s and real images/s at several batch sizes, side by side.

    python benchmarks/train_speed.py [--config configs/mnist_cgan.yaml] [--batches 64,256] [--iters 200]

Needs the data set (pass --data-root or set GANLAB_DATA). Runs on the default device (cuda when
present). Prints a table last and writes benchmarks/results/train_speed-<device>.json.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch

from ganlab.config import load_config
from ganlab.data import load_data
from ganlab.io import atomic_write_json
from ganlab.training.trainer import Trainer


def measure(config: str, overrides: list[str], batch: int, iters: int, warmup: int) -> dict:
    """Time ``iters`` iterations of the training loop after ``warmup`` untimed ones (which include any compile or
    capture), both run by the real loop (``Trainer.run``: logging and a checkpoint at the stop included)."""
    cfg = load_config(config, overrides + [f"train.batch_size={batch}"])
    data = load_data(cfg.data)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, Path(tmp), data)
        t0 = time.perf_counter()
        trainer.run(stop_after_steps=warmup, progress=False)
        sync(trainer.device)
        warmup_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        trainer.run(stop_after_steps=iters, progress=False)
        sync(trainer.device)
        seconds = time.perf_counter() - t0
    return {"batch_size": batch, "iterations": iters, "seconds": seconds, "iters_per_s": iters / seconds,
            "images_per_s": iters * batch * cfg.train.d_steps / seconds, "device": str(trainer.device),
            "fast_path": trainer.step_fn.mode,
            "warmup_iterations": warmup, "warmup_seconds": warmup_seconds}


def device_name(device: str) -> str:
    """A readable name of the device the figures were taken on."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"{platform.processor() or platform.machine() or 'cpu'} x{torch.get_num_threads()} threads"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/mnist_cgan.yaml")
    parser.add_argument("--batches", default="64,256")
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--data-root")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    overrides = args.overrides + ([f"data.root={args.data_root}"] if args.data_root else [])
    rows = [measure(args.config, overrides, int(b), args.iters, args.warmup) for b in args.batches.split(",")]
    device = rows[0]["device"]
    name = device_name(device)
    result = {"benchmark": "train_speed", "config": args.config, "overrides": overrides, "device": device,
              "device_name": name, "torch": torch.__version__, "rows": rows}
    out = Path(args.out) / f"train_speed-{device.split(':')[0]}.json"
    atomic_write_json(out, result)
    print(f"{args.config} on {name} (torch {torch.__version__})")
    print(f"{'batch':>6} {'iters/s':>9} {'images/s':>10}")
    for r in rows:
        print(f"{r['batch_size']:>6} {r['iters_per_s']:>9.1f} {r['images_per_s']:>10.0f}")


if __name__ == "__main__":
    main()
