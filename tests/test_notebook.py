"""The example notebook, ``notebooks/explore_run.ipynb``: committed without outputs, and run
top to bottom by a real Jupyter kernel (``nbclient``) on the tiny experiment's build."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from repo_utils import ROOT, TINY

NOTEBOOK = ROOT / "notebooks/explore_run.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_the_notebook_is_committed_without_outputs_and_takes_the_run_as_a_parameter():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    cells = code_cells(nb)
    assert cells and all(c.outputs == [] and c.execution_count is None for c in cells)
    assert "parameters" in cells[0].metadata.get("tags", [])
    assert 'os.environ.get("GROKSCOPE_RUN"' in cells[0].source


@pytest.mark.slow
def test_the_notebook_runs_top_to_bottom_on_the_tiny_run(tiny_build: Path, monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel inherits the environment: the run to open, and this checkout's package.
    monkeypatch.setenv("GROKSCOPE_RUN", TINY)
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "workflow"))
    # From the project's notebooks/ directory, as Jupyter starts it: open_run finds
    # ../results/<name>.
    where = {"metadata": {"path": str(tiny_build / "notebooks")}}
    NotebookClient(nb, timeout=600, kernel_name="python3", resources=where).execute()

    cells = code_cells(nb)
    assert all(c.execution_count for c in cells)
    outputs = [out for c in cells for out in c.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    final = json.loads((tiny_build / f"results/{TINY}/train/final.json").read_text())
    assert final["grokked_epoch"] > final["memorised_epoch"] > 0  # the tiny run groks
    assert (
        f"memorised at epoch {final['memorised_epoch']}, grokked at epoch {final['grokked_epoch']}"
        in text
    )
    # The run's own key irreps (which ones a run learns depends on the CPU's float kernels).
    key = json.loads((tiny_build / f"results/{TINY}/analysis/key_irreps.json").read_text())
    assert f"key irreps: {', '.join(key['key_irreps'])}\n" in text
    assert "<Run tiny_c41: mlp on C_41" in cells[1].outputs[0].data["text/plain"]
    figures = [out for out in outputs if PLOTLY in out.get("data", {})]
    titles = [fig.data[PLOTLY]["layout"].get("title", {}).get("text", "") for fig in figures]
    assert len(figures) >= 15 and any("in the 2-D Fourier basis" in t for t in titles), titles
