"""The three folders ganlab writes, and the one place that names their files: a run, a sweep and a study.

Run (``ganlab train``)::

    config.yaml                  the resolved config, written before training starts
    status.json                  state (running, paused, finished, diverged), step, totals
    metrics.jsonl                one record per log interval, and the evaluations during training
    eval.json                    results of ``ganlab eval`` (metric name -> record)
    checkpoints/last.pt          full resume state; previous.pt the one before it; best.pt the best by FID
    export/generator.safetensors the generator for sampling (+ .json); generator-eNNNN.* per epoch, -best
    samples/epoch_NNNN.png       the fixed-noise grid of each epoch
    figures/                     curves and other PNGs drawn from the run
    explore/                     the explorations' PNGs and JSON
    tensorboard/                 with train.tensorboard: the records, evaluations and epoch grids as TensorBoard events
    report.html                  the run's page

Sweep (``ganlab sweep``)::

    sweep.yaml                   the spec as run
    status.json                  per point: state, run folder, swept values, final metrics
    runs/POINT/                  one run folder per point (``tensorboard --logdir SWEEP/runs`` compares them)
    results.csv, results.jsonl   one row per point: swept keys, seed, every metric, every config key
    figures/                     metric-vs-key figures, tables, plateau estimates
    report.html                  the sweep's page

Study (``ganlab study``)::

    steps.json                   the commands run, with their wall times, device and versions
    STEP/                        each step's folder (a run, a sweep, an exploration ...)
    findings.md, findings.json   the verdicts on the report's findings
    index.html                   the study's page

Nothing here imports torch: these are paths and small JSON readers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

from ganlab.config import Config, load_config
from ganlab.errors import GanlabError

RUNS_ROOT = "runs"  # where new numbered run folders go (runs/NNNNN-name) unless told otherwise
SWEEPS_ROOT = "sweeps"  # where a sweep's folder goes (sweeps/NAME) unless told otherwise
STUDIES_ROOT = "studies/out"  # where a study's folder goes (studies/out/NAME-SCALE) unless told otherwise
STATUS_FILE = "status.json"  # a run's state, and a sweep's per-point states
EXPORT_NAME = "generator"  # export/generator.safetensors, generator-eNNNN, generator-best
REPORT_FILE = "report.html"  # a run's or a sweep's page


def read_json(path: Path) -> Any:
    """A JSON file's content, or None when it is absent or unreadable (a torn write)."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


class RunDir:
    """Paths and readers of one run folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.config = self.path / "config.yaml"
        self.status = self.path / STATUS_FILE
        self.metrics = self.path / "metrics.jsonl"
        self.eval = self.path / "eval.json"
        self.checkpoints = self.path / "checkpoints"
        self.last_checkpoint = self.checkpoints / "last.pt"
        self.previous_checkpoint = self.checkpoints / "previous.pt"  # resume falls back to it when last.pt is bad
        self.best_checkpoint = self.checkpoints / "best.pt"
        self.exports = self.path / "export"
        self.best_export = self.exports / f"{EXPORT_NAME}-best.safetensors"
        self.samples = self.path / "samples"
        self.figures = self.path / "figures"
        self.curves = self.figures / "curves.png"
        self.eval_curves = self.figures / "eval.png"
        self.explore = self.path / "explore"
        self.tensorboard = self.path / "tensorboard"
        self.report = self.path / REPORT_FILE

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def has_checkpoint(self) -> bool:
        """True when there is a checkpoint to resume from (the last, or the previous one)."""
        return self.last_checkpoint.is_file() or self.previous_checkpoint.is_file()

    def export(self, epoch: Optional[int] = None) -> Path:
        """The latest generator export, or the one kept at ``epoch``."""
        return self.exports / (f"{EXPORT_NAME}.safetensors" if epoch is None else
                               f"{EXPORT_NAME}-e{epoch:04d}.safetensors")

    def exported_epochs(self) -> list[int]:
        """Epochs whose generator export was kept."""
        return sorted(int(m.group(1)) for p in self.exports.glob(f"{EXPORT_NAME}-e*.safetensors")
                      if (m := re.fullmatch(rf"{EXPORT_NAME}-e(\d+)", p.stem)))

    def epoch_grid(self, epoch: int) -> Path:
        return self.samples / f"epoch_{epoch:04d}.png"

    def epoch_grids(self) -> list[Path]:
        return sorted(self.samples.glob("epoch_*.png"))

    def is_run(self) -> bool:
        """True for a folder made by ``ganlab train`` (it has the resolved config)."""
        return self.config.is_file()

    def read_config(self) -> Config:
        """The resolved config saved in the run folder."""
        if not self.is_run():
            raise GanlabError(f"{self.path} is not a ganlab run directory (no {self.config.name}); pass a directory "
                              f"made by 'ganlab train'")
        return load_config(self.config)

    def read_status(self) -> dict[str, Any]:
        """status.json, or {} when absent or unreadable."""
        return read_json(self.status) or {}

    def state(self) -> Optional[str]:
        """The run's state (running, paused, finished, diverged), None before it started."""
        return self.read_status().get("state")

    def read_eval(self) -> Optional[dict[str, Any]]:
        """eval.json (metric name -> record), None when absent."""
        return read_json(self.eval)

    def exported_generator(self, epoch: Optional[int] = None) -> Path:
        """The export file of ``epoch`` (latest when None), refused with the kept epochs when it was not kept."""
        path = self.export(epoch)
        if epoch is not None and not path.is_file():
            kept = ", ".join(map(str, self.exported_epochs())) or "none"
            raise GanlabError(f"run {self.path} kept no export of epoch {epoch}; kept epochs: {kept}")
        return path


class SweepDir:
    """Paths and readers of one sweep folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.spec = self.path / "sweep.yaml"
        self.status = self.path / STATUS_FILE
        self.runs = self.path / "runs"
        self.results_csv = self.path / "results.csv"
        self.results_jsonl = self.path / "results.jsonl"
        self.figures = self.path / "figures"
        self.report = self.path / REPORT_FILE

    def __repr__(self) -> str:
        return f"SweepDir({str(self.path)!r})"

    @property
    def d_outputs(self) -> Path:
        """D(x) and D(G(z)) over training of every point."""
        return self.figures / "d_outputs.png"

    def over_training(self, column: str) -> Path:
        """The figure of an evaluation during training against the epoch, per point over its seeds."""
        return self.figures / f"{_safe(column)}_over_training.png"

    def metric_vs_key(self, column: str, key: str) -> Path:
        """The figure of a results column against one swept key."""
        return self.figures / f"{_safe(column)}_vs_{key}.png"

    def plateau(self, column: str, key: str) -> Path:
        """The plateau estimate of a column along one swept key (JSON)."""
        return self.figures / f"plateau_{_safe(column)}_{key}.json"

    def by_key(self, column: str, key: str) -> Path:
        """Mean, spread and seeds of a column per value of one swept key (JSON)."""
        return self.figures / f"{_safe(column)}_by_{key}.json"

    def grid_table(self, column: str, suffix: str) -> Path:
        """The table of a column over a grid of several keys: ``suffix`` .md or .json."""
        return self.figures / f"table_{_safe(column)}{suffix}"

    def floor(self, column: str) -> Path:
        """The measured real-vs-real floor of a column (JSON), e.g. floor_fid10k_test.json."""
        return self.figures / f"{_safe(column)}.json"

    def run(self, point_id: str) -> RunDir:
        """The run folder of a point."""
        return RunDir(self.runs / point_id)

    def relative_run(self, point_id: str) -> str:
        """A point's run folder relative to the sweep folder (as status.json and the results table keep it)."""
        return self.run(point_id).path.relative_to(self.path).as_posix()

    def is_sweep(self) -> bool:
        """A folder with a sweep's results table or status."""
        return self.results_jsonl.is_file() or self.status.is_file()

    def read_points(self) -> dict[str, dict[str, Any]]:
        """Per-point status entries (point id -> state, run folder, values, metrics); empty for a new sweep."""
        data = read_json(self.status)
        return data["points"] if isinstance(data, dict) and "points" in data else {}

    def run_dirs(self) -> list[Path]:
        """The run folders of the sweep's points, sorted."""
        return sorted(p for p in self.runs.glob("*") if RunDir(p).is_run()) if self.runs.is_dir() else []

    def find_point(self, overrides: dict[str, Any]) -> RunDir:
        """The run folder of the one point whose swept values and seed match ``overrides`` (dotted key -> value;
        a key may be given by its last component, e.g. z_dim=8 seed=0; min / max name a key's extreme value)."""
        points = self.read_points()
        overrides = resolve_extremes(overrides, [entry.get("values", {}) for entry in points.values()])
        matches = [pid for pid, entry in points.items()
                   if matches_values({**entry.get("values", {}), "seed": entry.get("seed")}, overrides)]
        if len(matches) != 1:
            wanted = " ".join(f"{k}={v}" for k, v in overrides.items())
            found = "none" if not matches else ", ".join(matches)
            raise GanlabError(f"sweep {self.path}: {len(matches) or 'no'} point(s) match {wanted} ({found}); name "
                              f"one point by its swept values and seed, e.g. model.z_dim=8 seed=0")
        return self.run(matches[0])


def _safe(column: str) -> str:
    return column.replace("/", "-")


EXTREMES = {"min": min, "max": max}  # values naming the smallest / largest swept value of a key


def swept_values(key: str, swept: list[dict[str, Any]]) -> list[Any]:
    """Every value ``key`` (dotted, or its last component: z_dim for model.z_dim) takes in ``swept``."""
    return [v for point in swept for k, v in point.items() if k == key or k.split(".")[-1] == key]


def resolve_extremes(overrides: dict[str, Any], swept: list[dict[str, Any]]) -> dict[str, Any]:
    """``overrides`` with each value ``min`` or ``max`` replaced by the smallest or largest value its key takes
    in ``swept`` (the swept values of several points)."""
    resolved = dict(overrides)
    for key, wanted in overrides.items():
        if isinstance(wanted, str) and wanted in EXTREMES:
            values = swept_values(key, swept)
            if not values:
                raise GanlabError(f"{key}={wanted}: {key} is not a swept key here")
            resolved[key] = EXTREMES[wanted](values, key=float)
    return resolved


def matches_values(values: dict[str, Any], overrides: dict[str, Any]) -> bool:
    """Whether swept ``values`` (dotted key -> value) hold every ``overrides`` item; a key may be given by its last
    component (z_dim for model.z_dim), and numbers compare as numbers."""
    for key, wanted in overrides.items():
        keys = [k for k in values if k == key or k.split(".")[-1] == key]
        if len(keys) != 1 or not same_value(values[keys[0]], wanted):
            return False
    return True


def same_value(a: Any, b: Any) -> bool:
    """Equal as numbers where both read as numbers (1e-4 == 0.0001), else as text."""
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def default_sweep_dir(source: Optional[str | Path]) -> Path:
    """sweeps/NAME for a sweep file or run config NAME.yaml (sweeps/defaults without one)."""
    return Path(SWEEPS_ROOT) / (Path(source).stem if source else "defaults")


def default_study_dir(study_file: str | Path, scale: str) -> Path:
    """studies/out/NAME-SCALE for the study file NAME.yaml at a scale."""
    return Path(STUDIES_ROOT) / f"{Path(study_file).stem}-{scale}"


class StudyDir:
    """Paths and readers of one study folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.steps = self.path / "steps.json"
        self.findings_md = self.path / "findings.md"
        self.findings_json = self.path / "findings.json"
        self.page = self.path / "index.html"

    def __repr__(self) -> str:
        return f"StudyDir({str(self.path)!r})"

    def step(self, name: str) -> Path:
        """A step's folder."""
        return self.path / name

    def sweep(self, step: str) -> SweepDir:
        """A sweep step's folder."""
        return SweepDir(self.step(step))

    def read_steps(self) -> dict[str, Any]:
        """steps.json (the record of the steps run), {} for a new study."""
        return read_json(self.steps) or {}
