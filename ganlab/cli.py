"""The command line: each verb parses its options and calls one library function."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click

from ganlab.errors import GanlabError


class _Group(click.Group):
    """Turns a GanlabError into one clear line on stderr and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GanlabError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="ganlab")
def main() -> None:
    """Train, measure and explore conditional GANs on image data sets."""


@main.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@click.option("--data-root", help="Folder holding the data sets (default: $GANLAB_DATA, else ~/.cache/ganlab/data).")
@click.option("--run-dir", type=click.Path(file_okay=False), help="Run directory (default: a new runs/NNNNN-name).")
@click.option("--out", "out_root", default="runs", show_default=True, help="Where new numbered run directories go.")
@click.option("--resume", type=click.Path(exists=True, file_okay=False), help="Continue this run from its last checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --run-dir.")
@click.option("--force", is_flag=True, help="Resume even though the config changed.")
@click.option("--dry-run", is_flag=True, help="Print the resolved config and exit.")
@click.option("--stop-after-steps", type=int, help="Checkpoint and stop after this many iterations (resume later).")
@click.option("--stop-after-minutes", type=float, help="Checkpoint and stop after this many minutes (resume later).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(config: Optional[str], overrides: tuple[str, ...], data_root: Optional[str], run_dir: Optional[str],
          out_root: str, resume: Optional[str], overwrite: bool, force: bool, dry_run: bool,
          stop_after_steps: Optional[int], stop_after_minutes: Optional[float], quiet: bool) -> None:
    """Train a GAN: CONFIG is a YAML file (default: the digits quickstart), OVERRIDES are key=value."""
    from ganlab.config import load_config, to_yaml
    from ganlab.train import read_config, train as train_run

    if config and "=" in config and not Path(config).exists():
        overrides, config = (config, *overrides), None
    extra = list(overrides) + ([f"data.root={data_root}"] if data_root else [])
    if resume and config is None:
        cfg = load_config(Path(resume) / "config.yaml", extra) if extra else None
    else:
        cfg = load_config(config, extra)
    if dry_run:
        click.echo(to_yaml(cfg if cfg is not None else read_config(resume)), nl=False)
        return
    result = train_run(cfg, run_dir=run_dir, out_root=out_root, resume=resume, overwrite=overwrite, force=force,
                       stop_after_steps=stop_after_steps, stop_after_minutes=stop_after_minutes, progress=not quiet)
    from ganlab.report.curves import plot_curves

    curves = plot_curves(result.run_dir)
    state = "finished" if result.finished else "paused (continue with --resume)"
    click.echo(f"{state} at iteration {result.step}: {result.run_dir}  (curves: {curves})")


@main.command()
@click.argument("source", type=click.Path(exists=True))
@click.option("--labels", help="Class labels to draw, e.g. 0,3,7 (default: all classes), in equal blocks.")
@click.option("--n", "count", type=int, help="Number of samples (default: 8 per label, or one per seed).")
@click.option("--seeds", help="Seeds, e.g. 0-63: sample i comes from seed i (default: 0..n-1).")
@click.option("--epoch", type=int, help="Use the generator exported at this epoch (default: latest).")
@click.option("-o", "--out", "out", default="samples.png", show_default=True, help="PNG grid to write.")
@click.option("--npz", type=click.Path(dir_okay=False), help="Also write raw uint8 images, labels and seeds here.")
@click.option("--columns", type=int, help="Grid columns (default: samples per label).")
@click.option("--device", default="cpu", show_default=True)
def sample(source: str, labels: Optional[str], count: Optional[int], seeds: Optional[str], epoch: Optional[int],
           out: str, npz: Optional[str], columns: Optional[int], device: str) -> None:
    """Draw samples from a run directory (or an export .safetensors) into a PNG grid and optionally an .npz."""
    from ganlab.models.sampling import parse_int_list, sample_images

    result = sample_images(source, labels=parse_int_list(labels) if labels else None, n=count,
                           seeds=parse_int_list(seeds) if seeds else None, epoch=epoch, device=device)
    result.save(out, npz, columns)
    click.echo(f"wrote {len(result.seeds)} samples to {out}" + (f" and {npz}" if npz else ""))


if __name__ == "__main__":
    main()
