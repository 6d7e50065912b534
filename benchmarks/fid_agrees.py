"""Does Inception FID agree with cfd on a study finding? The check behind a FID finding decided by cfd.

    python benchmarks/fid_agrees.py STUDY_FILE STUDY_FOLDER FINDING_ID [--n 1000] [--seeds 0,1,2] [--device auto]

A study at the cpu scale decides most of its reports' FID findings by cfd (the domain classifier's features, fast
on a CPU). This measures Inception FID of --n samples against the first --n test images for the points the
finding compares (its a and b, or every point its rule ranks; the given seeds) at the end of its training and at
the kept generator export nearest the study's measurement before the last (``ganlab eval --log``: the result joins
the run's metrics.jsonl, so a second call measures nothing again), and decides the same finding by that FID at
both, paired by seed as the study decides it: a study counts a verdict as decided only when its last two
measurements agree. A trend or flat finding read along one point's training is measured at each epoch's kept
export from its fraction ``after`` of training on, and at the end. Writes
benchmarks/results/fid_agrees-<finding>.json with both verdicts (cfd's at its own measurements, on the same
seeds) and how they stand to each other (``agreement``; at the measurement before the last: ``before``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Iterable

import torch
from bench_env import environment

from ganlab.config import EvalConfig
from ganlab.devices import resolve_device
from ganlab.folders import RunDir, StudyDir, read_json
from ganlab.io import atomic_write_json
from ganlab.metrics.names import metric_name
from ganlab.studies import verdicts
from ganlab.studies.findings import ALONG_TRAINING, Finding, Measured, along_training, cell_of, decide_at, measure_steps
from ganlab.studies.spec import load_study
from ganlab.training.evaluation import evaluate_run
from ganlab.training.metrics_log import read_metrics

RESULTS = Path(__file__).resolve().parent / "results"


COMPARING_RULES = ("direction", "similar", "all_directions", "best", "trend", "flat")  # rules that rank points


def compared_runs(study: StudyDir, finding: Finding, seeds: list[int]) -> list[RunDir]:
    """The run folders, at the given seeds, of the points the finding reads: its a and b, its a alone (a value
    or a point along training), or every point its ``among`` admits (the points its own metric is decided on)."""
    measured = measure_steps(study, finding.steps(), finding.metric, finding.classes, finding.minus)
    selects = ([finding.a, finding.b] if finding.rule in ("direction", "similar") else
               [finding.a] if finding.x == ALONG_TRAINING or finding.rule in ("value", "compare") else [{}])
    cells = {cell for select in selects for cell in measured.at(measured.steps[-1], select, finding.among)}
    points = {step: study.sweep(step).read_points() for step in finding.steps()}
    return [study.sweep(step).run(pid) for step, entries in points.items() for pid, entry in entries.items()
            if int(entry["seed"]) in seeds and cell_of(entry) in cells]


def only_seeds(measured: Measured, seeds: list[int]) -> None:
    """Keep only the given seeds' values (a finding decided on the seeds the study decides it on)."""
    measured.values = {cell: {step: {s: v for s, v in by_seed.items() if s in seeds}
                              for step, by_seed in by_step.items()} for cell, by_step in measured.values.items()}


def export_step(run: RunDir, epoch: int | None) -> int:
    """The training iteration of the run's generator export of ``epoch`` (None: the latest)."""
    return int((read_json(run.export(epoch).with_suffix(".json")) or {})["step"])


def missing(run: RunDir, finding: Finding, name: str, before: int | None = None) -> list[int | None]:
    """The generator exports (epochs; None: the latest) whose evaluation ``name`` the run's log still lacks: the
    latest and the kept export nearest the iteration ``before``; along training, the latest and each epoch's kept
    export from the fraction ``after`` of training on."""
    done = {r.get("step") for r in read_metrics(run.metrics)
            if r.get("after_training") and name in r.get("metrics", {})}
    by_step = {export_step(run, epoch): epoch for epoch in [*run.exported_epochs(), None]}  # the latest wins a tie
    last = max(by_step)  # the latest export's
    if finding.x == ALONG_TRAINING:
        wanted = {step for step in by_step if step >= finding.after * last}
    else:
        wanted = {last} | ({nearest(by_step, before)} if before is not None else set())
    return [by_step[step] for step in sorted(wanted) if step not in done]


def nearest(steps: Iterable[int], step: int) -> int:
    """The one of ``steps`` closest to ``step`` (the earlier on a tie)."""
    return min(sorted(steps), key=lambda s: abs(s - step))


def decide_last(finding: Finding, measured: Measured) -> tuple[int, verdicts.Verdict]:
    """The finding's verdict at the points' last measurement (along training: over its own measurements)."""
    if finding.x == ALONG_TRAINING:
        return along_training(finding, measured)
    return measured.steps[-1], decide_at(finding, measured, measured.steps[-1])


def agreement(by_fid: verdicts.Verdict, by_cfd: verdicts.Verdict) -> str:
    """How FID's verdict stands to cfd's: ``agree`` (the same), ``leans`` (FID inconclusive, its mean pointing to
    cfd's verdict: it ranks the points the same way, its interval too wide to decide) or ``disagree``."""
    if by_fid.verdict == by_cfd.verdict:
        return "agree"
    return "leans" if by_fid.verdict == verdicts.INCONCLUSIVE and by_fid.heading == by_cfd.verdict else "disagree"


def check(study_file: str, study_folder: str, finding_id: str, n: int, seeds: list[int],
          device: torch.device) -> dict:
    """Measure the FID the finding's points lack, then decide the finding by it and by its own metric, on the
    same seeds, each at its last measurement and (a comparison of points) at the one nearest the study's
    measurement before the last."""
    finding = next((f for f in load_study(study_file).findings if f.id == finding_id), None)
    if finding is None or finding.rule not in COMPARING_RULES:
        raise SystemExit(f"{study_file} has no finding {finding_id} that compares points (rules "
                         f"{', '.join(COMPARING_RULES)})")
    study = StudyDir(study_folder)
    options = {"metrics": ["fid"], "n": n, "ref": "test", "ref_n": n, "bootstrap": 0}
    name = metric_name("fid", EvalConfig(**options))
    by_cfd = measure_steps(study, finding.steps(), finding.metric)
    before = by_cfd.steps[-2] if finding.x != ALONG_TRAINING and len(by_cfd.steps) > 1 else None
    t0 = time.perf_counter()
    runs = compared_runs(study, finding, seeds)
    for run in runs:
        for epoch in missing(run, finding, name, before):
            evaluate_run(run.path, options, epoch, device, log=True)
            print(f"{run.path}: {name} measured" + (f" at epoch {epoch}" if epoch is not None else ""))
    seconds = time.perf_counter() - t0
    by_fid = measure_steps(study, finding.steps(), name)
    rows, decided, earlier = {}, {}, {}
    for label, measured in (("fid", by_fid), ("cfd", by_cfd)):
        only_seeds(measured, seeds)
        last, verdict = decided[label] = decide_last(finding, measured)
        rows[label] = {"column": measured.column, "iteration": last, **verdict.to_dict()}
        report(finding, measured.column, last, verdict)
        at = nearest(measured.steps, before) if before is not None else last
        if at != last:
            earlier[label] = decide_at(finding, measured, at)
            rows[label]["before"] = {"iteration": at, **earlier[label].to_dict()}
            report(finding, measured.column, at, earlier[label])
    both = {"agreement_before": agreement(earlier["fid"], earlier["cfd"])} if len(earlier) == 2 else {}
    return {"finding": finding.id, "claim": finding.claim, "rule": finding.rule, "a": finding.a, "b": finding.b,
            "ref": finding.ref, "among": finding.among, "x": finding.x, "seeds": seeds,
            "iteration": rows["fid"]["iteration"], "runs": [str(r.path) for r in runs], "seconds": seconds, **rows,
            "agreement": agreement(decided["fid"][1], decided["cfd"][1]), **both}


def report(finding: Finding, column: str, step: int, verdict: verdicts.Verdict) -> None:
    """One line: the finding's verdict by ``column`` at iteration ``step``."""
    print(f"{finding.id} by {column} at iteration {step}: {verdict.verdict}, "
          f"{verdict.measured:.4g} [{verdict.ci_low:.4g}, {verdict.ci_high:.4g}] over {verdict.seeds} seeds")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study_file")
    ap.add_argument("study_folder")
    ap.add_argument("finding")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    device = resolve_device(args.device)
    result = check(args.study_file, args.study_folder, args.finding, args.n,
                   [int(s) for s in args.seeds.split(",")], device)
    out = RESULTS / f"fid_agrees-{args.finding}.json"
    atomic_write_json(out, {**result, **environment(device)})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
