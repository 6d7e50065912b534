"""The verdicts of every study published under a docs folder, as the Markdown block the README shows.

    python -m ganlab.studies.summary docs/studies            # print the block
    python -m ganlab.studies.summary docs/studies README.md  # replace the block between its markers in README.md

Each ``docs/studies/NAME/`` holds what ``ganlab study ... --docs`` copied: ``steps.json`` (the commands, their
wall times) and ``findings.json`` (a row per finding). The block is one table of all verdicts, then one line per
study: its command, its wall time here, its verdicts counted, where its evidence is; then the seeds each open
finding would need.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from ganlab.errors import GanlabError
from ganlab.folders import StudyDir, read_json
from ganlab.io import atomic_write_text
from ganlab.studies.engine import total_seconds
from ganlab.studies.findings import measured_text
from ganlab.studies.verdicts import INCONCLUSIVE, MAX_PROJECTED_SEEDS, POWER, STILL_CHANGING, VERDICTS

START, END = "<!-- verdicts: start -->", "<!-- verdicts: end -->"  # the block's markers in the README
DECIDED = ("reproduced", "not reproduced")


def _studies(docs: Path) -> list[tuple[Path, dict[str, Any], list[dict[str, Any]]]]:
    """(folder, steps.json, findings.json rows) of each published study that has findings, by name."""
    found = []
    for folder in sorted(p for p in docs.iterdir() if p.is_dir()):
        study = StudyDir(folder)
        rows = read_json(study.findings_json)
        if rows:
            found.append((folder, study.read_steps(), rows))
    return found


def verdict_counts(rows: list[dict[str, Any]]) -> str:
    """How many rows have each verdict, in the order of ``verdicts.VERDICTS``: "2 reproduced, 1 inconclusive"."""
    counts = Counter(r["verdict"] for r in rows)
    return ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])


def seeds_needed_line(rows: list[dict[str, Any]]) -> str:
    """One line on the seeds that would decide the inconclusive rows (inside the seed spread) and settle the still
    changing rows that seeds can settle, or "" if none (rows of a findings.json written before verdicts projected
    seeds are left out)."""
    inside = [r for r in rows if r["verdict"] == INCONCLUSIVE and "seeds_to_decide" in r]
    changing = [r for r in rows if r["verdict"] == STILL_CHANGING and r.get("seeds_to_decide")]
    if not inside and not changing:
        return ""

    def listed(found: list[dict[str, Any]]) -> str:
        needs = sorted(found, key=lambda r: r.get("seeds_to_decide") or MAX_PROJECTED_SEEDS + 1)
        return ", ".join(f"{r['id']} {r['seeds_to_decide']}" if r.get("seeds_to_decide")
                         else f"{r['id']} over {MAX_PROJECTED_SEEDS}" for r in needs)

    parts = [f"inconclusive: {listed(inside)}"] if inside else []
    parts += [f"still changing between a decided and an inconclusive measurement: {listed(changing)}"] if changing \
        else []
    return (f"The seeds each finding would need for a verdict with {POWER * 100:g} % chance if its measured mean and "
            f"spread held (in its `findings.md`); {'; '.join(parts)}.")


def summary_block(docs: Path, link_root: Path = Path(".")) -> str:
    """The Markdown block: the verdicts table and a line per study (links relative to ``link_root``)."""
    studies = _studies(docs)
    if not studies:
        raise GanlabError(f"no study under {docs} has a findings.json; publish one with ganlab study ... --docs DIR")
    rows = [row for _, _, found in studies for row in found]
    decided = sum(r["verdict"] in DECIDED for r in rows)
    lines = [START, "", f"{len(rows)} findings, {decided} decided ({decided / len(rows):.0%}); each verdict from "
             f"its study's seeds (mean and 95 % interval, paired by seed) at the cpu scale, as in its `findings.md`.",
             "", "| finding | claim | report | measured here [95 % CI] | seeds | verdict |",
             "|---|---|---|---|---|---|"]
    where = {folder: folder.relative_to(link_root) if folder.is_relative_to(link_root) else folder
             for folder, _, _ in studies}
    for folder, _, found in studies:
        lines += [f"| [{r['id']}]({where[folder] / 'findings.md'}) | {r['claim']} | {r['report']} | "
                  f"{measured_text(r)} | {r['seeds']} | {r['verdict']} |" for r in found]
    lines.append("")
    for folder, steps, found in studies:
        minutes = (total_seconds(steps) or 0.0) / 60
        command = f"ganlab study {steps.get('study', '?')} --scale {steps.get('scale', '?')} --data-root DATA"
        lines.append(f"- `{command}`: {minutes:.0f} min here (its `steps.json`); {verdict_counts(found)}; evidence "
                     f"in [{where[folder]}/]({where[folder]}/)")
    if needed := seeds_needed_line(rows):
        lines += ["", needed]
    return "\n".join([*lines, "", END])


def replace_block(text: str, block: str, where: str) -> str:
    """``text`` with the part between the markers (included) replaced by ``block``."""
    if START not in text or END not in text:
        raise GanlabError(f"{where} has no {START} ... {END} block; add the two markers where the table goes")
    head, rest = text.split(START, 1)
    return head + block + rest.split(END, 1)[1]


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    docs = Path(argv[0])
    if len(argv) == 1:
        print(summary_block(docs))
        return 0
    readme = Path(argv[1])
    atomic_write_text(readme, replace_block(readme.read_text(), summary_block(docs, readme.parent), str(readme)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
