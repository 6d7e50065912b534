"""A study's page: every step's figures and tables, in order, with its command and wall time, in one
self-contained HTML file (``StudyDir.page``)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ganlab.folders import StudyDir
from ganlab.io import atomic_write_text
from ganlab.progress import duration
from ganlab.report.embed import image
from ganlab.report.html import render
from ganlab.report.run_page import json_tables

STUDY_PREFIX = "{study}/"  # a show glob relative to the study folder, not the step's


@dataclass
class PageStep:
    name: str  # the step's folder in the study folder
    about: str  # what it shows
    command: list[str]  # the ganlab command it ran
    seconds: float  # its wall time
    show: list[str]  # globs of its folder shown on the page


def markdown_table(text: str) -> dict:
    """A Markdown file of one pipe table (and lines of text before it) as {title, header, rows}."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = next((i for i, line in enumerate(lines) if line.startswith("|")), len(lines))
    title = " ".join(lines[:first])  # the text before the table (notes after it stay in the file)
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines if line.startswith("|")]
    cells = [row for row in cells if not all(set(c) <= set("-: ") for c in row)]  # the |---| rule
    return {"title": title, "header": cells[0] if cells else [], "rows": cells[1:]}


def shown_files(study_dir: Path, step: PageStep) -> list[Path]:
    """The files of the step's ``show`` globs: relative to its folder, or to the study folder after {study}/."""
    files = []
    for pattern in step.show:
        root, pattern = (study_dir, pattern[len(STUDY_PREFIX):]) if pattern.startswith(STUDY_PREFIX) else \
            (study_dir / step.name, pattern)
        files += sorted(root.glob(pattern))
    return list(dict.fromkeys(files))


def _step_context(study_dir: Path, step: PageStep) -> dict:
    files = shown_files(study_dir, step)
    name = lambda p: str(p.relative_to(study_dir))  # noqa: E731
    tables = [markdown_table(p.read_text()) | {"file": name(p)} for p in files if p.suffix == ".md"]
    tables += [t | {"file": name(p)} for p in files if p.suffix == ".json"
               for t in json_tables(json.loads(p.read_text()), name(p))]
    return {"name": step.name, "about": step.about, "command": "ganlab " + shlex.join(step.command),
            "time": duration(step.seconds), "tables": tables,
            "figures": [image(p, name(p)) for p in files if p.suffix == ".png"]}


def write_study_page(study_dir: Path, title: str, summary: str, report: str, scale: str,
                     steps: list[PageStep], findings: Optional[Path] = None) -> Path:
    """Write the study's page (``StudyDir.page``): the summary, the verdicts table (``findings``, a Markdown file)
    and every step."""
    total = sum(s.seconds for s in steps)
    html = render("study.html.j2", title=title, summary=summary, report=report, scale=scale,
                  study_dir=str(study_dir.resolve()), total=duration(total),
                  findings=markdown_table(findings.read_text()) if findings is not None else None,
                  steps=[_step_context(study_dir, s) for s in steps])
    return atomic_write_text(StudyDir(study_dir).page, html)
