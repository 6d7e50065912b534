"""Sweep specs: ranges and lists, grid expansion, key validation with suggestions."""

from __future__ import annotations

import pytest
from sweep_helpers import TINY

from ganlab.errors import GanlabError
from ganlab.sweeps.expand import expand
from ganlab.sweeps.spec import build_spec, load_sweep_file, parse_values, spec_from_dict


def test_parse_values_ranges_and_lists():
    assert parse_values("0:5") == [0, 1, 2, 3, 4]
    assert parse_values("0:129:32") == [0, 32, 64, 96, 128]
    assert parse_values("1e-4,2e-4") == [1e-4, 2e-4]
    assert parse_values("[1, 2]") == [1, 2]  # a bracketed YAML list is a list of values
    assert parse_values("[[0.5, 0.9], [0.0, 0.9]]") == [[0.5, 0.9], [0.0, 0.9]]
    assert parse_values("folder:x.zip") == ["folder:x.zip"]
    with pytest.raises(GanlabError, match="empty"):
        parse_values("5:5")


def test_grid_expands_to_product_times_seeds():
    spec = build_spec(None, [*TINY, "model.z_dim=16,100", "model.g_width=16,100", "model.d_width=16,100",
                             "seed=0:3"])
    points = expand(spec)
    assert len(points) == 8 * 3
    assert len({p.id for p in points}) == 24
    p = points[0]
    assert p.id == "z_dim=16_g_width=16_d_width=16_seed=0"
    assert (p.cfg.model.z_dim, p.cfg.model.g_width, p.cfg.seed) == (16, 16, 0)
    assert points[-1].cfg.model.d_width == 100 and points[-1].seed == 2
    assert p.cfg.train.steps == 6  # single-valued items are fixed overrides, not axes
    assert spec.swept_keys == ["model.z_dim", "model.g_width", "model.d_width"]


def test_excluded_cells_are_left_out_by_value_or_by_extreme(tmp_path):
    """Report 001's 6 of 8 cells: exclusions by min / max still hold when a scale swaps the widths inline."""
    sweep = tmp_path / "grid.yaml"
    sweep.write_text("grid: {model.z_dim: [16, 100], model.g_width: [16, 100], model.d_width: [16, 100]}\n"
                     "exclude:\n  - {model.z_dim: max, model.g_width: max, model.d_width: min}\n"
                     "  - {model.z_dim: 100, model.g_width: 16, model.d_width: 100}\n")
    ids = [p.id for p in expand(build_spec(str(sweep)))]
    assert len(ids) == 6 and "z_dim=100_g_width=100_d_width=16_seed=0" not in ids
    assert "z_dim=100_g_width=16_d_width=100_seed=0" not in ids and "z_dim=100_g_width=16_d_width=16_seed=0" in ids
    with pytest.raises(GanlabError, match="matches no cell"):  # a value the scale swapped out: said, not ignored
        expand(build_spec(str(sweep), ["model.g_width=8,32"]))
    sweep.write_text(sweep.read_text().split("  - {model.z_dim: 100")[0])
    rescaled = [p.id for p in expand(build_spec(str(sweep), ["model.g_width=8,32"]))]  # min/max follow
    assert "z_dim=100_g_width=32_d_width=16_seed=0" not in rescaled and len(rescaled) == 7
    with pytest.raises(GanlabError, match="must name swept keys"):
        spec_from_dict({"grid": {"model.z_dim": [1, 2]}, "exclude": [{"model.g_width": 8}]})
    with pytest.raises(GanlabError, match="matches no cell"):
        expand(spec_from_dict({"grid": {"model.z_dim": [1, 2]}, "exclude": [{"model.z_dim": 3}]}))


def test_an_exclusion_naming_a_seed_leaves_out_that_seed_of_its_cells_only():
    """Report 003's fourth seed for two of its three models: the third keeps seeds 0-2."""
    points = [{"model.kernel_size": 4, "model.extra_layers": 0}, {"model.kernel_size": 4, "model.extra_layers": 1},
              {"model.kernel_size": 3, "model.extra_layers": 0}]
    spec = spec_from_dict({"points": points, "seeds": [0, 1, 2, 3], "exclude": [{"model.extra_layers": 1, "seed": 3}]})
    ids = [p.id for p in expand(spec)]
    assert len(ids) == 11 and "kernel_size=4_extra_layers=1_seed=3" not in ids
    assert {"kernel_size=4_extra_layers=1_seed=2", "kernel_size=3_extra_layers=0_seed=3"} <= set(ids)
    fewer = spec_from_dict({"points": points, "seeds": [0], "exclude": [{"model.extra_layers": 1, "seed": 3}]})
    assert len(expand(fewer)) == 3  # a scale that trains seed 0 only: seed 3 is left out anyway
    with pytest.raises(GanlabError, match="matches no cell"):
        expand(spec_from_dict({"points": points, "seeds": [0, 3], "exclude": [{"model.extra_layers": 2, "seed": 3}]}))
    with pytest.raises(GanlabError, match="must name swept keys"):  # a seed alone: list fewer seeds instead
        spec_from_dict({"points": points, "seeds": [0, 1], "exclude": [{"seed": 1}]})


def test_an_exclusion_may_list_values_of_a_key_and_values_a_scale_does_not_sweep_pass_over():
    """Report 000: a fourth seed at z = 16 only, whichever latent sizes a scale sweeps."""
    entry = {"model.z_dim": [0, 1, 2, 8], "seed": "3:4"}
    spec = spec_from_dict({"grid": {"model.z_dim": [0, 2, 8, 16]}, "seeds": [0, 1, 2, 3], "exclude": [entry]})
    ids = [p.id for p in expand(spec)]
    assert len(ids) == 13 and [i for i in ids if i.endswith("seed=3")] == ["z_dim=16_seed=3"]
    with pytest.raises(GanlabError, match="matches no cell"):
        expand(spec_from_dict({"grid": {"model.z_dim": [0, 2]}, "exclude": [{"model.z_dim": [1, 3]}]}))
    betas = [[0.5, 0.999], [0.0, 0.9]]  # a key whose values are lists: a list names one value, as before
    spec = spec_from_dict({"grid": {"train.betas_g": betas}, "exclude": [{"train.betas_g": [0.0, 0.9]}]})
    assert [p.values["train.betas_g"] for p in expand(spec)] == [[0.5, 0.999]]


def test_an_axis_narrowed_inline_drops_the_exclusions_of_the_values_it_leaves_out(tmp_path):
    """Report 000's z = 16 alone with four seeds (benchmarks/more_seeds.py --set model.z_dim=16): the exclusion of
    the fourth seed elsewhere names no cell left, and goes; an axis swapped for new values keeps its check."""
    sweep = tmp_path / "latent.yaml"
    sweep.write_text("grid: {model.z_dim: [0, 2, 8, 16]}\nseeds: [0, 1, 2]\n"
                     "exclude:\n  - {model.z_dim: [0, 2, 8], seed: '3:4'}\n")
    items = [*(t for t in TINY if not t.startswith("model.z_dim")), "seed=0:4"]
    assert len(expand(build_spec(str(sweep), [*items, "model.z_dim=0,2,8,16"]))) == 13  # not narrower: kept
    assert [p.id for p in expand(build_spec(str(sweep), [*items, "model.z_dim=16"]))] == [
        f"z_dim=16_seed={s}" for s in range(4)]
    narrower = [p.id for p in expand(build_spec(str(sweep), [*items, "model.z_dim=8,16"]))]
    assert len(narrower) == 7 and "z_dim=8_seed=3" not in narrower  # the entry still names z = 8: it stays
    with pytest.raises(GanlabError, match="matches no cell"):  # swapped for values the file lacks: refused
        expand(build_spec(str(sweep), [*items, "model.z_dim=16,32"]))
    grid = tmp_path / "grid.yaml"  # report 001's six cells; G narrow only (R1-F2 and R1-F3b's three cells)
    grid.write_text("grid: {model.z_dim: [16, 100], model.g_width: [8, 32], model.d_width: [8, 32]}\n"
                    "exclude:\n  - {model.z_dim: max, model.g_width: max, model.d_width: min}\n"
                    "  - {model.z_dim: max, model.g_width: min, model.d_width: max}\n")
    ids = [p.id for p in expand(build_spec(str(grid), ["model.g_width=8"]))]
    assert ids == ["z_dim=16_g_width=8_d_width=8_seed=0", "z_dim=16_g_width=8_d_width=32_seed=0",
                   "z_dim=100_g_width=8_d_width=8_seed=0"]  # max still means 32, not the 8 left


def test_an_exclusion_may_name_several_seeds_in_the_seed_syntax():
    """Report 002: seven seeds of the settings that train, three of the report's."""
    points = [{"train.d_steps": 1}, {"train.d_steps": 9}]
    for seeds in ("3:7", [3, 4, 5, 6], "3,4,5,6"):
        spec = spec_from_dict({"points": points, "seeds": "0:7", "exclude": [{"train.d_steps": 9, "seed": seeds}]})
        ids = [p.id for p in expand(spec)]
        assert len(ids) == 10 and "d_steps=9_seed=2" in ids and "d_steps=9_seed=3" not in ids, seeds
    with pytest.raises(GanlabError, match="seeds must be non-negative integers"):
        spec_from_dict({"points": points, "seeds": [0, 1], "exclude": [{"train.d_steps": 9, "seed": "one"}]})


def test_unknown_swept_key_names_the_close_key():
    with pytest.raises(GanlabError, match=r"unknown config key 'model.zdim': did you mean model.z_dim"):
        build_spec(None, ["model.zdim=0:4"])


def test_bad_value_of_a_point_is_refused_with_the_point():
    with pytest.raises(GanlabError, match="model.z_dim must be >= 0"):
        build_spec(None, [*TINY, "model.z_dim=-1,4"])  # the spec itself probes only each key's first value
    spec = build_spec(None, [*TINY, "model.z_dim=4,6"])
    spec.grid["model.z_dim"].append(-1)
    with pytest.raises(GanlabError, match=r"sweep point model.z_dim=-1 seed=0: model.z_dim must be >= 0"):
        expand(spec)


def test_sweep_file_fields_are_checked(tmp_path):
    with pytest.raises(GanlabError, match="did you mean seeds"):
        spec_from_dict({"seedz": [0, 1]})
    with pytest.raises(GanlabError, match="backend='gpu' is not one of"):
        spec_from_dict({"backend": "gpu"})
    path = tmp_path / "s.yaml"
    path.write_text("overrides: [data.name=digits]\ngrid:\n  train.lr_g: [1.0e-4, 2.0e-4]\n  seed: '0:2'\n"
                    "points:\n  - {model.g_width: 8}\n  - {model.g_width: 16}\nbackend: packed\n")
    spec = load_sweep_file(path)
    assert spec.seeds == [0, 1] and spec.backend == "packed"
    assert len(expand(spec)) == 2 * 2 * 2


def test_repo_sweep_configs_are_valid():
    for name in ("configs/sweep_report000_latent.yaml", "configs/sweep_report000_ablation.yaml",
                 "configs/sweep_report001_grid.yaml"):
        spec = load_sweep_file(name)  # validates the base, overrides, every axis and every explicit point
        assert len(spec.seeds) == 3
    z_dims = load_sweep_file("configs/sweep_report000_latent.yaml").grid["model.z_dim"]  # 198 points: not expanded
    assert min(z_dims) == 0 and max(z_dims) == 128 and len(z_dims) == 66 and 3 in z_dims  # 3: the 3-d latent map
    ablation = expand(load_sweep_file("configs/sweep_report000_ablation.yaml"))
    assert {(p.cfg.model.g_width, p.cfg.model.conditioning) for p in ablation} == {(16, "onehot"), (64, "none")}
    grid = expand(load_sweep_file("configs/sweep_report001_grid.yaml"))
    assert len(grid) == 6 * 3 and all(p.cfg.train.batch_size == 64 and p.cfg.train.steps == 5000 for p in grid)
    assert (100, 100, 16) not in {(p.cfg.model.z_dim, p.cfg.model.g_width, p.cfg.model.d_width) for p in grid}
