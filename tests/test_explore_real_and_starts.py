"""Real images beside generated ones, and interpolation from z = 0 or a given latent (report 002, figures 3/4
and 11), on the tiny digits run of conftest.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from explore_helpers import figure_cells, load, untrained_explorer

from ganlab.cli import main
from ganlab.data import load_data
from ganlab.errors import GanlabError
from ganlab.explore.common import load_explorer
from ganlab.explore.interpolate import interpolate, latent_start, zero_start
from ganlab.explore.real_vs_fake import real_vs_fake
from ganlab.explore.sample_run import sample_images


@pytest.fixture
def ex(explore_run, tmp_path):
    return load_explorer(explore_run, out_dir=tmp_path)


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal up to one uint8 level (rendering on another path may round differently)."""
    return bool((a.int() - b.int()).abs().max() <= 1)


@pytest.mark.parametrize("split", ["train", "test"])
def test_real_vs_fake_rows_hold_the_runs_images_then_its_samples(ex, explore_run, split):
    result = real_vs_fake(ex, per_class=3, split=split, seed=4)
    data = load(result.json_path)
    assert [p.name for p in result.pngs] == ["real_vs_fake.png"] and "Real " + split in data["figures"][0]["title"]
    cells = figure_cells(result.json_path, data["figures"][0]).view(10, 7, 1, 8, 8)  # 3 real, a gap, 3 generated
    images = getattr(load_data(ex.cfg.data), split)  # the run's data as it saw it (data.limit=640 for train)
    assert (cells[:, 3] == 255).all() and data["columns"]["separator"] == 3
    for c, row in enumerate(data["classes"]):
        indices = torch.tensor(row["real_indices"])
        assert len(set(row["real_indices"])) == 3 and (images.labels[indices] == c).all()
        assert torch.equal(cells[c, :3], images.images[indices])
        generated = sample_images(explore_run, labels=[c] * 3, seeds=data["generated_seeds"]).images
        assert close(cells[c, 4:], generated)
        assert row["real_mean"] == pytest.approx(float(cells[c, :3].float().mean()), abs=1e-3)
    other = real_vs_fake(ex, per_class=3, split=split, seed=5).numbers["classes"]
    assert [r["real_indices"] for r in other] != [r["real_indices"] for r in data["classes"]]  # --seed picks them


def test_real_vs_fake_of_an_unconditional_generator_is_one_row_of_any_class(tmp_path):
    ex = untrained_explorer(tmp_path, ["model.conditioning=none", "model.z_dim=4", "data.name=digits"])
    data = real_vs_fake(ex, per_class=5).numbers
    assert [r["name"] for r in data["classes"]] == ["all"] and len(data["classes"][0]["real_indices"]) == 5
    with pytest.raises(GanlabError, match="lower --per-class"):
        real_vs_fake(ex, per_class=2000)
    with pytest.raises(GanlabError, match="--split must be one of train, test"):
        real_vs_fake(ex, split="val")


def test_interpolate_from_zero_to_chosen_seeds(ex, explore_run):
    result = interpolate(ex, steps=4, start=zero_start(ex), to_seeds=[5, 9], class_a=3, methods=["linear"])
    data = load(result.json_path)
    assert data["start"] == {"kind": "zero"}
    assert [(p["start"], p["seed_a"], p["seed_b"], p["class_b"]) for p in data["pairs"]] == [("zero", None, 5, 3),
                                                                                             ("zero", None, 9, 3)]
    cells = figure_cells(result.json_path, data["figures"][0]).view(2, 5, 1, 8, 8)
    mean_image = ex.render(torch.zeros(1, ex.z_dim), ex.codes([3]))[0]  # class 3's "mean" image
    assert close(cells[0, 0], mean_image) and close(cells[1, 0], mean_image)
    end = sample_images(explore_run, labels=[3], seeds=[9]).images[0]
    assert close(cells[1, -1], end)
    assert data["methods"]["linear"]["z_norms"][0][0] == 0.0


def test_interpolate_from_a_latent_file(ex, tmp_path):
    vector = np.linspace(-1, 1, ex.z_dim).astype(np.float32)
    np.save(tmp_path / "z.npy", vector[None])  # (1, z_dim) is read too
    data = interpolate(ex, steps=2, pairs=2, start=latent_start(ex, tmp_path / "z.npy"), methods=["spherical"]).numbers
    assert data["start"]["kind"] == "latent" and data["start"]["file"].endswith("z.npy")
    assert data["start"]["latent"] == pytest.approx(vector.tolist())
    assert all(p["start"] == "latent" and p["seed_a"] is None for p in data["pairs"])
    first = figure_cells(ex.out_dir / "interpolate.json", data["figures"][0])[0]
    assert close(first, ex.render(torch.from_numpy(vector)[None], ex.codes([data["pairs"][0]["class_a"]]))[0])
    np.save(tmp_path / "bad.npy", np.zeros(3))
    with pytest.raises(GanlabError, match=r"shape \(3,\); --from-latent needs 8 numbers"):
        latent_start(ex, tmp_path / "bad.npy")


@pytest.mark.parametrize("args, message", [
    (["--from-zero", "--pair-seeds", "1,2"], "with --to-seeds"),
    (["--to-seeds", "3"], "use --pair-seeds A,B"),
    (["--from-zero", "--from-latent", __file__], "give one"),
])
def test_interpolate_start_options_refuse_what_they_cannot_mean(explore_run, tmp_path, args, message):
    out = CliRunner().invoke(main, ["explore", str(explore_run), "interpolate", *args, "--out", str(tmp_path)])
    assert out.exit_code == 2 and message in out.output and len(out.output.strip().splitlines()) == 1
