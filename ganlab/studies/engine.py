"""Running a study file into a study folder (``ganlab.folders.StudyDir``): each step's command in order, then one page.

A step whose command already ran (the same command, recorded in the folder's steps.json) is skipped, so an
interrupted study continues where it stopped; a step that was cut short is run again, and its training and
sweeps continue from their checkpoints by the one resume rule (``ganlab.training.rundir.plan_run``).
The engine runs command lines through a ``run_command`` callable that the CLI hands it (``ganlab study``).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Optional

from ganlab.devices import cpu_model
from ganlab.errors import GanlabError
from ganlab.folders import StudyDir
from ganlab.io import atomic_write_json
from ganlab.report.study_page import PageStep, shown_files, write_study_page
from ganlab.studies.findings import write_findings
from ganlab.studies.spec import SCALED_VERBS, SCALES, load_study, resolve_points, step_command, study_root

RunCommand = Callable[[list[str]], None]  # runs one ganlab command line; raises GanlabError when it fails


def environment() -> dict[str, Any]:
    """Where a study ran: machine, cores, Python and package versions (kept in steps.json)."""
    versions = {}
    for package in ("ganlab", "torch", "torchvision", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"machine": platform.machine(), "processor": platform.processor() or platform.machine(),
            "cpu_model": cpu_model(),
            "cpu_count": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "python": platform.python_version(), **versions}


def earlier_seconds(record: dict[str, Any], step: str, args: list[str], folder_kept: bool) -> float:
    """The seconds a step run again has already cost: those of its interrupted run of the same command; and for a
    train or sweep step whose folder is kept, those of its earlier run under any command, finished or not (more
    seeds, other points), since its runs continue from what that time trained."""
    before = record["interrupted"].get(step) or record["steps"].get(step) or {}
    counts = before.get("command") == args or (args[0] in SCALED_VERBS and folder_kept)
    return float(before.get("seconds", 0.0)) if counts else 0.0


def run_study(path: str | Path, scale: str, study_dir: str | Path, run_command: RunCommand, force: bool = False,
              progress_line: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every step of a study at ``scale`` into ``study_dir`` (skipping those already run), then write its page.
    ``force`` lets train and sweep steps continue runs whose config changed (their --force).
    Returns the record of the steps (command, seconds)."""
    if scale not in SCALES:
        raise GanlabError(f"--scale {scale!r} is not one of {', '.join(SCALES)}")
    study = load_study(path)
    folders = StudyDir(study_dir)
    folders.path.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = folders.read_steps()
    if record.get("scale", scale) != scale:
        raise GanlabError(f"{folders.path} holds the {record['scale']} scale of this study; pass another --out")
    record.update(study=str(path), scale=scale, steps=record.get("steps", {}),
                  interrupted=record.get("interrupted", {}))
    for step in study.steps:
        if scale not in step.only:
            continue
        args = step_command(study, step, scale, folders.path, study_root(path))
        done = record["steps"].get(step.name)
        if done and done["command"] == args:
            progress_line(f"ganlab: study step {step.name}: done before ({done['seconds']:.0f} s), skipped")
            continue
        command = resolve_points(args, folders.path) + (["--force"] if force and args[0] in SCALED_VERBS else [])
        progress_line(f"ganlab: study step {step.name}: ganlab {' '.join(command)}")
        t0 = time.perf_counter()
        earlier = earlier_seconds(record, step.name, args, (folders.path / step.name).is_dir())
        try:
            run_command(command)
        except BaseException:  # an error or Ctrl-C: the time spent counts when the step is run again
            record["interrupted"][step.name] = {"command": args, "seconds": earlier + time.perf_counter() - t0}
            atomic_write_json(folders.steps, record)
            raise
        record["interrupted"].pop(step.name, None)
        record["steps"][step.name] = {"command": args, "seconds": earlier + time.perf_counter() - t0,
                                      "earlier_seconds": earlier,  # of interrupted or earlier runs, in seconds
                                      "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                      "load_average_1min": os.getloadavg()[0],  # other work on the machine
                                      "environment": environment()}
        atomic_write_json(folders.steps, record)
    shown = [PageStep(s.name, s.about, record["steps"][s.name]["command"], record["steps"][s.name]["seconds"], s.show)
             for s in study.steps if s.name in record["steps"]]
    decidable = [f for f in study.findings if f.rule == "not_measured" or set(f.steps()) <= set(record["steps"])]
    if decidable:
        rows = write_findings(decidable, folders, scale)
        record["verdicts"] = {r["id"]: r["verdict"] for r in rows}
        progress_line(f"ganlab: verdicts: {', '.join(f'{k} {v}' for k, v in record['verdicts'].items())}")
    record["page"] = str(write_study_page(folders.path, study.title, study.summary, study.report, scale, shown,
                                          findings=folders.findings_md if decidable else None))
    atomic_write_json(folders.steps, record)
    return record


def publish(record: dict[str, Any], study_dir: str | Path, dest: str | Path) -> list[Path]:
    """Copy a study's evidence into ``dest`` (a docs folder): steps.json, findings.md/.json, each sweep step's
    results.csv (STEP-results.csv) and every figure and table its page shows (STEP-NAME); returns the files."""
    folders, out = StudyDir(study_dir), Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    root = str(study_root(record["study"]))
    atomic_write_json(out / folders.steps.name, portable_steps(record, root))
    written = [out / folders.steps.name]
    copies = {folders.findings_md: out / folders.findings_md.name,
              folders.findings_json: out / folders.findings_json.name}
    study = load_study(record["study"])
    for step in study.steps:
        if step.name not in record["steps"]:
            continue
        sweep = folders.sweep(step.name)
        copies[sweep.results_csv] = out / f"{step.name}-{sweep.results_csv.name}"
        shown = PageStep(step.name, step.about, [], 0.0, step.show)
        copies.update({f: out / f"{step.name}-{f.name}" for f in shown_files(folders.path, shown)})
    for source, target in copies.items():
        if source.is_file():
            shutil.copyfile(source, target)
            written.append(target)
    return written


def portable_steps(record: dict[str, Any], root: str) -> dict[str, Any]:
    """A steps record with the repository's folder written ``{root}``, as in the study file, so that a published
    copy names no folder of the machine it ran on."""
    return json.loads(json.dumps(record).replace(json.dumps(root)[1:-1], "{root}"))


def total_seconds(record: dict[str, Any]) -> Optional[float]:
    """The wall time of all the steps a study folder ran."""
    steps = record.get("steps", {})
    return sum(s["seconds"] for s in steps.values()) if steps else None
