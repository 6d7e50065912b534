"""``ganlab explore RUN_DIR ...``: one verb per exploration of a trained generator."""

from __future__ import annotations

import functools
from typing import Optional

import click

from ganlab.cli.base import data_root_option, device_option, main
from ganlab.errors import GanlabError


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
    """--epoch, --out, --device and --data-root of every explore command; passes the loaded Explorer as ``ex``."""
    @click.option("--epoch", type=int, help="Explore the generator exported at this epoch (default: latest).")
    @click.option("--out", "out_dir", type=click.Path(file_okay=False),
                  help="Output folder (default: RUN_DIR/explore).")
    @device_option
    @data_root_option()
    @click.pass_obj
    @functools.wraps(command)
    def wrapper(run_dir: str, epoch: Optional[int], out_dir: Optional[str], device: str, **options):
        from ganlab.explore.common import load_explorer

        return command(load_explorer(run_dir, epoch, device, out_dir), **options)

    return wrapper


@explore.command("interpolate")
@click.option("--steps", type=int, default=10, show_default=True, help="K: images at t = i/K, i = 0..K.")
@click.option("--pairs", type=int, default=5, show_default=True, help="Pairs drawn at random from --seed.")
@click.option("--pair-seeds", multiple=True,
              help="An explicit pair of seeds A,B; repeat for more pairs (overrides --pairs).")
@click.option("--from-class", "class_a", type=int, help="Class at t = 0 (default: random per pair).")
@click.option("--to-class", "class_b", type=int,
              help="Class at t = 1 (default: the same class, or random with --across).")
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

    from ganlab.errors import warn
    from ganlab.syntax import parse_ints

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

    targets = TARGETS if target == "both" else (target,)
    result = noise(ex, parse_floats(eps, "--eps"), per_class, seed, noise_seed, targets)
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


@explore.command("d-accuracy")
@click.option("--per-class", type=int, default=500, show_default=True, help="Real and generated images per class.")
@click.option("--split", default="test", show_default=True, help="Where the real images come from: train or test.")
@click.option("--seed", type=int, default=0, show_default=True, help="Picks the real images; generated: seeds seed..")
@_explorer_options
def explore_d_accuracy(ex, per_class, split, seed) -> None:
    """The discriminator's accuracy per class on real and on generated images (a table and a bar chart)."""
    from ganlab.explore.d_accuracy import d_accuracy

    result = d_accuracy(ex, per_class, split, seed)
    click.echo(f"real called real {100 * result.numbers['real_acc']:.1f}%, fake called fake "
               f"{100 * result.numbers['fake_acc']:.1f}% (mean over classes); table: {ex.out_dir / 'd_accuracy.md'}")


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
