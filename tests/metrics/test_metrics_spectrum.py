"""The checkerboard metric: the spectral power of patterns that repeat every 2 pixels."""

from __future__ import annotations

import pytest
import torch
from real_samplers import real_sampler

from ganlab.config import DataConfig, EvalConfig
from ganlab.metrics.evaluate import evaluate
from ganlab.metrics.spectrum import period2_share


def _checkerboard(side: int) -> torch.Tensor:
    return ((torch.arange(side)[:, None] + torch.arange(side)[None]) % 2 * 255).to(torch.uint8)


def test_period2_share_of_a_checkerboard_stripes_a_ramp_and_a_flat_image():
    stripes = (torch.arange(8) % 2 * 255).to(torch.uint8).repeat(8, 1)  # a column pattern of period 2
    ramp = torch.linspace(0, 255, 8).to(torch.uint8).repeat(8, 1)
    images = torch.stack([_checkerboard(8), stripes, ramp, torch.full((8, 8), 77, dtype=torch.uint8)])[:, None]
    share = period2_share(images.repeat(1, 3, 1, 1))
    assert share[0] == pytest.approx(1) and share[1] == pytest.approx(1)
    assert 0 < share[2] < 0.1 and share[3] == 0


def test_period2_share_of_white_noise_is_the_nyquist_lines_share_of_frequencies():
    noise = torch.randint(0, 256, (64, 1, 16, 16), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    assert period2_share(noise).mean() == pytest.approx(31 / 255, rel=0.1)  # 31 of the 255 non-constant frequencies


def test_period2_share_refuses_odd_sides():
    with pytest.raises(ValueError, match="even sides"):
        period2_share(torch.zeros(1, 1, 7, 8, dtype=torch.uint8))


def test_checker_is_near_1_for_real_images_and_large_with_a_checkerboard_added():
    data = DataConfig(name="digits")
    cfg = EvalConfig(n=200, ref="test", metrics=["checker"])
    real = evaluate(real_sampler(split="train"), data, 10, cfg, device="cpu")["checker200_test"]
    assert 0.7 < real["value"] < 1.4 and real["real_share"] > 0
    train = real_sampler(split="train")
    side = train(torch.tensor([0])).shape[-1]
    board = (_checkerboard(side).float() - 127.5) * 0.2

    def with_board(labels: torch.Tensor) -> torch.Tensor:
        return (train(labels).float() + board).clamp(0, 255).to(torch.uint8)

    marked = evaluate(with_board, data, 10, cfg, device="cpu")["checker200_test"]
    assert marked["value"] > 2 * real["value"] and marked["real_share"] == real["real_share"]
