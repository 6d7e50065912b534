"""What a run's report shows, gathered from its run directory (everything optional but the config)."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

from ganlab.folders import RunDir, read_json
from ganlab.progress import duration
from ganlab.report.curves import eval_series, plot_curves, plot_eval_curves
from ganlab.report.embed import image
from ganlab.training.metrics_log import read_metrics

MAX_EPOCH_GRIDS = 8  # sample grids shown over training (evenly spaced, the last always)
EXPLORE_ORDER = ("class_means", "diversity", "interpolate", "noise", "fake_labels", "latent_map", "collapse")
EXPLORE_NOTES = {  # what a reader sees in each exploration's figures
    "class_means": "One row per class: first the z = 0 image, then random samples of that class.",
    "diversity": "An N x N grid of samples per class, the same latents in every class.",
    "interpolate": "One row per pair, from sample A (left) to sample B (right); the label code moves linearly.",
    "noise": "The same samples (one row per class) with noise of growing eps on z, then on the label code.",
    "fake_labels": "One row per fake label code: first those inside the learnt range, then those far outside it.",
    "latent_map": "Images over a latent plane: columns follow the first coordinate, rows the second (top = +).",
    "collapse": "Classes of generated samples given by the domain classifier; uniform is the dashed line.",
}
MANY_FIGURES = {"diversity", "noise", "latent_map"}  # shown as smaller thumbnails


def timings(run_dir: Path, records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(what, value) rows from status.json and the training records of metrics.jsonl."""
    rows: list[tuple[str, str]] = []
    status = RunDir(run_dir).read_status()
    for key in ("state", "step", "total_steps", "epoch"):
        if key in status:
            rows.append((key.replace("_", " "), str(status[key])))
    if "parameters" in status:
        rows.append(("parameters", ", ".join(f"{net} {n:,}" for net, n in status["parameters"].items())))
    if "train_time_s" in status:
        rows.append(("training time", duration(status["train_time_s"])))
    train = [r for r in records if "loss_d" in r]
    steps = [r["step_time_s"] for r in train if "step_time_s" in r]
    rates = [r["images_per_s"] for r in train if "images_per_s" in r]
    if steps:
        rows.append(("median time per iteration", f"{1000 * statistics.median(steps):.2f} ms"))
    if rates:
        rows.append(("median images per second", f"{statistics.median(rates):,.0f}"))
    if train and "time_s" in train[-1]:
        rows.append(("time of last record (this session)", duration(train[-1]["time_s"])))
    return rows


def epoch_grids(run_dir: Path) -> list[dict[str, str]]:
    """Up to MAX_EPOCH_GRIDS of the per-epoch sample grids, evenly spaced over training, the last included."""
    files = RunDir(run_dir).epoch_grids()
    if len(files) > MAX_EPOCH_GRIDS:
        idx = sorted({round(i * (len(files) - 1) / (MAX_EPOCH_GRIDS - 1)) for i in range(MAX_EPOCH_GRIDS)})
        files = [files[i] for i in idx]
    out = []
    for f in files:
        m = re.search(r"epoch_(\d+)", f.stem)
        out.append(image(f, f"epoch {int(m.group(1))}" if m else f.stem))
    return out


def eval_table(run_dir: Path) -> dict[str, Any] | None:
    """The last value and the best of each metric logged during training."""
    series = eval_series(run_dir)
    if not series:
        return None
    rows = []
    for key, points in sorted(series.items()):
        best = max(points, key=lambda p: p[1]) if key.startswith("is") else min(points, key=lambda p: p[1])
        rows.append([key, f"{points[-1][1]:.4g}", f"{best[1]:.4g} (epoch {best[0]:g})", str(len(points))])
    return {"header": ["metric", "last", "best", "evaluations"], "rows": rows}


def json_tables(data: Any, title: str) -> list[dict[str, Any]]:
    """Tables from any JSON: a dict of scalars -> one key/value table; a list of flat dicts, or a dict of
    flat dicts (eval.json: metric -> its record), -> one table with their keys as columns; deeper
    nesting -> one table each (titled by their path)."""
    tables: list[dict[str, Any]] = []
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        header = list(dict.fromkeys(k for r in data for k in r))
        tables.append({"title": title, "header": header,
                       "rows": [[_cell(r.get(k, "")) for k in header] for r in data]})
    elif isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()) \
            and not any(isinstance(x, dict) for v in data.values() for x in v.values()):
        header = list(dict.fromkeys(k for v in data.values() for k in v))  # e.g. eval.json: metric -> record
        tables.append({"title": title, "header": ["", *header],
                       "rows": [[name, *(_cell(v.get(k, "")) for k in header)] for name, v in data.items()]})
    elif isinstance(data, dict):
        scalars = [[k, _cell(v)] for k, v in data.items() if not isinstance(v, (dict, list))]
        if scalars:
            tables.append({"title": title, "header": ["key", "value"], "rows": scalars})
        for k, v in data.items():
            if isinstance(v, (dict, list)):
                tables.extend(json_tables(v, f"{title} / {k}"))
    elif isinstance(data, list) and data:
        tables.append({"title": title, "header": ["value"], "rows": [[_cell(v)] for v in data]})
    return tables


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        text = json.dumps(value)
        return text if len(text) < 80 else text[:77] + "..."
    return str(value)


def explorations(run_dir: Path) -> list[dict[str, Any]]:
    """One section per explore/*.json present: its figures (with captions) and its key numbers."""
    folder = RunDir(run_dir).explore
    names = sorted((p.stem for p in folder.glob("*.json")),
                   key=lambda n: (EXPLORE_ORDER.index(n) if n in EXPLORE_ORDER else len(EXPLORE_ORDER), n))
    sections = []
    for name in names:
        data = read_json(folder / f"{name}.json")
        if not isinstance(data, dict):
            continue
        figures = [image(folder / f["png"], _caption(f)) for f in data.get("figures", [])
                   if (folder / f["png"]).is_file()]
        if name == "collapse" and (folder / "collapse.png").is_file():
            figures.insert(0, image(folder / "collapse.png", "class histogram, dashed: uniform"))
        sections.append({"name": name.replace("_", " "), "figures": figures, "note": EXPLORE_NOTES.get(name, ""),
                         "size": "small" if name in MANY_FIGURES else "medium",
                         "text": data.get("range_text", ""), "summary": _summary(name, data)})
    return sections


def _caption(figure: dict[str, Any]) -> str:
    parts = [f"{k} {figure[k]:g}" if isinstance(figure[k], float) else f"{k} {figure[k]}"
             for k in ("method", "target", "eps", "class", "z3") if figure.get(k) is not None]
    return ", ".join(parts) or Path(figure["png"]).stem


def _summary(name: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """A few headline numbers per exploration."""
    if name == "collapse":
        rows = [("samples", str(data["n"])), ("counts", " ".join(map(str, data["counts"]))),
                ("expected per class", f"{data['expected_per_class']:.1f}"), ("chi2 p-value", f"{data['chi2_p']:.3g}")]
        if "accuracy" in data:
            rows.append(("classifier agrees with asked class", f"{100 * data['accuracy']:.1f}%"))
        return rows
    if name == "noise":
        return [(f"{t}: mean pixel change", ", ".join(f"eps {r['eps']:g}: {r['mean_pixel_change']:.1f}" for r in rows))
                for t, rows in data.get("targets", {}).items()]
    if name == "diversity":
        return [("mean pairwise pixel distance",
                 ", ".join(f"class {r['class']}: {r['mean_pairwise_pixel_distance']:.1f}" for r in data["classes"]))]
    if name == "interpolate":
        return [("pairs (seed a:b, class a->b)",
                 ", ".join(f"{p['seed_a']}:{p['seed_b']} {p['class_a']}->{p['class_b']}" for p in data["pairs"]))]
    if name == "latent_map":
        return [("kind", data["kind"]),
                ("coordinates", f"[-{data['radius']:g}, {data['radius']:g}], {data['grid']} per side")]
    return []


def run_context(run_dir: Path) -> dict[str, Any]:
    """Everything the run template shows; also (re)draws the run's curves and evaluation figures."""
    records = list(read_metrics(run_dir))
    files = RunDir(run_dir)
    plots = []
    if any("loss_d" in r for r in records):
        plots.append(image(plot_curves(run_dir, files.curves), "losses, D outputs and D accuracy (dashed: held-out)"))
    fid = plot_eval_curves(run_dir, files.eval_curves)
    if fid is not None:
        plots.append(image(fid, "evaluations over training"))
    config = files.config.read_text() if files.is_run() else ""
    evaluation = files.read_eval()
    return {
        "title": run_dir.resolve().name, "run_dir": str(run_dir.resolve()), "config": config,
        "timings": timings(run_dir, records), "plots": plots, "eval_over_training": eval_table(run_dir),
        "epoch_grids": epoch_grids(run_dir), "explorations": explorations(run_dir),
        "eval_tables": json_tables(evaluation, files.eval.name) if evaluation is not None else [],
    }
