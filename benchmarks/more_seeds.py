"""Does a finding left inside the seed spread decide with more seeds? A check beyond a study's hour.

    python benchmarks/more_seeds.py STUDY_FILE FINDING_ID --seeds 0:12 [--scale cpu] [--work DIR]

A study decides each finding from the seeds its hour pays for; an *inconclusive* one says how many seeds would
decide it if its mean and spread held. This runs the study's classifier steps and the finding's sweep steps at the
scale, exactly as ``ganlab study`` runs them but with ``seed=SEEDS``, into --work (default:
studies/out/NAME-SCALE-seeds; the study folder is not touched; re-running resumes as any sweep does), then decides
the finding by its own rule at every measurement over all those seeds. --set KEY=VALUE items are added to the
sweep steps to train only the points the finding compares (report 000's R0-F6: --set model.z_dim=16). A study's
``eval ... --log`` step that adds a metric to those points' records (report 000's fid step) runs after them as in
the study (it names its seeds, so SEEDS must hold them). Writes benchmarks/results/more_seeds-<finding>.json.

    python benchmarks/more_seeds.py studies/report000.yaml R0-F6 --seeds 0:4 --set model.z_dim=16
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

import torch
from bench_env import environment
from fid_agrees import RESULTS
from longer_budget import decide_every_measurement

from ganlab.folders import StudyDir
from ganlab.io import atomic_write_json
from ganlab.studies.findings import Finding
from ganlab.studies.spec import Study, load_study, logging_evals, resolve_points, step_command, study_root
from ganlab.sweeps.spec import parse_seeds

CLASSIFIER = "classifier"  # the study steps a finding's metric needs first (the domain classifier)


def commands(study: Study, finding: Finding, scale: str, work: Path, root: Path, seeds: str,
             fixed: Sequence[str] = ()) -> list[list[str]]:
    """The study's classifier steps, the finding's sweep steps with ``seed=SEEDS`` and the ``fixed`` items, then
    the eval steps that log a metric into their points, at ``scale`` ({point:...} left for when they have run)."""
    wanted = [s for s in study.steps if scale in s.only
              and (s.command[0] == CLASSIFIER or (s.command[0] == "sweep" and s.name in finding.steps()))]
    trains = [step_command(study, s, scale, work, root) + ([f"seed={seeds}", *fixed] if s.command[0] == "sweep"
                                                           else []) for s in wanted]
    return trains + [step_command(study, s, scale, work, root) for s in logging_evals(study, finding.steps(), scale)]


def check(study_file: str, finding_id: str, seeds: str, scale: str, work: Path, fixed: Sequence[str] = ()) -> dict:
    """Run the finding's steps with ``seeds``, then decide it at each measurement."""
    study = load_study(study_file)
    finding = next((f for f in study.findings if f.id == finding_id), None)
    if finding is None:
        raise SystemExit(f"{study_file} has no finding {finding_id}")
    t0 = time.perf_counter()
    for args in commands(study, finding, scale, work, study_root(study_file), seeds, fixed):
        args = resolve_points(args, work)
        print(" ".join(["ganlab", *args]), flush=True)
        if subprocess.run([sys.executable, "-m", "ganlab", *args]).returncode != 0:
            raise SystemExit(f"ganlab {' '.join(args)} failed; re-run to resume")
    seconds = time.perf_counter() - t0
    seed_list = parse_seeds(seeds)
    column, rows = decide_every_measurement(finding, StudyDir(work), seed_list)
    return {"finding": finding.id, "claim": finding.claim, "rule": finding.rule, "a": finding.a, "b": finding.b,
            "column": column, "scale": scale, "seeds": seed_list, "fixed": list(fixed), "work": str(work),
            "seconds": seconds, "measurements": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study_file")
    ap.add_argument("finding")
    ap.add_argument("--seeds", required=True, help="the seeds, as a sweep takes them (0:12 or 0,1,2)")
    ap.add_argument("--scale", default="cpu")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="an item added to the sweep steps (repeatable), e.g. model.z_dim=16")
    ap.add_argument("--work", help="the study folder the runs go to (default: studies/out/NAME-SCALE-seeds)")
    args = ap.parse_args()
    work = Path(args.work or f"studies/out/{Path(args.study_file).stem}-{args.scale}-seeds")
    result = check(args.study_file, args.finding, args.seeds, args.scale, work, args.set)
    out = RESULTS / f"more_seeds-{args.finding}.json"
    atomic_write_json(out, {**result, **environment(torch.device("cpu"))})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
