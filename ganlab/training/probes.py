"""Probes: measurements of the networks themselves, taken with each evaluation during training (``eval.probes``).

Report 002 reads its trained CGAN through D's accuracy per class on real and generated images, the diversity
within each class against the real images', the domain classifier's confidence in the class "mean" images
G(0, y), how the classifier's accuracy falls when noise is added to z or to the label code, how sure it is of
images of made-up label codes, and what it reads along interpolation paths. Measured once on a final model
such a number has no history; measured at every evaluation, a study sees whether it has settled. Each probe
returns metric records ({name: {"value": ...}}) that go into the evaluation's record beside acc and cfd; names
carry the images per probe (``dacc1k``, ``zdrop1k_e1``).
D is run as training runs it (``as_in_training``), so probing changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import torch.nn as nn

from ganlab.choices import registry
from ganlab.config import Config
from ganlab.data.load import DataSplits
from ganlab.data.select import random_per_class
from ganlab.errors import GanlabError
from ganlab.explore.common import Explorer, gaussian
from ganlab.explore.fake_labels import fake_codes
from ganlab.metrics.classifier import Classifier, load_classifier, per_class_d_accuracy
from ganlab.metrics.names import count_name
from ganlab.models.normalization import as_in_training

NOISE_EPS = (1.0, 2.0)  # the noise probe's scales of a standard normal direction (report 002, figures 14-15)
NOISE_SEED = 1  # the noise direction's seed (one direction, scaled by each eps)
PATH_STEPS = 10  # images along each interpolation path (report 002, figures 11-13: K = 10)
FAR = 5.0  # fake label codes outside the learnt range: this many range widths beyond it (as explore fake-labels)


@dataclass
class ProbeContext:
    """What the probes of one evaluation share: the generator (as an Explorer), D, the data and the classifier."""

    explorer: Explorer
    discriminator: nn.Module
    data: DataSplits
    classifier: Classifier
    per_class: int  # images per class per probe
    seed: int  # first latent seed (the evaluation's)

    @property
    def classes(self) -> list[int]:
        """per_class labels of each class in turn: 0, 0, ..., 1, 1, ..."""
        return [c for c in range(self.explorer.num_classes) for _ in range(self.per_class)]

    def name(self, probe: str, suffix: str = "", images: int = 0) -> str:
        """A probe record's name with its image count (dacc1k, zdrop1k_e1; default per_class per class)."""
        return f"{probe}{count_name(images or len(self.classes))}{suffix}"

    def latents(self) -> torch.Tensor:
        """One latent per image of ``classes``, seeds seed, seed + 1, ..."""
        return self.explorer.latents([self.seed + i for i in range(len(self.classes))]).cpu()

    def real(self) -> torch.Tensor:
        """per_class held-out images of each class (the training images where the data has no held-out split),
        chosen by ``seed``, in ``classes`` order: uint8 (N, C, H, W)."""
        split = self.data.test if self.data.test is not None else self.data.train
        picks = random_per_class(split, self.explorer.num_classes, self.per_class, self.seed,
                                 "the held-out images eval.probes reads", "lower eval.probe_per_class")
        return split.images[torch.cat(picks)]

    def fake(self) -> torch.Tensor:
        """Generated images of ``classes``, latents ``latents()``: uint8 (N, C, H, W)."""
        return self.explorer.render(self.latents(), self.explorer.codes(self.classes).cpu())

    def label_probability(self, images: torch.Tensor) -> np.ndarray:
        """The classifier's probability of each image's asked-for class (images in ``classes`` order)."""
        probs = self.classifier.probabilities(images)
        return probs[np.arange(len(self.classes)), np.asarray(self.classes)]

    def max_probability(self, images: torch.Tensor) -> np.ndarray:
        """The classifier's highest class probability of each image (how sure it is of any digit)."""
        return self.classifier.probabilities(images).max(axis=1)

    def accuracy(self, images: torch.Tensor) -> float:
        """The share of images (in ``classes`` order) the classifier gives their asked-for class."""
        return float((self.classifier.predict(images) == np.asarray(self.classes)).mean())


def probe_dacc(ctx: ProbeContext) -> dict[str, dict[str, Any]]:
    """D's accuracy on per_class real test images and as many generated ones of each class (report 002, table 3):
    dacc = its mean over both, dgap = fake accuracy - real accuracy (each the mean over classes)."""
    labels = torch.as_tensor(ctx.classes)
    ex = ctx.explorer
    d = ctx.discriminator
    with torch.no_grad(), as_in_training(d):
        rows = per_class_d_accuracy(lambda x, y: d(x, y), ctx.real(), labels, ctx.fake(), labels,
                                    ex.num_classes, batch_size=ex.cfg.train.batch_size, device=ex.device)
    real_acc = float(np.mean([r["real_acc"] for r in rows]))
    fake_acc = float(np.mean([r["fake_acc"] for r in rows]))
    common = {"real_acc": real_acc, "fake_acc": fake_acc, "per_class_images": ctx.per_class}
    return {ctx.name("dacc"): {"value": (real_acc + fake_acc) / 2, **common, "per_class": rows},
            ctx.name("dgap"): {"value": fake_acc - real_acc, **common}}


def probe_spread(ctx: ProbeContext) -> dict[str, dict[str, Any]]:
    """Diversity within each class (report 002, figures 5-8): the total variance of the classifier's features of
    per_class generated images of a class over that of as many real held-out images of it, the mean over classes."""
    k = ctx.explorer.num_classes
    fake = ctx.classifier.features(ctx.fake()).reshape(k, ctx.per_class, -1)
    real = ctx.classifier.features(ctx.real()).reshape(k, ctx.per_class, -1)
    ratios = fake.var(axis=1).sum(axis=1) / np.maximum(real.var(axis=1).sum(axis=1), 1e-12)
    return {ctx.name("spread"): {"value": float(ratios.mean()), "per_class": ratios.tolist(),
                                 "per_class_images": ctx.per_class}}


def probe_zero(ctx: ProbeContext) -> dict[str, dict[str, Any]]:
    """The classifier's confidence in the class "mean" image G(0, y) minus its mean confidence in G(z, y) over
    random z, averaged over classes (report 002, figure 9: the z = 0 images look more typical)."""
    ex = ctx.explorer
    if ex.z_dim == 0:
        raise GanlabError("eval.probes zero needs a latent (model.z_dim > 0); drop 'zero' from eval.probes")
    codes = ex.codes(ctx.classes).cpu()
    random_conf = ctx.label_probability(ex.render(ctx.latents(), codes))
    zero_conf = ctx.label_probability(ex.render(torch.zeros(len(ctx.classes), ex.z_dim), codes))
    zero = zero_conf.reshape(ex.num_classes, ctx.per_class)[:, 0]  # the same image per class: read once
    random = random_conf.reshape(ex.num_classes, ctx.per_class).mean(axis=1)
    return {ctx.name("zero"): {"value": float((zero - random).mean()), "zero_confidence": zero.tolist(),
                               "random_confidence": random.tolist(), "per_class_images": ctx.per_class}}


def probe_noise(ctx: ProbeContext) -> dict[str, dict[str, Any]]:
    """The classifier's accuracy drop when a noise direction scaled by eps (NOISE_EPS) is added to z (zdrop) or to
    the label code (ldrop), and ldrop - zdrop (lzgap), at each eps (report 002, figures 14 and 15)."""
    ex = ctx.explorer
    if ex.z_dim == 0:
        raise GanlabError("eval.probes noise needs a latent (model.z_dim > 0); drop 'noise' from eval.probes")
    z, codes = ctx.latents(), ex.codes(ctx.classes).cpu()
    clean = ctx.accuracy(ex.render(z, codes))
    z_dir, code_dir = gaussian(tuple(z.shape), NOISE_SEED), gaussian(tuple(codes.shape), NOISE_SEED + 1)
    out = {}
    for eps in NOISE_EPS:
        suffix = f"_e{eps:g}"
        z_drop = clean - ctx.accuracy(ex.render(z + eps * z_dir, codes))
        label_drop = clean - ctx.accuracy(ex.render(z, codes + eps * code_dir))
        common = {"eps": eps, "clean_accuracy": clean, "per_class_images": ctx.per_class}
        out[ctx.name("zdrop", suffix)] = {"value": z_drop, **common}
        out[ctx.name("ldrop", suffix)] = {"value": label_drop, **common}
        out[ctx.name("lzgap", suffix)] = {"value": label_drop - z_drop, **common}
    return out


def probe_fakelabel(ctx: ProbeContext) -> dict[str, dict[str, Any]]:
    """The classifier's certainty (highest class probability) on images of label codes drawn inside the learnt
    range of the class codes minus on codes FAR range widths outside it (report 002, figure 10: inside gives
    hybrids of digits, outside unrecognisable images): fakelabel, and the two certainties."""
    ex = ctx.explorer
    k = ex.num_classes
    fakes, flags = fake_codes(ex.class_codes().cpu(), k, k, FAR, ctx.seed)  # k inside, then k outside
    z = ex.latents([ctx.seed + i for i in range(ctx.per_class)]).cpu().repeat(2 * k, 1)
    sure = ctx.max_probability(ex.render(z, fakes.repeat_interleave(ctx.per_class, dim=0)))
    inside = float(sure[:k * ctx.per_class].mean())
    outside = float(sure[k * ctx.per_class:].mean())
    return {ctx.name("fakelabel", images=2 * k * ctx.per_class): {
        "value": inside - outside, "inside_certainty": inside, "outside_certainty": outside, "far": FAR,
        "codes_each": k, "images_per_code": ctx.per_class}}


def _path_labels(ctx: ProbeContext, z: torch.Tensor, codes: torch.Tensor) -> np.ndarray:
    """The classifier's labels along paths: z and codes (paths, steps, dim) -> (paths, steps)."""
    paths, steps = z.shape[:2]
    images = ctx.explorer.render(z.reshape(paths * steps, -1), codes.reshape(paths * steps, -1))
    return ctx.classifier.predict(images).reshape(paths, steps)


def _latent_paths(ctx: ProbeContext) -> dict[str, dict[str, Any]]:
    """An unconditional generator's paths (report 001, section 5): per_class pairs of random latents, PATH_STEPS
    images from one to the other; smooth = the share of paths along which the classifier's label changes at most
    once."""
    n = ctx.per_class
    t = torch.linspace(0, 1, PATH_STEPS).view(1, -1, 1)
    z_a = ctx.explorer.latents([ctx.seed + i for i in range(n)]).cpu().unsqueeze(1)
    z_b = ctx.explorer.latents([ctx.seed + n + i for i in range(n)]).cpu().unsqueeze(1)
    codes = ctx.explorer.codes([0] * n * PATH_STEPS).cpu().view(n, PATH_STEPS, -1)
    labels = _path_labels(ctx, z_a + t * (z_b - z_a), codes)
    changes = (labels[:, 1:] != labels[:, :-1]).sum(axis=1)
    return {ctx.name("smooth", images=n * PATH_STEPS): {"value": float((changes <= 1).mean()), "paths": n,
                                                        "steps": PATH_STEPS, "mean_changes": float(changes.mean())}}


def probe_paths(ctx: ProbeContext) -> dict[str, dict[str, Any]]:
    """Interpolation paths of PATH_STEPS images, per_class / 10 of them per class (report 002, figures 11-13):
    smooth = the share of paths from the class "mean" G(0, y) to G(z, y) along which the classifier's label changes
    at most once; third = the share of paths whose label code moves from class a to another class b (z fixed) that
    pass through a third class (an image inside the path given neither a nor b)."""
    ex = ctx.explorer
    if ex.z_dim == 0:
        raise GanlabError("eval.probes paths needs a latent (model.z_dim > 0); drop 'paths' from eval.probes")
    if not ex.conditional:
        return _latent_paths(ctx)
    k, per = ex.num_classes, max(1, ctx.per_class // 10)
    starts = torch.arange(k).repeat_interleave(per)  # class a of each path
    ends = (starts + 1 + torch.randint(k - 1, (k * per,), generator=torch.Generator().manual_seed(ctx.seed))) % k
    t = torch.linspace(0, 1, PATH_STEPS).view(1, -1, 1)
    z_end = ex.latents([ctx.seed + i for i in range(k * per)]).cpu().unsqueeze(1)  # (paths, 1, z_dim)
    code_a, code_b = ex.codes(starts.tolist()).cpu().unsqueeze(1), ex.codes(ends.tolist()).cpu().unsqueeze(1)
    within = _path_labels(ctx, t * z_end, code_a.expand(-1, PATH_STEPS, -1))
    changes = (within[:, 1:] != within[:, :-1]).sum(axis=1)
    across = _path_labels(ctx, z_end.expand(-1, PATH_STEPS, -1), code_a + t * (code_b - code_a))
    inner = across[:, 1:-1]
    third = ((inner != starts.numpy()[:, None]) & (inner != ends.numpy()[:, None])).any(axis=1)
    images = k * per * PATH_STEPS
    return {ctx.name("smooth", images=images): {"value": float((changes <= 1).mean()), "paths": k * per,
                                                "steps": PATH_STEPS, "mean_changes": float(changes.mean())},
            ctx.name("third", images=images): {"value": float(third.mean()), "paths": k * per, "steps": PATH_STEPS}}


PROBES: dict[str, Callable[[ProbeContext], dict[str, dict[str, Any]]]] = registry("eval.probes", {
    "dacc": probe_dacc, "spread": probe_spread, "zero": probe_zero, "noise": probe_noise, "fakelabel": probe_fakelabel,
    "paths": probe_paths,
})

UNCONDITIONAL_PROBES = ("paths",)  # the probes that also measure an unconditional generator


def check_probes(cfg: Config, conditional: bool) -> None:
    """Refuse probes a run cannot take, before it trains."""
    if per_class := [] if conditional else [p for p in cfg.eval.probes if p not in UNCONDITIONAL_PROBES]:
        raise GanlabError(f"eval.probes {', '.join(per_class)} measure a conditional GAN per class; this run is "
                          f"unconditional (model.conditioning=none): keep only {', '.join(UNCONDITIONAL_PROBES)}")


def run_probes(cfg: Config, generator: nn.Module, discriminator: nn.Module, data: DataSplits,
               device: torch.device, run_dir: Any) -> dict[str, dict[str, Any]]:
    """The records of every probe of ``cfg.eval.probes`` on the networks as they are now."""
    if not cfg.eval.probes:
        return {}
    spec = data.spec
    explorer = Explorer(generator, cfg, spec, run_dir, run_dir, device)
    clf = load_classifier(cfg.data.name, spec.resolution, spec.channels, device)
    ctx = ProbeContext(explorer, discriminator, data, clf, cfg.eval.probe_per_class, cfg.eval.seed)
    records: dict[str, dict[str, Any]] = {}
    for name in cfg.eval.probes:
        records.update(PROBES[name](ctx))
    return records
