"""Numbers and dates the way Vietnamese documents write them: 1.165.558 and 85,3 %.

English uses 1,165,558 and 85.3%. The separators are Babel's for vi_VN and en_US
(tests/test_number_format.py holds them to Babel's own output); they are applied here by string
translation because a national table formats thousands of numbers per view and Babel's
pattern machinery cost 50 µs a number.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal


from .progress import EPSILON_POINTS

NBSP = "\u00a0"


def as_number(value) -> float | None:
    """A finite float, or None for None, NaN, pd.NA, infinities and text that is no number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _missing(value) -> bool:
    return as_number(value) is None


def number(value, decimals: int = 0, lang: str = "vi", missing: str = "—") -> str:
    """1165558 -> '1.165.558' (vi) / '1,165,558' (en)."""
    if _missing(value):
        return missing
    # Round half up, as people do by hand (Babel alone would round 3.25 to 3.2).
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no '-0'
    text = f"{rounded:,f}"  # exactly `decimals` places: `rounded` is quantized to them
    return text if lang == "en" else text.translate(_VI_SEPARATORS)


#: en_US's "1,165,558.5" written the vi_VN way, "1.165.558,5".
_VI_SEPARATORS = str.maketrans({",": ".", ".": ","})



def percent(value, decimals: int = 1, lang: str = "vi", missing: str = "—") -> str:
    """85.31 -> '85,3 %' (vi, with a no-break space) / '85.3%' (en). Value is already in percent."""
    if _missing(value):
        return missing
    body = number(value, decimals, lang)
    return f"{body}{NBSP}%" if lang == "vi" else f"{body}%"


def points(value, decimals: int = 1, lang: str = "vi", missing: str = "—") -> str:
    """Percentage points: '12,4 điểm %' / '12.4 pts'."""
    if _missing(value):
        return missing
    body = number(value, decimals, lang)
    return f"{body}{NBSP}điểm{NBSP}%" if lang == "vi" else f"{body}{NBSP}pts"


def compact(value, lang: str = "vi", missing: str = "—") -> str:
    """Large money amounts: 12 345 000 000 -> '12,3 tỷ' (vi) / '12.3 bn' (en)."""
    if _missing(value):
        return missing
    steps = [(1e9, "tỷ", "bn"), (1e6, "triệu", "m")]
    for size, vi, en in steps:
        if abs(value) >= size:
            return f"{number(value / size, 1, lang)}{NBSP}{vi if lang == 'vi' else en}"
    return number(value, 0, lang)


def month(month_str: str | None, missing: str = "—") -> str:
    """'2026-10' -> '10/2026'."""
    if not month_str:
        return missing
    return f"{month_str[5:7]}/{month_str[:4]}"


def decimals_of(indicator: dict) -> int:
    """The indicator's decimals (0 included); 1 when it does not say."""
    raw = as_number((indicator or {}).get("decimals"))
    return 1 if raw is None else max(0, min(6, int(raw)))


def value(value, indicator: dict, lang: str = "vi", missing: str = "—", target=None,
          decimals: int | None = None) -> str:
    """An indicator's value as every view shows it: its decimals and its display unit
    ('%' gives '85,3 %'; another unit gives '1.234 người').

    With `target`, rounding never hides a miss: when the value falls short of the target but
    would be written exactly like it (94,99 % against 95 %), more decimals are shown until they
    differ."""
    number_value = as_number(value)
    if number_value is None:
        return missing
    places = shown_decimals(number_value, target, indicator) if decimals is None else decimals
    unit = (indicator or {}).get("display_unit") or "%"
    if unit == "%":
        return percent(number_value, places, lang)
    return f"{number(number_value, places, lang)}{NBSP}{unit}"


def shown_decimals(value, target, indicator: dict) -> int:
    """The decimals a value is shown with: the indicator's, and more while rounding would write a
    value short of its target (a miss) exactly like the target."""
    places = decimals_of(indicator)
    v, goal = as_number(value), as_number(target)
    if v is None or goal is None:
        return places
    higher = bool((indicator or {}).get("higher_is_better", True))
    short = (goal - v) if higher else (v - goal)
    if short > EPSILON_POINTS:  # the progress rules' own tolerance: "short" means what the status means
        while places < 4 and number(v, places) == number(goal, places):
            places += 1
    return places


def target_value(target, indicator: dict, lang: str = "vi", missing: str = "—") -> str:
    """A target as written in a plan: '95 %', '90,5 %' (whole targets without decimals)."""
    goal = as_number(target)
    if goal is None:
        return missing
    return value(goal, indicator, lang, decimals=0 if goal.is_integer() else decimals_of(indicator))
