"""Which images of a decoded source a run uses: some of its classes (relabelled 0..k-1), at most N training
images per class, and a seeded held-out test split for a source that has none.

Applied by ``ganlab.data.load.load_split`` in this order: classes, then the per-class cap (the first N of each
class in the source's order), then the hold-out (``test_fraction`` of each class, chosen by ``split_seed``).
Every split keeps the source's order. An unlabelled source is one class for the cap and the hold-out.
"""

from __future__ import annotations

import json
from typing import Sequence

import torch

from ganlab.config import DataConfig
from ganlab.data.sources import ImageSet
from ganlab.errors import GanlabError


def selection_key(cfg: DataConfig) -> str:
    """The selection options as text for cache keys of derived data; '' when the whole source is used."""
    chosen = {"classes": list(cfg.classes), "per_class": cfg.per_class, "test_fraction": cfg.test_fraction}
    chosen = {k: v for k, v in chosen.items() if v}
    if cfg.test_fraction:
        chosen["split_seed"] = cfg.split_seed
    return json.dumps(chosen, sort_keys=True) if chosen else ""


def class_indices(wanted: Sequence[str], class_names: Sequence[str], source: str) -> list[int]:
    """Indices of ``wanted`` classes: an item is a class name, or else an index into ``class_names``."""
    if not class_names:
        raise GanlabError(f"data.classes needs labelled data, but '{source}' has no classes (no class sub-folders); "
                          f"drop data.classes")
    indices = []
    for item in wanted:
        if item in class_names:
            indices.append(list(class_names).index(item))
        elif item.isdigit() and int(item) < len(class_names):
            indices.append(int(item))
        else:
            raise GanlabError(f"data.classes item '{item}' is neither a class of '{source}' nor an index below "
                              f"{len(class_names)}; its classes are {', '.join(class_names)}")
    if len(set(indices)) != len(indices):
        raise GanlabError(f"data.classes {list(wanted)} names one class twice (by name and by index); list it once")
    return indices


def subset(data: ImageSet, keep: torch.Tensor) -> ImageSet:
    """The images at the sorted indices ``keep``, with the same classes."""
    return ImageSet(data.images[keep], data.labels[keep], data.class_names)


def keep_classes(data: ImageSet, indices: Sequence[int]) -> ImageSet:
    """Only the images of classes ``indices``, relabelled 0..k-1 in that order."""
    relabel = torch.full((data.num_classes,), -1, dtype=torch.long)
    relabel[torch.as_tensor(list(indices), dtype=torch.long)] = torch.arange(len(indices))
    new_labels = relabel[data.labels]
    keep = (new_labels >= 0).nonzero().squeeze(1)
    return ImageSet(data.images[keep], new_labels[keep], [data.class_names[i] for i in indices])


def _groups(data: ImageSet) -> list[torch.Tensor]:
    """Indices of each class's images in the source's order (one group when unlabelled)."""
    return [(data.labels == c).nonzero().squeeze(1) for c in data.labels.unique(sorted=True)]


def cap_per_class(data: ImageSet, n: int) -> ImageSet:
    """At most ``n`` images of each class: the first ``n`` of each in the source's order."""
    keep = torch.cat([group[:n] for group in _groups(data)])
    return subset(data, keep.sort().values)


def hold_out(data: ImageSet, fraction: float, seed: int, source: str) -> tuple[ImageSet, ImageSet]:
    """(train, test): round(fraction x size) images of each class (at least 1) held out as the test split, chosen
    by a generator seeded with ``seed`` (classes in label order); both splits keep the source's order."""
    g = torch.Generator().manual_seed(seed)
    held = []
    for group in _groups(data):
        if group.numel() < 2:
            raise GanlabError(f"a class of '{source}' has {group.numel()} image(s), too few to hold out a test "
                              f"image; lower data.test_fraction to 0 or add images")
        count = min(group.numel() - 1, max(1, round(fraction * group.numel())))
        held.append(group[torch.randperm(group.numel(), generator=g)[:count]])
    test = torch.zeros(len(data), dtype=torch.bool)
    test[torch.cat(held)] = True
    return subset(data, (~test).nonzero().squeeze(1)), subset(data, test.nonzero().squeeze(1))


def select(data: ImageSet, cfg: DataConfig, cap: bool) -> ImageSet:
    """The configured classes of one split, and the per-class cap when ``cap`` (the split training draws from)."""
    if cfg.classes:
        data = keep_classes(data, class_indices(cfg.classes, data.class_names, cfg.name))
    return cap_per_class(data, cfg.per_class) if cap and cfg.per_class else data


def random_per_class(data: ImageSet, num_classes: int, per_class: int, seed: int, what: str,
                     fix: str) -> list[torch.Tensor]:
    """``per_class`` indices into ``data`` of each class 0..num_classes-1 (num_classes 0: of all its images, one
    group), chosen at random by ``seed``, each sorted; refused, naming ``what`` and the ``fix``, when a class has
    fewer images."""
    g = torch.Generator().manual_seed(seed)
    groups = ([(data.labels == c).nonzero().squeeze(1) for c in range(num_classes)] if num_classes
              else [torch.arange(len(data))])
    picks = []
    for c, members in enumerate(groups):
        if members.numel() < per_class:
            raise GanlabError(f"class {c} of {what} has {members.numel()} images, fewer than {per_class}; {fix}")
        picks.append(members[torch.randperm(members.numel(), generator=g)[:per_class]].sort().values)
    return picks
