"""Does a finding left inside the seed spread decide with more seeds? A check beyond a study's hour.

    python benchmarks/more_seeds.py STUDY_FILE FINDING_ID --seeds 0:12 [--scale cpu] [--work DIR]

A study decides each finding from the seeds its hour pays for; an *inconclusive* one says how many seeds would
decide it if its mean and spread held. This runs the study's classifier steps and the finding's sweep steps at the
scale, exactly as ``ganlab study`` runs them but with ``seed=SEEDS``, into --work (default:
studies/out/NAME-SCALE-seeds; the study folder is not touched; re-running resumes as any sweep does), then decides
the finding by its own rule at every measurement over all those seeds. A metric a later step adds to the
points' records (report 000's fid step) is not measured again. Writes benchmarks/results/more_seeds-<finding>.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import torch
from bench_env import environment
from fid_agrees import RESULTS
from longer_budget import decide_every_measurement

from ganlab.folders import StudyDir
from ganlab.io import atomic_write_json
from ganlab.studies.findings import Finding
from ganlab.studies.spec import Study, load_study, step_command, study_root
from ganlab.sweeps.spec import parse_seeds

CLASSIFIER = "classifier"  # the study steps a finding's metric needs first (the domain classifier)


def commands(study: Study, finding: Finding, scale: str, work: Path, root: Path, seeds: str) -> list[list[str]]:
    """The study's classifier steps, then the finding's sweep steps with ``seed=SEEDS``, at ``scale``."""
    wanted = [s for s in study.steps if scale in s.only
              and (s.command[0] == CLASSIFIER or (s.command[0] == "sweep" and s.name in finding.steps()))]
    return [step_command(study, s, scale, work, root) + ([f"seed={seeds}"] if s.command[0] == "sweep" else [])
            for s in wanted]


def check(study_file: str, finding_id: str, seeds: str, scale: str, work: Path) -> dict:
    """Run the finding's steps with ``seeds``, then decide it at each measurement."""
    study = load_study(study_file)
    finding = next((f for f in study.findings if f.id == finding_id), None)
    if finding is None:
        raise SystemExit(f"{study_file} has no finding {finding_id}")
    t0 = time.perf_counter()
    for args in commands(study, finding, scale, work, study_root(study_file), seeds):
        print(" ".join(["ganlab", *args]), flush=True)
        if subprocess.run([sys.executable, "-m", "ganlab", *args]).returncode != 0:
            raise SystemExit(f"ganlab {' '.join(args)} failed; re-run to resume")
    seconds = time.perf_counter() - t0
    seed_list = parse_seeds(seeds)
    column, rows = decide_every_measurement(finding, StudyDir(work), seed_list)
    return {"finding": finding.id, "claim": finding.claim, "rule": finding.rule, "a": finding.a, "b": finding.b,
            "column": column, "scale": scale, "seeds": seed_list, "work": str(work), "seconds": seconds,
            "measurements": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study_file")
    ap.add_argument("finding")
    ap.add_argument("--seeds", required=True, help="the seeds, as a sweep takes them (0:12 or 0,1,2)")
    ap.add_argument("--scale", default="cpu")
    ap.add_argument("--work", help="the study folder the runs go to (default: studies/out/NAME-SCALE-seeds)")
    args = ap.parse_args()
    work = Path(args.work or f"studies/out/{Path(args.study_file).stem}-{args.scale}-seeds")
    result = check(args.study_file, args.finding, args.seeds, args.scale, work)
    out = RESULTS / f"more_seeds-{args.finding}.json"
    atomic_write_json(out, {**result, **environment(torch.device("cpu"))})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
