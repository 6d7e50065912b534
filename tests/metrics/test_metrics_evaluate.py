"""A metric set over sampler functions: names carrying the protocol, records, bad samplers, the FID matrix."""

from __future__ import annotations

import pytest
import torch
from real_samplers import real_sampler

from ganlab.config import DataConfig, EvalConfig
from ganlab.errors import GanlabError
from ganlab.metrics.evaluate import METRICS, distance_matrix, evaluate, format_table
from ganlab.metrics.samplers import balanced_labels

DIGITS = DataConfig(name="digits")
SMALL = EvalConfig(n=20, ref="test", ref_n=30, bootstrap=4, batch_size=40)


def test_metric_registry_is_what_the_config_accepts():
    from ganlab.config import load_config

    assert load_config(None, ["eval.metrics=[cfd, acc]"]).eval.metrics == ["cfd", "acc"]
    with pytest.raises(GanlabError, match="choose from " + ", ".join(METRICS)):
        load_config(None, ["eval.metrics=[fdi]"])


def test_all_metrics_on_real_images_as_samples(digits_classifier):
    results = evaluate(real_sampler(), DIGITS, 10, SMALL, ["fid", "floor", "kid", "pr", "ifid", "acc", "cis"], "cpu")
    assert set(results) == {"fid20_test30", "floor20_test30", "kid20_test30", "pr20_test30", "ifid20_test30",
                            "acc20", "cis20"}
    fid = results["fid20_test30"]
    assert fid["n"] == 20 and fid["ref_split"] == "test" and fid["ref_n"] == 30 and fid["protocol"] == 1
    assert fid["ci_low"] < fid["value"] * 1.5 and fid["ci_high"] > fid["value"] * 0.5
    assert {"generate_s", "features_s", "distance_s", "bootstrap_s"} <= set(fid)
    assert not any(isinstance(v, dict) for r in results.values() for v in r.values())  # flat: one table
    assert results["acc20"]["value"] > 0.8 and sum(results["acc20"]["class_histogram"]) == 20
    assert len(results["ifid20_test30"]["per_class"]) == 10
    per_class = results["acc20"]["per_class"]  # balanced labels: the per-class shares average to the whole
    assert len(per_class) == 10 and abs(sum(per_class) / 10 - results["acc20"]["value"]) < 1e-9
    assert 0 <= results["pr20_test30"]["precision"] <= 1
    assert 0 < results["floor20_test30"]["value"] < 3 * fid["value"]  # real vs real: both small-sample FIDs alike
    table = format_table(results)
    assert "fid20_test30" in table and "95% CI" in table


@pytest.mark.parametrize("make, match", [
    (lambda y: torch.rand(len(y), 1, 8, 8), "returned torch.float32; it must return uint8"),
    (lambda y: torch.zeros(len(y), 8, 8, dtype=torch.uint8), "returned shape"),
    (lambda y: torch.zeros(len(y) + 1, 1, 8, 8, dtype=torch.uint8), "returned shape"),
    (lambda y: y.numpy(), "returned ndarray"),
])
def test_bad_sampler_output_is_refused(make, match):
    with pytest.raises(GanlabError, match=match):
        evaluate(make, DIGITS, 10, SMALL, ["fid"], "cpu")


def test_too_few_samples_for_a_covariance_is_refused():
    with pytest.raises(GanlabError, match="at least 2"):
        evaluate(real_sampler(), DIGITS, 10, EvalConfig(n=1, ref_n=30, bootstrap=0), ["fid"], "cpu")


def test_unknown_metric_and_missing_logits_are_refused():
    with pytest.raises(GanlabError, match="unknown eval metric"):
        evaluate(real_sampler(), DIGITS, 10, SMALL, ["fid", "lpips"], "cpu")
    with pytest.raises(GanlabError, match="'cis'"):
        evaluate(real_sampler(), DIGITS, 10, EvalConfig(n=10, bootstrap=0), ["is"], "cpu")


def test_distance_matrix_between_samplers():
    names, m = distance_matrix({"a": real_sampler(), "a_again": real_sampler(), "inverted": real_sampler(True)},
                          n=8, num_classes=10, device="cpu")
    assert names == ["a", "a_again", "inverted"]
    assert (m == m.T).all() and (m.diagonal() == 0).all()
    assert m[0, 1] == pytest.approx(0, abs=1e-3)  # the same images
    assert m[0, 2] > 10


def test_balanced_labels_cycle_over_classes():
    assert balanced_labels(5, 3).tolist() == [0, 1, 2, 0, 1]
    assert balanced_labels(3, 0).tolist() == [0, 0, 0]


def test_cfd_reads_the_reference_features_once_per_classifier_and_gives_the_same_value(digits_classifier,
                                                                                       monkeypatch):
    import ganlab.metrics.classifier as classifier

    calls = []
    features = classifier.Classifier.features

    def counted(self, images):
        calls.append(len(images))
        return features(self, images)

    cfg = EvalConfig(n=20, ref="test", ref_n=30, bootstrap=0, batch_size=40)
    monkeypatch.setattr(classifier.Classifier, "features", counted)
    first = evaluate(real_sampler(), DIGITS, 10, cfg, ["cfd"], "cpu")["cfd20_test30"]["value"]
    second = evaluate(real_sampler(), DIGITS, 10, cfg, ["cfd"], "cpu")["cfd20_test30"]["value"]
    assert first == second
    assert calls.count(30) <= 1 and calls.count(20) == 2  # the 30 reference images at most once, the samples twice
