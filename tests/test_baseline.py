"""The plain-PyTorch CGAN baseline of benchmarks/ trains on real MNIST and is judged through ganlab's sampler."""

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import cgan_baseline  # noqa: E402


def test_baseline_trains_a_few_steps_and_samples_28px(data_root, tmp_path):
    saved = cgan_baseline.train(str(data_root), tmp_path, minutes=5, checkpoints=(1,), steps=3, limit=256)
    assert [r["iterations"] for r in saved] == [3]  # stopped by steps, saved once at the end
    assert json.loads((tmp_path / "checkpoints.json").read_text()) == saved
    torch.manual_seed(0)
    untrained = cgan_baseline.Generator().state_dict()
    trained = torch.load(saved[0]["path"])
    assert not torch.equal(trained["model.0.weight"], untrained["model.0.weight"])  # the steps moved G
    sample = cgan_baseline.sampler(saved[0]["path"])
    labels = torch.arange(10)
    images = sample(labels)
    assert images.dtype == torch.uint8 and images.shape == (10, 1, 28, 28)
    again = cgan_baseline.sampler(saved[0]["path"])(labels)
    assert torch.equal(images, again)  # sample i comes from seed i
