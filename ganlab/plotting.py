"""matplotlib, headless and in one place: every chart ganlab draws gets ``pyplot()`` and is written by
``save_plot``, which keeps the figure's title in the PNG."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType

from ganlab.io import atomic_write


def pyplot() -> ModuleType:
    """matplotlib.pyplot, on the file-only Agg backend unless the user's session chose one (a notebook's inline
    backend stays, so the user's own plots still show; ganlab's figures are written to files and closed)."""
    import matplotlib  # start-up time: matplotlib (about 0.5 s) loads only when a chart is drawn

    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # start-up time: as above

    return plt


def figure_title(fig) -> str:
    """The title of a matplotlib figure: its suptitle, else its axes' titles joined by " | "."""
    sup = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    return sup or " | ".join(t for t in (ax.get_title() for ax in fig.axes) if t)


def save_plot(path: str | Path, fig, dpi: int = 100) -> Path:
    """Write a matplotlib figure as a PNG, cropped to what is drawn (no title or legend clipped), its title
    stored as the PNG's "Title" text (``PIL.Image.open(path).text["Title"]``) and each axes' title and labels as
    its "Description" (a line per axes, colour bars included); the figure is closed."""
    axes = [f"title: {ax.get_title()}; x: {ax.get_xlabel()}; y: {ax.get_ylabel()}" for ax in fig.axes]
    meta = {"Title": figure_title(fig), "Description": "\n".join(axes), "Software": "ganlab"}
    try:
        return atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=dpi, bbox_inches="tight",
                                                         pad_inches=0.1, metadata=meta))
    finally:
        pyplot().close(fig)
