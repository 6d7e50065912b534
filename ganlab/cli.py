"""The command line: each verb parses its options and calls one library function."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Optional

import click

from ganlab.config import CHOICES
from ganlab.errors import GanlabError


class _Group(click.Group):
    """Turns a GanlabError into one clear line on stderr and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GanlabError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)


_device_option = click.option("--device", default="auto", show_default=True,
                              help="auto (CUDA when present, else the CPU), cpu, cuda or cuda:N.")


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
    from ganlab.train.rundir import RunDir

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
    from ganlab.report.curves import plot_curves

    curves = plot_curves(result.run_dir)
    state = "finished" if result.finished else "paused (continue with --resume)"
    click.echo(f"{state} at iteration {result.step}: {result.run_dir}  (curves: {curves})")


@main.command()
@click.argument("source", type=click.Path(exists=True))
@click.option("--labels", help="Class labels to draw, e.g. 0,3,7 (default: all classes), in equal blocks.")
@click.option("--n", "count", type=int, help="Number of samples (default: 8 per label, or one per seed).")
@click.option("--seeds", help="Seeds, e.g. 0:64 (64 excluded) or 3,5,9: sample i comes from seed i (default: 0..n-1).")
@click.option("--epoch", type=int, help="Use the generator exported at this epoch (default: latest).")
@click.option("-o", "--out", "out", default="samples.png", show_default=True, help="PNG grid to write.")
@click.option("--npz", type=click.Path(dir_okay=False), help="Also write raw uint8 images, labels and seeds here.")
@click.option("--columns", type=int, help="Grid columns (default: samples per label).")
@_device_option
def sample(source: str, labels: Optional[str], count: Optional[int], seeds: Optional[str], epoch: Optional[int],
           out: str, npz: Optional[str], columns: Optional[int], device: str) -> None:
    """Draw samples from a run directory (or an export .safetensors) into a PNG grid and optionally an .npz."""
    from ganlab.syntax import parse_ints
    from ganlab.explore.sample import sample_images

    result = sample_images(source, labels=parse_ints(labels, "--labels", 0) if labels else None, n=count,
                           seeds=parse_ints(seeds, "--seeds", 0) if seeds else None, epoch=epoch, device=device)
    result.save(out, npz, columns)
    click.echo(f"wrote {len(result.seeds)} samples to {out}" + (f" and {npz}" if npz else ""))


def _classes(text: Optional[str]) -> Optional[list[int]]:
    from ganlab.syntax import parse_ints

    return parse_ints(text, "--classes", 0) if text else None


@main.group()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.pass_context
def explore(ctx: click.Context, run_dir: str) -> None:
    """Explore a trained generator: each command writes PNGs and a JSON of numbers into RUN_DIR/explore/."""
    ctx.obj = run_dir


def _explorer_options(command):
    """--epoch, --out and --device of every explore command; passes the loaded Explorer as ``ex``."""
    @click.option("--epoch", type=int, help="Explore the generator exported at this epoch (default: latest).")
    @click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default: RUN_DIR/explore).")
    @_device_option
    @click.pass_obj
    @functools.wraps(command)
    def wrapper(run_dir: str, epoch: Optional[int], out_dir: Optional[str], device: str, **options):
        from ganlab.explore.common import load_explorer

        return command(load_explorer(run_dir, epoch, device, out_dir), **options)

    return wrapper


@explore.command("interpolate")
@click.option("--steps", type=int, default=10, show_default=True, help="K: images at t = i/K, i = 0..K.")
@click.option("--pairs", type=int, default=5, show_default=True, help="Pairs drawn at random from --seed.")
@click.option("--pair-seeds", multiple=True, help="An explicit pair of seeds A,B; repeat for more pairs (overrides --pairs).")
@click.option("--from-class", "class_a", type=int, help="Class at t = 0 (default: random per pair).")
@click.option("--to-class", "class_b", type=int, help="Class at t = 1 (default: the same class, or random with --across).")
@click.option("--across", is_flag=True, help="End in a different class: the label code moves too.")
@click.option("--from-zero", is_flag=True, help="Start every path at z = 0 (the class's 'mean' image).")
@click.option("--from-latent", type=click.Path(exists=True, dir_okay=False), help="Start every path at this latent "
              "(.npy of z_dim numbers).")
@click.option("--to-seeds", help="End seeds of the paths from --from-zero / --from-latent, e.g. 3,7 (default: random).")
@click.option("--method", type=click.Choice(["linear", "spherical", "both"]), default="both", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@_explorer_options
def explore_interpolate(ex, steps, pairs, pair_seeds, class_a, class_b, across, from_zero, from_latent, to_seeds,
                        method, seed) -> None:
    """Interpolate between two samples (or from z = 0 or a given latent), within a class or across classes."""
    from ganlab.explore.interpolate import METHODS, interpolate, latent_start, zero_start
    from ganlab.syntax import parse_ints

    if from_zero and from_latent:
        raise GanlabError("--from-zero and --from-latent both say where paths start; give one")
    start = zero_start(ex) if from_zero else latent_start(ex, from_latent) if from_latent else None
    result = interpolate(ex, steps, pairs, seed, _seed_pairs(pair_seeds) or None, class_a, class_b, across,
                         METHODS if method == "both" else (method,), start,
                         parse_ints(to_seeds, "--to-seeds", 0) if to_seeds else None)
    click.echo(result.summary())


def _seed_pairs(values: tuple[str, ...]) -> list[tuple[int, int]]:
    """--pair-seeds A,B (repeated); the old single-option form 1:2,3:4 is still read, with a note."""
    import re

    from ganlab.syntax import parse_ints
    from ganlab.errors import warn

    if len(values) == 1 and re.fullmatch(r"\d+:\d+(,\d+:\d+)*", values[0]):
        pairs = [tuple(map(int, p.split(":"))) for p in values[0].split(",")]
        warn(f"--pair-seeds {values[0]}: read as " + " ".join(f"--pair-seeds {a},{b}" for a, b in pairs)
             + " (a:b is a range everywhere else in ganlab)")
        return pairs  # type: ignore[return-value]
    out = []
    for text in values:
        seeds = parse_ints(text, "--pair-seeds", 0)
        if len(seeds) != 2:
            raise GanlabError(f"--pair-seeds '{text}' is not one pair; write --pair-seeds 1,2 --pair-seeds 3,4")
        out.append((seeds[0], seeds[1]))
    return out


@explore.command("noise")
@click.option("--eps", default="0,0.1,0.25,0.5,1,2", show_default=True, help="Noise scales.")
@click.option("--per-class", type=int, default=8, show_default=True, help="Samples per class row.")
@click.option("--target", type=click.Choice(["z", "label", "both"]), default="both", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--noise-seed", type=int, default=1, show_default=True)
@_explorer_options
def explore_noise(ex, eps, per_class, target, seed, noise_seed) -> None:
    """Add noise of growing eps to z and, separately, to the label code."""
    from ganlab.explore.noise import TARGETS, noise

    from ganlab.syntax import parse_floats

    result = noise(ex, parse_floats(eps, "--eps"), per_class, seed, noise_seed, TARGETS if target == "both" else (target,))
    click.echo(result.summary())


@explore.command("fake-labels")
@click.option("--inside", type=int, default=3, show_default=True, help="Fake codes inside the learnt range.")
@click.option("--outside", type=int, default=2, show_default=True, help="Fake codes far outside it.")
@click.option("--far", type=float, default=5.0, show_default=True, help="How many range widths outside.")
@click.option("--per-code", type=int, default=8, show_default=True, help="Samples per fake code.")
@click.option("--seed", type=int, default=0, show_default=True)
@_explorer_options
def explore_fake_labels(ex, inside, outside, far, per_code, seed) -> None:
    """Label codes inside the learnt range and far outside it (the range is printed)."""
    from ganlab.explore.fake_labels import fake_labels

    result = fake_labels(ex, inside, outside, far, per_code, seed)
    click.echo(result.numbers["range_text"])
    click.echo(result.summary())


@explore.command("class-means")
@click.option("--per-class", type=int, default=8, show_default=True, help="Random samples beside the z = 0 image.")
@click.option("--seed", type=int, default=0, show_default=True)
@_explorer_options
def explore_class_means(ex, per_class, seed) -> None:
    """z = 0 per class, beside random samples."""
    from ganlab.explore.class_means import class_means

    click.echo(class_means(ex, per_class, seed).summary())


@explore.command("real-vs-fake")
@click.option("--per-class", type=int, default=8, show_default=True, help="Real and generated images per class row.")
@click.option("--split", default="train", show_default=True,
              help="Where the real images come from: train or test (of the run's data config).")
@click.option("--seed", type=int, default=0, show_default=True, help="Picks the real images; generated: seeds seed..")
@_explorer_options
def explore_real_vs_fake(ex, per_class, split, seed) -> None:
    """Real images (left) beside generated ones (right), a row per class."""
    from ganlab.explore.real_vs_fake import real_vs_fake

    click.echo(real_vs_fake(ex, per_class, split, seed).summary())


@explore.command("diversity")
@click.option("--side", type=int, default=8, show_default=True, help="N of the N x N grid per class.")
@click.option("--classes", help="Classes, e.g. 0,2,7 (default: all).")
@click.option("--seed", type=int, default=0, show_default=True)
@_explorer_options
def explore_diversity(ex, side, classes, seed) -> None:
    """An N x N grid of samples per class."""
    from ganlab.explore.diversity import diversity

    click.echo(diversity(ex, side, _classes(classes), seed).summary())


@explore.command("latent-map")
@click.option("--grid", type=int, default=11, show_default=True, help="Images per side.")
@click.option("--radius", type=float, default=3.0, show_default=True, help="The plane spans [-radius, radius].")
@click.option("--classes", help="Classes, e.g. 0,2,7 (default: all).")
@click.option("--slices", default="-2,0,2", show_default=True, help="z3 values (z_dim = 3 only).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the projection plane (z_dim > 3).")
@_explorer_options
def explore_latent_map(ex, grid, radius, classes, slices, seed) -> None:
    """Images laid out over the latent plane (a 2-d projection when z_dim > 3)."""
    from ganlab.explore.latent_map import latent_map

    from ganlab.syntax import parse_floats

    click.echo(latent_map(ex, grid, radius, _classes(classes), parse_floats(slices, "--slices"), seed).summary())


@explore.command("collapse")
@click.option("--n", "count", type=int, default=256, show_default=True, help="Samples to classify.")
@click.option("--unconditional", is_flag=True, help="Keep the class input fixed instead of asking each class.")
@click.option("--seed", type=int, default=0, show_default=True)
@_explorer_options
def explore_collapse(ex, count, unconditional, seed) -> None:
    """Class histogram of N samples by the domain classifier, with the expected uniform line."""
    from ganlab.explore.collapse import collapse
    from ganlab.metrics.classifier import load_classifier

    if ex.cfg.data.classes:
        raise GanlabError("the domain classifier sorts into every class of the source, this run keeps some "
                          "(data.classes); measure it with ganlab eval --metrics acc, which maps them")
    classify = load_classifier(ex.cfg.data.name, ex.spec.resolution, ex.spec.channels, ex.device).labels
    click.echo(collapse(ex, classify, count, seed, False if unconditional else None).summary())


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
@_device_option
def serve(run_dir: str, port: int, host: str, epoch: Optional[int], device: str) -> None:
    """Explore a run's generator live in the browser: class, z sliders, interpolation, noise."""
    from ganlab.explore.serve import serve as serve_run

    serve_run(run_dir, host, port, epoch, device, announce=lambda line: click.echo(line))


@main.command()
@click.argument("source", required=False)
@click.argument("items", nargs=-1)
@click.option("--out", type=click.Path(file_okay=False), help="Sweep directory (default: sweeps/NAME of the file).")
@click.option("--backend", help="Replace the spec's backend: sequential, packed or ray (ganlab.sweep.spec.BACKENDS).")
@click.option("--pack-size", type=int, help="packed: most models per batched group (0 = whole shape groups).")
@click.option("--address", help="ray: address of an existing Ray cluster (default: start a local instance).")
@click.option("--metric", help="What the figures draw: a metric (fid, cfd, acc: its protocol column) or a results column "
                                "(default: the spec's, fid).")
@click.option("--eval", "eval_metrics", help="Evaluate every finished point with these metrics, e.g. fid,cfd,acc "
                                            "(default: the spec's eval block).")
@click.option("--eval-n", type=int, help="Samples per evaluation (default: the spec's eval block, else the config's).")
@click.option("--floor/--no-floor", default=None, help="Measure and draw the metric's real-vs-real floor (default: "
                                                       "the spec's, on).")
@click.option("--stop-after-points", type=int, help="Train at most this many points, then stop (re-run to continue).")
@click.option("--force", is_flag=True, help="Retrain points whose saved config differs from the spec.")
@click.option("--progress", is_flag=True, help="Show each run's progress bar.")
def sweep(source: Optional[str], items: tuple[str, ...], out: Optional[str], backend: Optional[str],
          pack_size: Optional[int], address: Optional[str], metric: Optional[str], eval_metrics: Optional[str],
          eval_n: Optional[int], floor: Optional[bool], stop_after_points: Optional[int], force: bool,
          progress: bool) -> None:
    """Run a sweep: SOURCE is a sweep YAML or a run config, ITEMS are key=VALUES (a:b range, a,b,c list).

    \b
    Example: ganlab sweep configs/x.yaml model.z_dim=0:129 seed=0,1,2 --backend packed --eval cfd,acc
    Re-running the same command resumes: finished points are skipped (and evaluated again if --eval changed).
    """
    from ganlab.sweep.command import run_sweep_command
    from ganlab.syntax import parse_list

    if source and "=" in source and not Path(source).exists():
        items, source = (source, *items), None
    outcome = run_sweep_command(source, items, out=out, backend=backend, pack_size=pack_size, address=address,
                                metric=metric, eval_metrics=parse_list(eval_metrics, "--eval") if eval_metrics else None,
                                eval_n=eval_n, floor=floor, stop_after_points=stop_after_points, force=force,
                                progress=progress)
    r = outcome.sweep
    state = "done" if r.remaining == 0 else f"{r.remaining} point(s) left (re-run to continue)"
    click.echo(f"{state}: trained {r.trained}, skipped {r.skipped}; results in {r.sweep_dir / 'results.csv'}")
    if outcome.floor is not None:
        click.echo(f"  real-vs-real floor of {outcome.column}: {outcome.floor['value']:.4g}")
    for path in outcome.figures:
        click.echo(f"  {path}")


@main.command(name="eval")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--n", type=int, help="Generated samples (default: the run's eval.n, 10000).")
@click.option("--ref", type=click.Choice(CHOICES["eval.ref"]), help="Reference split (default: the run's eval.ref).")
@click.option("--ref-n", type=int, help="Use only the first N reference images (default: the whole split).")
@click.option("--metrics", help="Comma-separated: fid,is,cis,kid,pr,ifid,acc,floor (default: the run's eval.metrics).")
@click.option("--bootstrap", type=int, help="Bootstrap resamples for FID's 95% interval (0 = off).")
@click.option("--inception", type=click.Path(dir_okay=False), help="Inception TorchScript file (default: found).")
@click.option("--allow-tf32", is_flag=True, default=None, help="Let CUDA use TF32 in Inception (not the strict protocol).")
@click.option("--epoch", type=int, help="Evaluate the generator exported at this epoch (default: latest).")
@_device_option
def eval_(run_dir: str, n: Optional[int], ref: Optional[str], ref_n: Optional[int], metrics: Optional[str],
          bootstrap: Optional[int], inception: Optional[str], allow_tf32: Optional[bool], epoch: Optional[int],
          device: str) -> None:
    """Measure a run's generator (FID, IS, KID, precision/recall, ...): writes RUN_DIR/eval.json, prints a table."""
    from ganlab.metrics.evaluate import format_table
    from ganlab.train.evaluation import evaluate_run

    given = {"n": n, "ref": ref, "ref_n": ref_n, "bootstrap": bootstrap, "inception": inception,
             "allow_tf32": allow_tf32, "metrics": [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None}
    results = evaluate_run(run_dir, {k: v for k, v in given.items() if v is not None}, epoch, device)
    click.echo(format_table(results))
    click.echo(f"wrote {Path(run_dir) / 'eval.json'}")


@main.group()
def classifier() -> None:
    """The domain classifier used by the acc, cis metrics and the class histograms."""


@classifier.command(name="train")
@click.argument("data_name")
@click.option("--resolution", type=int, default=0, show_default=True, help="Image side in pixels (0 = the source's own).")
@click.option("--channels", type=int, default=0, show_default=True, help="1 or 3 (0 = the source's own).")
@click.option("--data-root", help="Folder holding the data sets (default: $GANLAB_DATA).")
@click.option("--epochs", type=int, help="Passes over the training split (default: ClassifierConfig.epochs).")
@_device_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
def classifier_train(data_name: str, resolution: int, channels: int, data_root: Optional[str], epochs: Optional[int],
                     device: str, quiet: bool) -> None:
    """Train the domain classifier of DATA_NAME (e.g. mnist) on its train split; report its test accuracy."""
    from dataclasses import replace

    from ganlab.config import ClassifierConfig, DataConfig
    from ganlab.metrics.classifier import train_classifier

    cfg = ClassifierConfig() if epochs is None else replace(ClassifierConfig(), epochs=epochs)
    meta = train_classifier(DataConfig(name=data_name, root=data_root, resolution=resolution, channels=channels),
                            cfg, device, progress=not quiet)
    click.echo(f"{data_name} classifier ({meta['resolution']}px): {meta['accuracy_split']} accuracy "
               f"{100 * meta['test_accuracy']:.2f}% after {meta['train_time_s']:.0f} s on {meta['device']}; "
               f"saved {meta['path']}")


if __name__ == "__main__":
    main()
