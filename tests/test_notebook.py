"""docs/quickstart.ipynb runs top to bottom in a fresh kernel (the venv's), and is kept in git without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from ganlab.folders import RunDir

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "quickstart.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_quickstart_notebook_runs_top_to_bottom(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    texts = " ".join(o.get("data", {}).get("text/plain", "") for o in outputs if o.output_type == "execute_result")
    assert "Run(" in texts and "torch.Size([6, 1, 8, 8])" in texts and "cfd500_test" in texts
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # the grid, the curves, the loss plot
    assert RunDir(tmp_path / "runs" / "quickstart").is_run()
