"""The Python API, for notebooks and scripts: each function runs the same library code as its command-line verb.

    import ganlab
    run = ganlab.train("configs/mnist_cpu.yaml", train__epochs=1)      # ganlab train (a key's dots written __)
    run = ganlab.load("runs/00000-digits-dcgan")                        # an existing run folder
    images = run.sample(labels=[0, 3], seeds=range(8))                  # uint8 (16, C, H, W): ganlab sample
    run.grid(per_class=8)                                               # a PIL image, a row per class
    ganlab.classifier("digits")                                         # ganlab classifier train digits --if-missing
    ganlab.evaluate(run, metrics=["cfd", "acc"], n=500)                 # ganlab eval
    ganlab.sweep(None, "model.z_dim=2,8", "seed=0:3", out="sweeps/z")   # ganlab sweep
    ganlab.study("studies/report000.yaml", scale="tiny")                # ganlab study
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import torch
from PIL import Image

from ganlab.cli import run_command
from ganlab.config import ClassifierConfig, Config, DataConfig, EvalConfig, load_config, to_dict, use_data_root
from ganlab.data import load_data
from ganlab.errors import GanlabError
from ganlab.explore.sample_run import sample_images
from ganlab.folders import RUNS_ROOT, RunDir, default_study_dir, read_json
from ganlab.images import image_grid
from ganlab.metrics.classifier import train_classifier
from ganlab.metrics.evaluate import evaluate as evaluate_sampler
from ganlab.metrics.samplers import Sampler
from ganlab.report.curves import plot_curves
from ganlab.studies.engine import run_study
from ganlab.sweeps.command import SweepOutcome, run_sweep_command
from ganlab.training.evaluation import evaluate_run
from ganlab.training.metrics_log import read_metrics
from ganlab.training.run import train as train_run


class Run:
    """A run folder: its config, status and logs, and its generator to sample from."""

    def __init__(self, path: str | Path):
        self.files = RunDir(path)
        self.config: Config = self.files.read_config()

    @property
    def path(self) -> Path:
        return self.files.path

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, state={self.status.get('state')!r})"

    @property
    def status(self) -> dict[str, Any]:
        """status.json: state, step, total steps, parameter counts."""
        return self.files.read_status()

    def metrics(self) -> list[dict[str, Any]]:
        """The records of the run's metrics log (training records and evaluations)."""
        return list(read_metrics(self.path))

    def sample(self, labels: Optional[Sequence[int]] = None, seeds: Optional[Iterable[int]] = None,
               n: Optional[int] = None, epoch: Optional[int] = None, device: str = "auto") -> torch.Tensor:
        """uint8 images (N, C, H, W): sample i from seed i (``seeds``, default 0..n-1), labels in equal blocks
        (default: every class); ``epoch`` samples the export kept at that epoch."""
        return sample_images(self.path, labels=list(labels) if labels is not None else None, n=n,
                             seeds=list(seeds) if seeds is not None else None, epoch=epoch, device=device).images

    @property
    def num_classes(self) -> int:
        """How many classes the generator knows (0 when unconditional), from its export."""
        return int(read_json(self.files.export().with_suffix(".json"))["spec"]["num_classes"])

    def grid(self, labels: Optional[Sequence[int]] = None, per_class: int = 8, epoch: Optional[int] = None,
             scale: int = 0) -> Image.Image:
        """A grid of samples, a row per label (default: every class) with the same seeds 0..per_class-1 in every
        row, upscaled ``scale`` times (0: to about 256 pixels wide)."""
        rows = list(labels) if labels is not None else list(range(max(1, self.num_classes)))
        images = self.sample(rows, [s for _ in rows for s in range(per_class)], epoch=epoch)
        im = Image.fromarray(image_grid(images, per_class))
        scale = scale or max(1, 256 // im.width)
        return im.resize((im.width * scale, im.height * scale), Image.NEAREST) if scale > 1 else im

    def evaluate(self, metrics: Optional[Sequence[str]] = None, n: Optional[int] = None, **eval_options: Any
                 ) -> dict[str, dict[str, Any]]:
        """``ganlab.evaluate(self, ...)``: measure this run's generator, see ``evaluate``."""
        return evaluate(self, metrics=metrics, n=n, **eval_options)

    def curves(self) -> Path:
        """Draw the training curves (losses, D outputs, D accuracy) and return the PNG's path."""
        return plot_curves(self.path)


def _config(config: str | Path | dict[str, Any] | Config | None, overrides: dict[str, Any]) -> Config:
    """A validated Config from a YAML path, a nested dict, a Config or None (the defaults), then ``overrides``
    (dotted keys written with ``__``), each checked by the schema."""
    updates: list[dict[str, Any]] = []
    if isinstance(config, (Config, dict)):
        updates.append(to_dict(config) if isinstance(config, Config) else config)
    for key, value in overrides.items():
        *parents, last = key.split("__")
        node = {last: value}
        for part in reversed(parents):
            node = {part: node}
        updates.append(node)
    return load_config(None if isinstance(config, (Config, dict)) else config, [], updates)


def train(config: str | Path | dict[str, Any] | Config | None = None, *, run_dir: Optional[str | Path] = None,
          out_root: str | Path = RUNS_ROOT, data_root: Optional[str | Path] = None, force: bool = False,
          overwrite: bool = False, stop_after_minutes: Optional[float] = None, progress: bool = True,
          **overrides: Any) -> Run:
    """Train a GAN (``ganlab train``): ``config`` is a YAML path, a nested dict, a Config or None (the digits
    quickstart); ``overrides`` are config keys with their dots written ``__`` (``model__z_dim=8``). ``run_dir``
    follows the one resume rule (the same config continues). Returns the run."""
    use_data_root(data_root)
    result = train_run(_config(config, overrides), run_dir=run_dir, out_root=out_root, force=force,
                       overwrite=overwrite, stop_after_minutes=stop_after_minutes, progress=progress)
    return Run(result.run_dir)


def load(run_dir: str | Path) -> Run:
    """An existing run folder (made by ``ganlab train`` or a sweep)."""
    return Run(run_dir)


def classifier(data_name: str, epochs: Optional[int] = None, data_root: Optional[str | Path] = None,
               device: str = "auto", progress: bool = True) -> dict[str, Any]:
    """Train (or keep, when one is stored) the domain classifier of a data set that cfd and acc measure with
    (``ganlab classifier train NAME --if-missing``); returns its record (test accuracy, path)."""
    use_data_root(data_root)
    cfg = ClassifierConfig() if epochs is None else ClassifierConfig(epochs=epochs)
    return train_classifier(DataConfig(name=data_name), cfg, device, progress=progress, reuse=True)


def evaluate(source: Run | str | Path | Sampler, metrics: Optional[Sequence[str]] = None, n: Optional[int] = None,
             data_root: Optional[str | Path] = None, config: Optional[str | Path | Config] = None,
             epoch: Optional[int] = None, log: bool = False, **eval_options: Any) -> dict[str, dict[str, Any]]:
    """Measure a run's generator (``ganlab eval``: results merged into its eval.json; ``epoch``: the one exported
    then; ``log``: also added to its metrics.jsonl at that iteration) or a sampler function (labels -> uint8
    images; then ``config`` names its data set): {metric name: record}. ``eval_options`` are EvalConfig fields
    (ref, ref_n, bootstrap, ...)."""
    use_data_root(data_root)
    options = {**eval_options, **({"metrics": list(metrics)} if metrics is not None else {}),
               **({"n": n} if n is not None else {})}
    if isinstance(source, (Run, str, Path)):
        return evaluate_run(source.path if isinstance(source, Run) else source, options, epoch, log=log)
    if config is None:
        raise GanlabError("evaluating a sampler needs the config of its data set: pass config='configs/x.yaml'")
    cfg = config if isinstance(config, Config) else load_config(config, [])
    settings = EvalConfig(**{**asdict(cfg.eval), **options})
    return evaluate_sampler(source, cfg.data, load_data(cfg.data).spec.num_classes, settings)


def sweep(source: Optional[str | Path], *items: str, out: Optional[str | Path] = None,
          data_root: Optional[str | Path] = None, **options: Any) -> SweepOutcome:
    """Run or continue a sweep (``ganlab sweep``): ``source`` a sweep YAML or a run config (None: the defaults),
    ``items`` key=VALUES; ``options`` as the verb's (backend, workers, eval_metrics, eval_n, metric, force ...)."""
    use_data_root(data_root)
    return run_sweep_command(str(source) if source is not None else None, list(items), out=out, **options)


def study(study_file: str | Path, scale: str = "cpu", out: Optional[str | Path] = None,
          data_root: Optional[str | Path] = None, force: bool = False) -> dict[str, Any]:
    """Run or continue a report's study (``ganlab study``); returns the record of its steps."""
    use_data_root(data_root)
    folder = Path(out) if out else default_study_dir(study_file, scale)
    return run_study(study_file, scale, folder, run_command, force=force)
