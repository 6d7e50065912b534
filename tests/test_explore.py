"""The explore tools on tiny CPU-trained runs: files written, grid shapes, JSON numbers tied to the PNGs."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from explore_helpers import figure_cells, load, untrained_explorer

from ganlab.cli import main
from ganlab.errors import GanlabError
from ganlab.explore.class_means import class_means
from ganlab.explore.collapse import collapse
from ganlab.explore.common import load_explorer, pixel_distance
from ganlab.explore.diversity import diversity, mean_pairwise_distance
from ganlab.explore.fake_labels import fake_labels
from ganlab.explore.interpolate import interpolate, lerp, slerp
from ganlab.explore.latent_map import latent_map
from ganlab.explore.noise import noise
from ganlab.explore.sample_run import sample_images
from ganlab.models import FAMILIES


@pytest.fixture
def ex(explore_run, tmp_path):
    return load_explorer(explore_run, out_dir=tmp_path)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("conditioning", ["onehot", "embedding", "none"])
def test_forward_encoded_is_forward_on_encoded_labels(family, conditioning):
    """Every generator family takes encoded label vectors (the interface in models/conditioning.py)."""
    from ganlab.config import load_config
    from ganlab.data.spec import ImageSpec
    from ganlab.models import build_generator

    cfg = load_config(None, [f"model.family={family}", f"model.conditioning={conditioning}", "model.z_dim=4",
                             "model.g_width=8"])
    g = build_generator(cfg.model, ImageSpec(channels=1, resolution=8, num_classes=10)).eval()
    z, y = torch.randn(5, 4), torch.tensor([0, 3, 9, 3, 1])
    assert torch.equal(g(z, y), g.forward_encoded(z, g.label(y)))


def test_slerp_keeps_the_norm_that_lerp_loses():
    a, b = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    t = torch.linspace(0, 1, 5)
    assert torch.allclose(slerp(a, b, t).norm(dim=1), torch.full((5,), 3.0), atol=1e-5)
    assert lerp(a, b, t).norm(dim=1)[2] < 2.2  # the chord's midpoint
    assert torch.allclose(slerp(a, b, t)[[0, -1]], torch.stack([a, b]), atol=1e-6)


def test_interpolate_within_a_class(ex, explore_run):
    result = interpolate(ex, steps=6, pairs=3, seed=5)
    data = load(result.json_path)
    assert {p.name for p in result.pngs} == {"interpolate_linear.png", "interpolate_spherical.png"}
    assert all(p["class_a"] == p["class_b"] for p in data["pairs"])
    for figure in data["figures"]:
        assert figure["grid"]["rows"] == 3 and figure["grid"]["columns"] == 7
        cells = figure_cells(result.json_path, figure).view(3, 7, 1, 8, 8)
        changes = data["methods"][figure["method"]]["step_change"]
        for row, change in zip(cells, changes):
            assert torch.allclose(pixel_distance(row[1:], row[:-1]), torch.tensor(change), atol=1e-4)
        # both ends are the plain samples of their seeds and classes (as `ganlab sample` draws them)
        first = data["pairs"][0]
        start = sample_images(explore_run, labels=[first["class_a"]], seeds=[first["seed_a"]]).images[0]
        end = sample_images(explore_run, labels=[first["class_b"]], seeds=[first["seed_b"]]).images[0]
        assert (cells[0, 0].int() - start.int()).abs().max() <= 1
        assert (cells[0, -1].int() - end.int()).abs().max() <= 1
    lin, sph = data["methods"]["linear"]["z_norms"][0], data["methods"]["spherical"]["z_norms"][0]
    assert lin[3] < sph[3]  # the linear path cuts through the low-norm middle


def test_interpolate_across_classes_and_given_pairs(ex):
    data = interpolate(ex, steps=4, pair_seeds=[(1, 2), (3, 4)], across=True, methods=["linear"]).numbers
    assert [(p["seed_a"], p["seed_b"]) for p in data["pairs"]] == [(1, 2), (3, 4)]
    assert all(p["class_a"] != p["class_b"] for p in data["pairs"])
    given = interpolate(ex, steps=2, pairs=2, class_a=2, class_b=8, methods=["linear"]).numbers
    assert all((p["class_a"], p["class_b"]) == (2, 8) for p in given["pairs"])
    with pytest.raises(GanlabError, match="out of range"):
        interpolate(ex, class_a=10)


def test_noise_grows_from_zero(ex):
    result = noise(ex, eps=[0, 0.5, 2], per_class=3)
    data = load(result.json_path)
    assert len(result.pngs) == 6 and all(p.is_file() for p in result.pngs)
    by_key = {(f["target"], f["eps"]): figure_cells(result.json_path, f) for f in data["figures"]}
    assert torch.equal(by_key[("z", 0.0)], by_key[("label", 0.0)])  # no noise: the same images
    for target, rows in data["targets"].items():
        clean = by_key[(target, 0.0)]
        for row in rows:
            measured = pixel_distance(by_key[(target, row["eps"])], clean).mean()
            assert abs(float(measured) - row["mean_pixel_change"]) < 1e-3
        assert rows[0]["mean_pixel_change"] == 0 and rows[-1]["mean_pixel_change"] > 0
        assert rows[-1]["noise_norm"] > rows[1]["noise_norm"] > 0
    assert data["figures"][0]["grid"]["rows"] == 10 and data["figures"][0]["grid"]["columns"] == 3


def test_fake_labels_inside_and_outside_the_range(ex):
    result = fake_labels(ex, inside=3, outside=2, per_code=4, far=5.0)
    data = load(result.json_path)
    low, high = torch.tensor(data["range_min"]), torch.tensor(data["range_max"])
    codes = torch.tensor(data["class_codes"])
    assert codes.shape == (10, 5) and torch.equal(codes.min(0).values, low)
    for fake in data["fakes"]:
        code = torch.tensor(fake["code"])
        within = bool(((code >= low) & (code <= high)).all())
        assert within == fake["inside"]
        assert fake["nearest_distance"] == pytest.approx(float((codes - code).norm(dim=1).min()), rel=1e-4)
    cells = figure_cells(result.json_path, data["figures"][0])
    assert cells.shape[0] == 5 * 4 and data["figures"][0]["grid"]["columns"] == 4
    assert "overall range" in data["range_text"]


def test_fake_labels_cli_prints_the_range(explore_run, tmp_path):
    out = CliRunner().invoke(main, ["explore", str(explore_run), "fake-labels", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "range per dimension: min" in out.output and "class 9:" in out.output
    assert (tmp_path / "fake_labels.png").is_file()


def test_class_means_puts_z0_first(ex):
    result = class_means(ex, per_class=5)
    data = load(result.json_path)
    cells = figure_cells(result.json_path, data["figures"][0]).view(10, 6, 1, 8, 8)
    zero = ex.render(torch.zeros(10, ex.z_dim), ex.class_codes())
    assert (cells[:, 0].int() - zero.int()).abs().max() <= 1
    for c, row in enumerate(data["classes"]):
        average = cells[c, 1:].float().mean(0, keepdim=True)
        assert row["zero_to_sample_average"] == pytest.approx(float(pixel_distance(cells[c, :1], average)[0]), abs=1e-3)
        assert len(row["zero_to_samples"]) == 5


def test_diversity_grid_per_class(ex):
    result = diversity(ex, side=4, classes=[0, 7])
    data = load(result.json_path)
    assert [p.name for p in result.pngs] == ["diversity_class_0.png", "diversity_class_7.png"]
    for figure, row in zip(data["figures"], data["classes"]):
        cells = figure_cells(result.json_path, figure)
        assert cells.shape == (16, 1, 8, 8)
        assert row["mean_pairwise_pixel_distance"] == pytest.approx(mean_pairwise_distance(cells), abs=1e-3)
        assert row["mean_pairwise_pixel_distance"] > 0


def test_latent_map_projection_for_large_z(ex):
    data = load(latent_map(ex, grid=5, classes=[1]).json_path)
    assert data["kind"] == "projection"
    d = torch.tensor(data["directions"])
    assert torch.allclose(d @ d.T, torch.eye(2), atol=1e-5)
    assert figure_cells(ex.out_dir / "latent_map.json", data["figures"][0]).shape == (25, 1, 8, 8)


def test_latent_map_exact_plane_for_2d_latents(explore_run_2d, tmp_path):
    ex2 = load_explorer(explore_run_2d, out_dir=tmp_path)
    data = load(latent_map(ex2, grid=5, radius=2.0, classes=[3]).json_path)
    assert data["kind"] == "exact" and data["coords"] == [-2.0, -1.0, 0.0, 1.0, 2.0]
    cells = figure_cells(tmp_path / "latent_map.json", data["figures"][0]).view(5, 5, 1, 8, 8)
    corners = ex2.render(torch.tensor([[0.0, 0.0], [-2.0, 2.0], [2.0, -2.0]]), ex2.codes([3, 3, 3]))
    for (r, c), image in zip([(2, 2), (0, 0), (4, 4)], corners):  # top-left is (-r, +r)
        assert (cells[r, c].int() - image.int()).abs().max() <= 1


def test_onehot_fake_labels_range_is_zero_one(explore_run_2d, tmp_path):
    data = fake_labels(load_explorer(explore_run_2d, out_dir=tmp_path), inside=2, outside=1, per_code=2).numbers
    assert data["range_min"] == [0.0] * 10 and data["range_max"] == [1.0] * 10


@pytest.fixture(scope="module")
def digit_classifier():
    """A real classifier of 8x8 digits: logistic regression on the training split."""
    from sklearn.linear_model import LogisticRegression

    from ganlab.config import DataConfig
    from ganlab.data import load_data

    train = load_data(DataConfig(name="digits")).train
    model = LogisticRegression(max_iter=300).fit(train.images.flatten(1).numpy() / 255.0, train.labels.numpy())

    def classify(images: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(model.predict(images.flatten(1).numpy() / 255.0)).long()

    return classify


def test_collapse_histogram(ex, digit_classifier):
    result = collapse(ex, digit_classifier, n=60)
    data = load(result.json_path)
    assert (ex.out_dir / "collapse.png").is_file() and (ex.out_dir / "collapse_samples.png").is_file()
    cells = figure_cells(result.json_path, data["figures"][0])
    predicted = digit_classifier(cells)
    assert predicted.tolist() == data["predicted"]
    assert data["counts"] == torch.bincount(predicted, minlength=10).tolist()
    assert sum(data["counts"]) == 60 and data["expected_per_class"] == 6.0
    assert data["asked"] == [i * 10 // 60 for i in range(60)]
    assert data["accuracy"] == pytest.approx(float((predicted == torch.tensor(data["asked"])).float().mean()))


def test_collapse_refuses_a_bad_classifier(ex):
    with pytest.raises(GanlabError, match="expected"):
        collapse(ex, lambda images: torch.full((images.shape[0],), 12), n=8)


@pytest.mark.parametrize("args", [["interpolate", "--steps", "3", "--pairs", "2", "--across"],
                                  ["noise", "--eps", "0,1", "--per-class", "2"],
                                  ["class-means", "--per-class", "2"],
                                  ["diversity", "--side", "2", "--classes", "0,1"],
                                  ["latent-map", "--grid", "3", "--classes", "0"],
                                  ["real-vs-fake", "--per-class", "2", "--split", "test"],
                                  ["interpolate", "--steps", "2", "--from-zero", "--to-seeds", "1,2"]])
def test_explore_cli_writes_json_and_pngs(explore_run, tmp_path, args):
    out = CliRunner().invoke(main, ["explore", str(explore_run), *args, "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    name = args[0].replace("-", "_")
    data = json.loads((tmp_path / f"{name}.json").read_text())
    assert data["figures"] and all((tmp_path / f["png"]).is_file() for f in data["figures"])


def test_pair_seeds_are_repeated_pairs_and_the_old_form_is_still_read(explore_run, tmp_path):
    runner = CliRunner()
    new = runner.invoke(main, ["explore", str(explore_run), "interpolate", "--steps", "2", "--pair-seeds", "1,2",
                               "--pair-seeds", "3,4", "--out", str(tmp_path / "new")])
    old = runner.invoke(main, ["explore", str(explore_run), "interpolate", "--steps", "2", "--pair-seeds", "1:2,3:4",
                               "--out", str(tmp_path / "old")])
    assert new.exit_code == old.exit_code == 0, (new.output, old.output)
    assert "read as --pair-seeds 1,2 --pair-seeds 3,4" in old.output
    pairs = [json.loads((tmp_path / d / "interpolate.json").read_text())["pairs"] for d in ("new", "old")]
    assert pairs[0] == pairs[1] and [(p["seed_a"], p["seed_b"]) for p in pairs[0]] == [(1, 2), (3, 4)]
    bad = runner.invoke(main, ["explore", str(explore_run), "interpolate", "--pair-seeds", "1,2,3"])
    assert bad.exit_code == 2 and "is not one pair" in bad.output


def test_explore_cli_bad_input_is_one_line(explore_run, tmp_path):
    out = CliRunner().invoke(main, ["explore", str(explore_run), "diversity", "--classes", "11",
                                    "--out", str(tmp_path)])
    assert out.exit_code == 2 and "out of range" in out.output and len(out.output.strip().splitlines()) == 1


def test_latent_map_slices_for_3d_latents(tmp_path):
    ex3 = untrained_explorer(tmp_path, ["model.z_dim=3"])
    result = latent_map(ex3, grid=3, classes=[0, 1], slices=[-1.0, 1.0])
    assert [p.name for p in result.pngs] == ["latent_map_class_0_z3_-1.png", "latent_map_class_0_z3_1.png",
                                             "latent_map_class_1_z3_-1.png", "latent_map_class_1_z3_1.png"]
    cells = figure_cells(result.json_path, result.numbers["figures"][1]).view(3, 3, 1, 8, 8)
    centre = ex3.render(torch.tensor([[0.0, 0.0, 1.0]]), ex3.codes([0]))[0]
    assert (cells[1, 1].int() - centre.int()).abs().max() <= 1


def test_unconditional_generator_refuses_label_explorations(tmp_path):
    ex = untrained_explorer(tmp_path, ["model.conditioning=none", "model.z_dim=4"])
    assert ex.num_classes == 1 and not ex.conditional
    with pytest.raises(GanlabError, match="conditional"):
        fake_labels(ex)
    with pytest.raises(GanlabError, match="conditional"):
        interpolate(ex, across=True)
    data = noise(ex, eps=[0, 1], per_class=2).numbers
    assert list(data["targets"]) == ["z"] and "label" in data["skipped"]
    counts = collapse(ex, lambda images: (images.flatten(1).float().mean(1) > 127).long(), n=20).numbers["counts"]
    assert sum(counts) == 20 and len(counts) == 10


def test_z_dim_0_has_no_latent_map(tmp_path):
    ex = untrained_explorer(tmp_path, ["model.z_dim=0"])
    with pytest.raises(GanlabError, match="z_dim 0"):
        latent_map(ex)
    assert class_means(ex, per_class=2).numbers["classes"][0]["zero_to_sample_average"] == 0.0
