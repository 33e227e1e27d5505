"""README.md and docs/: every local link and picture they show exists, every #anchor names a
heading, and the committed pictures stay small enough to commit."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
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
