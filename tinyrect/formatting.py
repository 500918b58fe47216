"""Numbers for people: the one place that formats a measured value for printing.

`number(x, ".2f")` is `format(x, ".2f")` except that a value which rounds to zero never shows a
minus sign: -0.001 prints as "0.00", not "-0.00" (a reader takes "-0.00" for a sign that means
something). Used by the lesson checks, the variance tables and their messages.
"""
from __future__ import annotations


def number(x, spec: str = ".2f") -> str:
    """format(x, spec), with a negative zero ("-0.00", "-0.0e+00") printed as a positive one."""
    text = format(x, spec)
    mantissa = text.lower().split("e")[0]
    if "-" in mantissa and not any(d in mantissa for d in "123456789") and "n" not in mantissa:
        return format(0.0, spec)   # rounds to zero: no sign (also keeps the width of `spec`)
    return text
