"""The package's boundaries, read from its source: only the command layer speaks the command
line, and imports point one way (config <- data, models, losses <- step <- training <- study
<- cli, with evaluation beside training)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "gan_tf"
# `python -m gan_tf.<command>` needs a module of that name: these only call gan_tf.cli.
ENTRY_MODULES = {
    "__main__.py",
    "train.py",
    "generate.py",
    "gif.py",
    "evaluate.py",
    "compare.py",
    "confirm.py",
    "study/__main__.py",
}
# What each part may import from gan_tf, lowest first; a part may import itself.
LAYERS = {
    "core": {"core"},
    "evaluation": {"core", "evaluation"},
    "training": {"core", "evaluation", "training"},
    "study": {"core", "evaluation", "training", "study"},
    "cli": {"core", "evaluation", "training", "study", "cli"},
}


def part(module: str) -> str:
    """The layer of a gan_tf module name or file: core, evaluation, training, study or cli."""
    name = module.split(".")[1] if module.startswith("gan_tf.") else module.split("/")[0]
    return name if name in LAYERS else "core"


def library_modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if str(path.relative_to(PACKAGE)) not in ENTRY_MODULES
        and path.relative_to(PACKAGE).parts[0] != "cli"
    ]


def gan_tf_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("gan_tf.")}


def test_the_rule_reads_the_tree():
    assert part("gan_tf.training.loop") == "training" and part("gan_tf.config") == "core"
    assert part("study/grid.py") == "study" and part("rundir.py") == "core"
    assert len(library_modules()) > 40


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_one_way(path):
    layer = part(str(path.relative_to(PACKAGE)))
    upward = sorted(m for m in gan_tf_imports(path) if part(m) not in LAYERS[layer])
    assert not upward, f"{layer} module imports a higher layer: {upward}"


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_command_layer_speaks_the_command_line(path):
    """No library module names a flag or a `python -m` command, even in a comment: errors
    carry field names, and the command layer spells them."""
    text = path.read_text(encoding="utf-8")
    assert not re.findall(r"(?<![\w-])--[a-z][\w-]*|python -m", text)


@pytest.mark.parametrize("name", sorted(ENTRY_MODULES))
def test_entry_modules_only_call_the_command_layer(name):
    imported = gan_tf_imports(PACKAGE / name)
    assert imported and all(m.startswith("gan_tf.cli.") for m in imported), imported
