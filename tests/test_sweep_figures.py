"""Sweep figures: mean and band over seeds, the floor, the plateau estimate, the grid table."""

from __future__ import annotations

import json

from PIL import Image

from ganlab.folders import SweepDir
from ganlab.sweeps.figures import draw_sweep_figures, grid_table, plateau, summarize


def _rows(curve, noise=(-1.0, 0.0, 1.0)):
    """Three seeds per z: mean = curve[z], seeds spread by ``noise``."""
    return [{"state": "finished", "model.z_dim": z, "seed": s, "fid": m + d}
            for z, m in curve.items() for s, d in enumerate(noise)]


def test_plateau_is_the_smallest_value_within_the_noise_of_the_best():
    curve = {0: 120.0, 2: 80.0, 4: 42.0, 8: 41.0, 16: 40.0, 32: 40.5, 64: 40.2}
    cells = summarize(_rows(curve), ["model.z_dim"], "fid")
    assert [c.values[0] for c in cells] == [0, 2, 4, 8, 16, 32, 64]
    assert cells[0].n == 3 and abs(cells[0].std - 1.0) < 1e-9 and cells[0].ci95 > cells[0].std  # t(0.975, 2) > 1
    assert cells[0].seeds == (119.0, 120.0, 121.0)  # each seed's value, drawn as a dot
    info = plateau(cells, "model.z_dim", "fid")
    # se = 1/sqrt(3) at every z, so the noise is 2*sqrt(2/3) = 1.63: z=4 (42 - 40 = 2) is outside, z=8 inside
    assert info["value"] == 8 and info["best"] == 16
    assert "two standard errors" in info["rule"]
    assert plateau(cells, "model.z_dim", "acc", lower_is_better=False)["value"] == 0  # 120 is the best there
    single = summarize(_rows(curve, noise=(0.0,)), ["model.z_dim"], "fid")
    assert plateau(single, "model.z_dim", "fid")["value"] is None  # one seed: no noise estimate


def test_rows_that_did_not_finish_are_left_out():
    rows = _rows({0: 10.0}) + [{"state": "diverged", "model.z_dim": 2, "seed": 0, "fid": 1.0},
                               {"state": "finished", "model.z_dim": 4, "seed": 0, "fid": float("nan")}]
    assert [c.values for c in summarize(rows, ["model.z_dim"], "fid")] == [(0,)]


def test_latent_figure_and_grid_table_are_written(tmp_path):
    rows = _rows({0: 100.0, 4: 50.0, 8: 49.5})
    paths = draw_sweep_figures(tmp_path, rows, ["model.z_dim"], "fid", floor=1.49)
    png = SweepDir(tmp_path).metric_vs_key("fid", "model.z_dim")
    assert png in paths and Image.open(png).size[0] > 300
    info = json.loads(SweepDir(tmp_path).plateau("fid", "model.z_dim").read_text())
    assert info["value"] == 4
    grid = [{"state": "finished", "model.z_dim": z, "model.g_width": g, "seed": s, "fid": z + g + s}
            for z in (16, 100) for g in (16, 100) for s in (0, 1, 2)]
    draw_sweep_figures(tmp_path, grid, ["model.z_dim", "model.g_width"], "fid")
    table = SweepDir(tmp_path).grid_table("fid", ".md").read_text().splitlines()
    assert table[0] == "| z_dim | g_width | fid | seeds |"
    assert table[2] == "| 16 | 16 | 33 ± 1 | 3 |" and len(table) == 6
    assert draw_sweep_figures(tmp_path / "none", grid, ["model.z_dim"], "missing_metric") == []
    assert "| 100 | 100 | 201 ± 1 | 3 |" in grid_table(summarize(grid, ["model.z_dim", "model.g_width"], "fid"),
                                                   ["model.z_dim", "model.g_width"], "fid")


def test_an_evaluation_during_training_is_drawn_per_point_with_its_band(tmp_path):
    from ganlab.folders import RunDir
    from ganlab.metrics.names import metric_family as family
    from ganlab.sweeps.figures import over_training_title

    rows = []
    for z in (4, 8):
        for seed in range(3):
            name = f"z_dim={z}_seed={seed}"
            run = SweepDir(tmp_path).run(name).path
            run.mkdir(parents=True)
            RunDir(run).metrics.write_text("".join(json.dumps({"kind": "eval", "step": 10 * e, "epoch": e, "metrics": {
                "fid500_test1k": {"value": 100.0 / e + z + seed}}}) + "\n" for e in (1, 2, 3)))
            rows.append({"state": "finished", "point": name, "run_dir": f"runs/{name}", "seed": seed,
                         "model.z_dim": z, "fid500_test1k": 40.0 + z})
    assert family("fid500_test1k") == "fid" and family("acc10k") == "acc"
    paths = draw_sweep_figures(tmp_path, rows, ["model.z_dim"], "fid500_test1k")
    figure = SweepDir(tmp_path).over_training("fid500_test1k")
    assert figure in paths
    with Image.open(figure) as png:
        assert png.text["Title"] == over_training_title(tmp_path.resolve().name, "fid500_test1k", 2)
    only_seeds = []
    for r in rows[:3]:  # a sweep over seeds alone (points named seed=N): one point, its seeds together
        name = f"seed={r['seed']}"
        (tmp_path / r["run_dir"]).rename(SweepDir(tmp_path).run(name).path)
        only_seeds.append({**r, "point": name, "run_dir": f"runs/{name}"})
    from ganlab.sweeps.figures import plot_over_training
    with Image.open(plot_over_training(tmp_path, only_seeds, "fid")) as png:
        assert png.text["Title"] == over_training_title(tmp_path.resolve().name, "fid500_test1k", 1)
