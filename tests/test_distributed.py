"""Training with DDP over 2 CPU processes (gloo), launched as users launch it: torchrun -m ganlab train."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from ganlab.cli import main
from ganlab.config import AugmentConfig, load_config
from ganlab.data import BatchSampler, ImageSet, load_data
from ganlab.folders import RunDir
from ganlab.models import build_models
from ganlab.training.checkpoint import load_checkpoint
from ganlab.training.distributed import fingerprint
from ganlab.training.metrics_log import read_metrics

REPO = Path(__file__).resolve().parents[1]
RUN = ["--quiet", "data.name=digits", "model.g_width=8", "model.d_width=8", "model.z_dim=8", "train.batch_size=32",
       "train.steps=0", "train.epochs=2", "train.log_every=5", "device=cpu"]


def torchrun(*args: str) -> subprocess.CompletedProcess:
    launcher = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    cmd = [sys.executable, *launcher, "-m", "ganlab", "train", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ddp") / "numbered"
    result = torchrun("--out", str(out), *RUN)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("finished at iteration") == 1, result.stdout  # rank 0 reports, alone
    runs = list(out.iterdir())
    assert len(runs) == 1, runs  # one run directory, made by rank 0
    return runs[0]


def test_two_processes_write_one_run_and_stay_in_sync(ddp_run: Path):
    records = list(read_metrics(ddp_run))
    steps = [r["step"] for r in records]
    assert steps == sorted(set(steps))  # one writer: no record twice
    assert steps[-1] == 44  # 1437 images / (2 ranks x 32) = 22 iterations per epoch, 2 epochs
    assert json.loads(RunDir(ddp_run).status.read_text())["state"] == "finished"
    assert RunDir(ddp_run).epoch_grids() == [RunDir(ddp_run).epoch_grid(1), RunDir(ddp_run).epoch_grid(2)]
    state = load_checkpoint(ddp_run)
    assert state["world_size"] == 2 and state["step"] == 44
    prints = state["rank_fingerprints"]  # every rank's weights, gathered at the last checkpoint
    assert prints.shape[0] == 2 and torch.equal(prints[0], prints[1])
    cfg = load_config(RunDir(ddp_run).config)
    g, d = build_models(cfg.model, load_data(cfg.data).spec)
    g.load_state_dict(state["G"]), d.load_state_dict(state["D"])
    assert torch.equal(fingerprint([g, d]), prints[0])  # ... and they are the saved weights
    a, b = state["rng_per_rank"]
    assert not torch.equal(a, b)  # each rank draws its own noise


@pytest.mark.slow  # two more torchrun launches; the default suite launches one (the module's ddp_run)
def test_resumed_two_process_run_equals_uninterrupted(ddp_run: Path, tmp_path: Path):
    parts = tmp_path / "parts"
    first = torchrun("--run-dir", str(parts), "--stop-after-steps", "5", *RUN)
    assert first.returncode == 0 and "paused" in first.stdout, first.stderr[-3000:]
    alone = CliRunner().invoke(main, ["train", "--resume", str(parts), "--quiet"])  # one process, this one
    assert alone.exit_code == 2 and "trained by 2 process(es) and is resumed by 1" in alone.output
    second = torchrun("--resume", str(parts), "--quiet")
    assert second.returncode == 0 and "finished at iteration 44" in second.stdout, second.stderr[-3000:]
    a, b = load_checkpoint(ddp_run), load_checkpoint(parts)
    for net in ("G", "D"):
        for k in a[net]:
            assert torch.equal(a[net][k], b[net][k]), f"{net}.{k}"
    steps = [r["step"] for r in read_metrics(parts)]
    assert steps == sorted(set(steps))


def test_ranks_take_disjoint_slices_of_each_global_batch():
    images = torch.arange(40, dtype=torch.uint8).view(40, 1, 1, 1)
    data = ImageSet(images, torch.arange(40), [])
    whole = BatchSampler(data, 8, AugmentConfig(), torch.device("cpu"), seed=3)
    ranks = [BatchSampler(data, 4, AugmentConfig(), torch.device("cpu"), seed=3, rank=r, world_size=2) for r in (0, 1)]
    assert ranks[0].batches_per_epoch == whole.batches_per_epoch == 5
    rng = torch.Generator()
    for b in (0, 4, 5, 9):  # across an epoch boundary
        parts = [s.batch(b, rng)[1] for s in ranks]
        assert not set(parts[0].tolist()) & set(parts[1].tolist())
        assert torch.equal(torch.cat(parts), whole.batch(b, rng)[1])
