"""How many 2x up/down blocks a convolutional model needs for a resolution."""

from __future__ import annotations

from ganlab.errors import GanlabError


def conv_layout(resolution: int) -> tuple[int, int]:
    """(start side, number of 2x blocks): halve while even and the side stays >= 4 (28 -> 7, 2; 32 -> 4, 3)."""
    side, blocks = resolution, 0
    while side % 2 == 0 and side // 2 >= 4:
        side //= 2
        blocks += 1
    if blocks == 0 or side > 8:
        raise GanlabError(f"resolution {resolution} cannot be built by 2x blocks from a 4..8 start; "
                          f"use e.g. 8, 16, 28, 32, 64 or 128 (data.resolution)")
    return side, blocks
