"""The domain classifier: training, storage, and what it measures on samples and on a discriminator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from real_samplers import real_sampler

from ganlab.config import DataConfig
from ganlab.data import load_split
from ganlab.errors import GanlabError
from ganlab.metrics.classifier import (
    class_histogram,
    classifier_path,
    conditional_accuracy,
    load_classifier,
    per_class_d_accuracy,
    train_classifier,
)
from ganlab.metrics.scores import inception_score

DIGITS = DataConfig(name="digits")


def test_trained_classifier_is_stored_and_accurate(digits_classifier):
    meta, clf = digits_classifier
    assert meta["accuracy_split"] == "test" and meta["test_accuracy"] > 0.85
    path = classifier_path("digits", 8, 1)
    assert path.is_file() and path.with_suffix(".json").is_file()
    assert clf.meta["test_accuracy"] == meta["test_accuracy"] and clf.meta["class_names"][3] == "3"


def test_accuracy_histogram_and_score_of_real_images_as_samples(digits_classifier):
    _, clf = digits_classifier
    test = load_split(DIGITS, "test")
    predicted = clf.predict(test.images)
    assert conditional_accuracy(predicted, test.labels) > 0.85
    hist = class_histogram(predicted, 10)
    assert sum(hist) == len(test) and min(hist) > 10  # no mode collapse in real data
    collapsed = class_histogram(clf.predict(test.images[test.labels == 7]), 10)
    assert int(np.argmax(collapsed)) == 7 and collapsed[7] > 0.7 * sum(collapsed)
    real_is, _ = inception_score(clf.probabilities(test.images))
    one_class_is, _ = inception_score(clf.probabilities(test.images[test.labels == 7][:30]))
    assert real_is > 5 and one_class_is < 2.5


def test_images_of_another_size_are_refused_with_the_command(digits_classifier):
    _, clf = digits_classifier
    with pytest.raises(GanlabError, match="ganlab classifier train digits --resolution 16"):
        clf.predict(torch.zeros(2, 1, 16, 16, dtype=torch.uint8))


def test_missing_classifier_names_the_command():
    with pytest.raises(GanlabError, match="ganlab classifier train fashion-mnist"):
        load_classifier("fashion-mnist", 28, 1)


def test_per_class_d_accuracy_table():
    real = torch.randint(0, 256, (40, 1, 8, 8), dtype=torch.uint8)
    fake = torch.randint(0, 256, (40, 1, 8, 8), dtype=torch.uint8)
    labels = torch.arange(40) % 4

    def d_fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # a "discriminator" that says real for classes 0-1 and fake for 2-3, whatever the image
        assert x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1
        return torch.where(y < 2, 1.0, -1.0)

    rows = per_class_d_accuracy(d_fn, real, labels, fake, labels, num_classes=4)
    assert [r["real_acc"] for r in rows] == [1.0, 1.0, 0.0, 0.0]
    assert [r["fake_acc"] for r in rows] == [0.0, 0.0, 1.0, 1.0]
    assert all(r["n_real"] == 10 and r["n_fake"] == 10 for r in rows)


@pytest.mark.slow
def test_mnist_classifier_reaches_99_percent(data_root):
    """The real thing: `ganlab classifier train mnist` on the CPU (minutes)."""
    meta = train_classifier(DataConfig(name="mnist", root=str(data_root), download=False), device="cpu", progress=False)
    assert meta["test_accuracy"] >= 0.99


def test_cfd_is_near_zero_for_real_vs_real_and_large_for_noise(digits_classifier):
    """cfd: the Fréchet distance of classifier features; the split against itself is 0, other real images
    are close, noise images are far."""
    from ganlab.config import EvalConfig
    from ganlab.metrics.evaluate import evaluate

    cfg = EvalConfig(n=360, ref="test", metrics=["cfd"], batch_size=100)
    same = evaluate(real_sampler(split="test"), DIGITS, 10, cfg, device="cpu")["cfd360_test"]["value"]
    other = evaluate(real_sampler(split="train"), DIGITS, 10, cfg, device="cpu")["cfd360_test"]["value"]
    g = torch.Generator().manual_seed(0)
    noise = evaluate(lambda y: torch.randint(0, 256, (len(y), 1, 8, 8), dtype=torch.uint8, generator=g),
                     DIGITS, 10, cfg, device="cpu")["cfd360_test"]["value"]
    assert same < 0.05 * other  # the same images up to their order: only the repeats of short classes differ
    assert noise > 20 * other


def test_acc_of_a_run_keeping_some_classes_is_measured_in_the_classifiers_labels(digits_classifier):
    """data.classes=7,2 relabels 7 -> 0 and 2 -> 1; the classifier still says 7 and 2."""
    from ganlab.config import EvalConfig, load_config
    from ganlab.metrics.evaluate import evaluate

    data = load_config(None, ["data.name=digits", "data.classes=7,2"]).data
    sampler = real_sampler(split="test", data=data)  # real 7s for label 0, real 2s for label 1
    record = evaluate(sampler, data, 2, EvalConfig(n=60), ["acc"], "cpu")["acc60"]
    assert record["value"] > 0.85
    assert record["class_histogram"][7] + record["class_histogram"][2] > 0.85 * 60


def test_share_of_real_images_is_even_and_of_one_digit_is_not(digits_classifier):
    """share: the classifier's class shares of the samples and their distance from equal shares."""
    from ganlab.config import EvalConfig
    from ganlab.metrics.evaluate import evaluate

    cfg = EvalConfig(n=200, metrics=["share"])
    even = evaluate(real_sampler(split="test"), DIGITS, 10, cfg, device="cpu")["share200"]
    assert sum(even["per_class"]) == pytest.approx(1) and len(even["per_class"]) == 10
    assert even["value"] < 0.15  # balanced labels, a classifier right > 85 % of the time
    sevens = real_sampler(split="test")
    only = evaluate(lambda y: sevens(torch.full_like(y, 7)), DIGITS, 10, cfg, device="cpu")["share200"]
    assert only["per_class"][7] > 0.85 and only["value"] > 0.75  # 0.9 when every image reads 7
