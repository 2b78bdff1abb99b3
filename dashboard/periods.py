"""Reporting periods: months ``YYYY-MM``, quarters ``YYYY-Qn`` and years ``YYYY``.

A period is a closed window of months. Every figure is computed over such a window:
a flow sums its months, a stock takes each entity's latest month inside it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    """A period that cannot be read; the message is bilingual and quotes the value."""


@dataclass(frozen=True, order=True)
class Period:
    start: str  # first month, 'YYYY-MM'
    end: str    # last month, 'YYYY-MM'
    label: str  # as written: '2025-07', '2025-Q3', '2025'
    kind: str   # 'month' | 'quarter' | 'year'

    @property
    def months(self) -> list[str]:
        return month_range(self.start, self.end)

    def clipped_to(self, last_month: str | None) -> "Period":
        """The same period, its end moved back to the last month with data (a year in progress)."""
        if last_month is None or last_month >= self.end or last_month < self.start:
            return self
        return Period(self.start, last_month, self.label, self.kind)


def month_index(month: str) -> int:
    """Months since January of year 0: ``year * 12 + (month - 1)``.

    ``month_index('2025-03') - month_index('2024-12') == 3``. Raises ``ValueError``
    unless ``month`` is exactly ``'YYYY-MM'`` with MM in 01..12.
    """
    m = _MONTH.match(month) if isinstance(month, str) else None
    if not m or not 1 <= int(m[2]) <= 12:
        raise ValueError(f"month must be 'YYYY-MM', got {month!r}")
    return int(m[1]) * 12 + int(m[2]) - 1


def month_from_index(index: int) -> str:
    year, mon0 = divmod(index, 12)
    if not 0 <= year <= 9999:
        raise ValueError(f"month index {index} is outside years 0000-9999")
    return f"{year:04d}-{mon0 + 1:02d}"


def add_months(month: str, n: int) -> str:
    """``month`` shifted by ``n`` months (n may be negative)."""
    return month_from_index(month_index(month) + int(n))


def month_of(value) -> str | None:
    """The 'YYYY-MM' of a date, timestamp or ISO text; None for a missing value (open validity)."""
    try:
        if value is None or value != value:  # NaN and NaT are unequal to themselves
            return None
    except TypeError:  # pd.NA refuses to be a truth value: it is missing too
        return None
    if hasattr(value, "year") and hasattr(value, "month"):
        return f"{value.year:04d}-{value.month:02d}"
    return str(value)[:7]


def month_range(start: str, end: str) -> list[str]:
    return [month_from_index(i) for i in range(month_index(start), month_index(end) + 1)]


def parse_period(raw: str) -> Period:
    """Read '2025-07', '2025-Q3' or '2025'. Raises PeriodError for anything else."""
    value = (raw or "").strip()
    if m := _MONTH.match(value):
        year, mon = int(m[1]), int(m[2])
        if 1900 <= year <= 2200 and 1 <= mon <= 12:
            return Period(value, value, value, "month")
    elif m := _QUARTER.match(value):
        year, q = int(m[1]), int(m[2])
        if 1900 <= year <= 2200:
            start = f"{year:04d}-{3 * q - 2:02d}"
            return Period(start, add_months(start, 2), f"{year:04d}-Q{q}", "quarter")
    elif m := _YEAR.match(value):
        year = int(m[1])
        if 1900 <= year <= 2200:
            return Period(f"{year:04d}-01", f"{year:04d}-12", value, "year")
    raise PeriodError(
        f"Kỳ báo cáo không hợp lệ: {raw!r} (dùng YYYY-MM, YYYY-Qn hoặc YYYY) / "
        f"invalid period {raw!r} (use YYYY-MM, YYYY-Qn or YYYY)"
    )




def month_label(month: str, lang: str = "vi") -> str:
    """'2026-10' -> '10/2026' (both languages use month/year in Vietnam's documents)."""
    return f"{month[5:7]}/{month[:4]}"


def period_label(period: Period, lang: str = "vi") -> str:
    if period.kind == "month":
        return month_label(period.start, lang)
    year = period.label[:4]
    if period.kind == "quarter":
        q = period.label[-1]
        roman = {"1": "I", "2": "II", "3": "III", "4": "IV"}[q]
        return f"Quý {roman}/{year}" if lang == "vi" else f"Q{q} {year}"
    return f"Năm {year}" if lang == "vi" else year
