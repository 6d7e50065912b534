"""Which images a run uses: data.classes, data.per_class and data.test_fraction, on digits, MNIST and image
folders written here (the layouts of report 000's clothing set, AFHQ and CelebA)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from ganlab.config import load_config
from ganlab.data import load_data, load_split
from ganlab.data.select import selection_key
from ganlab.errors import GanlabError


def data_cfg(*overrides: str):
    return load_config(None, list(overrides)).data


def write_images(folder: Path, count: int, first_value: int = 0, size: int = 8) -> None:
    """``count`` grey-valued PNGs 000.png, 001.png, ...: image i is filled with first_value + i (its identity)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.new("RGB", (size, size), (first_value + i,) * 3).save(folder / f"{i:03d}.png")


def identities(images: torch.Tensor) -> list[int]:
    """The fill value of each uint8 image (N, C, H, W): which file it came from."""
    return images[:, 0, 0, 0].tolist()


@pytest.fixture
def clothing(tmp_path: Path) -> Path:
    """Report 000's layout, unbalanced: 10 'cloth only' and 30 'cloth with model' images."""
    root = tmp_path / "data" / "clothing"
    write_images(root / "cloth_only", 10, first_value=0)
    write_images(root / "cloth_with_model", 30, first_value=100)
    return root


def test_classes_keep_and_relabel_in_the_given_order():
    whole = load_data(data_cfg("data.name=digits"))
    picked = load_data(data_cfg("data.name=digits", "data.classes=7,2"))
    for split in ("train", "test"):
        full, part = getattr(whole, split), getattr(picked, split)
        assert part.class_names == ["7", "2"] and part.num_classes == 2
        keep = (full.labels == 7) | (full.labels == 2)
        assert torch.equal(part.images, full.images[keep])  # the source's order
        assert torch.equal(part.labels, (full.labels[keep] == 2).long())  # 7 -> 0, 2 -> 1
    assert picked.spec.num_classes == 2


def test_classes_by_index_on_mnist(data_root: Path):
    cfg = data_cfg("data.name=mnist", f"data.root={data_root}", "data.classes=[0,1]", "data.download=false")
    splits = load_data(cfg)
    assert splits.train.class_names == ["0 - zero", "1 - one"]  # items that name no class are indices
    assert torch.bincount(splits.train.labels).tolist() == [5923, 6742]
    assert torch.bincount(splits.test.labels).tolist() == [980, 1135]


def test_per_class_cap_and_seeded_hold_out_on_a_two_class_folder(clothing: Path):
    args = [f"data.name=folder:{clothing}", "data.resolution=8", "data.per_class=8", "data.test_fraction=0.25"]
    splits = load_data(data_cfg(*args))
    train, test = splits.train, splits.test
    assert train.class_names == test.class_names == ["cloth_only", "cloth_with_model"]
    assert torch.bincount(train.labels).tolist() == [6, 6] and torch.bincount(test.labels).tolist() == [2, 2]
    # the cap keeps the first 8 files of each class; the hold-out splits them, each split in the source's order
    assert sorted(identities(train.images) + identities(test.images)) == [*range(8), *range(100, 108)]
    assert identities(train.images) == sorted(identities(train.images))
    # the same split every time (no run seed involved); another split_seed holds out other images
    again = load_data(data_cfg(*args, "seed=5"))
    assert torch.equal(again.test.images, test.images)
    other = load_data(data_cfg(*args, "data.split_seed=1"))
    assert identities(other.test.images) != identities(test.images)


def test_relative_folder_is_found_in_the_data_root_and_classes_by_name(clothing: Path):
    cfg = data_cfg("data.name=folder:clothing", f"data.root={clothing.parent}", "data.resolution=8",
                   "data.classes=cloth_with_model")
    train = load_split(cfg, "train")
    assert train.class_names == ["cloth_with_model"] and identities(train.images) == list(range(100, 130))


def test_afhq_layout_uses_val_as_test(tmp_path: Path):
    root = tmp_path / "afhq"
    for split, count in (("train", 6), ("val", 2)):
        for k, animal in enumerate(("cat", "dog", "wild")):
            write_images(root / split / animal, count, first_value=50 * k + (20 if split == "val" else 0))
    splits = load_data(data_cfg(f"data.name=folder:{root}", "data.resolution=8", "data.classes=[wild,cat]",
                                "data.per_class=4"))
    assert splits.train.class_names == ["wild", "cat"] and splits.test.class_names == ["wild", "cat"]
    assert identities(splits.train.images) == [0, 1, 2, 3, 100, 101, 102, 103]  # cat files first (source order)
    assert splits.train.labels.tolist() == [1] * 4 + [0] * 4
    assert identities(splits.test.images) == [20, 21, 120, 121]  # the cap is for training images only
    with pytest.raises(GanlabError, match="has its own; set data.test_fraction=0"):
        load_data(data_cfg(f"data.name=folder:{root}", "data.resolution=8", "data.test_fraction=0.2"))


def test_unlabelled_folder_is_one_class(tmp_path: Path):
    root = tmp_path / "img_align_celeba"
    write_images(root, 20)
    splits = load_data(data_cfg(f"data.name=folder:{root}", "data.resolution=8", "data.per_class=12",
                                "data.test_fraction=0.25"))
    assert splits.train.num_classes == 0 and len(splits.train) == 9 and len(splits.test) == 3
    assert sorted(identities(splits.train.images) + identities(splits.test.images)) == list(range(12))
    with pytest.raises(GanlabError, match="has no classes.*drop data.classes"):
        load_data(data_cfg(f"data.name=folder:{root}", "data.resolution=8", "data.classes=[a]"))


@pytest.mark.parametrize("overrides, message", [
    (["data.test_fraction=0.1"], "'digits' has its own; set data.test_fraction=0"),
    (["data.classes=[3,eleven]"], "'eleven' is neither a class of 'digits' nor an index below 10; its classes are 0"),
    (["data.classes=[12]"], "nor an index below 10"),
])
def test_selection_errors_at_load_name_the_fix(overrides, message):
    with pytest.raises(GanlabError, match=message):
        load_data(data_cfg("data.name=digits", *overrides))


@pytest.mark.parametrize("overrides, message", [
    (["data.test_fraction=1"], r"data.test_fraction is a fraction in \[0, 1\)"),
    (["data.per_class=-1"], "data.per_class must be >= 0"),
    (["data.classes=cat,dog,cat"], "names cat more than once"),
])
def test_selection_errors_in_the_config(overrides, message):
    with pytest.raises(GanlabError, match=message):
        load_config(None, overrides)


def test_selection_key_names_what_changes_the_images():
    assert selection_key(data_cfg()) == "" and selection_key(data_cfg("data.split_seed=3")) == ""
    keys = {selection_key(data_cfg(*o)) for o in (["data.classes=[1,2]"], ["data.classes=[2,1]"], ["data.per_class=5"],
                                                  ["data.test_fraction=0.1"],
                                                  ["data.test_fraction=0.1", "data.split_seed=1"])}
    assert len(keys) == 5


def test_training_on_a_held_out_folder_logs_held_out_d_figures(clothing: Path, tmp_path: Path):
    from ganlab.folders import RunDir
    from ganlab.training.metrics_log import read_metrics
    from ganlab.training.run import train

    cfg = load_config(None, [f"data.name=folder:{clothing}", "data.resolution=8", "data.per_class=10",
                             "data.test_fraction=0.2", "model.z_dim=2", "model.g_width=4", "model.d_width=4",
                             "train.batch_size=8", "train.steps=4", "train.log_every=2", "device=cpu"])
    train(cfg, run_dir=tmp_path / "run", progress=False)
    records = [r for r in read_metrics(RunDir(tmp_path / "run").metrics) if "loss_d" in r]
    assert records and all(0.0 <= r["heldout_acc_real"] <= 1.0 for r in records)


@pytest.mark.parametrize("preset, layout", [
    ("clothing_cgan", {"clothing/cloth_only": 6, "clothing/cloth_with_model": 9}),
    ("afhq_cdcgan", {f"afhq/{split}/{animal}": 4 for split in ("train", "val") for animal in ("cat", "dog", "wild")}),
    ("celeba_dcgan", {"img_align_celeba": 20}),
])
def test_report_presets_train_on_folders_of_their_layout(preset: str, layout: dict[str, int], tmp_path: Path):
    """The presets of reports 000 and 004 find their folder in the data root, as the README tells a user."""
    from ganlab.training.run import train

    for k, (folder, count) in enumerate(layout.items()):
        write_images(tmp_path / "data" / folder, count, first_value=20 * k)
    cfg = load_config(f"configs/{preset}.yaml", [f"data.root={tmp_path / 'data'}", "model.g_width=4",
                                                   "model.d_width=4", "train.batch_size=4", "train.steps=2",
                                                   "train.log_every=1", "device=cpu"])
    train(cfg, run_dir=tmp_path / "run", progress=False)
    splits = load_data(cfg.data)
    assert splits.test is not None and splits.train.images.shape[1:] == (3, cfg.data.resolution, cfg.data.resolution)
    assert splits.train.num_classes == {"clothing_cgan": 2, "afhq_cdcgan": 3, "celeba_dcgan": 0}[preset]
