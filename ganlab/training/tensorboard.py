"""Live TensorBoard logging of a run (``train.tensorboard=true``) into RUN_DIR/tensorboard/.

It mirrors what the run already writes, at the same steps: every number of each metrics.jsonl training record
(losses, D outputs and accuracies, held-out stats, learning rates, step time ...), every evaluation metric
during training (``eval/NAME``) and each epoch's sample grid (the image ``samples``). ``MetricsLog`` calls it
where it writes records, on rank 0 only. A sweep's points are ordinary run folders, so
``tensorboard --logdir SWEEP/runs`` compares the points, one TensorBoard run each.

``tensorboard`` is an optional dependency (``pip install 'ganlab[tensorboard]'``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Optional

import numpy as np
from PIL import Image

from ganlab.errors import GanlabError
from ganlab.folders import RunDir

INSTALL = "pip install 'ganlab[tensorboard]'"
GRID_TAG = "samples"  # the epoch grids, one image per epoch end
EVAL_PREFIX = "eval/"  # evaluation metrics during training: eval/NAME (eval/NAME/FIELD when NAME has no one value)
SKIPPED = frozenset({"step", "kind", "metrics"})  # record fields that are no scalar at a step
PARTS = ("precision", "recall")  # the numbers of a metric whose value is None (pr)


def summary_writer() -> type:
    """torch's SummaryWriter, or a one-line GanlabError naming the fix when tensorboard is not installed."""
    try:
        # optional dependency: only runs with train.tensorboard=true need it (and torch's writer needs it)
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise GanlabError(f"train.tensorboard=true needs the tensorboard package: {INSTALL} "
                          f"(or set train.tensorboard=false)") from None
    return SummaryWriter


def _number(value: Any) -> Optional[float]:
    """A real number as a float; None for anything else (strings, lists, None, booleans)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def scalars(record: dict[str, Any]) -> dict[str, float]:
    """The tags and values of one metrics.jsonl record: a training record's numbers under their own names; an
    eval record's metric values as eval/NAME (a metric without one value, e.g. pr: its numbers as
    eval/NAME/FIELD) and its other numbers (best_fid, eval_time_s ...) as eval/FIELD."""
    if record.get("kind") != "eval":
        return {k: x for k, v in record.items() if k not in SKIPPED and (x := _number(v)) is not None}
    out: dict[str, float] = {}
    for name, result in record.get("metrics", {}).items():
        if (value := _number(result.get("value"))) is not None:
            out[EVAL_PREFIX + name] = value
        else:
            out.update({f"{EVAL_PREFIX}{name}/{k}": x for k, v in result.items()
                        if k in PARTS and (x := _number(v)) is not None})
    out.update({EVAL_PREFIX + k: x for k, v in record.items()
                if k not in SKIPPED | {"epoch", "fid"} and (x := _number(v)) is not None})
    return out


class TensorBoardLog:
    """Writes a run's records and epoch grids to RUN_DIR/tensorboard/ as they come (flushed at each one).

    A fresh run (``resume_step`` None) empties the folder; a resumed run appends, purging any events past
    ``resume_step`` (those metrics.jsonl drops too), so the curves continue without a doubled stretch."""

    def __init__(self, run_dir: str | Path, resume_step: Optional[int] = None):
        writer = summary_writer()
        self.path = RunDir(run_dir).tensorboard
        if resume_step is None and self.path.exists():
            shutil.rmtree(self.path)
        self.writer = writer(log_dir=str(self.path), purge_step=None if resume_step is None else resume_step + 1)

    def record(self, record: dict[str, Any]) -> None:
        """One metrics.jsonl record, at its step."""
        step = int(record["step"])
        for tag, value in scalars(record).items():
            self.writer.add_scalar(tag, value, step)  # NaN/inf too: a diverging run shows it
        self.writer.flush()

    def grid(self, png: str | Path, step: int) -> None:
        """An epoch's sample grid (the PNG the trainer wrote), at the epoch end's step."""
        image = np.asarray(Image.open(png).convert("RGB"))
        self.writer.add_image(GRID_TAG, image, step, dataformats="HWC")
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
