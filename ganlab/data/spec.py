"""What the models need to know about a data set's images."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageSpec:
    channels: int  # 1 grey or 3 RGB
    resolution: int  # image side in pixels
    num_classes: int  # 0 = unlabelled
