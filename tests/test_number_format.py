"""Vietnamese and English number formats (dashboard.formatting.number) equal Babel's own
formatting of the same value, rounded half up: the separators are applied by hand for speed, so
Babel stands here as the independent oracle."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import formatting as fmt

LOCALES = {"vi": "vi_VN", "en": "en_US"}


def babel(value: float, decimals: int, lang: str) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return format_decimal(abs(rounded) if rounded == 0 else rounded, format=pattern, locale=LOCALES[lang])


@pytest.mark.parametrize("value, decimals, vi, en", [
    (1165558, 0, "1.165.558", "1,165,558"),
    (85.3125, 1, "85,3", "85.3"),
    (3.25, 1, "3,3", "3.3"),  # half up, as people round by hand
    (-0.04, 1, "0,0", "0.0"),  # never "-0,0"
    (-1234567.5, 2, "-1.234.567,50", "-1,234,567.50"),
    (999.5, 0, "1.000", "1,000"),
    (0.5, 0, "1", "1"),
    (12, 3, "12,000", "12.000"),
])
def test_known_numbers(value, decimals, vi, en):
    assert fmt.number(value, decimals, "vi") == vi
    assert fmt.number(value, decimals, "en") == en


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False),
                 st.integers(min_value=-10 ** 15, max_value=10 ** 15)),
       st.integers(min_value=0, max_value=6), st.sampled_from(["vi", "en"]))
def test_every_number_is_written_as_babel_writes_it(value, decimals, lang):
    assert fmt.number(value, decimals, lang) == babel(value, decimals, lang)


def test_missing_is_not_zero():
    for missing in (None, float("nan"), "chưa báo cáo", float("inf")):
        assert fmt.number(missing) == "—"
