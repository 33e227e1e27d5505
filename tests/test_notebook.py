"""notebooks/dcgan.ipynb: committed without outputs, and runs top to bottom in a fresh kernel."""

from __future__ import annotations

import nbformat
import numpy as np
from nbclient import NotebookClient

from conftest import REAL_MNIST, REPO, make_images

NOTEBOOK = REPO / "notebooks" / "dcgan.ipynb"
STUDY_HEADING = "## Why LeakyReLU?"
# The study section draws the activations, the pre-activation histograms and the
# per-epoch diagnostics (plus docs/study's two figures, once they are committed).
STUDY_PLOTS = 3
# Before it: real images, the untrained sample, the last progress grid, the losses
# and the restored generator's grid.
TUTORIAL_PLOTS = 5


def inject_parameters(nb, **values) -> None:
    """Overrides the `parameters` cell's values with a cell right after it, as papermill does."""
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "the notebook needs exactly one cell tagged 'parameters'"
    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(tagged[0] + 1, cell)


def outputs_with(cells, mime: str) -> int:
    """How many outputs of these cells carry `mime`."""
    return sum(
        mime in output.get("data", {})
        for cell in cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def printed(cells) -> str:
    return "".join(
        output.get("text", "")
        for cell in cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def test_committed_notebook_is_valid_and_stripped():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert any(c.source.startswith(STUDY_HEADING) for c in nb.cells if c.cell_type == "markdown")


def test_notebook_runs_top_to_bottom(tmp_path):
    if REAL_MNIST.exists():
        data = REAL_MNIST
    else:  # no real MNIST here: a small synthetic one, so the test still runs
        data = tmp_path / "synthetic_mnist.npz"
        images = make_images(512)
        np.savez(data, x_train=images, y_train=np.zeros(len(images), np.uint8))
    out_dir = tmp_path / "runs"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    inject_parameters(
        nb, EPOCHS=2, STEPS_PER_EPOCH=3, BATCH_SIZE=32, OUT_DIR=str(out_dir), DATA=str(data)
    )

    # Raises CellExecutionError, with the cell and its traceback, on any error.
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},  # the kernel's cwd
    ).execute()

    study = next(
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown" and cell.source.startswith(STUDY_HEADING)
    )
    assert outputs_with(nb.cells[:study], "image/png") >= TUTORIAL_PLOTS
    assert outputs_with(nb.cells[:study], "image/gif") == 1
    assert outputs_with(nb.cells[study:], "image/png") >= STUDY_PLOTS
    # The injected values reached the runs: two epochs each, in OUT_DIR.
    for run in ("dcgan", "relu_lr0.001", "leaky_relu_lr0.001"):
        assert (out_dir / run / "image_at_epoch_0002.png").is_file(), run
        assert not (out_dir / run / "image_at_epoch_0003.png").exists(), run
    text = printed(nb.cells)
    assert "restored the checkpoint of epoch 2" in text
    if not (REPO / "docs" / "study" / "dead.png").is_file():
        assert "python -m gan_tf.study" in text  # says how to produce the missing figures
