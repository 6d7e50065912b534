"""metrics.jsonl: one JSON object per line, appended as training goes, readable by anything (and, with
``train.tensorboard``, the same records and the epoch grids in TensorBoard: ``ganlab.training.tensorboard``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Optional

from ganlab.folders import RunDir
from ganlab.training.tensorboard import TensorBoardLog


class MetricsLog:
    """Appends records to ``run_dir/metrics.jsonl``; on resume, drops records past the resumed step. With
    ``tensorboard``, each record and epoch grid goes to RUN_DIR/tensorboard/ too (``close`` when done)."""

    def __init__(self, run_dir: Path, resume_step: int | None = None, tensorboard: bool = False):
        self.path = RunDir(run_dir).metrics
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume_step is not None and self.path.exists():
            kept = [r for r in read_metrics(self.path) if r.get("step", 0) <= resume_step]
            self.path.write_text("".join(json.dumps(r) + "\n" for r in kept))
        elif resume_step is None:
            self.path.write_text("")
        self.board: Optional[TensorBoardLog] = TensorBoardLog(run_dir, resume_step) if tensorboard else None

    def write(self, record: dict[str, Any]) -> None:
        append_metrics(self.path, record)
        if self.board is not None:
            self.board.record(record)

    def grid(self, png: Path, step: int) -> None:
        """An epoch's sample grid, written by the trainer at ``step`` (TensorBoard only: the PNG is the record)."""
        if self.board is not None:
            self.board.grid(png, step)

    def close(self) -> None:
        if self.board is not None:
            self.board.close()


def append_metrics(path: str | Path, record: dict[str, Any]) -> None:
    """Append one record to a metrics.jsonl file (a run directory or the file itself)."""
    path = Path(path)
    with (RunDir(path).metrics if path.is_dir() else path).open("a") as f:
        f.write(json.dumps(record) + "\n")


def read_metrics(path: str | Path) -> Iterator[dict[str, Any]]:
    """The records of a metrics.jsonl file (a run directory or the file itself); a torn last line is skipped."""
    path = Path(path)
    if path.is_dir():
        path = RunDir(path).metrics
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue


def eval_records(path: str | Path) -> Iterator[tuple[float, dict[str, Any]]]:
    """A run's evaluation records, each with the epochs of training done when it was taken (fractional: an
    evaluation every N iterations falls mid-epoch). Read off the step and the run's iterations per epoch, which its
    training records give (step over their fractional epoch); the record's own epoch where there are none."""
    records = list(read_metrics(path))
    trained = [r for r in records if r.get("kind") != "eval" and r.get("epoch") and r.get("step")]
    per_epoch = trained[-1]["step"] / trained[-1]["epoch"] if trained else None
    for r in records:
        if r.get("kind") == "eval":
            yield (r["step"] / per_epoch if per_epoch and r.get("step") is not None else float(r["epoch"])), r
