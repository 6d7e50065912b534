import io
import os
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image

from ganlab.config import AugmentConfig, load_config
from ganlab.data import BatchSampler, ImageSet, load_data, to_uint8, to_unit_range
from ganlab.data.augment import augment
from ganlab.data.load import to_size
from ganlab.errors import GanlabError


def data_cfg(*overrides: str):
    return load_config(None, list(overrides)).data


def test_digits_splits_and_spec():
    splits = load_data(data_cfg("data.name=digits"))
    assert splits.train.images.shape == (1437, 1, 8, 8) and splits.train.images.dtype == torch.uint8
    assert splits.test is not None and len(splits.test) == 360
    assert splits.train.num_classes == 10 and splits.spec.resolution == 8
    assert int(splits.train.images.max()) == 255


def test_mnist_through_torchvision_and_cache(data_root: Path):
    cfg = data_cfg("data.name=mnist", f"data.root={data_root}", "data.limit=500", "data.download=false")
    splits = load_data(cfg)
    assert splits.train.images.shape == (500, 1, 28, 28)
    assert len(splits.test) == 10000
    counts = torch.bincount(load_data(data_cfg("data.name=mnist", f"data.root={data_root}")).train.labels)
    assert counts.tolist()[:2] == [5923, 6742]  # the original class counts (data README)
    cache_files = list((Path(os.environ["GANLAB_CACHE"]) / "data").glob("mnist-*.pt"))
    assert len(cache_files) == 2
    stamp = [p.stat().st_mtime_ns for p in cache_files]
    load_data(cfg)
    assert [p.stat().st_mtime_ns for p in cache_files] == stamp  # read from the cache, not re-decoded


@pytest.mark.slow  # decodes and resizes all 70,000 MNIST images into the cache
def test_mnist_resized_to_64_rgb(data_root: Path):
    cfg = data_cfg("data.name=mnist", f"data.root={data_root}", "data.resolution=64", "data.channels=3",
                   "data.limit=10")
    images = load_data(cfg).train.images
    assert images.shape == (10, 3, 64, 64)
    assert torch.equal(images[:, 0], images[:, 1])


@pytest.mark.slow  # decodes all 60,000 CIFAR-10 JPEGs into the cache
def test_cifar10_zip_loads_through_image_folder_source(data_root: Path):
    splits = load_data(data_cfg("data.name=cifar10", f"data.root={data_root}", "data.limit=100"))
    assert splits.train.images.shape == (100, 3, 32, 32)
    assert splits.test is not None and splits.test.images.shape == (10000, 3, 32, 32)
    assert splits.train.class_names[:3] == ["airplane", "automobile", "bird"]
    assert torch.bincount(splits.test.labels).tolist() == [1000] * 10


def test_missing_data_offline_says_where_and_how(tmp_path: Path):
    with pytest.raises(GanlabError, match=r"not found in .*FashionMNIST/raw.*--data-root or GANLAB_DATA"):
        load_data(data_cfg("data.name=fashion-mnist", f"data.root={tmp_path}", "data.download=false"))
    with pytest.raises(GanlabError, match="cifar10 not found"):
        load_data(data_cfg("data.name=cifar10", f"data.root={tmp_path}", "data.download=false"))


def test_unknown_data_set():
    with pytest.raises(GanlabError, match="unknown data set 'svhn'.*digits, mnist"):
        load_data(data_cfg("data.name=svhn"))


def _png(color, size=(12, 10), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, format="PNG")
    return buf.getvalue()


def _write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def test_folder_with_classes_and_corrupt_file(tmp_path: Path, capsys):
    root = _write_tree(tmp_path / "pets", {
        "cat/a.png": _png((255, 0, 0)), "cat/b.png": _png((250, 0, 0)),
        "dog/c.png": _png((0, 0, 255)), "dog/broken.png": b"not an image",
    })
    capsys.readouterr()
    splits = load_data(data_cfg(f"data.name=folder:{root}", "data.resolution=8"))
    err = capsys.readouterr().err  # one line, no Python source line
    assert err.startswith("ganlab: skipped 1 unreadable image(s) in ") and err.count("\n") == 1 and "broken.png" in err
    assert splits.train.class_names == ["cat", "dog"]
    assert splits.train.images.shape == (3, 3, 8, 8)
    assert splits.train.labels.tolist() == [0, 0, 1]
    assert splits.test is None
    assert splits.train.images[2, 2].float().mean() > 250  # the blue dog, centre-cropped and resized


def test_folder_zip_with_splits_and_unlabelled(tmp_path: Path):
    archive = tmp_path / "faces.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(3):
            z.writestr(f"faces/train/img{i}.png", _png(i * 100, mode="L"))
        z.writestr("faces/test/img9.png", _png(7, mode="L"))
    splits = load_data(data_cfg(f"data.name=folder:{archive}", "data.resolution=8"))
    assert splits.train.num_classes == 0 and splits.train.images.shape == (3, 1, 8, 8)
    assert splits.test is not None and len(splits.test) == 1


@pytest.mark.parametrize("files, message", [
    ({}, "does not exist"),
    ({"readme.txt": b"hi"}, "no images"),
    ({"a.png": b"junk", "b.png": b"junk"}, "none of the 2 images"),
    ({"x.png": _png(1), "cls/y.png": _png(2)}, "both at its top level and in class sub-folders"),
])
def test_folder_bad_input(tmp_path: Path, files, message):
    root = _write_tree(tmp_path / "f", files) if files else tmp_path / "absent"
    with pytest.raises(GanlabError, match=message):
        load_data(data_cfg(f"data.name=folder:{root}", "data.resolution=8"))


def test_to_size_channels():
    grey = torch.randint(0, 256, (2, 1, 16, 16), dtype=torch.uint8)
    assert to_size(grey, 8, 3).shape == (2, 3, 8, 8)
    rgb = torch.full((1, 3, 4, 4), 200, dtype=torch.uint8)
    assert to_size(rgb, 0, 1).unique().tolist() == [200]


def _toy_set(n=20) -> ImageSet:
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 8, 8).contiguous()
    return ImageSet(images, torch.arange(n) % 2, ["a", "b"])


def test_sampler_order_is_a_function_of_seed_and_index():
    a = BatchSampler(_toy_set(), 4, AugmentConfig(), torch.device("cpu"), seed=1)
    b = BatchSampler(_toy_set(), 4, AugmentConfig(), torch.device("cpu"), seed=1)
    g = torch.Generator()
    epoch0 = torch.cat([a.batch(i, g)[0][:, 0, 0, 0] for i in range(5)])
    assert sorted(to_uint8(epoch0).tolist()) == list(range(20))  # an epoch visits every image once
    assert torch.equal(a.batch(7, g)[0], b.batch(7, g)[0])  # random access, same answer
    c = BatchSampler(_toy_set(), 4, AugmentConfig(), torch.device("cpu"), seed=2)
    assert not torch.equal(a.batch(0, g)[0], c.batch(0, g)[0])


def test_sampler_refuses_batch_larger_than_data():
    with pytest.raises(GanlabError, match="larger than the 20 training images"):
        BatchSampler(_toy_set(), 64, AugmentConfig(), torch.device("cpu"), seed=0)


def test_augmentation_flip_and_crop():
    x = to_unit_range(torch.arange(16, dtype=torch.uint8).view(1, 1, 4, 4).repeat(64, 1, 1, 1) * 10)
    g = torch.Generator().manual_seed(0)
    flipped = augment(x, AugmentConfig(hflip=True), g)
    is_flip = [(torch.equal(f, x[0].flip(-1))) for f in flipped]
    is_same = [(torch.equal(f, x[0])) for f in flipped]
    assert all(a or b for a, b in zip(is_flip, is_same)) and 10 < sum(is_flip) < 54
    shifted = augment(x, AugmentConfig(crop_padding=1), g)
    # a pure shift keeps pixel values (nearest) and fills the border black (-1)
    assert set(to_uint8(shifted).unique().tolist()) <= set(to_uint8(x).unique().tolist()) | {0}
    assert any(not torch.equal(s, x[0]) for s in shifted)
    rotated = augment(x, AugmentConfig(rotation_deg=30), g)
    assert rotated.shape == x.shape and rotated.min() >= -1 - 1e-6 and rotated.max() <= 1 + 1e-6
