"""A plain-PyTorch conditional GAN, written as most tutorials write one: the baseline ganlab is measured against.

    python benchmarks/cgan_baseline.py --data-root DATA --minutes 10 --out /tmp/baseline
    python benchmarks/cgan_baseline.py --data-root DATA --steps 3 --limit 256 --out /tmp/b   # smoke run

A torchvision DataLoader over MNIST resized to 32 x 32 in [-1, 1]; G: a 10-d label embedding joined to z (100)
-> Linear 128 -> 256 -> 512 -> 1024 (BatchNorm1d, eps 0.8, after all but the first; LeakyReLU 0.2) -> Linear
to 1,024 pixels -> tanh; D: the flattened image joined to a 10-d label embedding -> Linear 512 -> 512 -> 512
(LeakyReLU 0.2; Dropout 0.4 after the second and third) -> 1; the least-squares (MSE) GAN loss; Adam 2e-4,
betas (0.5, 0.999), batch 64. The clock starts before the data set is opened. At each of ``--checkpoints``
minutes G's weights are saved as OUT/g_<minutes>min.pt with the iterations done; ``sampler`` turns such a file
into ganlab's sampler (28 x 28 uint8 images, resized from 32 x 32) so ganlab's metrics judge it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

Z_DIM, CLASSES, SIDE = 100, 10, 32


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.label_emb = nn.Embedding(CLASSES, CLASSES)

        def block(n_in: int, n_out: int, normalize: bool = True) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Linear(n_in, n_out)]
            if normalize:
                layers.append(nn.BatchNorm1d(n_out, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(*block(Z_DIM + CLASSES, 128, normalize=False), *block(128, 256),
                                   *block(256, 512), *block(512, 1024), nn.Linear(1024, SIDE * SIDE), nn.Tanh())

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        x = self.model(torch.cat((self.label_emb(labels), z), -1))
        return x.view(len(x), 1, SIDE, SIDE)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.label_emb = nn.Embedding(CLASSES, CLASSES)
        self.model = nn.Sequential(
            nn.Linear(CLASSES + SIDE * SIDE, 512), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 512), nn.Dropout(0.4), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 512), nn.Dropout(0.4), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 1))

    def forward(self, img: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.model(torch.cat((img.view(len(img), -1), self.label_emb(labels)), -1))


def mnist_loader(data_root: str, batch_size: int = 64, limit: Optional[int] = None) -> DataLoader:
    """MNIST's training split through torchvision, resized to 32 x 32 and normalised to [-1, 1]."""
    tf = transforms.Compose([transforms.Resize(SIDE), transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])
    data = datasets.MNIST(data_root, train=True, download=False, transform=tf)
    if limit:
        data = Subset(data, range(limit))
    return DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=True)


def train(data_root: str, out: Path, minutes: float = 10.0, checkpoints: tuple[float, ...] = (1, 2, 5, 10),
          steps: Optional[int] = None, limit: Optional[int] = None, seed: int = 0) -> list[dict]:
    """Train for ``minutes`` of wall clock (or ``steps`` iterations); save G at each checkpoint minute and at the
    end; returns one record per saved file (minutes, seconds, iterations, path)."""
    started = time.perf_counter()
    torch.manual_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    loader = mnist_loader(data_root, limit=limit)
    generator, discriminator = Generator(), Discriminator()
    adversarial_loss = nn.MSELoss()
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    pending, saved, iterations = sorted(c for c in checkpoints if c <= minutes), [], 0

    def save(label: float) -> None:
        path = out / f"g_{label:g}min.pt"
        torch.save(generator.state_dict(), path)
        saved.append({"minutes": label, "seconds": time.perf_counter() - started, "iterations": iterations,
                      "path": str(path)})

    while True:
        for imgs, labels in loader:
            valid, fake = torch.ones(len(imgs), 1), torch.zeros(len(imgs), 1)
            optimizer_g.zero_grad()
            z = torch.randn(len(imgs), Z_DIM)
            gen_labels = torch.randint(0, CLASSES, (len(imgs),))
            gen_imgs = generator(z, gen_labels)
            g_loss = adversarial_loss(discriminator(gen_imgs, gen_labels), valid)
            g_loss.backward()
            optimizer_g.step()

            optimizer_d.zero_grad()
            d_real_loss = adversarial_loss(discriminator(imgs, labels), valid)
            d_fake_loss = adversarial_loss(discriminator(gen_imgs.detach(), gen_labels), fake)
            d_loss = (d_real_loss + d_fake_loss) / 2
            d_loss.backward()
            optimizer_d.step()
            iterations += 1

            elapsed = (time.perf_counter() - started) / 60
            while pending and elapsed >= pending[0]:
                save(pending.pop(0))
            if (steps is not None and iterations >= steps) or (steps is None and elapsed >= minutes):
                if not saved or saved[-1]["iterations"] != iterations:
                    save(round(elapsed, 3))
                (out / "checkpoints.json").write_text(json.dumps(saved, indent=1))
                return saved


class MeasuredGenerator(nn.Module):
    """The baseline's G with its 32 x 32 images resized to MNIST's 28 x 28, as ganlab's metrics measure them."""

    def __init__(self, generator: Generator):
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        images = self.generator(z, labels.long())
        return F.interpolate(images, size=(28, 28), mode="bilinear", antialias=True).clamp(-1, 1)


def sampler(weights: str | Path, first_seed: int = 0) -> Callable[[torch.Tensor], torch.Tensor]:
    """ganlab's sampler over a saved G: labels (B,) -> uint8 (B, 1, 28, 28), sample i from seed first_seed + i."""
    from ganlab.metrics.samplers import generator_sampler

    generator = Generator()
    generator.load_state_dict(torch.load(weights, map_location="cpu"))
    return generator_sampler(MeasuredGenerator(generator), Z_DIM, "cpu", first_seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, help="folder holding MNIST/raw (torchvision's layout)")
    parser.add_argument("--out", required=True, help="folder for the saved generators")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--checkpoints", default="1,2,5,10", help="minutes at which G is saved")
    parser.add_argument("--steps", type=int, help="stop after this many iterations instead")
    parser.add_argument("--limit", type=int, help="train on the first N images only (smoke runs)")
    args = parser.parse_args()
    marks = tuple(float(m) for m in args.checkpoints.split(","))
    for record in train(args.data_root, Path(args.out), args.minutes, marks, args.steps, args.limit):
        print(json.dumps(record))


if __name__ == "__main__":
    main()
