"""Quality of a preset (default: the strong MNIST one), trained in resumable chunks, then measured.

    python benchmarks/quality_mnist.py --run-dir runs/mnist-strong --data-root DATA --stop-after-minutes 30
    python benchmarks/quality_mnist.py --run-dir runs/mnist-strong --stop-after-minutes 30   # again: continues
    python benchmarks/quality_mnist.py --run-dir runs/mnist-strong --measure-now             # measure where it is

Each call trains (a new run, or a resume of --run-dir) for at most --stop-after-minutes, and measures the
run's exported generator (the EMA when on) once training has finished, or at once with --measure-now:
FID of 10k samples against the test split and the digit classifier's accuracy on conditional samples
(``ganlab eval`` metrics ``fid`` and ``acc``; the classifier is trained once by ``ganlab classifier train
mnist``). The chunks (minutes, iterations) and the metrics are written to
benchmarks/results/quality-<config name>-<device>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from ganlab.config import load_config
from ganlab.devices import resolve_device
from ganlab.folders import RunDir
from ganlab.io import atomic_write_json
from ganlab.training.run import train
from ganlab.training.rundir import read_config


def train_chunk(config: str, overrides: list[str], run_dir: Path, minutes: float) -> dict:
    """Train for at most ``minutes`` (new run, or resume when ``run_dir`` has a checkpoint)."""
    resume = RunDir(run_dir).last_checkpoint.is_file()
    cfg = None if resume else load_config(config, overrides)
    status = RunDir(run_dir).status
    step_from = json.loads(status.read_text())["step"] if resume and status.is_file() else 0
    t0 = time.perf_counter()
    result = train(cfg, run_dir=None if resume else run_dir, resume=run_dir if resume else None,
                   stop_after_minutes=minutes, progress=False)
    return {"minutes": (time.perf_counter() - t0) / 60, "step_from": step_from, "step_to": result.step,
            "finished": result.finished}


def measure(run_dir: Path, metrics: list[str], n: int) -> dict:
    """FID / classifier accuracy of the run's latest export (needs ganlab.metrics)."""
    try:
        from ganlab.training.evaluation import evaluate_run
    except ImportError as e:
        raise SystemExit(f"measuring needs ganlab.metrics ({e}); train on, and measure with a build that has it")
    return evaluate_run(run_dir, {"metrics": metrics, "n": n})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/mnist_strong.yaml")
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--data-root")
    parser.add_argument("--stop-after-minutes", type=float, default=30.0)
    parser.add_argument("--measure-now", action="store_true", help="Measure the current export without training.")
    parser.add_argument("--metrics", default="fid,acc")
    parser.add_argument("--n", type=int, default=10000, help="Generated samples per metric.")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("overrides", nargs="*",
                        help="key=value config overrides for a new run (a resume keeps the run's)")
    args = parser.parse_args()
    overrides = args.overrides + ([f"data.root={args.data_root}"] if args.data_root else [])

    device = resolve_device(load_config(args.config, overrides).device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"{platform.processor() or 'cpu'} x{torch.get_num_threads()} threads"
    out = Path(args.out) / f"quality-{Path(args.config).stem}-{device.type}.json"
    record = json.loads(out.read_text()) if out.is_file() else {"config": args.config, "chunks": []}
    record.update({"run_dir": str(args.run_dir), "device": str(device), "device_name": name,
                   "torch": torch.__version__})

    finished = False
    if not args.measure_now:
        chunk = train_chunk(args.config, overrides, args.run_dir, args.stop_after_minutes)
        record["chunks"].append(chunk)
        finished = chunk["finished"]
        print(f"trained {chunk['minutes']:.1f} min: iterations {chunk['step_from']} -> {chunk['step_to']}"
              f" ({'finished' if finished else 'paused; run again to continue'})")
    record["train_minutes"] = sum(c["minutes"] for c in record["chunks"])
    atomic_write_json(out, record)  # the chunk is kept even if measuring fails
    if finished or args.measure_now:
        cfg = read_config(args.run_dir)
        status = json.loads(RunDir(args.run_dir).status.read_text())
        results = measure(args.run_dir, args.metrics.split(","), args.n)
        record["measured"] = {"step": status["step"], "epoch": status["epoch"], "ema": cfg.train.ema_decay > 0,
                              "metrics": {k: v.get("value") for k, v in results.items()}}
        for key, value in record["measured"]["metrics"].items():
            print(f"{key:<16} {value}")
    atomic_write_json(out, record)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
