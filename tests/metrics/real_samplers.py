"""Real images as a 'generator': a sampler function that returns data set images of the asked labels."""

from __future__ import annotations

import torch

from ganlab.config import DataConfig
from ganlab.data import load_split

DIGITS = DataConfig(name="digits")


def real_sampler(invert: bool = False, split: str = "train", data: DataConfig = DIGITS):
    """The split's images of the requested labels, in order, cycling within a class (inverted on request)."""
    images = load_split(data, split)
    by_class = {c: images.images[images.labels == c] for c in range(images.num_classes)}
    used = {c: 0 for c in by_class}

    def sample(labels: torch.Tensor) -> torch.Tensor:
        out = []
        for c in labels.tolist():
            out.append(by_class[c][used[c] % len(by_class[c])])
            used[c] += 1
        batch = torch.stack(out)
        return 255 - batch if invert else batch

    return sample
