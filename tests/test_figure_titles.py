"""Every figure ganlab draws says what it shows: a title naming the run (or sweep/study) and what is plotted,
labelled axes; class rows say their index once; ``ganlab sample`` wraps a grid into rows and refuses a PNG of
too many images.

The figure functions keep each figure's title in the PNG (its "Title" text) and each axes' title and labels (its
"Description"), so these tests read what was drawn from the files written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from test_report import EVAL_RECORDS

from ganlab.cli import main
from ganlab.explore.collapse import plot_histogram
from ganlab.explore.d_accuracy import plot_d_accuracy
from ganlab.folders import RunDir, SweepDir
from ganlab.images import class_label
from ganlab.models.generation import GRID_MAX_COLUMNS, GRID_MAX_IMAGES, grid_columns
from ganlab.report.curves import PANELS, plot_curves, plot_eval_curves
from ganlab.report.matrix import colour_bar_label, matrix_title, plot_heat_map
from ganlab.sweeps.figures import draw_sweep_figures


def texts(png: Path) -> tuple[str, str]:
    """(title, axes description) kept in a PNG written by ganlab."""
    with Image.open(png) as im:
        im.load()
        return im.text.get("Title", ""), im.text.get("Description", "")


@pytest.fixture(scope="module")
def two_runs(explore_run, tmp_path_factory) -> tuple[Path, Path]:
    """Two copies of the tiny run (named like report 004's l1 / no_l1 runs), with evaluation records."""
    root = tmp_path_factory.mktemp("titles")
    runs = []
    for name in ("run_l1", "run_no_l1"):
        run = shutil.copytree(explore_run, root / name)
        with RunDir(run).metrics.open("a") as f:
            f.writelines(json.dumps(r) + "\n" for r in EVAL_RECORDS)
        runs.append(run)
    return runs[0], runs[1]


def test_curves_and_eval_figures_are_titled_with_their_run(two_runs):
    titles = {}
    for run in two_runs:
        curves, evals = plot_curves(run), plot_eval_curves(run)
        title, axes = texts(curves)
        assert title.startswith(f"{run.name}: training curves"), title
        assert title not in {name for name, _ in PANELS}  # not the last panel's name (the shadowed title)
        assert "y: loss" in axes and "x: epoch" in axes and "title: D accuracy" in axes
        eval_title, eval_axes = texts(evals)
        assert eval_title.startswith(f"{run.name}: ") and "FID" in eval_title and "IS" in eval_title, eval_title
        assert "y: FID" in eval_axes and "x: epoch" in eval_axes
        titles[run.name] = (title, eval_title)
        with Image.open(curves) as im:
            assert im.width > 3 * im.height  # four panels in a row
    assert titles["run_l1"][1] != titles["run_no_l1"][1]  # two runs' eval figures can be told apart


def test_epoch_grid_names_the_run_and_epoch(explore_run):
    title, _ = texts(RunDir(explore_run).epoch_grid(1))
    assert title.startswith(f"{explore_run.name}, epoch 1: a row per class"), title


def test_class_rows_say_their_index_once():
    assert [class_label(i, str(i)) for i in range(3)] == ["0", "1", "2"]  # digits
    assert class_label(0, "0 - zero") == "0" and class_label(7, "7 - seven") == "7"  # MNIST
    assert class_label(3, "cat") == "3: cat" and class_label(0, "T-shirt/top") == "0: T-shirt/top"
    assert class_label(1, "10") == "1: 10" and class_label(2, None) == "2"


def _z_sweep_rows(explore_run: Path, sweep: Path, points: tuple) -> list[dict]:
    """Results rows of a z_dim sweep whose (z, seed, fid) points are copies of one real run."""
    rows = []
    for z, s, fid in points:
        name = f"model.z_dim={z},seed={s}"
        shutil.copytree(explore_run, SweepDir(sweep).run(name).path)
        rows.append({"state": "finished", "point": name, "run_dir": f"runs/{name}", "model.z_dim": z, "seed": s,
                     "fid": fid})
    return rows


def test_sweep_figures_are_titled_with_the_sweep(explore_run, tmp_path):
    sweep = tmp_path / "z-sweep"
    rows = _z_sweep_rows(explore_run, sweep, ((4, 0, 90.0), (4, 1, 91.0), (8, 0, 70.0), (8, 1, 72.0)))
    paths = draw_sweep_figures(sweep, rows, ["model.z_dim"], "fid", floor=1.5)
    d_outputs, vs_key = SweepDir(sweep).d_outputs, SweepDir(sweep).metric_vs_key("fid", "model.z_dim")
    assert d_outputs in paths and vs_key in paths
    title, axes = texts(d_outputs)
    assert title.startswith("z-sweep: D(x) (solid) and D(G(z)) (dashed)") and "4 point(s)" in title, title
    assert "x: iteration" in axes and "y: mean D output" in axes
    title, axes = texts(vs_key)
    assert title == "z-sweep: fid against model.z_dim, mean over 2 seed(s) per point", title
    assert "x: model.z_dim" in axes and "y: fid" in axes


def test_a_sweep_figure_names_the_range_of_seeds_where_points_have_different_numbers(explore_run, tmp_path):
    """Report 000 at the cpu scale: three seeds of each latent size, four of z = 16."""
    sweep = tmp_path / "z-sweep"
    rows = _z_sweep_rows(explore_run, sweep, ((4, 0, 90.0), (4, 1, 91.0), (8, 0, 70.0), (8, 1, 72.0), (8, 2, 71.0)))
    draw_sweep_figures(sweep, rows, ["model.z_dim"], "fid")
    title, _ = texts(SweepDir(sweep).metric_vs_key("fid", "model.z_dim"))
    assert title == "z-sweep: fid against model.z_dim, mean over 2-3 seed(s) per point", title


def test_heat_map_colour_bar_names_metric_and_sample_size(tmp_path):
    title = matrix_title("report000-cpu", "fid", 2000, "digits")
    png = plot_heat_map(tmp_path / "fid_matrix.png", ["a", "b", "real (test)"],
                        np.array([[0, 3.5, 9.0], [3.5, 0, 8.0], [9.0, 8.0, 0]]), title, colour_bar_label("fid", 2000))
    stored, axes = texts(png)
    assert stored == "report000-cpu: FID between image sets, 2000 images each (digits)"
    assert "y: FID (2,000 images per set" in axes  # the colour bar's label


def test_explore_plots_name_the_run(tmp_path):
    title, axes = texts(plot_histogram(tmp_path / "collapse.png", [5, 3, 2], 10 / 3, 10, "my-run, epoch 2"))
    assert title == "my-run, epoch 2: class histogram of 10 generated samples"
    assert "y: samples (count)" in axes
    rows = [{"class": c, "name": str(c), "real_acc": 0.9, "fake_acc": 0.8} for c in range(3)]
    title, axes = texts(plot_d_accuracy(tmp_path / "d.png", rows, "my-run, epoch 2: D's accuracy per class"))
    assert title.startswith("my-run, epoch 2: ") and "x: class" in axes and "y: accuracy (%)" in axes


def test_grid_columns_wrap_at_the_default_width():
    assert grid_columns(80, 10) == 8  # a label block per row
    assert grid_columns(10_000, 10) == GRID_MAX_COLUMNS  # was 1,000 columns (a PNG 60,004 pixels wide)
    assert grid_columns(70, 10, columns=32) == 32
    assert grid_columns(7, 2) == 3  # unequal blocks: about a square


def cell(px: int = 8, scale: int = 8) -> int:
    """Pixels per grid cell of the digits (8x8, drawn 8 times larger, 2 pixels of padding)."""
    return (px + 2) * scale


def test_sample_wraps_its_grid_into_rows(explore_run, tmp_path):
    runner = CliRunner()
    out = runner.invoke(main, ["sample", str(explore_run), "--n", "70", "--columns", "32",
                               "-o", str(tmp_path / "a.png")])
    assert out.exit_code == 0, out.output
    with Image.open(tmp_path / "a.png") as im:
        assert im.size == (32 * cell() + 16, 3 * cell() + 16)  # 70 images: 3 rows of 32
    out = runner.invoke(main, ["sample", str(explore_run), "--labels", "0", "--n", "100",
                               "-o", str(tmp_path / "b.png")])
    assert out.exit_code == 0, out.output
    with Image.open(tmp_path / "b.png") as im:
        assert im.size == (GRID_MAX_COLUMNS * cell() + 16, 4 * cell() + 16)  # wrapped at 32 by default


def test_sample_refuses_a_grid_too_large_unless_npz(explore_run, tmp_path):
    runner = CliRunner()
    n = str(GRID_MAX_IMAGES + 1)
    out = runner.invoke(main, ["sample", str(explore_run), "--n", n, "-o", str(tmp_path / "big.png")])
    assert out.exit_code == 2 and out.output.count("\n") == 1, out.output
    assert "--npz" in out.output and not (tmp_path / "big.png").exists()
    out = runner.invoke(main, ["sample", str(explore_run), "--n", n, "-o", str(tmp_path / "big.png"),
                               "--npz", str(tmp_path / "big.npz")])
    assert out.exit_code == 0 and out.output.count("\n") == 1, out.output
    assert "no PNG grid" in out.output and not (tmp_path / "big.png").exists()
    assert np.load(tmp_path / "big.npz")["images"].shape[0] == GRID_MAX_IMAGES + 1


def test_an_eval_figure_of_many_metrics_wraps_into_rows(tmp_path):
    from ganlab.report.curves import PANELS_PER_ROW

    names = [f"m{i}100" for i in range(PANELS_PER_ROW + 2)]  # one panel each: two rows
    RunDir(tmp_path).metrics.write_text("".join(
        json.dumps({"kind": "eval", "step": 10 * e, "epoch": e, "metrics": {n: {"value": e * 0.1} for n in names}})
        + "\n" for e in (1, 2)))
    with Image.open(plot_eval_curves(tmp_path)) as png:
        width, height = png.size
    assert 0.95 * 500 * PANELS_PER_ROW <= width <= 500 * PANELS_PER_ROW and height > 2 * 380  # tight bbox
