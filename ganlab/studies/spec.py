"""A study file: a YAML list of ganlab commands (train, sweep, eval, explore, matrix, classifier) that
``ganlab.studies.engine`` runs in order into one study folder, at one of three scales.

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
      - name: matrix
        command: [matrix, "{point:latent model.z_dim=0 seed=0}", "{point:latent model.z_dim=8 seed=0}", ...]

``{out}`` is the step's folder, ``{study}`` the study folder and ``{root}`` the folder above the study file's
(the repository, whose configs/ the study files use), so a study runs from any directory. ``{point:STEP k=v ...}``
is the run folder of the point of sweep step STEP with those swept values and seed (``SweepDir.find_point``),
so a study file never names a run folder.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganlab.errors import GanlabError
from ganlab.folders import StudyDir
from ganlab.studies.findings import Finding, load_findings
from ganlab.syntax import yaml_file, yaml_scalar

SCALES = ("full", "cpu", "tiny")  # the report's sizes, an hour on a 2-core CPU, the tests' seconds
SCALED_VERBS = ("train", "sweep")  # the commands a scale's options are added to
DEFAULT_SHOW = ("*.png", "*.md", "figures/*.png", "figures/*.md", "explore/*.png", "explore/*.md")
POINT = re.compile(r"\{point:(?P<step>[^\s}]+)(?P<items>[^}]*)\}")  # {point:STEP key=value ...}


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
    findings: list[Finding] = field(default_factory=list)  # the report's findings, decided after the steps


def _fields(kind: type, data: dict[str, Any], where: str) -> dict[str, Any]:
    known = [f.name for f in dataclasses.fields(kind)]
    unknown = [k for k in data if k not in known]
    if unknown:
        raise GanlabError(f"unknown field(s) {', '.join(map(str, unknown))} in {where}; known: {', '.join(known)}")
    return data


def load_study(path: str | Path) -> Study:
    """Read and check a study file."""
    path = Path(path)
    data = yaml_file(path, "study file", "a mapping with title and steps, such as studies/report000.yaml")
    steps = [StudyStep(**_fields(StudyStep, dict(s), f"step {i + 1} of {path}"))
             for i, s in enumerate(data.pop("steps", []))]
    data["findings"] = load_findings(data.pop("findings", None) or [], str(path))
    study = Study(steps=steps, **_fields(Study, data, str(path)))
    names = [s.name for s in steps]
    if not steps or len(set(names)) != len(names):
        raise GanlabError(f"{path} needs steps with distinct names (got {names})")
    for s in steps:
        bad = [k for k in (*s.options, *s.only) if k not in SCALES] + [k for k in study.scales if k not in SCALES]
        if bad:
            raise GanlabError(f"step {s.name} of {path}: unknown scale(s) {bad}; scales are {', '.join(SCALES)}")
    for f in study.findings:
        if bad := [k for k in f.only if k not in SCALES]:
            raise GanlabError(f"finding {f.id} of {path}: unknown scale(s) {bad} in only; scales are "
                              f"{', '.join(SCALES)}")
    unknown_steps = [f"{f.id} reads {step}" for f in study.findings for step in f.steps() if step and step not in names]
    if unknown_steps:
        raise GanlabError(f"{path}: findings read steps the study does not have ({', '.join(unknown_steps)})")
    return study


def study_root(path: str | Path) -> Path:
    """``{root}`` of a study file: the folder above the study file's folder (the repository)."""
    return Path(path).resolve().parent.parent


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


def logging_evals(study: Study, steps: list[str], scale: str) -> list[StudyStep]:
    """The study's ``eval ... --log`` steps at ``scale`` that measure points of these sweep steps (a metric they add
    to those points' records, as report 000's fid step adds Inception FID)."""
    def reads(step: StudyStep) -> bool:
        return any(m.group("step") in steps for a in step.command for m in POINT.finditer(str(a)))

    return [s for s in study.steps if scale in s.only and s.command[:1] == ["eval"] and "--log" in s.command
            and reads(s)]


def resolve_points(args: list[str], study_dir: Path) -> list[str]:
    """``{point:STEP k=v ...}`` in ``args`` replaced by that point's run folder (the sweep step must have run)."""
    def folder(match: re.Match[str]) -> str:
        items = match.group("items").split()
        bad = [item for item in items if "=" not in item]
        if not items or bad:
            raise GanlabError(f"{match.group(0)}: name the point by key=value items, e.g. "
                              f"{{point:{match.group('step')} model.z_dim=8 seed=0}}")
        overrides = {k: yaml_scalar(v) for k, v in (item.split("=", 1) for item in items)}
        return str(StudyDir(study_dir).sweep(match.group("step")).find_point(overrides).path)

    return [POINT.sub(folder, a) for a in args]

