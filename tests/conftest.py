"""Shared fixtures: the shared data folder, a private cache, small configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path | None:
    """../shared/data beside the repository, or $GANLAB_DATA."""
    env = os.environ.get("GANLAB_DATA")
    for candidate in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if candidate.is_dir():
            return candidate
    return None


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (the default: ``-n auto``) each worker is one of as many processes as cores: one CPU
    thread each, passed on to the processes it starts, as ganlab's own parallel sweeps do (torch's threads of
    several processes would fight over the cores and make small steps many times slower)."""
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        os.environ["OMP_NUM_THREADS"] = "1"
        import torch

        torch.set_num_threads(1)


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = shared_data_root()
    if root is None:
        pytest.skip("no shared data folder (../shared/data or $GANLAB_DATA)")
    return root


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """Every test session decodes into its own cache, never the user's."""
    old = os.environ.get("GANLAB_CACHE")
    os.environ["GANLAB_CACHE"] = str(tmp_path_factory.mktemp("ganlab-cache"))
    yield
    if old is None:
        os.environ.pop("GANLAB_CACHE", None)
    else:
        os.environ["GANLAB_CACHE"] = old


@pytest.fixture
def tiny_overrides() -> list[str]:
    """A digits run of a few iterations with tiny networks (seconds on the CPU)."""
    return ["data.name=digits", "model.g_width=8", "model.d_width=8", "model.z_dim=8",
            "train.batch_size=32", "train.steps=6", "train.log_every=2", "device=cpu"]


def _train_tiny(root: Path, name: str, overrides: list[str]) -> Path:
    from ganlab.config import load_config
    from ganlab.training.run import train

    run_dir = root / name
    train(load_config(None, ["data.name=digits", "train.batch_size=32", "device=cpu", "train.log_every=10",
                             *overrides]), run_dir=run_dir, progress=False)
    return run_dir


@pytest.fixture(scope="session")
def explore_run(tmp_path_factory: pytest.TempPathFactory, _private_cache) -> Path:
    """A tiny conditional DCGAN (label embedding, z_dim 8) trained 2 epochs of 640 digits, once per session."""
    return _train_tiny(tmp_path_factory.mktemp("runs"), "dcgan-embedding",
                       ["model.family=dcgan", "model.conditioning=embedding", "model.z_dim=8",
                        "model.g_width=8", "model.d_width=8", "data.limit=640", "train.steps=45"])


@pytest.fixture(scope="session")
def explore_run_2d(tmp_path_factory: pytest.TempPathFactory, _private_cache) -> Path:
    """A tiny one-hot MLP CGAN with a 2-d latent (a latent plane to map), trained once per session."""
    return _train_tiny(tmp_path_factory.mktemp("runs"), "mlp-onehot-z2",
                       ["model.family=mlp", "model.conditioning=onehot", "model.z_dim=2",
                        "model.g_width=32", "model.d_width=32", "data.limit=640", "train.steps=30"])


@pytest.fixture(scope="session")
def digits_classifier(_private_cache):
    """A small domain classifier of the digits data set, trained once (seconds), stored in the session cache."""
    from ganlab.config import ClassifierConfig, DataConfig
    from ganlab.metrics.classifier import load_classifier, train_classifier

    meta = train_classifier(DataConfig(name="digits"), ClassifierConfig(epochs=8, batch_size=64, width=16),
                            device="cpu", progress=False)
    return meta, load_classifier("digits", 8, 1)
