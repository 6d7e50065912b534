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
