"""Reading one cell: text, codes, numbers, counts, months, dates, booleans.

Each reader returns the value (None for an empty cell) or raises :class:`CellError` with a
message key; the checks turn that into an issue naming file, row and column. The rules are
strict on purpose: a number is never guessed (``46.650`` is refused until the file's
convention is stated), digits are ASCII only, and nothing that a spreadsheet would run as a
formula or that hides a control character gets in.
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime

from .formats import CODE_LIMIT

TRUE_WORDS = {"true", "1", "yes", "y", "có", "co", "x", "đúng"}
FALSE_WORDS = {"false", "0", "no", "n", "không", "khong", "sai"}

#: Control characters refused anywhere: C0 (tab, CR and LF included), DEL, C1, the line and
#: paragraph separators, and the invisible direction marks and overrides that make a name
#: read differently from what is stored.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: What a spreadsheet runs as a formula when a cell starts with it (tab and CR are controls).
FORMULA_START = ("=", "+", "-", "@")
_SPACES = " \u00a0\u202f\u2009"

PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
DOT_GROUPS = re.compile(r"[+-]?[1-9][0-9]{0,2}(?:\.[0-9]{3})+")         # 46.650, 1.234.567
_COMMA_GROUPS = re.compile(r"[+-]?[1-9][0-9]{0,2}(?:,[0-9]{3})+")       # 46,650, 1,234,567
_VI_FULL = re.compile(r"[+-]?[1-9][0-9]{0,2}(?:\.[0-9]{3})+,[0-9]+")    # 1.234,5
_EN_FULL = re.compile(r"[+-]?[1-9][0-9]{0,2}(?:,[0-9]{3})+\.[0-9]+")    # 1,234.5
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")                      # 85,3
_VI = re.compile(r"[+-]?(?:[0-9]+|[1-9][0-9]{0,2}(?:\.[0-9]{3})+)(?:,[0-9]+)?")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_ZERO_PADDED = re.compile(r"^0+$")


class CellError(Exception):
    """A cell that cannot be read: a message key and its parameters."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key, self.params = key, params


class BadCell:
    """A cell a reader could not even hand over as text (a control character, an Excel error
    value): it fails whichever reader it reaches, so the issue names its column."""

    __slots__ = ("raw", "key", "params")

    def __init__(self, raw: str, key: str, **params):
        self.raw, self.key, self.params = raw, key, params

    def __str__(self) -> str:
        return self.raw

    def __repr__(self) -> str:
        return repr(self.raw)

    def fail(self):
        raise CellError(self.key, **self.params)


def nfc(value):
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.replace("\ufeff", "")).strip()
    return value


def control_problem(text: str) -> BadCell | None:
    m = CONTROL.search(text)
    if m is None:
        return None
    return BadCell(text, "imp_control_char", char=f"U+{ord(m.group()):04X}", position=m.start() + 1)


def text_cell(raw: str) -> str | BadCell | None:
    """A text cell as read from a file: trimmed, NFC, None when blank; a :class:`BadCell`
    when it holds a control character (checked before trimming: a tab or CR at either end is
    one too)."""
    if raw.isascii():
        if not raw.isprintable():
            return control_problem(raw) or (raw.strip() or None)
        return raw.strip() or None
    bad = control_problem(raw)
    if bad is not None:
        return bad
    return nfc(raw) or None


def _non_ascii_digit(text: str) -> str | None:
    for ch in text:
        if ch.isdigit() and not ch.isascii():
            return ch
    return None


def _check_digits(text: str) -> None:
    odd = _non_ascii_digit(text)
    if odd is not None:
        raise CellError("imp_non_ascii_digit", digit=odd)


def _check_formula(text: str) -> None:
    if text.startswith(FORMULA_START):
        raise CellError("imp_formula", char=text[0])


def _unbox(value):
    if isinstance(value, BadCell):
        value.fail()
    return value


def read_text(value) -> str | None:
    """Free text (names, labels, sources): never a formula."""
    value = _unbox(value)
    if value is None or value == "":
        return None
    if not isinstance(value, str):  # a number or a date typed into a text column
        value = str(value)
    text = nfc(value)
    if not text:
        return None
    bad = control_problem(text)
    if bad is not None:
        bad.fail()
    _check_formula(text)
    return text


def read_code(value) -> tuple[str | None, bool]:
    """A code as text; (code, was_a_number)."""
    value = _unbox(value)
    if value is None or value == "":
        return None, False
    if isinstance(value, bool) or isinstance(value, (datetime, date)):
        raise CellError("imp_bad_code")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or not float(value).is_integer():
            raise CellError("imp_code_fraction")
        if value < 0:
            raise CellError("imp_formula", char="-")
        return str(int(value)), True
    code = read_text(value)
    if code is None:
        return None, False
    _check_digits(code)
    if len(code) > CODE_LIMIT:
        raise CellError("imp_code_too_long", limit=CODE_LIMIT)
    return code, False


# --- numbers --------------------------------------------------------------------------------

def _decimal_text(text: str) -> str:
    """'46.650' -> '46.65', '12.000' -> '12': a decimal written without trailing zeros."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _plain_problem(text: str) -> CellError:
    """Why `text` is not a plain number, with the fix spelled out where one reading exists."""
    squeezed = "".join(ch for ch in text if ch not in _SPACES)
    if squeezed != text and squeezed and (PLAIN_NUMBER.fullmatch(squeezed) or DOT_GROUPS.fullmatch(squeezed)
                                          or _COMMA_GROUPS.fullmatch(squeezed)):
        plain = squeezed if PLAIN_NUMBER.fullmatch(squeezed) else squeezed.replace(".", "").replace(",", "")
        return CellError("imp_number_grouped", plain=plain)
    if DOT_GROUPS.fullmatch(text):      # 1.234.567: only grouping makes sense of it
        return CellError("imp_number_grouped", plain=text.replace(".", ""))
    if _COMMA_GROUPS.fullmatch(text):    # 46,650: grouped thousands, or a decimal comma?
        grouped = text.replace(",", "")
        if text.count(",") == 1:
            return CellError("imp_number_ambiguous", grouped=grouped, decimal=_decimal_text(text.replace(",", ".")))
        return CellError("imp_number_grouped", plain=grouped)
    if _VI_FULL.fullmatch(text):         # 1.234,5
        return CellError("imp_decimal_comma", plain=text.replace(".", "").replace(",", "."))
    if _EN_FULL.fullmatch(text):         # 1,234.5
        return CellError("imp_number_grouped", plain=text.replace(",", ""))
    if _DECIMAL_COMMA.fullmatch(text):   # 85,3
        return CellError("imp_decimal_comma", plain=text.replace(",", "."))
    return CellError("imp_not_number")


def _vi_problem(text: str) -> CellError:
    squeezed = "".join(ch for ch in text if ch not in _SPACES)
    if squeezed != text and _VI.fullmatch(squeezed):
        return CellError("imp_number_grouped", plain=_vi_plain(squeezed).replace(".", ","))
    if PLAIN_NUMBER.fullmatch(text) and "." in text and "e" not in text.lower():
        # 85.3 in a file said to group thousands with '.': the writer meant another convention.
        return CellError("imp_number_vi_dot", vi=text.replace(".", ","))
    return CellError("imp_not_number")


def _vi_plain(text: str) -> str:
    return text.replace(".", "").replace(",", ".")


def _finite(number: float) -> float:
    if not math.isfinite(number):
        raise CellError("imp_not_number")
    return number


def read_number(value, number_format: str = "plain", grouping: bool = True) -> float | None:
    """A number. Spreadsheet number cells are used as they are; text follows the file's
    convention (``number_format``) and is refused whenever it could be read two ways.
    ``grouping=False`` for a column where thousands cannot occur (a latitude of 106.625 is
    not 106625), so a dot there is a decimal point."""
    value = _unbox(value)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or isinstance(value, (datetime, date)):
        raise CellError("imp_not_number")
    if isinstance(value, (int, float)):
        return _finite(float(value))
    text = nfc(str(value))
    if not text:
        return None
    _check_digits(text)
    if number_format == "vi":
        if not _VI.fullmatch(text):
            raise _vi_problem(text)
        return _finite(float(_vi_plain(text)))
    if not PLAIN_NUMBER.fullmatch(text):
        raise _plain_problem(text)
    if grouping and DOT_GROUPS.fullmatch(text):  # 46.650: forty-six thousand six hundred and fifty, or 46.65?
        raise CellError("imp_number_ambiguous", grouped=text.replace(".", ""), decimal=_decimal_text(text))
    return _finite(float(text))


def read_count(value, number_format: str = "plain") -> float | None:
    """A number of people, facilities or dossiers: whole."""
    number = read_number(value, number_format)
    if number is not None and not number.is_integer():
        raise CellError("imp_count_fraction")
    return number


def read_int(value, low: int, high: int, number_format: str = "plain") -> int | None:
    number = read_number(value, number_format)
    if number is None:
        return None
    if not number.is_integer() or not low <= number <= high:
        raise CellError("imp_not_integer", low=low, high=high)
    return int(number)


# --- months, dates, booleans ----------------------------------------------------------------

def read_month(value, key: str = "imp_bad_month") -> str | None:
    value = _unbox(value)
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date)):  # Excel turns '2025-07' into 1 July 2025
        return f"{value.year:04d}-{value.month:02d}"
    text = nfc(str(value))
    _check_digits(text)
    m = _MONTH.fullmatch(text)
    if not m or not (1900 <= int(m[1]) <= 2200 and 1 <= int(m[2]) <= 12):
        raise CellError(key)
    return text


def read_date(value) -> date | None:
    value = _unbox(value)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = nfc(str(value))
    _check_digits(text)
    m = _DATE.fullmatch(text)
    try:
        if not m:
            raise ValueError
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise CellError("imp_bad_date") from None


def read_bool(value) -> bool | None:
    value = _unbox(value)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError("imp_bad_bool")


def zero_padded(number_format: str | None) -> bool:
    return bool(number_format) and bool(_ZERO_PADDED.match(number_format))
