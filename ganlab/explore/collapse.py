"""Mode collapse: classify N generated samples with a domain classifier and compare the class
histogram with the uniform one (report 001 §6: 256 samples, a digit classifier, a bar chart).

The classifier is passed in as a function, so any classifier fits:
``classify(images) -> labels`` with uint8 images (N, C, H, W) and int64 labels (N,).
"""

from __future__ import annotations

from typing import Callable

import torch
from scipy.stats import chisquare

from ganlab.errors import GanlabError
from ganlab.explore.common import Explorer, ExploreResult, save_figure, save_numbers
from ganlab.models.generation import seeded_labels
from ganlab.plotting import pyplot, save_plot

Classifier = Callable[[torch.Tensor], torch.Tensor]  # uint8 (N, C, H, W) -> int64 labels (N,)


def collapse(ex: Explorer, classify: Classifier, n: int = 256, seed: int = 0, conditional: bool | None = None,
             num_classes: int | None = None, columns: int = 16) -> ExploreResult:
    """Histogram of the classifier's labels over ``n`` samples (seeds seed..seed+n-1) with the expected
    uniform count n/K: collapse.png (bars), collapse_samples.png (the samples), collapse.json.

    ``conditional`` (default: whether the generator is) asks for the classes in equal blocks and
    also measures how often the classifier agrees with the asked class; otherwise the generator's
    class input stays at class 0 (an unconditional generator has none)."""
    k = num_classes or ex.spec.num_classes
    if k < 2:
        raise GanlabError("a class histogram needs at least 2 classes and this run's data set has none; explore a "
                          "run on a labelled data set (from Python: collapse(..., num_classes=K))")
    if n < 1:
        raise GanlabError(f"--n must be >= 1, got {n}")
    conditional = ex.conditional if conditional is None else conditional
    if conditional and not ex.conditional:
        raise GanlabError("asking for classes needs a conditional generator and this run has "
                          "model.conditioning=none; pass --unconditional")
    asked = seeded_labels(n, range(ex.num_classes)) if conditional else torch.zeros(n, dtype=torch.long)
    images = ex.render(ex.latents([seed + i for i in range(n)]).cpu(), ex.codes(asked.tolist()).cpu())
    predicted = torch.as_tensor(classify(images)).long().cpu()
    if predicted.shape != (n,) or int(predicted.min()) < 0 or int(predicted.max()) >= k:
        raise GanlabError(f"the classifier returned {tuple(predicted.shape)} labels in "
                          f"[{int(predicted.min())}, {int(predicted.max())}]; expected ({n},) in [0, {k - 1}]")
    counts = torch.bincount(predicted, minlength=k)
    expected = n / k
    figure = save_figure(ex, "collapse_samples", images, columns,
                         f"The {n} samples of the class histogram (seeds {seed}..{seed + n - 1}), "
                         + ("asked for the classes in equal blocks" if conditional else "with the class input at 0"))
    plot = plot_histogram(ex.out_dir / "collapse.png", counts.tolist(), expected, n, ex.source)
    chi = chisquare(counts.numpy())
    numbers = {"n": n, "seed": seed, "conditional": conditional, "classes": k, "counts": counts.tolist(),
               "expected_per_class": expected, "chi2": float(chi.statistic), "chi2_p": float(chi.pvalue),
               "missing_classes": [c for c in range(k) if counts[c] == 0],
               "max_over_min": float(counts.max() / counts.min()) if counts.min() > 0 else None,
               "asked": asked.tolist(), "predicted": predicted.tolist()}
    if conditional:
        hits = predicted == asked
        numbers["accuracy"] = float(hits.float().mean())
        numbers["per_class_accuracy"] = [float(hits[asked == c].float().mean()) if (asked == c).any() else None
                                         for c in range(k)]
    result = save_numbers(ex, "collapse", numbers, [figure])
    result.pngs.append(plot)
    return result


def plot_histogram(path, counts: list[int], expected: float, n: int, source: str = ""):
    """Bar chart of the class counts with the expected uniform count as a dashed line, titled with ``source``
    (the run and epoch) and what is counted."""
    plt = pyplot()


    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.bar(range(len(counts)), counts, color="#4878a8")
    ax.axhline(expected, color="#c44e52", linestyle="--", label=f"uniform: {expected:.1f}")
    ax.set_xticks(range(len(counts)))
    ax.set_xlabel("class given by the classifier")
    ax.set_ylabel("samples (count)")
    ax.set_title((f"{source}: " if source else "") + f"class histogram of {n} generated samples", fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return save_plot(path, fig, dpi=100)
