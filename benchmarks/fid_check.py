"""Reproduce the FID check values of the design brief (real train split vs real test split).

    python benchmarks/fid_check.py [--pairs mnist,cifar10] [--n 0] [--device auto] [--batch-size 200]

--n 0 uses the whole splits (the check values: MNIST 60k vs 10k = 1.03, CIFAR-10 50k vs 10k = 3.11,
needing 70,000 / 60,000 Inception passes: minutes on a GPU, hours on a CPU). --n N uses the first N
images of each split (a smoke run: the value then is not comparable to the check value). Statistics go
through ganlab's reference cache. Prints a table last and writes benchmarks/results/fid_check-<device>-<pairs>.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench_env import environment, sync

from ganlab.config import DataConfig
from ganlab.devices import resolve_device
from ganlab.io import atomic_write_json
from ganlab.metrics.frechet import stats_distance
from ganlab.metrics.inception import InceptionNet
from ganlab.metrics.refstats import Reference, reference_stats

CHECK_VALUES = {"mnist": 1.03, "cifar10": 3.11}  # FID, whole train split vs whole test split
TOLERANCE = 0.02


def check(name: str, n: int, net: InceptionNet, data_root: str | None) -> dict:
    data = DataConfig(name=name, root=data_root, download=False)
    train, test = Reference(data, "train", n), Reference(data, "test", n)
    sync(net.device)
    t0 = time.perf_counter()
    a, b = reference_stats(net, train), reference_stats(net, test)
    sync(net.device)
    seconds = time.perf_counter() - t0
    fid = stats_distance(a, b, net.device)
    expected = CHECK_VALUES[name] if n == 0 else None
    return {"pair": f"{name} train {a.n} vs test {b.n}", "n_train": a.n, "n_test": b.n, "fid": fid,
            "expected": expected, "within_tolerance": None if expected is None else abs(fid - expected) <= TOLERANCE,
            "seconds": seconds, "images_per_s": (a.n + b.n) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default="mnist,cifar10")
    parser.add_argument("--n", type=int, default=0, help="images per split (0 = whole splits, the check values)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--data-root")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    device = resolve_device(args.device)
    net = InceptionNet(device=device, batch_size=args.batch_size)
    rows = [check(name, args.n, net, args.data_root) for name in args.pairs.split(",")]
    result = {**environment(device), "batch_size": args.batch_size, "network": net.path.name,
              "tolerance": TOLERANCE, "rows": rows}
    pairs = args.pairs.replace(",", "-")
    out = Path(args.out) / f"fid_check-{device.type}-{pairs}{'' if args.n == 0 else f'-n{args.n}'}.json"
    atomic_write_json(out, result)
    print(f"{result['device_name']}, torch {result['torch']}, batch {args.batch_size}")
    print(f"{'pair':<36} {'FID':>8} {'check':>7} {'ok':>5} {'seconds':>9} {'img/s':>8}")
    for r in rows:
        ok = "" if r["within_tolerance"] is None else ("yes" if r["within_tolerance"] else "NO")
        check_value = "" if r["expected"] is None else f"{r['expected']:.2f}"
        print(f"{r['pair']:<36} {r['fid']:>8.3f} {check_value:>7} {ok:>5} {r['seconds']:>9.1f} "
              f"{r['images_per_s']:>8.1f}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
