"""Reports word runs that a notebook's prose shares with a reference text.

The notebook retells the TensorFlow DCGAN tutorial in its own words. This script
checks that: it lists every run of N or more consecutive words (default 8) that
appears both in a reference text (the tutorial, saved to a plain-text file) and in
the notebook's markdown, code comments and string literals. Case and punctuation
are ignored. It prints nothing but a summary when there is no shared run, and
exits with status 1 when there is one.

    python notebooks/overlap.py TUTORIAL.txt notebooks/dcgan.ipynb [--n 8]

The reference text is not part of this repository: save the tutorial's page
(https://www.tensorflow.org/tutorials/generative/dcgan) or its notebook's cells
as text yourself.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tokenize
from pathlib import Path

WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-case words: letters and digits; everything else separates them."""
    return WORD.findall(text.lower())


def code_prose(source: str) -> list[str]:
    """The comments and string literals of a code cell (its prose), one per item."""
    pieces = []
    # IPython magics and shell escapes are not Python: drop those lines first.
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        for token in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            if token.type in (tokenize.COMMENT, tokenize.STRING):
                pieces.append(token.string)
    except (tokenize.TokenError, IndentationError):
        pieces.append(source)  # unparsable: check the whole cell
    return pieces


def notebook_prose(path: Path) -> list[tuple[str, str]]:
    """(where, text) for each markdown cell and each comment or string of a code cell."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = []
    for i, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            found.append((f"cell {i} (markdown)", source))
        elif cell["cell_type"] == "code":
            found += [(f"cell {i} (code)", piece) for piece in code_prose(source)]
    return found


def shared_runs(reference: list[str], text: list[str], n: int) -> list[str]:
    """Maximal runs of at least n words of `text` that also occur in `reference`."""
    grams = {tuple(reference[i : i + n]) for i in range(len(reference) - n + 1)}
    runs, i = [], 0
    while i <= len(text) - n:
        if tuple(text[i : i + n]) in grams:
            j = i + 1
            while j <= len(text) - n and tuple(text[j : j + n]) in grams:
                j += 1
            runs.append(" ".join(text[i : j - 1 + n]))
            i = j - 1 + n
        else:
            i += 1
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help="the reference text, as a plain-text file")
    parser.add_argument("notebook", type=Path, help="the .ipynb to check")
    parser.add_argument("--n", type=int, default=8, help="shortest run that counts (default 8)")
    args = parser.parse_args(argv)
    reference = words(args.reference.read_text(encoding="utf-8"))
    prose = notebook_prose(args.notebook)
    total = 0
    for where, text in prose:
        for run in shared_runs(reference, words(text), args.n):
            total += 1
            print(f"{where}: {len(run.split())} words: {run}")
    checked = sum(len(words(text)) for _, text in prose)
    print(
        f"{total} shared run(s) of {args.n}+ words; checked {checked} words of "
        f"{args.notebook.name} against {len(reference)} of {args.reference.name}"
    )
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
