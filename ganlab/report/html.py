"""``ganlab report``: one self-contained HTML file (images embedded) for a run or a sweep."""

from __future__ import annotations

from pathlib import Path

from ganlab.errors import GanlabError
from ganlab.io import atomic_write_text
from ganlab.train.rundir import RunDir

REPORT_FILE = "report.html"


def render(template: str, **context) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("ganlab.report", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template(template).render(**context)


def write_run_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write RUN_DIR/report.html (or ``out``) and the figures as PNGs in RUN_DIR/figures/."""
    from ganlab.report.run_page import run_context

    run_dir = Path(run_dir)
    if not RunDir(run_dir).is_run():
        raise GanlabError(f"{run_dir} is not a run directory (no {RunDir(run_dir).config.name}); pass a folder made "
                          f"by 'ganlab train' or 'ganlab sweep'")
    out = Path(out) if out else run_dir / REPORT_FILE
    return atomic_write_text(out, render("run.html.j2", **run_context(run_dir)))


def write_sweep_report(sweep_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write SWEEP_DIR/report.html (or ``out``) and a report.html in each of its runs, linked from it."""
    from ganlab.report.sweep_page import find_runs, sweep_context

    sweep_dir = Path(sweep_dir)
    reports = {run: write_run_report(run) for run in find_runs(sweep_dir)}
    out = Path(out) if out else sweep_dir / REPORT_FILE
    return atomic_write_text(out, render("sweep.html.j2", **sweep_context(sweep_dir, reports)))


def write_report(path: str | Path, out: str | Path | None = None) -> Path:
    """The report of a run directory or a sweep directory, whichever ``path`` is."""
    from ganlab.report.sweep_page import is_sweep_dir

    path = Path(path)
    if not path.is_dir():
        raise GanlabError(f"{path} is not a directory; pass a run directory or a sweep directory")
    if RunDir(path).is_run():
        return write_run_report(path, out)
    if is_sweep_dir(path):
        return write_sweep_report(path, out)
    raise GanlabError(f"{path} is neither a run directory nor a sweep directory; pass one made by 'ganlab train' "
                      f"or 'ganlab sweep'")
