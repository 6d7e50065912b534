"""End-to-end FID speed: N generated MNIST samples against cached train statistics.

    python benchmarks/fid_speed.py [--n 10000] [--ref-n 0] [--device auto] [--batch-size 200] [--repeats 2]

A DCGAN-sized conditional generator (untrained: speed does not depend on the weights) is sampled
through ganlab.metrics.evaluate (the same path as `ganlab eval`); the MNIST train statistics are
computed first (untimed, cached; --ref-n N uses the first N train images, for a CPU smoke run). Times
generate / Inception features / Fréchet distance separately, each repeat in full (the first includes
loading the network and its first-call warm-up). Prints a table last and writes
benchmarks/results/fid_speed-<device>.json.

    python benchmarks/fid_speed.py --paths [--rounds 3] [--n 256] [--fid-n 500] [--batch-size 64] --device cpu

--paths instead times the Inception network as shipped (InceptionNet(fast=False)) against the fast CPU path
on the same --n MNIST test images (taken evenly across the classes), interleaved: each round runs both, the
order alternating. It then computes one FID on both paths (--fid-n test vs --fid-n train images, evenly
across the classes) and writes benchmarks/results/fid_speed-<device>-paths.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch
from bench_env import environment, sync

from ganlab.config import DataConfig, EvalConfig, ModelConfig
from ganlab.data.spec import ImageSpec
from ganlab.devices import cpu_model, resolve_device
from ganlab.io import atomic_write_json
from ganlab.metrics.evaluate import evaluate
from ganlab.metrics.frechet import gaussian_stats, stats_distance
from ganlab.metrics.inception import InceptionNet
from ganlab.metrics.refstats import Reference, reference_stats
from ganlab.metrics.samplers import generator_sampler
from ganlab.models import build_models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=200, help="Inception batch")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--bootstrap", type=int, default=50, help="FID bootstrap resamples (timed separately)")
    parser.add_argument("--ref-n", type=int, default=0, help="first N train images as reference (0 = all 60,000)")
    parser.add_argument("--data-root")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--paths", action="store_true", help="shipped network vs fast CPU path, interleaved")
    parser.add_argument("--rounds", type=int, default=3, help="--paths: timed rounds of --n images on each path")
    parser.add_argument("--fid-n", type=int, default=500, help="--paths: test and train images per FID (0 = none)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.paths:
        return compare_paths(args, device)
    data = DataConfig(name="mnist", root=args.data_root, download=False)
    cfg = EvalConfig(n=args.n, ref="train", ref_n=args.ref_n, bootstrap=args.bootstrap, batch_size=args.batch_size)
    t0 = time.perf_counter()
    reference_stats(InceptionNet(device=device, batch_size=args.batch_size), Reference(data, "train", args.ref_n))
    ref_seconds = time.perf_counter() - t0

    torch.manual_seed(0)
    g, _ = build_models(ModelConfig(), ImageSpec(channels=1, resolution=28, num_classes=10))
    g = g.to(device).eval()
    rows = []
    for i in range(args.repeats):
        sync(device)
        t0 = time.perf_counter()
        results = evaluate(generator_sampler(g, ModelConfig().z_dim, device), data, 10, cfg, ["fid"], device)
        sync(device)
        (name, record), = results.items()
        timings = {k: record[k] for k in ("generate_s", "features_s", "distance_s", "bootstrap_s") if k in record}
        total = time.perf_counter() - t0
        rows.append({"repeat": i, "metric": name, "fid": record["value"], "total_s": total,
                     "fid_without_bootstrap_s": total - record.get("bootstrap_s", 0.0),
                     **timings, "inception_images_per_s": args.n / record["features_s"]})
    result = {**environment(device), "n": args.n, "batch_size": args.batch_size,
              "reference_stats_s_first_time": ref_seconds, "rows": rows}
    out = Path(args.out) / f"fid_speed-{device.type}{'' if args.n == 10000 else f'-n{args.n}'}.json"
    atomic_write_json(out, result)
    print(f"{result['device_name']}, torch {result['torch']}, n {args.n}, Inception batch {args.batch_size}")
    print(f"{'repeat':>6} {'FID s':>8} {'generate':>9} {'features':>9} {'distance':>9} {'bootstrap':>9} "
          f"{'img/s':>8}  metric")
    for r in rows:
        print(f"{r['repeat']:>6} {r['fid_without_bootstrap_s']:>8.2f} {r['generate_s']:>9.2f} {r['features_s']:>9.2f} "
              f"{r['distance_s']:>9.2f} {r.get('bootstrap_s', 0.0):>9.2f} {r['inception_images_per_s']:>8.1f}  "
              f"{r['metric']} = {r['fid']:.2f}")
    print(f"wrote {out}")


def evenly(data: DataConfig, split: str, n: int) -> torch.Tensor:
    """n images of a split, the first n/k of each of its k classes (not the first n, which are unbalanced)."""
    from ganlab.data import load_split

    s = load_split(data, split)
    k = s.num_classes
    return s.images[torch.cat([torch.nonzero(s.labels == c).flatten()[:n // k] for c in range(k)])]


def compare_paths(args, device: torch.device) -> None:
    data = DataConfig(name="mnist", root=args.data_root, download=False)
    nets = {"shipped": InceptionNet(device=device, batch_size=args.batch_size, fast=False),
            "fast": InceptionNet(device=device, batch_size=args.batch_size)}
    assert nets["fast"].fast_cpu, "the fast path is CPU-only"
    images = evenly(data, "test", args.n)
    for net in nets.values():  # warm-up, untimed: oneDNN primitives, TorchScript's profiling runs
        net.features(images[:args.batch_size])
    rounds = []
    for r in range(args.rounds):
        row = {"round": r, "load_average_1min": os.getloadavg()[0]}
        for name in (("shipped", "fast") if r % 2 == 0 else ("fast", "shipped")):
            t0 = time.perf_counter()
            nets[name].features(images)
            row[f"{name}_images_per_s"] = len(images) / (time.perf_counter() - t0)
        row["ratio"] = row["fast_images_per_s"] / row["shipped_images_per_s"]
        rounds.append(row)
        print(f"round {r}: shipped {row['shipped_images_per_s']:.2f} img/s, fast {row['fast_images_per_s']:.2f} img/s,"
              f" ratio {row['ratio']:.2f} (load {row['load_average_1min']:.1f})", flush=True)
    median = {k: statistics.median(r[k] for r in rounds)
              for k in ("shipped_images_per_s", "fast_images_per_s", "ratio")}
    result = {**environment(device), "cpu_model": cpu_model(), "n": len(images), "batch_size": args.batch_size,
              "rounds": rounds, "median": median}
    if args.fid_n:
        a, b = evenly(data, "test", args.fid_n), evenly(data, "train", args.fid_n)
        fids = {}
        for name, net in nets.items():
            fids[name] = stats_distance(gaussian_stats(net.features(a)), gaussian_stats(net.features(b)))
        result["fid_check"] = {"pair": f"MNIST {len(a)} test vs {len(b)} train, evenly across classes", **fids,
                               "difference": fids["fast"] - fids["shipped"]}
        print(f"FID {result['fid_check']['pair']}: shipped {fids['shipped']:.5f}, fast {fids['fast']:.5f}, "
              f"difference {fids['fast'] - fids['shipped']:+.2e}")
    out = Path(args.out) / f"fid_speed-{device.type}-paths.json"
    atomic_write_json(out, result)
    print(f"{result['device_name']}, torch {result['torch']}, {len(images)} images a round, batch {args.batch_size}: "
          f"median shipped {median['shipped_images_per_s']:.2f} img/s, fast {median['fast_images_per_s']:.2f} img/s, "
          f"ratio {median['ratio']:.2f}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
