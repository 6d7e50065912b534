"""Sample grids saved as PNG, plain or with a title (kept as the PNG's "Title" text) and row and column labels,
and the one way a class is named in a row label."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from ganlab.io import atomic_write

GRID_PAD = 2  # white pixels around and between grid cells
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def class_label(index: int, name: str | None = None) -> str:
    """How a row (or tick) names class ``index``, saying the index once: "3" when the name is the index or only
    restates it (digits' "3", MNIST's "3 - three"), else "3: cat"; a name that starts with its index loses it."""
    text = str(index)
    rest = (name or "").strip()
    if rest.startswith(text) and rest[len(text):len(text) + 1] in ("", " ", "-", ":", ".", "_"):
        rest = rest[len(text):].lstrip(" -:._")
    if not rest or (index < len(NUMBER_WORDS) and rest.lower() == NUMBER_WORDS[index]):
        return text
    return f"{text}: {rest}"


def image_grid(images: torch.Tensor, columns: int, pad: int = GRID_PAD) -> np.ndarray:
    """uint8 (N, C, H, W) -> one uint8 (rows*H, columns*W[, 3]) array, row-major, white padding."""
    n, c, h, w = images.shape
    rows = max(1, -(-n // columns))
    grid = np.full((c, rows * (h + pad) + pad, columns * (w + pad) + pad), 255, dtype=np.uint8)
    arr = images.cpu().numpy()
    for i in range(n):
        r, col = divmod(i, columns)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[:, top:top + h, left:left + w] = arr[i]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def save_grid(path: str | Path, images: torch.Tensor, columns: int, scale: int = 1) -> Path:
    """Write uint8 images (N, C, H, W) as a PNG grid (upscaled ``scale`` times, nearest)."""
    grid = image_grid(images, columns)
    im = Image.fromarray(grid)
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    return atomic_write(path, lambda p: im.save(p, format="PNG"))


LABEL_FONT_PX = 11  # height of the labels' font (Pillow's built-in font)


def save_labelled_grid(path: str | Path, images: torch.Tensor, columns: int, scale: int, title: str,
                       row_labels: Sequence[str] = (), column_labels: Sequence[str] = ()) -> tuple[Path, int, int]:
    """A PNG grid that says what it shows: ``title`` above it, a label left of each row and above each column.
    Returns (path, top, left): where the grid (as ``save_grid`` draws it, upscaled) starts in the PNG."""
    grid = Image.fromarray(image_grid(images, columns)).convert("RGB")
    if scale > 1:
        grid = grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST)
    font = ImageFont.load_default(size=LABEL_FONT_PX)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    width_of = lambda text: int(measure.textlength(text, font=font))  # noqa: E731
    line = LABEL_FONT_PX + 4
    left = 4 + max((width_of(t) for t in row_labels), default=0) + (6 if row_labels else 0)
    top = line * (len(title.splitlines()) + (1 if column_labels else 0)) + 4
    width = max(left + grid.width, 8 + max(width_of(t) for t in title.splitlines()))
    canvas = Image.new("RGB", (width, top + grid.height), "white")
    canvas.paste(grid, (left, top))
    draw = ImageDraw.Draw(canvas)
    draw.multiline_text((4, 2), title, fill="black", font=font, spacing=4)
    _, c, h, w = images.shape
    cell_w, cell_h, pad = (w + GRID_PAD) * scale, (h + GRID_PAD) * scale, GRID_PAD * scale
    for j, text in enumerate(column_labels):
        x = left + pad + j * cell_w + (w * scale - width_of(text)) // 2
        draw.text((x, top - line), text, fill="black", font=font)
    for i, text in enumerate(row_labels):
        y = top + pad + i * cell_h + (h * scale - LABEL_FONT_PX) // 2
        draw.text((left - 6 - width_of(text), y), text, fill="black", font=font)
    out = canvas if c == 3 else canvas.convert("L")
    info = PngInfo()
    info.add_text("Title", title)
    return atomic_write(path, lambda p: out.save(p, format="PNG", pnginfo=info)), top, left
