"""README.md, CONTRIBUTING.md and docs/: every local link and picture they show exists, every
#anchor names a heading, the README stays a front page, the flag table says what --help says,
and the committed pictures stay small enough to commit."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import REPO

PAGES = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").rglob("*.md"))]
# A front page: what it is, a picture, the answer, set-up, a quick start and links.
MAX_README_BYTES = 8 * 1024
LINK = re.compile(r"\]\(([^)\s]+)\)")
MAX_PICTURE_BYTES = 2 * 1024 * 1024


def anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {anchor(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}


def test_anchor_rule():
    assert anchor("The tutorial's 50 epochs, with ReLU beside it") == (
        "the-tutorials-50-epochs-with-relu-beside-it"
    )
    assert anchor("Why LeakyReLU? Measuring it") == "why-leakyrelu-measuring-it"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_local_links_resolve(page):
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):  # https:, mailto: ...
            continue
        path, _, fragment = unquote(target).partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (
            linked.suffix == ".md" and fragment and fragment not in anchors(linked)
        ):
            broken.append(target)
    assert not broken, f"{page.name}: {broken}"


def test_committed_pictures_are_small():
    pictures = [*(REPO / "docs").rglob("*.gif"), *(REPO / "docs").rglob("*.png")]
    assert pictures
    large = [str(p.relative_to(REPO)) for p in pictures if p.stat().st_size > MAX_PICTURE_BYTES]
    assert not large


def test_readme_is_a_front_page():
    assert (REPO / "README.md").stat().st_size <= MAX_README_BYTES


def flag_table(page: Path) -> dict[str, str]:
    """{flag: its default cell} from the rows of a Markdown table whose first cell names flags."""
    rows = {}
    for line in page.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `--") and len(cells) >= 3:
            for name in re.findall(r"`(--[a-z0-9-]+)", cells[0]):
                rows[name] = cells[1].strip("`")
    return rows


def documented(cell: str, default) -> bool:
    """Whether a table's default cell states `default` (None: "none", or an environment
    variable it falls back on; booleans: "on"/"off"; numbers compared as numbers)."""
    if default is None:
        return cell == "none" or cell.startswith("$")
    if isinstance(default, bool):
        return cell == ("on" if default else "off")
    if isinstance(default, (int, float)):
        try:
            return float(cell) == float(default)
        except ValueError:
            return False
    return cell == str(default)


def test_flag_table_matches_the_train_command():
    from gan_tf.cli.train import build_parser
    from gan_tf.config import Config

    table = flag_table(REPO / "docs" / "usage.md")
    actions = {
        option: action
        for action in build_parser()._actions  # argparse keeps them in this one list
        for option in action.option_strings
        if option.startswith("--") and not option.startswith("--no-") and option != "--help"
    }
    assert set(table) == set(actions), "flags missing from the table, or not in --help"
    for name, cell in table.items():
        action = actions[name]
        if action.nargs == 0 and action.const is True:  # a store_true switch
            default = False
        else:
            default = getattr(Config(), action.dest)
        assert documented(cell, default), f"{name}: the table says {cell!r}, --help {default!r}"


def test_documented_defaults_are_compared_by_value():
    assert documented("1e-4", 0.0001) and documented("off", False) and documented("none", None)
    assert not documented("0.2", 0.3) and not documented("on", False) and not documented("5", None)


def test_tests_named_in_the_docs_exist():
    """docs/reliability.md names the test behind each promise: each must exist."""
    defined = set()
    for path in (REPO / "tests").glob("test_*.py"):
        defined |= set(re.findall(r"^def (test_\w+)", path.read_text(), flags=re.M))
    named = set(re.findall(r"`(test_\w+)`", (REPO / "docs" / "reliability.md").read_text()))
    assert len(named) > 20 and named <= defined, sorted(named - defined)
