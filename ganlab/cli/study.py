"""Verbs that span runs: the distance matrix between runs, and a report's whole study."""

from __future__ import annotations

from typing import Optional

import click

from ganlab.cli.base import data_root_option, device_option, main, run_command


@main.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--metric", default="fid", show_default=True, help="fid (Inception) or cfd (the domain classifier).")
@click.option("--n", type=int, default=2000, show_default=True, help="Images of each set.")
@click.option("--real", default="test", show_default=True, help="Add the real images of this split (train or test), "
                                                                "or none.")
@click.option("--names", help="Names of the runs in the table, e.g. UGAN,CGAN_1 (default: the folder names).")
@click.option("-o", "--out", "out", default="matrix", show_default=True,
              help="Output path without suffix: OUT.png (heat map), OUT.md, OUT.csv, OUT.json.")
@device_option
@data_root_option()
def matrix(run_dirs: tuple[str, ...], metric: str, n: int, real: str, names: Optional[str], out: str,
           device: str) -> None:
    """The FID (or cfd) between every pair of runs and the real images, as a table and a heat map."""
    from ganlab.report.matrix import compare_runs
    from ganlab.syntax import parse_list

    result = compare_runs(run_dirs, out, metric, n, None if real == "none" else real,
                          [str(v) for v in parse_list(names, "--names")] if names else None, device=device)
    click.echo(f"wrote {', '.join(str(p) for p in result.files)}")


@main.command()
@click.argument("study_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--scale", default="cpu", show_default=True,
              help="full (the report's sizes, for a GPU), cpu (at most an hour on 2 CPU cores) or tiny (seconds).")
@click.option("--out", type=click.Path(file_okay=False), help="Study folder (default: studies/out/NAME-SCALE).")
@data_root_option()
@click.option("--force", is_flag=True, help="Let train and sweep steps continue runs whose config changed.")
@click.option("--docs", type=click.Path(file_okay=False),
              help="Also copy the evidence (steps.json, findings, results, the page's figures) into this folder.")
def study(study_file: str, scale: str, out: Optional[str], force: bool, docs: Optional[str]) -> None:
    """Run every experiment of a report's study (training, sweeps, evaluation, exploration) and write one page.

    \b
    Example: ganlab study studies/report000.yaml --scale cpu --data-root DATA
    Re-running the same command continues an interrupted study: steps already run are skipped.
    """
    from pathlib import Path

    from ganlab.folders import default_study_dir
    from ganlab.studies.engine import publish, run_study, total_seconds

    folder = Path(out) if out else default_study_dir(study_file, scale)
    record = run_study(study_file, scale, folder, run_command, force=force,
                       progress_line=lambda line: click.echo(line, err=True))
    click.echo(f"study done in {total_seconds(record) or 0:.0f} s of steps: {record['page']}")
    if docs:
        click.echo(f"copied {len(publish(record, folder, docs))} files into {docs}")
