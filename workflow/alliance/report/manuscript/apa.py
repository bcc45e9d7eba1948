"""How the manuscript prints a number (APA 7): pure functions, value in, text out."""

from __future__ import annotations

from alliance.report.formatting import format_fixed, format_integer


def no_leading_zero(text: str) -> str:
    """ "0.034" -> ".034", "-0.25" -> "-.25" (APA: statistics that cannot exceed 1)."""
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text


def minus(text: str) -> str:
    """A typographic minus sign for negative numbers."""
    return "\u2212" + text[1:] if text.startswith("-") else text


def format_value(kind: str, value: float) -> str:
    """The printed text of one number. Kinds: ``fixed<N>`` (N decimals), ``int``, ``p`` (3 decimals, no
    leading zero, "< .001"), ``corr`` (2 decimals, no leading zero), ``prob`` (a probability such as alpha
    as given, no leading zero), ``pct<N>`` (N decimals), ``level`` (a confidence level 0.95 as 95)."""
    if kind == "level":
        return format(100 * value, "g")
    if kind == "int":
        return minus(format_integer(value))
    if kind == "p":
        if value < 0.001:
            return ".001"  # printed after "<"
        return no_leading_zero(format_fixed(min(value, 1.0), 3))
    if kind == "prob":
        return no_leading_zero(format(value, "g"))
    if kind == "corr":
        return minus(no_leading_zero(format_fixed(value, 2)))
    if kind.startswith("fixed"):
        return minus(format_fixed(value, int(kind[len("fixed") :])))
    if kind.startswith("pct"):
        return minus(format_fixed(value, int(kind[len("pct") :])))
    raise ValueError(f"unknown number format {kind!r}")


def p_relation(value: float) -> str:
    return "<" if value < 0.001 else "="
