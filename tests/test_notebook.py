"""notebooks/dcgan.ipynb: committed with the outputs of one full run, readable in nbconvert's
HTML (both animations, alt text on every picture), in the tutorial's order, and runs wherever
Jupyter does (outside the repository, with gan_tf importable as an installed package would be).

The two tests of the committed outputs (`test_committed_notebook_carries_its_outputs`,
`test_html_export_shows_both_animations_and_describes_every_image`) pass once the notebook has
been executed and saved; the others do not depend on its outputs."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from conftest import REAL_MNIST, REPO, make_images

NOTEBOOK = REPO / "notebooks" / "dcgan.ipynb"
TUTORIAL_URL = "https://www.tensorflow.org/tutorials/generative/dcgan"
STUDY_HEADING = "## Why LeakyReLU?"
MAX_BYTES = 3 * 1024 * 1024
# PNGs of an execution from a checkout: real images, the untrained generator, the progress
# grids, the losses, docs/sample's grid, the activations, the pre-activation histograms, the
# per-epoch diagnostics and docs/study's four figures (found through the package's checkout).
MIN_EXECUTED_PNGS = 12
# GIFs: the run's progress and docs/sample's two runs side by side.
COMMITTED_GIFS = 2
# The tutorial's sections in order, then the study; running notes come last.
SECTIONS = [
    "## Load and prepare the dataset",
    "## Create the models",
    "## Define the loss and optimizers",
    "## Define the training loop",
    "## Train the model",
    "## Create a GIF",
    STUDY_HEADING,
    "## Running this notebook",
]
# What nbconvert writes for an <img> that came without alt text.
NBCONVERT_NO_ALT = "No description has been provided for this image"
IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
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


def shown_images(cells, kind: str) -> int:
    """How many images of `kind` ("png", "gif") these cells show: as their own image/* output
    or as an <img> with embedded data in an HTML output (how the notebook shows them all)."""
    count = 0
    for cell in code_cells(cells):
        for output in cell.outputs:
            data = output.get("data", {})
            count += f"image/{kind}" in data
            tags = IMG_TAG.findall(data.get("text/html", ""))
            count += sum(f"data:image/{kind};base64," in tag for tag in tags)
    return count


class ImageTags(HTMLParser):
    """The attributes of every <img> in an HTML page."""

    def __init__(self):
        super().__init__()
        self.images: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


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
    assert shown_images(nb.cells, "png") >= MIN_EXECUTED_PNGS
    assert shown_images(nb.cells, "gif") == COMMITTED_GIFS
    assert NOTEBOOK.stat().st_size < MAX_BYTES
    paths = MACHINE_PATH.findall(output_text(nb.cells))
    assert not paths, f"outputs show this machine's paths: {paths}"
    # Credits the tutorial at the top, keeps the papermill parameters cell and the study.
    assert TUTORIAL_URL in nb.cells[0].source
    assert sum("parameters" in cell.metadata.get("tags", []) for cell in nb.cells) == 1
    assert any(cell.source.startswith(STUDY_HEADING) for cell in nb.cells)


def test_html_export_shows_both_animations_and_describes_every_image():
    """nbconvert's HTML (`jupyter nbconvert --to html`) of the committed notebook: it leaves out
    image/gif outputs, so the GIFs must reach it as <img> tags, and each picture needs alt text
    of its own rather than nbconvert's stand-in."""
    exporters = pytest.importorskip("nbconvert.exporters", reason="nbconvert is not installed")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    page, _ = exporters.HTMLExporter().from_notebook_node(nb)
    parser = ImageTags()
    parser.feed(page)
    sources = [image.get("src", "") for image in parser.images]
    assert sum(src.startswith("data:image/gif;base64,") for src in sources) == COMMITTED_GIFS
    assert sum(src.startswith("data:image/png;base64,") for src in sources) >= MIN_EXECUTED_PNGS
    undescribed = [
        i for i, image in enumerate(parser.images) if not (image.get("alt") or "").strip()
    ]
    assert not undescribed, f"<img> tags {undescribed} have no alt text"
    assert NBCONVERT_NO_ALT not in page, "an image reached nbconvert without alt text"


def test_notebook_reads_in_the_tutorials_order():
    """The tutorial's sections straight after one short set-up, the plain training step before
    the package's, the running notes at the end; no picture shown without alt text."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    starts = [
        next(i for i, cell in enumerate(nb.cells) if cell.source.startswith(heading))
        for heading in SECTIONS
    ]
    assert starts == sorted(starts), "sections out of the tutorial's order"
    assert starts[-1] == len(nb.cells) - 1, "the running notes are not the last cell"
    before = code_cells(nb.cells[: starts[0]])
    # The parameters, then one set-up cell: the first code cell is papermill's.
    assert len(before) == 2 and "parameters" in before[0].metadata.get("tags", [])
    assert "import gan_tf\n" in before[1].source
    sources = [cell.source for cell in nb.cells]
    plain = next(i for i, s in enumerate(sources) if s.startswith("def train_step("))
    package = next(i for i, s in enumerate(sources) if "show_source(make_replica_step)" in s)
    assert starts[3] < plain < package < starts[4]
    assert "tf.GradientTape() as gen_tape" in sources[plain]
    # Every picture goes through show(..., alt): no bare figure, Image or GIF output.
    bare = re.compile(r"display\(fig|\bImage\(|plt\.show\(|[\"']image/gif[\"']\s*:")
    assert not [s for s in sources if bare.search(s)], "a picture shown without alt text"


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
    # Two epochs for the main run (two frames, a GIF of both, the grid of epoch 2 redrawn from
    # its checkpoint); one for each of the two study runs, which are there to be compared.
    tiny = {"EPOCHS": 2, "STEPS_PER_EPOCH": 3, "BATCH_SIZE": 32}
    tiny |= {"STUDY_EPOCHS": 1, "STUDY_STEPS_PER_EPOCH": 3}
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
    assert shown_images(nb.cells, "png") >= MIN_EXECUTED_PNGS
    gif_section = cell_index(nb, "## Create a GIF")
    assert shown_images(nb.cells[gif_section : gif_section + 2], "gif") == 1
    assert shown_images(nb.cells, "gif") == COMMITTED_GIFS
    text = output_text(nb.cells)
    # The diagnostics table: a header naming both runs, and a row per measure.
    assert re.search(r"diagnostic\s+relu\s+leaky_relu", text)
    assert re.search(r"dead_channels_2\s+[\d.e+-]+\s+[\d.e+-]+", text)
    assert "redraws the grid of epoch 2 exactly: True" in text
    # Each run wrote a frame per epoch into a folder named after its settings, in OUT_DIR: the
    # main run at the DCGAN paper's Adam, the two study runs at the stressed setting.
    runs = {
        f"dcgan_lr0.0002_beta0.5_{data.stem}_b32_e2_s3_seed0": 2,
        f"relu_lr0.001_beta0.9_{data.stem}_b32_e1_s3_seed0": 1,
        f"leaky_relu_lr0.001_beta0.9_{data.stem}_b32_e1_s3_seed0": 1,
    }
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(runs)
    for run, epochs in runs.items():
        assert (out_dir / run / f"image_at_epoch_{epochs:04d}.png").is_file(), run
        assert not (out_dir / run / f"image_at_epoch_{epochs + 1:04d}.png").exists(), run
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
