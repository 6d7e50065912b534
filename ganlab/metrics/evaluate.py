"""A named set of metrics over a sampler function, and over a run directory into eval.json.

Metric names carry the protocol: generated samples, reference split and (when a subset) reference
size, e.g. ``fid10k_test``, ``kid10k_train``, ``fid2k_test500``, ``is10k``, ``acc10k``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from ganlab.choices import registry
from ganlab.config import DATA_ENV, DataConfig, EvalConfig, validate_eval
from ganlab.data import load_split
from ganlab.devices import resolve_device
from ganlab.errors import GanlabError
from ganlab.io import atomic_write_json
from ganlab.metrics.classifier import (
    Classifier,
    class_histogram,
    classifier_indices,
    conditional_accuracy,
    load_classifier,
    per_class_accuracy,
)
from ganlab.metrics.floor import floor_cache_path
from ganlab.metrics.frechet import (
    bootstrap_fid,
    check_count,
    features_path_is_cheaper,
    frechet_distance_from_features,
    gaussian_stats,
    stats_distance,
)
from ganlab.metrics.inception import PROTOCOL_VERSION, InceptionNet
from ganlab.metrics.names import metric_name
from ganlab.metrics.refstats import (
    FEATURES_CACHED_UP_TO,
    Reference,
    describe,
    features_for_comparison,
    reference_features,
    reference_stats,
)
from ganlab.metrics.samplers import Sampler, balanced_labels, draw
from ganlab.metrics.scores import inception_score, kernel_inception_distance, precision_recall
from ganlab.metrics.spectrum import period2_share
from ganlab.progress import Progress

IS_SPLITS = 10
PR_K = 3


@dataclass
class EvalContext:
    """What the metrics of one evaluation share: the samples, and lazily their features and references."""

    samples: torch.Tensor  # uint8 (N, C, H, W)
    labels: torch.Tensor  # (N,) the labels the samples were drawn for
    num_classes: int
    data: DataConfig
    cfg: EvalConfig
    device: torch.device
    timings: dict[str, float] = field(default_factory=dict)
    _net: Optional[InceptionNet] = None
    _features: Optional[np.ndarray] = None

    @property
    def n(self) -> int:
        return int(self.samples.shape[0])

    @property
    def net(self) -> InceptionNet:
        if self._net is None:
            self._net = InceptionNet(self.cfg.inception, self.device, self.cfg.batch_size, self.cfg.allow_tf32)
        return self._net

    @property
    def features(self) -> np.ndarray:
        """Inception features of the samples (N, 2048), extracted once."""
        if self._features is None:
            t0 = time.perf_counter()
            self._features = self.net.features(self.samples, Progress("generated samples", self.n))
            self.timings["features_s"] = time.perf_counter() - t0
        return self._features

    @property
    def reference(self) -> Reference:
        return Reference(self.data, self.cfg.ref, self.cfg.ref_n)

    def name(self, metric: str) -> str:
        """The protocol name of ``metric`` for these samples (``metric_name``)."""
        return metric_name(metric, self.cfg, self.n)

    def base(self) -> dict[str, Any]:
        return {"n": self.n, "protocol": PROTOCOL_VERSION, "network": self.net.path.name}


def _distance_to_reference(ctx: EvalContext, feats: np.ndarray, what: str) -> float:
    """FID of features against the reference: straight from features when that is cheaper (small sets),
    else against the cached reference statistics. Both are exact."""
    ref = ctx.reference
    if ref.size() <= FEATURES_CACHED_UP_TO and features_path_is_cheaper(len(feats), ref.size(), feats.shape[1]):
        return frechet_distance_from_features(feats, reference_features(ctx.net, ref)[0], ctx.device)
    return stats_distance(gaussian_stats(feats, ctx.device, what), reference_stats(ctx.net, ref), ctx.device)


def metric_fid(ctx: EvalContext) -> dict[str, dict[str, Any]]:
    """FID of the samples against the reference statistics, with a bootstrap interval."""
    feats = ctx.features
    t0 = time.perf_counter()
    value = _distance_to_reference(ctx, feats, "generated sample")
    ctx.timings["distance_s"] = time.perf_counter() - t0
    record = {"value": value, **ctx.base(), **describe(ctx.reference)}
    if ctx.cfg.bootstrap:
        t0 = time.perf_counter()
        ref = ctx.reference
        small = ref.size() <= FEATURES_CACHED_UP_TO and features_path_is_cheaper(len(feats), ref.size(), feats.shape[1])
        record.update(bootstrap_fid(feats, reference_stats(ctx.net, ref), ctx.cfg.bootstrap, ctx.cfg.seed, ctx.device,
                                    reference_features=reference_features(ctx.net, ref)[0] if small else None))
        ctx.timings["bootstrap_s"] = time.perf_counter() - t0
    return {ctx.name("fid"): record}


def metric_floor(ctx: EvalContext) -> dict[str, dict[str, Any]]:
    """The real-vs-real FID floor: FID of as many real images of the other split as there are samples (cached)."""
    return {ctx.name("floor"): real_floor("fid", ctx.data, ctx.num_classes, ctx.cfg, ctx.device, ctx.n)}


def metric_is(ctx: EvalContext) -> dict[str, dict[str, Any]]:
    """Inception Score (10 splits) with TF-Inception's softmax (needs a logits-capable network)."""
    mean, std = inception_score(ctx.net.probabilities(ctx.samples), IS_SPLITS)
    return {ctx.name("is"): {"value": mean, "std": std, "splits": IS_SPLITS, **ctx.base()}}


def _classifier(ctx: EvalContext) -> Classifier:
    _, c, h, _ = ctx.samples.shape
    return load_classifier(ctx.data.name, h, c, ctx.device)


def metric_cis(ctx: EvalContext) -> dict[str, dict[str, Any]]:
    """Inception Score with the domain classifier in place of TF-Inception."""
    clf = _classifier(ctx)
    mean, std = inception_score(clf.probabilities(ctx.samples), IS_SPLITS)
    return {ctx.name("cis"): {"value": mean, "std": std, "splits": IS_SPLITS, "n": ctx.n,
                                         "classifier_test_accuracy": clf.meta["test_accuracy"]}}


def metric_acc(ctx: EvalContext) -> dict[str, dict[str, Any]]:
    """The classifier's accuracy on conditional samples (vs their labels), per asked-for class (in the run's
    labels), and the class histogram."""
    clf = _classifier(ctx)
    predicted = clf.predict(ctx.samples)
    k = clf.meta["num_classes"]
    labels = ctx.labels
    if ctx.data.classes:  # the run's labels 0..k-1 are some of the source's: compare in the classifier's labels
        labels = classifier_indices(clf.meta, load_split(ctx.data, "train").class_names)[labels]
    value = conditional_accuracy(predicted, labels) if ctx.num_classes else None
    per_class = per_class_accuracy(predicted, labels, ctx.labels, ctx.num_classes) if ctx.num_classes else None
    return {ctx.name("acc"): {"value": value, "per_class": per_class, "class_histogram": class_histogram(predicted, k),
                                         "n": ctx.n, "classifier_test_accuracy": clf.meta["test_accuracy"]}}


def metric_share(ctx: EvalContext) -> dict[str, dict[str, Any]]:
    """How often the domain classifier gives the samples each class (per_class: the shares, in its labels) and how
    uneven that is: value = the total variation distance from equal shares (0 when every class is as common;
    report 001, section 6, reads an unconditional model's class histogram this way)."""
    clf = _classifier(ctx)
    k = clf.meta["num_classes"]
    shares = np.bincount(clf.predict(ctx.samples), minlength=k) / ctx.n
    return {ctx.name("share"): {"value": float(np.abs(shares - 1 / k).sum() / 2), "per_class": shares.tolist(),
                                "n": ctx.n, "classifier_test_accuracy": clf.meta["test_accuracy"]}}


_CLASSIFIER_REFERENCE_FEATURES: dict[tuple[str, ...], np.ndarray] = {}  # (classifier, reference) -> features


def _classifier_reference_features(clf: Classifier, ref: Reference) -> np.ndarray:
    """The classifier's features of the reference images, kept for the process (an evaluation during training
    would otherwise spend most of its time on the same 10,000 real images)."""
    key = (clf.source, repr(ref), os.environ.get(DATA_ENV, ""))
    if key not in _CLASSIFIER_REFERENCE_FEATURES or not clf.source:
        if len(_CLASSIFIER_REFERENCE_FEATURES) >= 4:
            _CLASSIFIER_REFERENCE_FEATURES.clear()
        _CLASSIFIER_REFERENCE_FEATURES[key] = clf.features(ref.images()[0])
    return _CLASSIFIER_REFERENCE_FEATURES[key]


def metric_cfd(ctx: EvalContext) -> dict[str, dict[str, Any]]:
    """Classifier-feature Fréchet distance: FID's formula on the domain classifier's penultimate features of
    the samples and of the reference images (seconds on a CPU where Inception takes minutes)."""
    clf = _classifier(ctx)
    real = _classifier_reference_features(clf, ctx.reference)
    value = frechet_distance_from_features(clf.features(ctx.samples), real, ctx.device)
    return {ctx.name("cfd"): {"value": value, "n": ctx.n, "feature_dim": int(clf.net.head[-1].in_features),
                                   "classifier_test_accuracy": clf.meta["test_accuracy"], **describe(ctx.reference)}}


_REAL_PERIOD2_SHARE: dict[tuple[str, ...], float] = {}  # reference -> its mean period2_share


def metric_checker(ctx: EvalContext) -> dict[str, dict[str, Any]]:
    """Checkerboard artefacts: the samples' mean share of spectral power in patterns that repeat every 2 pixels
    (``period2_share``) over the reference images' (1 = as real images; above 1 = a checkerboard the real ones
    lack)."""
    key = (repr(ctx.reference), os.environ.get(DATA_ENV, ""))
    if key not in _REAL_PERIOD2_SHARE:
        _REAL_PERIOD2_SHARE[key] = float(period2_share(ctx.reference.images()[0]).mean())
    real, fake = _REAL_PERIOD2_SHARE[key], float(period2_share(ctx.samples).mean())
    return {ctx.name("checker"): {"value": fake / real, "generated_share": fake, "real_share": real, "n": ctx.n,
                                  **describe(ctx.reference)}}


def metric_kid(ctx: EvalContext) -> dict[str, dict[str, Any]]:
    """Kernel Inception Distance against up to N reference features."""
    real, ref = features_for_comparison(ctx.net, ctx.reference, ctx.n)
    mean, std = kernel_inception_distance(ctx.features, real, seed=ctx.cfg.seed, device=ctx.device)
    return {ctx.name("kid"): {"value": mean, "std": std, **ctx.base(), **describe(ref)}}


def metric_pr(ctx: EvalContext) -> dict[str, dict[str, Any]]:
    """Precision and recall (k = 3) against as many reference features as samples (fewer if the split is smaller)."""
    real, ref = features_for_comparison(ctx.net, ctx.reference, ctx.n)
    precision, recall = precision_recall(ctx.features, real, PR_K, device=ctx.device)
    return {ctx.name("pr"): {"value": None, "precision": precision, "recall": recall, "k": PR_K,
                                  **ctx.base(), **describe(ref)}}


def metric_ifid(ctx: EvalContext) -> dict[str, dict[str, Any]]:
    """Intra-class FID: per class, FID of that class's samples against that class's reference images; their mean."""
    if not ctx.num_classes:
        raise GanlabError("intra-class FID needs a conditional generator; drop 'ifid' from the metrics")
    real, real_labels = reference_features(ctx.net, ctx.reference)
    feats, labels = ctx.features, ctx.labels.numpy()
    per_class = []
    for c in range(ctx.num_classes):
        check_count(int((labels == c).sum()), f"samples of class {c}")
        check_count(int((real_labels == c).sum()), f"reference images of class {c}")
        per_class.append(frechet_distance_from_features(feats[labels == c], real[real_labels == c], ctx.device))
    return {ctx.name("ifid"): {"value": float(np.mean(per_class)), "per_class": per_class,
                                    **ctx.base(), **describe(ctx.reference)}}


METRICS: dict[str, Callable[[EvalContext], dict[str, dict[str, Any]]]] = registry("eval.metrics", {
    "fid": metric_fid, "is": metric_is, "cis": metric_cis, "kid": metric_kid, "pr": metric_pr,
    "ifid": metric_ifid, "acc": metric_acc, "floor": metric_floor, "cfd": metric_cfd, "share": metric_share,
    "checker": metric_checker,
})


def preflight(cfg: EvalConfig, data: DataConfig, channels: int, resolution: int,
              device: str | torch.device = "auto") -> None:
    """Fail now, with the fix, if a requested metric cannot run later (weights, logits, classifier)."""
    validate_eval(cfg)
    if set(cfg.metrics) & {"fid", "is", "kid", "pr", "ifid", "floor"}:
        net = InceptionNet(cfg.inception, resolve_device(device), cfg.batch_size, cfg.allow_tf32)
        if "is" in cfg.metrics and not net.has_logits:
            net.probabilities(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))  # raises the explanation
    if set(cfg.metrics) & {"acc", "cis", "cfd", "share"} or cfg.probes:
        load_classifier(data.name, resolution, channels, "cpu")


COVARIANCE_METRICS = ("fid", "floor", "cfd", "ifid", "kid")  # metrics of a covariance: at least 2 samples


def evaluate(sampler: Sampler, data: DataConfig, num_classes: int, cfg: EvalConfig = EvalConfig(),
             metrics: Optional[Sequence[str]] = None, device: str | torch.device = "auto") -> dict[str, dict[str, Any]]:
    """Draw cfg.n samples (labels cycling over the classes), compute the metrics, return {name: record}."""
    cfg = replace(cfg, metrics=list(metrics if metrics is not None else cfg.metrics))
    labels = balanced_labels(cfg.n, num_classes)
    t0 = time.perf_counter()
    samples = draw(sampler, labels, cfg.batch_size * 5)
    return evaluate_images(samples, labels, data, num_classes, cfg, device, {"generate_s": time.perf_counter() - t0})


def evaluate_images(samples: torch.Tensor, labels: torch.Tensor, data: DataConfig, num_classes: int, cfg: EvalConfig,
                    device: str | torch.device = "auto", timings: Optional[dict[str, float]] = None
                    ) -> dict[str, dict[str, Any]]:
    """The metrics ``cfg.metrics`` of given uint8 images (N, C, H, W) asked for ``labels`` (N,): {name: record}."""
    validate_eval(cfg)
    if set(cfg.metrics) & set(COVARIANCE_METRICS):  # refused before any network runs
        check_count(len(samples), "the samples to evaluate")
    dev = resolve_device(device)
    ctx = EvalContext(samples, labels, num_classes, data, cfg, dev, dict(timings or {}))
    results: dict[str, dict[str, Any]] = {}
    for name in cfg.metrics:
        t1 = time.perf_counter()
        out = METRICS[name](ctx)
        for record in out.values():
            record["time_s"] = time.perf_counter() - t1
        results.update(out)
    for record in results.values():
        record.update(ctx.timings)  # generate_s, features_s, distance_s, bootstrap_s: flat, one table row per metric
    return results


def real_floor(metric: str, data: DataConfig, num_classes: int, cfg: EvalConfig, device: torch.device,
               n: int | None = None) -> dict[str, Any]:
    """The record of ``metric`` measured on the first ``n`` (default cfg.n) real images of the split other than
    ``cfg.ref``, against the reference (cached: see ``ganlab.metrics.floor``)."""
    n = cfg.n if n is None else n
    path = floor_cache_path(metric, data, cfg, n)
    if path.is_file():
        return json.loads(path.read_text())
    other = "train" if cfg.ref == "test" else "test"
    images, labels = Reference(data, other, n).images()
    settings = replace(cfg, metrics=[metric], bootstrap=0)
    record = evaluate_images(images, labels, data, num_classes, settings, device)[metric_name(metric, cfg, n)]
    record.update(stand_in_split=other, stand_in_n=n)
    atomic_write_json(path, record)
    return record


MATRIX_METRICS = ("fid", "cfd")  # Fréchet distances a matrix between image sets can use


def distance_matrix(samplers: dict[str, Sampler], n: int, num_classes: int, metric: str = "fid",
                    data: Optional[DataConfig] = None, cfg: EvalConfig = EvalConfig(),
                    device: str | torch.device = "auto") -> tuple[list[str], np.ndarray]:
    """FID (Inception features) or cfd (the domain classifier of ``data``'s features) between every pair of
    samplers (runs, real images), each sampled and featurised once: (names, K x K)."""
    if metric not in MATRIX_METRICS:
        raise GanlabError(f"a distance matrix is of {' or '.join(MATRIX_METRICS)}, not {metric!r}")
    if metric == "cfd" and data is None:
        raise GanlabError("cfd needs the data set whose domain classifier gives the features: "
                          "pass data=DataConfig(...)")
    dev = resolve_device(device)
    labels = balanced_labels(n, num_classes)
    names = list(samplers)
    images = [draw(samplers[k], labels, cfg.batch_size * 5) for k in names]
    if metric == "fid":
        feats = [InceptionNet(cfg.inception, dev, cfg.batch_size, cfg.allow_tf32).features(x) for x in images]
    else:
        _, c, h, _ = images[0].shape
        clf = load_classifier(data.name, h, c, dev)  # type: ignore[union-attr]
        feats = [clf.features(x) for x in images]
    matrix = np.zeros((len(names), len(names)))
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            matrix[i, j] = matrix[j, i] = frechet_distance_from_features(feats[i], feats[j], dev)
    return names, matrix


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """A plain-text table: one metric per line with its value, spread and protocol details."""
    lines = [f"{'metric':<22} {'value':>10}  details"]
    for name, r in results.items():
        value = "" if r.get("value") is None else f"{r['value']:.4g}"
        details = []
        if "ci_low" in r:
            details.append(f"95% CI [{r['ci_low']:.4g}, {r['ci_high']:.4g}]")
        if "std" in r:
            details.append(f"± {r['std']:.3g}")
        if "precision" in r:
            details.append(f"precision {r['precision']:.3f} recall {r['recall']:.3f}")
        if "class_histogram" in r:
            details.append(f"classes {r['class_histogram']}")
        if "ref_n" in r:
            details.append(f"ref {r['ref_split']} ({r['ref_n']} images)")
        lines.append(f"{name:<22} {value:>10}  {'; '.join(details)}")
    return "\n".join(lines)
