"""Verbs on runs and sweeps: train, sample, eval, classifier, report, serve, sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ganlab.choices import CHOICES, SWEEP_BACKENDS
from ganlab.cli.base import data_root_option, device_option, main
from ganlab.folders import RUNS_ROOT


@main.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@data_root_option(expose=True)
@click.option("--run-dir", type=click.Path(file_okay=False),
              help="Run directory: new, or a run to continue (same config); default: a new runs/NNNNN-name.")
@click.option("--out", "out_root", default=RUNS_ROOT, show_default=True, help="Where new numbered run directories go.")
@click.option("--resume", type=click.Path(exists=True, file_okay=False),
              help="Continue this run from its last checkpoint (its saved config unless CONFIG/OVERRIDES are given).")
@click.option("--overwrite", is_flag=True, help="Start --run-dir afresh, deleting what is there.")
@click.option("--force", is_flag=True, help="Continue a run whose saved config differs, with the new config.")
@click.option("--dry-run", is_flag=True, help="Print the resolved config and exit.")
@click.option("--stop-after-steps", type=int, help="Checkpoint and stop after this many iterations (resume later).")
@click.option("--stop-after-minutes", type=float, help="Checkpoint and stop after this many minutes (resume later).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(config: Optional[str], overrides: tuple[str, ...], data_root: Optional[str], run_dir: Optional[str],
          out_root: str, resume: Optional[str], overwrite: bool, force: bool, dry_run: bool,
          stop_after_steps: Optional[int], stop_after_minutes: Optional[float], quiet: bool) -> None:
    """Train a GAN: CONFIG is a YAML file (default: the digits quickstart), OVERRIDES are key=value."""
    from ganlab.config import load_config, to_yaml
    from ganlab.folders import RunDir
    from ganlab.training.run import train as train_run
    from ganlab.training.rundir import read_config

    if config and "=" in config and not Path(config).exists():
        overrides, config = (config, *overrides), None
    extra = list(overrides) + ([f"data.root={data_root}"] if data_root else [])
    if resume and config is None:
        cfg = load_config(RunDir(resume).config, extra) if extra else None
    else:
        cfg = load_config(config, extra)
    if dry_run:
        click.echo(to_yaml(cfg if cfg is not None else read_config(resume)), nl=False)
        return
    result = train_run(cfg, run_dir=run_dir, out_root=out_root, resume=resume, overwrite=overwrite, force=force,
                       stop_after_steps=stop_after_steps, stop_after_minutes=stop_after_minutes, progress=not quiet)
    if not result.main_process:  # another DDP rank: rank 0 reports
        return
    from ganlab.report.curves import plot_curves, plot_eval_curves

    curves = [plot_curves(result.run_dir), plot_eval_curves(result.run_dir)]
    state = "finished" if result.finished else "paused (continue with --resume)"
    click.echo(f"{state} at iteration {result.step}: {result.run_dir}  "
               f"(curves: {', '.join(str(p) for p in curves if p is not None)})")


@main.command()
@click.argument("source", type=click.Path(exists=True))
@click.option("--labels", help="Class labels to draw, e.g. 0,3,7 (default: all classes), in equal blocks.")
@click.option("--n", "count", type=int, help="Number of samples (default: 8 per label, or one per seed).")
@click.option("--seeds", help="Seeds, e.g. 0:64 (64 excluded) or 3,5,9: sample i comes from seed i (default: 0..n-1).")
@click.option("--epoch", type=int, help="Use the generator exported at this epoch (default: latest).")
@click.option("-o", "--out", "out", default="samples.png", show_default=True, help="PNG grid to write.")
@click.option("--npz", type=click.Path(dir_okay=False), help="Also write raw uint8 images, labels and seeds here.")
@click.option("--columns", type=int, help="Grid columns (default: samples per label, wrapped at 32).")
@device_option
def sample(source: str, labels: Optional[str], count: Optional[int], seeds: Optional[str], epoch: Optional[int],
           out: str, npz: Optional[str], columns: Optional[int], device: str) -> None:
    """Draw samples from a run directory (or an export .safetensors) into a PNG grid and optionally an .npz
    (beyond 1,024 samples only the .npz: give --npz)."""
    from ganlab.explore.sample_run import write_samples
    from ganlab.syntax import parse_ints

    click.echo(write_samples(source, out, npz, columns, labels=parse_ints(labels, "--labels", 0) if labels else None,
                             n=count, seeds=parse_ints(seeds, "--seeds", 0) if seeds else None, epoch=epoch,
                             device=device))


@main.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False), help="HTML file (default: PATH/report.html).")
def report(path: str, out: Optional[str]) -> None:
    """Write one self-contained HTML report of a run directory or a sweep directory."""
    from ganlab.report.html import write_report

    click.echo(f"wrote {write_report(path, out)}")


@main.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--port", type=int, default=8000, show_default=True, help="Port on localhost (0 = any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--epoch", type=int, help="Serve the generator exported at this epoch (default: latest).")
@device_option
def serve(run_dir: str, port: int, host: str, epoch: Optional[int], device: str) -> None:
    """Explore a run's generator live in the browser: class, z sliders, interpolation, noise."""
    from ganlab.explore.serve import serve as serve_run

    serve_run(run_dir, host, port, epoch, device, announce=lambda line: click.echo(line))


@main.command()
@click.argument("source", required=False)
@click.argument("items", nargs=-1)
@click.option("--out", type=click.Path(file_okay=False), help="Sweep directory (default: sweeps/NAME of the file).")
@click.option("--backend", type=click.Choice(SWEEP_BACKENDS),
              help="Replace the spec's backend (auto: parallel workers on a CPU with several points, else sequential).")
@click.option("--workers", type=click.IntRange(min=0),
              help="parallel: worker processes, one thread each (0 = one per core).")
@click.option("--pack-size", type=int, help="packed: most models per batched group (0 = whole shape groups).")
@click.option("--address", help="ray: address of an existing Ray cluster (default: start a local instance).")
@click.option("--metric", help="What the figures draw: a metric (fid, cfd, acc: its protocol column) or a results "
                                "column (default: the spec's, fid).")
@click.option("--eval", "eval_metrics", help="Evaluate every finished point with these metrics, e.g. fid,cfd,acc "
                                            "(default: the spec's eval block).")
@click.option("--eval-n", type=int, help="Samples per evaluation (default: the spec's eval block, else the config's).")
@click.option("--floor/--no-floor", default=None, help="Measure and draw the metric's real-vs-real floor (default: "
                                                       "the spec's, on).")
@click.option("--stop-after-points", type=int, help="Train at most this many points, then stop (re-run to continue).")
@click.option("--force", is_flag=True,
              help="Continue points whose saved config differs from the spec, with the new config.")
@click.option("--progress", is_flag=True, help="Show each run's progress bar.")
@data_root_option()
def sweep(source: Optional[str], items: tuple[str, ...], out: Optional[str], backend: Optional[str],
          workers: Optional[int], pack_size: Optional[int], address: Optional[str], metric: Optional[str],
          eval_metrics: Optional[str], eval_n: Optional[int], floor: Optional[bool], stop_after_points: Optional[int],
          force: bool, progress: bool) -> None:
    """Run a sweep: SOURCE is a sweep YAML or a run config, ITEMS are key=VALUES (a:b range, a,b,c list).

    \b
    Example: ganlab sweep configs/x.yaml model.z_dim=0:129 seed=0,1,2 --backend packed --eval cfd,acc
    Re-running the same command resumes: finished points are skipped (and evaluated again if --eval changed).
    """
    from ganlab.folders import SweepDir
    from ganlab.sweeps.command import run_sweep_command
    from ganlab.syntax import parse_list

    if source and "=" in source and not Path(source).exists():
        items, source = (source, *items), None
    outcome = run_sweep_command(source, items, out=out, backend=backend, workers=workers, pack_size=pack_size,
                                address=address, metric=metric,
                                eval_metrics=parse_list(eval_metrics, "--eval") if eval_metrics else None,
                                eval_n=eval_n, floor=floor, stop_after_points=stop_after_points, force=force,
                                progress=progress)
    r = outcome.sweep
    state = "done" if r.remaining == 0 else f"{r.remaining} point(s) left (re-run to continue)"
    click.echo(f"{state}: trained {r.trained}, skipped {r.skipped}; results in {SweepDir(r.sweep_dir).results_csv}")
    if outcome.floor is not None:
        click.echo(f"  real-vs-real floor of {outcome.column}: {outcome.floor['value']:.4g}")
    for path in outcome.figures:
        click.echo(f"  {path}")


@main.command(name="eval")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--n", type=click.IntRange(min=1), help="Generated samples (default: the run's eval.n, 10000).")
@click.option("--ref", type=click.Choice(CHOICES["eval.ref"]), help="Reference split (default: the run's eval.ref).")
@click.option("--ref-n", type=click.IntRange(min=0),
              help="Use only the first N reference images (default: the whole split).")
@click.option("--metrics",
              help=f"Comma-separated: {','.join(CHOICES['eval.metrics'])} (default: the run's eval.metrics).")
@click.option("--bootstrap", type=click.IntRange(min=0), help="Bootstrap resamples for FID's 95% interval (0 = off).")
@click.option("--inception", type=click.Path(dir_okay=False), help="Inception TorchScript file (default: found).")
@click.option("--allow-tf32", is_flag=True, default=None,
              help="Let CUDA use TF32 in Inception (not the strict protocol).")
@click.option("--seed", type=click.IntRange(min=0), help="Latent seed of the first sample; sample i uses SEED + i, so "
              "seeds at least --n apart draw other samples (default: the run's eval.seed).")
@click.option("--epoch", "epochs", type=int, multiple=True,
              help="Evaluate the generator exported at this epoch (repeatable; default: latest).")
@click.option("--log", is_flag=True, help="Also add each result to the run's metrics.jsonl as an evaluation at the "
                                         "export's iteration (where a study's findings read it).")
@device_option
@data_root_option()
def eval_(run_dirs: tuple[str, ...], n: Optional[int], ref: Optional[str], ref_n: Optional[int],
          metrics: Optional[str], bootstrap: Optional[int], inception: Optional[str], allow_tf32: Optional[bool],
          seed: Optional[int], epochs: tuple[int, ...], log: bool, device: str) -> None:
    """Measure runs' generators (FID, IS, KID, precision/recall, ...): writes each RUN_DIR/eval.json, prints a
    table per run and epoch."""
    from ganlab.folders import RunDir
    from ganlab.metrics.evaluate import format_table
    from ganlab.training.evaluation import evaluate_run

    given = {"n": n, "ref": ref, "ref_n": ref_n, "bootstrap": bootstrap, "inception": inception,
             "allow_tf32": allow_tf32, "seed": seed,
             "metrics": [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None}
    overrides = {k: v for k, v in given.items() if v is not None}
    for run_dir in run_dirs:
        for epoch in epochs or (None,):
            results = evaluate_run(run_dir, overrides, epoch, device, log)
            if len(run_dirs) > 1 or len(epochs) > 1:
                click.echo(f"{run_dir}" + (f", epoch {epoch}" if epoch is not None else ""))
            click.echo(format_table(results))
        click.echo(f"wrote {RunDir(run_dir).eval}")


@main.group()
def classifier() -> None:
    """The domain classifier used by the acc, cis metrics and the class histograms."""


@classifier.command(name="train")
@click.argument("data_name")
@click.option("--resolution", type=int, default=0, show_default=True,
              help="Image side in pixels (0 = the source's own).")
@click.option("--channels", type=int, default=0, show_default=True, help="1 or 3 (0 = the source's own).")
@data_root_option()
@click.option("--epochs", type=int, help="Passes over the training split (default: ClassifierConfig.epochs).")
@click.option("--if-missing", is_flag=True,
              help="Keep the stored classifier of this data set and size if there is one.")
@device_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
def classifier_train(data_name: str, resolution: int, channels: int, epochs: Optional[int], if_missing: bool,
                     device: str, quiet: bool) -> None:
    """Train the domain classifier of DATA_NAME (e.g. mnist) on its train split; report its test accuracy."""
    from dataclasses import replace

    from ganlab.config import ClassifierConfig, DataConfig
    from ganlab.metrics.classifier import train_classifier

    cfg = ClassifierConfig() if epochs is None else replace(ClassifierConfig(), epochs=epochs)
    meta = train_classifier(DataConfig(name=data_name, resolution=resolution, channels=channels),
                            cfg, device, progress=not quiet, reuse=if_missing)
    if meta.get("reused"):
        click.echo(f"{data_name} classifier ({meta['resolution']}px, {100 * meta['test_accuracy']:.2f}% test accuracy) "
                   f"already stored: {meta['path']}")
        return
    click.echo(f"{data_name} classifier ({meta['resolution']}px): {meta['accuracy_split']} accuracy "
               f"{100 * meta['test_accuracy']:.2f}% after {meta['train_time_s']:.0f} s on {meta['device']}; "
               f"saved {meta['path']}")
