"""Does a finding's verdict hold with a longer training budget? A check beyond a study's hour.

    python benchmarks/longer_budget.py STUDY_FILE STUDY_FOLDER FINDING_ID --steps 10000 [--seeds 0,1,2]
                                       [--workers 2] [--work DIR]

A study decides each finding at the last two measurements of a budget sized to its hour. This copies the runs of
the points the finding compares (the given seeds) into --work (default: STUDY_FOLDER-longer), continues each to
--steps iterations there (``ganlab train --resume RUN --force train.steps=N``: the same optimiser state and data
stream, evaluated on the run's own schedule), --workers runs at a time with one thread each, and decides the
finding by its own rule at every measurement, the study's and the new ones. A study's ``eval ... --log`` step
that adds the metric to those runs' records (report 000's fid step) runs again on the copies at each epoch they
export past its own --epoch list. The study folder is not touched. Re-running continues where it stopped (a run's
copy is made whole or not at all; an epoch's evaluation is noted in --work's evals.json once logged). Writes
benchmarks/results/longer_budget-<finding>.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from bench_env import environment
from fid_agrees import RESULTS, compared_runs, only_seeds, report

from ganlab.devices import THREADS_ENV
from ganlab.folders import RunDir, StudyDir, read_json
from ganlab.io import atomic_write_json
from ganlab.studies.findings import ALONG_TRAINING, Finding, Measured, along_training, decide_at, measure_steps
from ganlab.studies.spec import load_study, logging_evals, resolve_points, step_command, study_root
from ganlab.studies.summary import LONGER_BUDGET
from ganlab.studies.verdicts import Verdict


def copy_runs(study: StudyDir, finding: Finding, seeds: list[int], work: Path) -> list[RunDir]:
    """The finding's sweep steps (their point lists) and its compared runs copied into ``work``; a copy already
    there is kept, so a second call continues the first."""
    for step in finding.steps():
        target = StudyDir(work).sweep(step)
        target.path.mkdir(parents=True, exist_ok=True)
        if not target.status.exists():
            shutil.copy2(study.sweep(step).status, target.status)
    copies = []
    for run in compared_runs(study, finding, seeds):
        target = work / run.path.relative_to(study.path)
        if not target.exists():
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(run.path, partial)
            partial.rename(target)
        copies.append(RunDir(target))
    return copies


def continue_run(run: RunDir, steps: int) -> None:
    """Train the run on to ``steps`` iterations in a process of one thread; its output goes to RUN/longer.log."""
    log = run.path / "longer.log"
    with log.open("a") as out:
        done = subprocess.run([sys.executable, "-m", "ganlab", "train", "--resume", str(run.path), "--force",
                               f"train.steps={steps}", "--quiet"], stdout=out, stderr=subprocess.STDOUT,
                              env={**os.environ, THREADS_ENV: "1"})
    if done.returncode != 0:
        raise SystemExit(f"{run.path}: training on to {steps} iterations failed; see {log}")
    print(f"{run.path}: trained to {steps} iterations")


def log_new_epochs(args: list[str], work: Path, copies: list[RunDir]) -> list[int]:
    """Run an ``eval --log`` step's command (points resolved in ``work``) on those of its runs that are among
    ``copies``, once per epoch they export past the step's own --epoch values; returns the epochs evaluated now."""
    own = [int(args[i + 1]) for i, a in enumerate(args) if a == "--epoch"]
    kept = [a for i, a in enumerate(args) if a != "--epoch" and (i == 0 or args[i - 1] != "--epoch")]
    copied = {str(c.path) for c in copies}
    resolved = resolve_points(kept, work)
    runs = [r for r in resolved if r in copied]
    others = [a for a, r in zip(kept, resolved) if a == r]  # the verb and its options
    if not runs:
        return []
    ledger = work / "evals.json"
    done: dict[str, list[int]] = read_json(ledger) if ledger.exists() else {}
    epochs = sorted(set.intersection(*(set(RunDir(r).exported_epochs()) for r in runs)))
    key = {r: str(Path(r).relative_to(work)) for r in runs}  # the ledger's name of a run (cwd-independent)
    evaluated = []
    for epoch in [e for e in epochs if e > max(own, default=0)]:
        todo = [r for r in runs if epoch not in done.get(key[r], [])]
        if not todo:
            continue
        command = [others[0], *todo, *others[1:], "--epoch", str(epoch)]
        if subprocess.run([sys.executable, "-m", "ganlab", *command]).returncode != 0:
            raise SystemExit(f"ganlab {' '.join(command)} failed; re-run to go on")
        for r in todo:
            done.setdefault(key[r], []).append(epoch)
        atomic_write_json(ledger, done)
        evaluated.append(epoch)
    return evaluated


def decide_stopped_at(finding: Finding, measured: Measured, step: int) -> Verdict:
    """The finding's verdict had training stopped at iteration ``step``: at that measurement, or for a point's
    trend along training, over its measurements up to there."""
    if finding.x != ALONG_TRAINING:
        return decide_at(finding, measured, step)
    values = {cell: {s: v for s, v in by_step.items() if s <= step} for cell, by_step in measured.values.items()}
    upto = Measured([s for s in measured.steps if s <= step], values, measured.column)
    return along_training(finding, upto)[1]


def decide_every_measurement(finding: Finding, study: StudyDir, seeds: list[int]) -> tuple[str, list[dict]]:
    """The column the finding reads in ``study`` and its verdict on ``seeds`` at each measurement (one line each)."""
    measured = measure_steps(study, finding.steps(), finding.metric, finding.classes, finding.minus)
    only_seeds(measured, seeds)
    rows = []
    for step in measured.steps:
        verdict = decide_stopped_at(finding, measured, step)
        report(finding, measured.column, step, verdict)
        rows.append({"iteration": step, **verdict.to_dict()})
    return measured.column, rows


def check(study_file: str, study_folder: str, finding_id: str, steps: int, seeds: list[int], workers: int,
          work: Path) -> dict:
    """Continue the finding's runs to ``steps`` iterations, then decide it at each measurement."""
    finding = next((f for f in load_study(study_file).findings if f.id == finding_id), None)
    if finding is None:
        raise SystemExit(f"{study_file} has no finding {finding_id}")
    study = StudyDir(study_folder)
    scale = study.read_steps().get("scale", "cpu")
    budget = measure_steps(study, finding.steps(), finding.metric, finding.classes, finding.minus).steps[-1]
    t0 = time.perf_counter()
    runs = copy_runs(study, finding, seeds, work)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda run: continue_run(run, steps), runs))
    spec = load_study(study_file)
    for step in logging_evals(spec, finding.steps(), scale):
        log_new_epochs(step_command(spec, step, scale, work, study_root(study_file)), work, runs)
    seconds = time.perf_counter() - t0
    column, rows = decide_every_measurement(finding, StudyDir(work), seeds)
    for row in rows:
        row["within_study_budget"] = row["iteration"] <= budget
    return {"finding": finding.id, "claim": finding.claim, "rule": finding.rule, "a": finding.a, "b": finding.b,
            "column": column, "seeds": seeds, "study_budget": budget, "steps": steps, "workers": workers,
            "runs": [str(r.path) for r in runs], "seconds": seconds, "measurements": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study_file")
    ap.add_argument("study_folder")
    ap.add_argument("finding")
    ap.add_argument("--steps", type=int, required=True, help="the longer budget, in iterations")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", help="where the continued copies go (default: STUDY_FOLDER-longer)")
    args = ap.parse_args()
    work = Path(args.work or f"{args.study_folder.rstrip('/')}-longer")
    result = check(args.study_file, args.study_folder, args.finding, args.steps,
                   [int(s) for s in args.seeds.split(",")], args.workers, work)
    out = RESULTS / LONGER_BUDGET.format(id=args.finding)
    atomic_write_json(out, {**result, **environment(torch.device("cpu"))})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
