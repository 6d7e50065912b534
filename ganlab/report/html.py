"""``ganlab report``: one self-contained HTML file (images embedded) for a run or a sweep."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ganlab.errors import GanlabError
from ganlab.folders import RunDir, SweepDir
from ganlab.io import atomic_write_text
from ganlab.report.run_page import run_context
from ganlab.report.sweep_page import sweep_context


def render(template: str, **context) -> str:
    """A page template of ganlab.report's templates/ filled with ``context``."""
    env = Environment(loader=PackageLoader("ganlab.report", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template(template).render(**context)


def write_run_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write RUN_DIR/report.html (or ``out``) and the figures as PNGs in RUN_DIR/figures/."""
    files = RunDir(run_dir)
    run_dir = files.path
    if not files.is_run():
        raise GanlabError(f"{run_dir} is not a run directory (no {files.config.name}); pass a folder made "
                          f"by 'ganlab train' or 'ganlab sweep'")
    out = Path(out) if out else files.report
    return atomic_write_text(out, render("run.html.j2", **run_context(run_dir)))


def write_sweep_report(sweep_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write SWEEP_DIR/report.html (or ``out``) and a report.html in each of its runs, linked from it."""
    folders = SweepDir(sweep_dir)
    sweep_dir = folders.path
    reports = {run: write_run_report(run) for run in folders.run_dirs()}
    out = Path(out) if out else folders.report
    return atomic_write_text(out, render("sweep.html.j2", **sweep_context(sweep_dir, reports)))


def write_report(path: str | Path, out: str | Path | None = None) -> Path:
    """The report of a run directory or a sweep directory, whichever ``path`` is."""
    path = Path(path)
    if not path.is_dir():
        raise GanlabError(f"{path} is not a directory; pass a run directory or a sweep directory")
    if RunDir(path).is_run():
        return write_run_report(path, out)
    if SweepDir(path).is_sweep():
        return write_sweep_report(path, out)
    raise GanlabError(f"{path} is neither a run directory nor a sweep directory; pass one made by 'ganlab train' "
                      f"or 'ganlab sweep'")
