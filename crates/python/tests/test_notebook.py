"""The quickstart notebook runs from top to bottom (CI executes it here)."""

import pytest

from conftest import REPO, needs_data

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


@needs_data
def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    # The kernel draws with matplotlib's inline backend, as in Jupyter: figures come back as PNG outputs.
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setenv("SNNSIM_NOTEBOOK_OUTPUT", str(tmp_path))
    folder = REPO / "crates" / "python" / "examples"
    notebook = nbformat.read(folder / "quickstart.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    outputs = "".join(
        o.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    )
    assert "examples:" in outputs and "spikes" in outputs
    images = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 3
    assert len(list(tmp_path.iterdir())) == 1, "one run folder"
