"""Data set sources: each decodes one split of one data set into uint8 tensors.

Sources know nothing of caching or batching; ``ganlab.data.load`` adds those.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ganlab.errors import GanlabError, warn


@dataclass
class ImageSet:
    """One split of a data set, decoded."""

    images: torch.Tensor  # uint8 (N, C, H, W)
    labels: torch.Tensor  # int64 (N,); all zero when unlabelled
    class_names: list[str]  # empty when unlabelled

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return self.images.shape[0]


def load_digits_split(split: str) -> ImageSet:
    """scikit-learn's 1,797 8x8 digits; the first 1,437 are 'train', the last 360 'test'."""
    # start-up time: scikit-learn loads (about 1 s) only for the digits source
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]  # (N, 1, 8, 8)
    labels = bunch.target.astype(np.int64)
    cut = 1437
    sl = slice(0, cut) if split == "train" else slice(cut, None)
    return ImageSet(torch.from_numpy(images[sl].copy()), torch.from_numpy(labels[sl].copy()),
                    [str(i) for i in range(10)])


TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def load_torchvision_split(name: str, root: Path, split: str, download: bool) -> ImageSet:
    """MNIST or Fashion-MNIST through torchvision (read from root, downloaded there when allowed)."""
    import torchvision.datasets as tvd  # start-up time: torchvision's data sets load only for their sources

    cls = {"mnist": tvd.MNIST, "fashion-mnist": tvd.FashionMNIST}[name]
    folder = root / TORCHVISION_FOLDERS[name] / "raw"
    try:
        ds = cls(root=str(root), train=(split == "train"), download=False)
    except RuntimeError:
        if not download:
            raise GanlabError(f"{name} not found in {folder}; point --data-root or GANLAB_DATA at a folder "
                              f"holding {TORCHVISION_FOLDERS[name]}/raw, or set data.download=true online") from None
        try:
            ds = cls(root=str(root), train=(split == "train"), download=True)
        except Exception as e:
            raise GanlabError(f"{name} not found in {folder} and the download failed ({type(e).__name__}); "
                              f"point --data-root or GANLAB_DATA at a folder holding "
                              f"{TORCHVISION_FOLDERS[name]}/raw") from None
    images = ds.data.unsqueeze(1).contiguous()  # (N, 1, 28, 28) uint8
    return ImageSet(images, ds.targets.long().clone(), list(ds.classes))


def load_cifar10_split(root: Path, split: str, download: bool, resolution: int, channels: int) -> ImageSet:
    """CIFAR-10: torchvision's pickles if present, else a cifar10.zip / cifar10/ image folder, else download."""
    import torchvision.datasets as tvd  # start-up time: torchvision's data sets load only for their sources

    if (root / "cifar-10-batches-py").is_dir():
        ds = tvd.CIFAR10(root=str(root), train=(split == "train"), download=False)
        images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()  # (N, 3, 32, 32)
        return ImageSet(images, torch.tensor(ds.targets, dtype=torch.long), list(ds.classes))
    for candidate in (root / "cifar10.zip", root / "cifar10"):
        if candidate.exists():
            return load_folder_split(candidate, split, resolution, channels)
    if download:
        try:
            tvd.CIFAR10(root=str(root), train=(split == "train"), download=True)
        except Exception as e:
            raise GanlabError(f"cifar10 not found in {root} (looked for cifar-10-batches-py/, cifar10.zip, cifar10/) "
                              f"and the download failed ({type(e).__name__}); point --data-root or GANLAB_DATA "
                              f"at a folder holding one of them") from None
        return load_cifar10_split(root, split, False, resolution, channels)
    raise GanlabError(f"cifar10 not found in {root} (looked for cifar-10-batches-py/, cifar10.zip, cifar10/); "
                      f"point --data-root or GANLAB_DATA at a folder holding one of them")


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")
SPLIT_NAMES = {"train": ("train",), "test": ("test", "val", "valid", "validation")}


class _FileTree:
    """The image files of a folder or a zip, as relative POSIX paths, with a way to read each."""

    def __init__(self, path: Path):
        self.path = path
        if path.is_dir():
            self.names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*")
                                if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            self.read: Callable[[str], bytes] = lambda n: (path / n).read_bytes()
        elif path.is_file():
            try:
                archive = zipfile.ZipFile(path)
            except zipfile.BadZipFile:
                raise GanlabError(f"{path} is not a readable zip file; pass a folder or a valid .zip") from None
            self.names = sorted(n for n in archive.namelist()
                                if not n.endswith("/") and Path(n).suffix.lower() in IMAGE_SUFFIXES
                                and not Path(n).name.startswith("._"))
            self.read = archive.read
        else:
            raise GanlabError(f"image folder {path} does not exist; pass folder:PATH with an existing folder or .zip")


def _strip_common_top(names: list[str]) -> tuple[str, list[str]]:
    """Drop a single top-level directory shared by every file (as a zip of one folder has)."""
    prefix = ""
    while names and all("/" in n for n in names):
        top = {n.split("/", 1)[0] for n in names}
        if len(top) != 1:
            break
        head = top.pop()
        if head in SPLIT_NAMES["train"] + SPLIT_NAMES["test"]:
            break
        prefix += head + "/"
        names = [n.split("/", 1)[1] for n in names]
    return prefix, names


def load_folder_split(path: Path, split: str, resolution: int, channels: int) -> ImageSet:
    """Images of a folder or zip. Class = first-level sub-folder (none = unlabelled).

    A top level holding ``train/`` and ``test/`` (or ``val/``) is read as two splits; otherwise
    every image is 'train' and there is no 'test' split. Images are resized (shorter side) and
    centre-cropped to ``resolution`` (0 = the first image's shorter side); unreadable files are
    skipped and counted.
    """
    tree = _FileTree(path)
    prefix, names = _strip_common_top(tree.names)
    if not names:
        raise GanlabError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in {path}; check the path")
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    split_dirs = [d for d in tops if d in SPLIT_NAMES["train"] + SPLIT_NAMES["test"]]
    if split_dirs and any(d in SPLIT_NAMES["train"] for d in split_dirs):
        wanted = [d for d in split_dirs if d in SPLIT_NAMES[split]]
        if not wanted:
            raise _NoSplit(split)
        names = [n.split("/", 1)[1] for n in names if n.split("/", 1)[0] == wanted[0]]
        prefix += wanted[0] + "/"
    elif split != "train":
        raise _NoSplit(split)

    labelled = [n for n in names if "/" in n]
    if labelled and len(labelled) != len(names):
        raise GanlabError(f"{path} has images both at its top level and in class sub-folders; "
                          f"move them all into class sub-folders (or none)")
    class_names = sorted({n.split("/", 1)[0] for n in labelled})
    class_index = {c: i for i, c in enumerate(class_names)}

    decoded: list[np.ndarray] = []
    labels: list[int] = []
    skipped: list[str] = []
    mode = None
    for name in names:
        try:
            with Image.open(io.BytesIO(tree.read(prefix + name))) as im:
                if mode is None:
                    mode = "L" if (channels == 1 or (channels == 0 and im.mode in ("L", "1", "I;16"))) else "RGB"
                    resolution = resolution or min(im.size)
                im = _fit(im.convert(mode), resolution)
                decoded.append(np.asarray(im, dtype=np.uint8))
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            skipped.append(name)
            continue
        labels.append(class_index[name.split("/", 1)[0]] if class_names else 0)
    if not decoded:
        raise GanlabError(f"none of the {len(names)} images in {path} could be read; check the files")
    if skipped:
        warn(f"skipped {len(skipped)} unreadable image(s) in {path} (first: {skipped[0]})")
    array = np.stack(decoded)
    array = array[:, None] if array.ndim == 3 else array.transpose(0, 3, 1, 2)  # (N, C, H, W)
    return ImageSet(torch.from_numpy(np.ascontiguousarray(array)), torch.tensor(labels, dtype=torch.long), class_names)


class _NoSplit(GanlabError):
    def __init__(self, split: str):
        super().__init__(f"the image folder has no '{split}' split")
        self.split = split


def _fit(im, resolution: int):
    """Resize the shorter side to ``resolution`` and centre-crop a square."""
    w, h = im.size
    if (w, h) != (resolution, resolution):
        scale = resolution / min(w, h)
        nw, nh = max(resolution, round(w * scale)), max(resolution, round(h * scale))
        im = im.resize((nw, nh), Image.BICUBIC)
        left, top = (nw - resolution) // 2, (nh - resolution) // 2
        im = im.crop((left, top, left + resolution, top + resolution))
    return im


def missing_split(error: Exception) -> Optional[str]:
    """The split name when ``error`` says a folder source has no such split, else None."""
    return error.split if isinstance(error, _NoSplit) else None
