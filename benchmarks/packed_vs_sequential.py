"""Packed vs sequential training of K seeds of one config, side by side in one process.

    python benchmarks/packed_vs_sequential.py [--config configs/mnist_cgan.yaml] [--models 8] [--iters 30]
                                              [KEY=VALUE ...]

Sequential: K ordinary Trainers, each running ``iters`` iterations in turn. Packed: one PackedTrainer
running the same K models for ``iters`` batched iterations. Both start from the same seeds, so the
final weights must agree (the largest difference is printed as a check). The two are timed in
alternation, ``--repeats`` times, and the best time of each is kept (the machine may be shared).
Prints a table last and writes benchmarks/results/packed_vs_sequential-<device>[-TAG].json.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's ganlab, installed or not

from ganlab.config import load_config
from ganlab.data import load_data
from ganlab.io import atomic_write_json
from ganlab.sweeps.packed import PackedTrainer
from ganlab.training.trainer import Trainer


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_sequential(cfgs, data, iters: int, warmup: int, root: Path) -> tuple[float, list[Trainer]]:
    trainers = [Trainer(cfg, root / f"seq{i}", data) for i, cfg in enumerate(cfgs)]
    warm = Trainer(cfgs[0], root / "warm", data)  # warm-up on a throwaway trainer: the measured ones start fresh
    warm.run(stop_after_steps=warmup, progress=False)
    sync(trainers[0].device)
    t0 = time.perf_counter()
    for t in trainers:
        t.run(stop_after_steps=iters, progress=False)
    sync(trainers[0].device)
    return time.perf_counter() - t0, trainers


def time_packed(cfgs, data, iters: int, warmup: int, root: Path) -> tuple[float, PackedTrainer]:
    warm = PackedTrainer(cfgs, [root / f"warm{i}" for i in range(len(cfgs))], data)
    warm.run(stop_after_steps=warmup)
    packed = PackedTrainer(cfgs, [root / f"packed{i}" for i in range(len(cfgs))], data)
    device = packed.members[0].device
    sync(device)
    t0 = time.perf_counter()
    packed.run(stop_after_steps=iters)
    sync(device)
    seconds = time.perf_counter() - t0
    return seconds, packed


def max_weight_difference(trainers: list[Trainer], packed: PackedTrainer) -> float:
    worst = 0.0
    for t, m in zip(trainers, packed.members):
        for net in ("G", "D"):
            a, b = getattr(t, net).state_dict(), getattr(m, net).state_dict()
            worst = max(worst, max((a[k].double() - b[k].double()).abs().max().item() for k in a))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/mnist_cgan.yaml")
    parser.add_argument("--models", type=int, default=8, help="K: seeds 0..K-1")
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--data-root")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--tag", default="", help="added to the result file's name")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    overrides = args.overrides + ([f"data.root={args.data_root}"] if args.data_root else [])
    cfgs = [load_config(args.config, overrides + [f"seed={s}"]) for s in range(args.models)]
    data = load_data(cfgs[0].data)
    seq_times, packed_times, worst = [], [], 0.0
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            s, trainers = time_sequential(cfgs, data, args.iters, args.warmup, Path(tmp))
            p, packed = time_packed(cfgs, data, args.iters, args.warmup, Path(tmp))
            seq_times.append(s)
            packed_times.append(p)
            worst = max(worst, max_weight_difference(trainers, packed))
    device = packed.members[0].device
    name = torch.cuda.get_device_name() if device.type == "cuda" else \
        f"{platform.processor() or 'cpu'} x{torch.get_num_threads()} threads"
    seq, pk = min(seq_times), min(packed_times)
    model_iters = args.models * args.iters
    result = {"benchmark": "packed_vs_sequential", "config": args.config, "overrides": overrides,
              "models": args.models, "iterations_per_model": args.iters, "device": str(device), "device_name": name,
              "torch": torch.__version__, "sequential_s": seq_times, "packed_s": packed_times,
              "sequential_model_iters_per_s": model_iters / seq, "packed_model_iters_per_s": model_iters / pk,
              "speedup": seq / pk, "max_weight_difference": worst}
    out = Path(args.out) / f"packed_vs_sequential-{device.type}{'-' + args.tag if args.tag else ''}.json"
    atomic_write_json(out, result)
    print(f"{args.config} {' '.join(overrides)}: {args.models} models x {args.iters} iterations on {name} "
          f"(torch {torch.__version__}); best of {args.repeats}")
    print(f"{'backend':>11} {'seconds':>8} {'model-iters/s':>14}")
    print(f"{'sequential':>11} {seq:>8.2f} {model_iters / seq:>14.1f}")
    print(f"{'packed':>11} {pk:>8.2f} {model_iters / pk:>14.1f}")
    print(f"speed-up {seq / pk:.2f}x; largest weight difference packed vs sequential {worst:.2e}")


if __name__ == "__main__":
    main()
