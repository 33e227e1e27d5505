"""notebooks/dcgan.ipynb: committed with the outputs of one full run, and runs wherever Jupyter
does (outside the repository, with gan_tf importable as an installed package would be)."""

from __future__ import annotations

import os
import re

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from conftest import REAL_MNIST, REPO, make_images

NOTEBOOK = REPO / "notebooks" / "dcgan.ipynb"
TUTORIAL_URL = "https://www.tensorflow.org/tutorials/generative/dcgan"
STUDY_HEADING = "## Why LeakyReLU?"
MAX_BYTES = 3 * 1024 * 1024
# Images a reader sees without running anything (nbconvert to HTML shows these).
MIN_COMMITTED_IMAGES = 8
# PNGs of an execution: real images, the untrained generator, the progress grids, the losses,
# docs/sample's grid, the activations, the pre-activation histograms, the per-epoch
# diagnostics and docs/study's four figures (found through the package's checkout).
MIN_EXECUTED_PNGS = 12
# A full path of this machine (or of a typical one) in what the notebook printed.
MACHINE_PATH = re.compile(r"(?<![\w.~])/(?:tmp|work|root|home|Users|private|var)/|[A-Z]:\\")
DATA_URI = re.compile(r"data:image/\w+;base64,[A-Za-z0-9+/=]*")
TEXT_MIMES = ("text/plain", "text/markdown", "text/html", "application/json")


def inject_parameters(nb, **values) -> None:
    """Overrides the `parameters` cell's values with a cell right after it, as papermill does."""
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "the notebook needs exactly one cell tagged 'parameters'"
    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(tagged[0] + 1, cell)


def code_cells(cells) -> list:
    return [cell for cell in cells if cell.cell_type == "code"]


def outputs_with(cells, mime: str) -> int:
    """How many outputs of these cells carry `mime`."""
    return sum(
        mime in output.get("data", {}) for cell in code_cells(cells) for output in cell.outputs
    )


def output_text(cells) -> str:
    """Everything the cells printed or displayed as text, less the images' embedded data."""
    parts = []
    for cell in code_cells(cells):
        for output in cell.outputs:
            parts.append(output.get("text", ""))
            parts += [output.get("ename", ""), output.get("evalue", "")]
            for mime in TEXT_MIMES:
                value = output.get("data", {}).get(mime, "")
                parts.append(value if isinstance(value, str) else str(value))
    return DATA_URI.sub("", "\n".join(parts))


def cell_index(nb, startswith: str) -> int:
    return next(i for i, cell in enumerate(nb.cells) if cell.source.startswith(startswith))


def test_committed_notebook_carries_its_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = code_cells(nb.cells)
    # Executed top to bottom in one kernel: 1, 2, 3, ... with no gaps and no re-runs.
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    images = outputs_with(nb.cells, "image/png") + outputs_with(nb.cells, "image/gif")
    assert images >= MIN_COMMITTED_IMAGES
    assert outputs_with(nb.cells, "image/gif") >= 1
    assert NOTEBOOK.stat().st_size < MAX_BYTES
    paths = MACHINE_PATH.findall(output_text(nb.cells))
    assert not paths, f"outputs show this machine's paths: {paths}"
    # Credits the tutorial at the top, keeps the papermill parameters cell and the study.
    assert TUTORIAL_URL in nb.cells[0].source
    assert sum("parameters" in cell.metadata.get("tags", []) for cell in nb.cells) == 1
    assert any(cell.source.startswith(STUDY_HEADING) for cell in nb.cells)


@pytest.mark.slow
def test_notebook_runs_outside_the_repository(tmp_path):
    if REAL_MNIST.exists():
        data = REAL_MNIST
    else:  # no real MNIST here: a small synthetic one, so the test still runs
        data = tmp_path / "synthetic_mnist.npz"
        images = make_images(512)
        np.savez(data, x_train=images, y_train=np.zeros(len(images), np.uint8))
    elsewhere = tmp_path / "elsewhere"  # the kernel's folder: no checkout above it
    elsewhere.mkdir()
    out_dir = tmp_path / "runs"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in code_cells(nb.cells):  # what is checked below must come from this execution
        cell.outputs, cell.execution_count = [], None
    tiny = {"EPOCHS": 2, "STEPS_PER_EPOCH": 3, "BATCH_SIZE": 32}
    tiny |= {"STUDY_EPOCHS": 2, "STUDY_STEPS_PER_EPOCH": 3}
    inject_parameters(nb, **tiny, OUT_DIR=str(out_dir), DATA=str(data))
    # gan_tf importable the way an installed package is, not through the kernel's folder.
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {k: v for k, v in os.environ.items() if k != "GAN_TF_DATA"} | {"PYTHONPATH": pythonpath}

    # Raises CellExecutionError, with the cell and its traceback, on any error.
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(elsewhere)}},  # the kernel's cwd
    ).execute(env=env)

    code = code_cells(nb.cells)
    assert all(cell.execution_count is not None for cell in code)
    assert outputs_with(nb.cells, "image/png") >= MIN_EXECUTED_PNGS
    gif_section = cell_index(nb, "## Create a GIF")
    assert outputs_with(nb.cells[gif_section : gif_section + 2], "image/gif") == 1
    text = output_text(nb.cells)
    # The diagnostics table: a header naming both runs, and a row per measure.
    assert re.search(r"diagnostic\s+relu\s+leaky_relu", text)
    assert re.search(r"dead_channels_2\s+[\d.e+-]+\s+[\d.e+-]+", text)
    assert "redraws the grid of epoch 2 exactly: True" in text
    # Each run wrote its two frames into a folder named after its settings, in OUT_DIR.
    runs = sorted(p.name for p in out_dir.iterdir())
    suffix = f"_{data.stem}_b32_e2_s3_seed0"
    assert runs == sorted(f"{p}{suffix}" for p in ("dcgan", "relu_lr0.001", "leaky_relu_lr0.001"))
    for run in runs:
        assert (out_dir / run / "image_at_epoch_0002.png").is_file(), run
        assert not (out_dir / run / "image_at_epoch_0003.png").exists(), run
    assert list(elsewhere.iterdir()) == []  # nothing written beside the notebook's kernel


def test_setup_cell_names_the_install_command(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    setup = next(cell for cell in code_cells(nb.cells) if "import gan_tf\n" in cell.source)
    # As if gan_tf were not installed: its import fails, and no checkout is above tmp_path.
    block = (
        "import sys\n"
        "class NoGanTf:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'gan_tf':\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, NoGanTf())"
    )
    cells = [nbformat.v4.new_code_cell(block), nbformat.v4.new_code_cell(setup.source)]
    small = nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata)
    NotebookClient(
        small,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    errors = [o for o in small.cells[1].outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "ImportError"
    assert "pip install /path/to/gan_tf" in errors[0].evalue
