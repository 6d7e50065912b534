"""Quality against wall-clock minutes of training: ganlab configs and the plain-PyTorch baseline, on one figure.

    python benchmarks/time_to_quality.py --data-root DATA                       # the defaults below
    python benchmarks/time_to_quality.py --data-root DATA --entries baseline --marks 1,2 --fid-n 0
    python benchmarks/time_to_quality.py --figure-only                                    # redraw from the JSON

Each entry (``name=CONFIG`` for ganlab, ``baseline`` for benchmarks/cgan_baseline.py) trains one after the
other, with the threads ganlab picks (every allowed core), for the largest of ``--marks`` minutes. The clock
includes opening the data. At each mark the generator is saved and judged, outside the clock, by ganlab's MNIST
classifier on ``--n`` conditional samples (acc: share classified as asked, and every class's share) and by the
classifier-feature distance against the test split (cfd); at the last mark also by Inception FID of ``--fid-n``
samples against the test split (fid10k_test: about 20 minutes on a 2-core CPU). ganlab runs train in chunks
that end at the marks (``stop_after_minutes``; resuming reloads the data, and that time is counted).
Writes benchmarks/results/time_to_quality-<device>.json (device, versions, CPU load before and after each
entry, every mark) and docs/time_to_quality.png; entries already in the JSON are kept (``--redo`` reruns).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
import cgan_baseline  # noqa: E402
from bench_env import environment  # noqa: E402

from ganlab.config import DataConfig, EvalConfig, load_config  # noqa: E402
from ganlab.devices import use_allowed_cores  # noqa: E402
from ganlab.folders import RunDir  # noqa: E402
from ganlab.io import atomic_write_json  # noqa: E402
from ganlab.metrics.evaluate import evaluate  # noqa: E402
from ganlab.training.evaluation import evaluate_run  # noqa: E402
from ganlab.training.run import train  # noqa: E402

DEFAULT_ENTRIES = "ganlab mnist_cpu=configs/mnist_cpu.yaml,report 000 mnist_cgan=configs/mnist_cgan.yaml,baseline"
BASELINE = "baseline"


def judge(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The figures of one mark from ganlab's metric records: acc, its per-class shares, cfd, fid if there."""
    out: dict[str, Any] = {}
    for name, record in results.items():
        kind = "acc" if name.startswith("acc") else "cfd" if name.startswith("cfd") else "fid"
        out[kind], out[f"{kind}_name"] = record["value"], name
        if kind == "acc":
            out["acc_per_class"] = record["per_class"]
    return out


def metrics_at(mark: float, marks: list[float], n: int, fid_n: int) -> list[tuple[list[str], int]]:
    """The metric groups (metrics, samples) to compute at a mark: acc + cfd always, FID at the last mark."""
    groups = [(["acc", "cfd"], n)]
    if fid_n and mark == marks[-1]:
        groups.append((["fid"], fid_n))
    return groups


def run_ganlab(config: str, data_root: str, marks: list[float], n: int, fid_n: int, work: Path) -> list[dict]:
    """Train a ganlab config in chunks ending at the marks; judge the generator after each chunk."""
    cfg = load_config(config, [f"data.root={data_root}", "eval.every=0"])
    run_dir, elapsed, rows = work / Path(config).stem, 0.0, []
    for mark in marks:
        t0 = time.perf_counter()
        resume = run_dir if run_dir.exists() else None
        train(None if resume else cfg, run_dir=None if resume else run_dir, resume=resume,
              stop_after_minutes=max(mark - elapsed / 60, 0.01), progress=False)
        elapsed += time.perf_counter() - t0
        status = RunDir(run_dir).read_status()
        row = {"minutes": mark, "seconds": elapsed, "iterations": status["step"]}
        for metrics, count in metrics_at(mark, marks, n, fid_n):
            overrides = {"metrics": metrics, "n": count, "ref": "test", "ref_n": 0, "bootstrap": 0}
            row.update(judge(evaluate_run(run_dir, overrides)))
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def run_baseline(data_root: str, marks: list[float], n: int, fid_n: int, work: Path) -> list[dict]:
    """Train the baseline once for the last mark, saving G at each; judge every saved G."""
    saved = cgan_baseline.train(data_root, work / BASELINE, marks[-1], tuple(marks))
    data, rows = DataConfig(name="mnist", root=data_root), []
    for mark, record in zip(marks, saved):
        row = {"minutes": mark, "seconds": record["seconds"], "iterations": record["iterations"]}
        for metrics, count in metrics_at(mark, marks, n, fid_n):
            cfg = EvalConfig(n=count, ref="test", ref_n=0, bootstrap=0, metrics=metrics)
            row.update(judge(evaluate(cgan_baseline.sampler(record["path"]), data, 10, cfg, device="cpu")))
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def draw(results: dict[str, Any], path: Path) -> None:
    """acc and cfd against minutes, one line per entry, FID-10k at the last mark in the legend."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_acc, ax_cfd) = plt.subplots(1, 2, figsize=(10, 4))
    n = results["protocol"]["n"]
    for name, entry in results["entries"].items():
        rows = entry["marks"]
        fid = rows[-1].get("fid")
        label = f"{name}: {rows[-1]['fid_name']} {fid:.1f} at {rows[-1]['minutes']:g} min" if fid is not None else name
        minutes = [r["seconds"] / 60 for r in rows]
        ax_acc.plot(minutes, [100 * r["acc"] for r in rows], "o-", label=label)
        ax_cfd.plot(minutes, [r["cfd"] for r in rows], "o-", label=label)
    ax_acc.set(xlabel="training wall clock (minutes, data loading included)", ylabel="conditional accuracy (%)",
               title=f"MNIST classifier on {n:,} conditional samples")
    ax_cfd.set(xlabel="training wall clock (minutes, data loading included)", ylabel=f"cfd ({n:,} samples, log)",
               yscale="log", title="classifier-feature distance to the test split")
    ax_acc.legend(fontsize=7)
    for ax in (ax_acc, ax_cfd):
        ax.grid(alpha=0.3)
    fig.suptitle(f"Quality per minute of training on {results['environment']['device_name']}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def table(results: dict[str, Any]) -> str:
    """The README table: per entry, iterations, acc (lowest class) and cfd at each mark, FID at the last."""
    marks = results["protocol"]["marks"]
    head = ["entry", "iterations"] + [f"acc / cfd at {m:g} min" for m in marks] + ["lowest class at the end",
                                                                                   "FID-10k at the end"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, entry in results["entries"].items():
        rows = {r["minutes"]: r for r in entry["marks"]}
        last = entry["marks"][-1]
        cells = [name, " / ".join(str(rows[m]["iterations"]) if m in rows else "-" for m in marks)]
        cells += [f"{100 * rows[m]['acc']:.1f} % / {rows[m]['cfd']:.2f}" if m in rows else "-" for m in marks]
        worst = min(last["acc_per_class"])
        cells.append(f"{100 * worst:.1f} % (digit {last['acc_per_class'].index(worst)})")
        cells.append(f"{last['fid']:.2f}" if last.get("fid") is not None else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_entries(text: str) -> dict[str, Optional[str]]:
    """'name=config,...,baseline' -> {name: config or None for the baseline}."""
    entries: dict[str, Optional[str]] = {}
    for item in text.split(","):
        name, _, config = item.partition("=")
        entries[name.strip()] = config.strip() or None
        if entries[name.strip()] is None and name.strip() != BASELINE:
            raise SystemExit(f"entry {item!r}: write NAME=CONFIG, or 'baseline'")
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("GANLAB_DATA"))
    parser.add_argument("--entries", default=DEFAULT_ENTRIES, help="NAME=CONFIG or baseline, comma-separated")
    parser.add_argument("--marks", default="1,2,5,10", help="minutes at which the generator is judged")
    parser.add_argument("--n", type=int, default=10000, help="samples for acc and cfd")
    parser.add_argument("--fid-n", type=int, default=10000,
                        help="samples for the Inception FID at the last mark; 0 = none")
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--figure", default=str(HERE.parent / "docs" / "time_to_quality.png"))
    parser.add_argument("--redo", action="store_true", help="rerun entries already in the JSON")
    parser.add_argument("--figure-only", action="store_true", help="redraw the figure from the JSON")
    args = parser.parse_args()

    use_allowed_cores()
    result_file = Path(args.out) / f"time_to_quality-{'cuda' if torch.cuda.is_available() else 'cpu'}.json"
    results = json.loads(result_file.read_text()) if result_file.exists() else {"entries": {}}
    if not args.figure_only:
        if not args.data_root:
            raise SystemExit("no data root: pass --data-root or set GANLAB_DATA")
        marks = sorted(float(m) for m in args.marks.split(","))
        results["environment"] = environment(torch.device("cpu"))
        results["protocol"] = {"marks": marks, "n": args.n, "fid_n": args.fid_n, "shared": "one entry after the other, "
                               "each with every allowed core"}
        for name, config in parse_entries(args.entries).items():
            if name in results["entries"] and not args.redo:
                continue
            load_before = os.getloadavg()
            with tempfile.TemporaryDirectory() as tmp:
                rows = (run_baseline(args.data_root, marks, args.n, args.fid_n, Path(tmp)) if config is None else
                        run_ganlab(config, args.data_root, marks, args.n, args.fid_n, Path(tmp)))
            results["entries"][name] = {"config": config or "benchmarks/cgan_baseline.py", "marks": rows,
                                        "load_average_before": load_before, "load_average_after": os.getloadavg()}
            atomic_write_json(result_file, results)
    draw(results, Path(args.figure))
    print(table(results))
    print(f"wrote {result_file} and {args.figure}")


if __name__ == "__main__":
    main()
