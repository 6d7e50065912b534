"""A report's study: a YAML list of ganlab commands (train, sweep, eval, explore, matrix, classifier) run in
order into one study folder, at one of three scales, then one HTML page of every figure and table.

A study file::

    title: "Report 000: latent size vs FID"
    summary: what the report found and what the study shows
    scales:                       # options added to every train and sweep command of that scale
      full: []                    # the report's own sizes (a GPU)
      cpu: [model.g_width=16]     # at most an hour on a 2-core CPU, still showing the report's finding
      tiny: [data.name=digits]    # seconds: the tests' smoke run
    steps:
      - name: latent              # the step's folder: STUDY/latent ({out} in its command)
        about: caption on the page
        command: [sweep, configs/sweep_report000_latent.yaml, --out, "{out}"]
        options: {cpu: [model.z_dim=0,2,8,32], tiny: [model.z_dim=0,2]}   # added at that scale only
        show: ["figures/*.png"]   # what the page shows of the step's folder (default: every PNG and table)

``{out}`` is the step's folder, ``{study}`` the study folder and ``{root}`` the folder above the study file's
(the repository, whose configs/ the study files use), so a study runs from any directory. A step whose command already ran (the
same command, recorded in STUDY/steps.json) is skipped, so an interrupted study continues where it
stopped; an interrupted training continues from its checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from ganlab.errors import GanlabError
from ganlab.io import atomic_write_json
from ganlab.train.rundir import RunDir

SCALES = ("full", "cpu", "tiny")  # the report's sizes, an hour on a 2-core CPU, the tests' seconds
SCALED_VERBS = ("train", "sweep")  # the commands a scale's options are added to
DEFAULT_SHOW = ("*.png", "*.md", "figures/*.png", "figures/*.md", "explore/*.png", "explore/*.md")
STEPS_FILE = "steps.json"  # the commands a study folder has run, with their wall times


@dataclass
class StudyStep:
    name: str  # the step's folder inside the study folder
    command: list[str]  # a ganlab command line, with {out} and {study}
    about: str = ""  # what the step shows (a caption on the page)
    options: dict[str, list[str]] = field(default_factory=dict)  # scale -> options added at that scale only
    only: list[str] = field(default_factory=lambda: list(SCALES))  # the scales the step runs at
    show: list[str] = field(default_factory=lambda: list(DEFAULT_SHOW))  # globs of the step's folder on the page


@dataclass
class Study:
    title: str
    steps: list[StudyStep]
    summary: str = ""  # what the report found and what the study shows
    report: str = ""  # the report this study reproduces
    scales: dict[str, list[str]] = field(default_factory=dict)  # scale -> options of every train and sweep command


def _fields(kind: type, data: dict[str, Any], where: str) -> dict[str, Any]:
    known = [f.name for f in dataclasses.fields(kind)]
    unknown = [k for k in data if k not in known]
    if unknown:
        raise GanlabError(f"unknown field(s) {', '.join(map(str, unknown))} in {where}; known: {', '.join(known)}")
    return data


def load_study(path: str | Path) -> Study:
    """Read and check a study file."""
    path = Path(path)
    if not path.is_file():
        raise GanlabError(f"study file {path} not found; pass one of studies/report00N.yaml")
    data = yaml.safe_load(path.read_text()) or {}
    steps = [StudyStep(**_fields(StudyStep, dict(s), f"step {i + 1} of {path}")) for i, s in enumerate(data.pop("steps", []))]
    study = Study(steps=steps, **_fields(Study, data, str(path)))
    names = [s.name for s in steps]
    if not steps or len(set(names)) != len(names):
        raise GanlabError(f"{path} needs steps with distinct names (got {names})")
    for s in steps:
        bad = [k for k in (*s.options, *s.only) if k not in SCALES] + [k for k in study.scales if k not in SCALES]
        if bad:
            raise GanlabError(f"step {s.name} of {path}: unknown scale(s) {bad}; scales are {', '.join(SCALES)}")
    return study


def step_command(study: Study, step: StudyStep, scale: str, study_dir: Path, root: Path) -> list[str]:
    """The step's ganlab command line at ``scale``, placeholders filled."""
    args = [str(a) for a in step.command]
    if args and args[0] in SCALED_VERBS:
        args += study.scales.get(scale, [])
    args += [str(a) for a in step.options.get(scale, [])]
    places = {"{out}": study_dir / step.name, "{study}": study_dir, "{root}": root}
    for key, value in places.items():
        args = [a.replace(key, str(value)) for a in args]
    return args


def _continuing(args: list[str], out: Path) -> list[str]:
    """A train command into ``out``: resume it if a checkpoint is there, else start it afresh."""
    if args[:1] == ["train"] and str(out) in args:
        if RunDir(out).has_checkpoint():
            return ["train", "--resume", str(out), "--force"]
        if out.exists():
            return args + ["--overwrite"]
    return args


def run_ganlab(args: list[str]) -> None:
    """Run one ganlab command line in this process; a failure stops the study with the command."""
    from ganlab.cli import main

    try:
        main(args, standalone_mode=False)
    except SystemExit as e:
        if e.code not in (0, None):
            raise GanlabError(f"study step failed: ganlab {shlex.join(args)}") from None


def run_study(path: str | Path, scale: str, study_dir: str | Path, progress_line=print) -> dict[str, Any]:
    """Run every step of a study at ``scale`` into ``study_dir`` (skipping those already run), then write
    STUDY/index.html. Returns the record of the steps (command, seconds)."""
    if scale not in SCALES:
        raise GanlabError(f"--scale {scale!r} is not one of {', '.join(SCALES)}")
    study = load_study(path)
    study_dir = Path(study_dir)
    study_dir.mkdir(parents=True, exist_ok=True)
    record_path = study_dir / STEPS_FILE
    record: dict[str, Any] = json.loads(record_path.read_text()) if record_path.is_file() else {}
    if record.get("scale", scale) != scale:
        raise GanlabError(f"{study_dir} holds the {record['scale']} scale of this study; pass another --out")
    record.update(study=str(path), scale=scale, steps=record.get("steps", {}))
    for step in study.steps:
        if scale not in step.only:
            continue
        args = step_command(study, step, scale, study_dir, Path(path).resolve().parent.parent)
        done = record["steps"].get(step.name)
        if done and done["command"] == args:
            progress_line(f"ganlab: study step {step.name}: done before ({done['seconds']:.0f} s), skipped")
            continue
        progress_line(f"ganlab: study step {step.name}: ganlab {shlex.join(args)}")
        t0 = time.perf_counter()
        run_ganlab(_continuing(args, study_dir / step.name))
        record["steps"][step.name] = {"command": args, "seconds": time.perf_counter() - t0,
                                      "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                      "load_average_1min": os.getloadavg()[0]}  # other work on the machine
        atomic_write_json(record_path, record)
    from ganlab.report.study_page import PageStep, write_study_page

    shown = [PageStep(s.name, s.about, record["steps"][s.name]["command"], record["steps"][s.name]["seconds"], s.show)
             for s in study.steps if s.name in record["steps"]]
    record["page"] = str(write_study_page(study_dir, study.title, study.summary, study.report, scale, shown))
    atomic_write_json(record_path, record)
    return record


def total_seconds(record: dict[str, Any]) -> Optional[float]:
    """The wall time of all the steps a study folder ran."""
    steps = record.get("steps", {})
    return sum(s["seconds"] for s in steps.values()) if steps else None
