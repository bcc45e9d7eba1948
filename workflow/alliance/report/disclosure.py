"""Small-cell disclosure control of the report's tables: what a cell shows when it rests on few patients.

With ``min_cell`` > 0 a count, or a percentage or mean resting on 1 .. ``min_cell`` - 1 patients (the
numerator of a percentage, its complement, any group size or denominator), is printed as ``"< min_cell"``;
``min_cell`` 0 disables the control. A share or mean of no one is not defined: a dash, explained by a note.
"""

from __future__ import annotations

import math

import pandas as pd

from alliance.report.formatting import format_fixed, format_integer

# A share or mean of no one is not defined: a dash, explained by a note (never a blank a reader must guess).
UNDEFINED = "\u2013"
UNDEFINED_NOTE = f"{UNDEFINED}: not defined (no patients in the group)."


def is_small(count: float, min_cell: int) -> bool:
    """True for 0 < count < min_cell (min_cell 0 disables)."""
    return min_cell > 0 and not math.isnan(count) and 0 < count < min_cell


def small_text(min_cell: int) -> str:
    return f"< {min_cell}"


def undefined_note(*frames: pd.DataFrame) -> tuple[str, ...]:
    return (UNDEFINED_NOTE,) if any(frame.isin([UNDEFINED]).any().any() for frame in frames) else ()


def count_cell(count: float, min_cell: int) -> str:
    return small_text(min_cell) if is_small(count, min_cell) else format_integer(count)


def pct_cell(count: float, n: float, min_cell: int, decimals: int = 0) -> str:
    """Per cent ``count / n``; "< min_cell" when the numerator, its complement or the denominator is small.

    The complement counts too: 98 % of 100 reveals the 2 patients without the characteristic.
    UNDEFINED when n is 0.
    """
    if is_small(count, min_cell) or is_small(n, min_cell) or (not math.isnan(n) and is_small(n - count, min_cell)):
        return small_text(min_cell)
    if math.isnan(n) or n == 0:
        return UNDEFINED
    return format_fixed(100.0 * count / n, decimals)


def mean_sd_cell(values: pd.Series, decimals: int, min_cell: int) -> str:
    n = float(values.size)
    if is_small(n, min_cell):
        return small_text(min_cell)
    if n == 0:
        return UNDEFINED
    sd = float(values.std(ddof=1)) if n > 1 else math.nan
    mean = format_fixed(float(values.mean()), decimals)
    return f"{mean} ({format_fixed(sd, decimals)})" if not math.isnan(sd) else mean


def disclosure_note(min_cell: int) -> tuple[str, ...]:
    if min_cell <= 0:
        return ()
    return (
        (
            f"{small_text(min_cell)}: a count, or a percentage or mean resting on 1 to {min_cell - 1} patients "
            "(or whose complement does), is not shown (disclosure control)."
        ),
    )
