"""How the report writes a number: significant figures, p-values, mean ± sd, shares,
correlations, and markdown tables. Formats what it is given; computes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gan_tf.study.analysis import Group
from gan_tf.study.stats import Correlation

RHO = "\u03c1"  # Spearman's rho, written as statisticians write it


def _decimals(x: float, digits: int = 3) -> int | None:
    """Decimals that show `x` to `digits` significant figures; None: use e-notation."""
    if x == 0 or not math.isfinite(x):
        return digits - 1
    magnitude = math.floor(math.log10(abs(x)))
    if magnitude < -3 or magnitude >= 6:
        return None
    return max(digits - 1 - magnitude, 0)


def fmt(x: float, decimals: int | None = None, scale: float = 1.0, unit: str = "") -> str:
    """One number: fixed `decimals`, or 3 significant figures when None; "n/a" for NaN.

    Args:
        x: the number.
        decimals: places after the point (None: 3 significant figures).
        scale: shown as x * scale (100 for a fraction as a percentage).
        unit: appended, e.g. " s" or "%".

    Returns:
        The text.
    """
    if not math.isfinite(x):
        return "n/a"
    x *= scale
    places = _decimals(x) if decimals is None else decimals
    return (f"{x:.2e}" if places is None else f"{x:.{places}f}") + unit


def fmt_p(p: float) -> str:
    """A p-value: 3 decimals, "<0.001" below that, "n/a" for NaN."""
    if not math.isfinite(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def share(x: float) -> str:
    """A fraction as a percentage with one decimal: 0.123 -> "12.3%"."""
    return fmt(x, 1, 100, "%")


def pm(group: Group, key: str, decimals: int | None = None, scale=1.0, unit="") -> str:
    """`mean ± sd` over the group's runs; the mean alone where only one run has it."""
    mean, std, n = group.stat(key)
    if n < 2 or not math.isfinite(std):
        return fmt(mean, decimals, scale, unit)
    places = _decimals(mean * scale) if decimals is None else decimals
    if places is None:
        return f"{mean * scale:.2e}{unit} ± {std * scale:.1e}{unit}"
    return f"{fmt(mean, places, scale, unit)} ± {fmt(std, places, scale, unit)}"


def pct(group: Group, key: str) -> str:
    """`pm` of a fraction, as percentages with one decimal."""
    return pm(group, key, 1, 100, "%")


def span(values: Sequence[float]) -> str:
    """'lowest to highest' of `values`, or the one value where they print alike."""
    low, high = fmt(min(values)), fmt(max(values))
    return low if low == high else f"{low} to {high}"


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def labels(groups: Sequence[Group]) -> str:
    """The groups' variant labels, joined with commas."""
    return ", ".join(g.label for g in groups)


def setting_values(setting: str, lr: float, beta1: float) -> str:
    """A setting with its values: "paper (lr 0.0002, β1 0.5)"."""
    return f"{setting} (lr {lr:g}, β1 {beta1:g})"


def setting_title(group: Group) -> str:
    """The group's setting with its values (`setting_values`)."""
    run = (group.runs or group.diverged)[0]
    return setting_values(group.setting, run.lr, run.beta1)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A markdown table's lines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


# --- Correlations -----------------------------------------------------------------------


def symbol(c: Correlation) -> str:
    """A correlation's name and letter: 'Pearson r', or 'Spearman' with the Greek rho."""
    return f"{c.method} {'r' if c.method == 'Pearson' else RHO}"


def correlation(c: Correlation) -> str:
    """A tested correlation with its interval, p, Holm p and whether it holds."""
    if not math.isfinite(c.r):
        return f"{symbol(c)} cannot be computed"
    return (
        f"{symbol(c)} = {c.r:.2f} (95% bootstrap CI {c.low:.2f} to {c.high:.2f}; "
        f"p {fmt_p(c.p)}, Holm p {fmt_p(c.p_holm)}; {'holds' if c.holds else 'does not hold'})"
    )


def plain(c: Correlation) -> str:
    """A correlation with its interval and uncorrected p (no Holm verdict)."""
    if not math.isfinite(c.r):
        return f"{symbol(c)} cannot be computed"
    return f"{symbol(c)} = {c.r:.2f} (95% bootstrap CI {c.low:.2f} to {c.high:.2f}; p {fmt_p(c.p)})"


def trend(c: Correlation) -> str:
    """A descriptive trend: 'Spearman RHO = 0.89, 95% bootstrap CI 0.64 to 0.97'."""
    return f"Spearman {RHO} = {c.r:.2f}, 95% bootstrap CI {c.low:.2f} to {c.high:.2f}"


def named(correlations: Sequence[Correlation]) -> str:
    """'Pearson r = -0.77, Holm p 0.016' for each correlation, joined with 'and'."""
    return " and ".join(f"{symbol(c)} = {c.r:.2f}, Holm p {fmt_p(c.p_holm)}" for c in correlations)
