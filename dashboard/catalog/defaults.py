"""Every field the views read of an indicator, with a default derived from the required ones.

An indicator a department adds itself may give only its code, names, time aggregation and
direction. The pages still need a short name, unit words, gap sentences, decimals and so on,
and a missing one must never reach a page as NaN, None or "nan". ``complete(row)`` fills
them, and it is the one place that does: the store calls it before writing an indicator and
``dashboard.figures.indicators()`` calls it on every row it reads (rows written before the
defaults existed, or by hand, come out whole too).

Rows use the database's column names (``time_agg``, ``grp``), since both callers hold rows
of the ``indicators`` table.
"""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Any, Mapping

SHORT_NAME_LIMIT = 32
DEFAULT_DECIMALS = 1
DEFAULT_DISPLAY_UNIT = "%"
DEFAULT_GROUP = "other"
#: What a count is called when nothing says: not "đơn vị"/"units", which on these pages name
#: the administrative units ("Còn thiếu 17 đơn vị" would read as seventeen communes).
GENERIC_UNIT = {"vi": "trường hợp", "en": "cases"}
#: Generic words of earlier versions: a stored value equal to one is a default, not a choice.
LEGACY_GENERIC_UNIT = {"vi": "đơn vị", "en": "units"}
GENERIC_NUMERATOR = {"vi": "Tử số", "en": "Numerator"}
GENERIC_DENOMINATOR = {"vi": "Mẫu số", "en": "Denominator"}

#: Fields the views read, each with a default computed by ``_default``.
TEXT_FIELDS = ("short_vi", "short_en", "numerator_vi", "numerator_en", "denominator_vi", "denominator_en",
               "unit_vi", "unit_en", "gap_vi", "gap_en")

#: Words that open a rate's name and say nothing in a short one ("Tỷ lệ bệnh viện …" → "Bệnh viện …").
_RATE_OPENINGS = {
    "vi": ("tỷ lệ phần trăm ", "tỉ lệ phần trăm ", "tỷ lệ ", "tỉ lệ "),
    "en": ("percentage of ", "proportion of ", "share of ", "rate of ", "percent of "),
}

#: Nouns a Vietnamese count label starts with after "Số" ("Số trẻ tiêm đủ" counts "trẻ").
#: Longest first, so "bệnh viện" wins over a bare "bệnh".
_VI_COUNT_NOUNS = tuple(sorted((
    "người", "trẻ", "trẻ em", "bệnh viện", "bệnh nhân", "người bệnh", "cơ sở", "trạm y tế", "trạm", "hồ sơ",
    "lượt", "ca", "xã", "phường", "hộ", "hộ gia đình", "phụ nữ", "giường", "giường bệnh", "thủ tục", "văn bản",
    "đơn thuốc", "liều", "mẫu", "học sinh", "nhân viên", "cán bộ", "bác sĩ", "điều dưỡng", "phòng khám",
    "trung tâm", "đơn vị", "lần", "hồ sơ bệnh án", "bệnh án", "phiếu", "thẻ", "giao dịch", "dịch vụ",
), key=len, reverse=True))

_EN_COUNT_NOUNS = {
    "people", "persons", "children", "hospitals", "patients", "facilities", "stations", "dossiers", "files",
    "households", "women", "visits", "records", "doses", "beds", "cases", "staff", "doctors", "nurses",
    "procedures", "documents", "prescriptions", "communes", "units", "centres", "centers", "clinics",
    "transactions", "cards", "samples", "tests", "births", "deaths", "services",
}

#: Unit words of money: amounts may carry decimals, and are shown as tỷ/triệu.
MONEY_UNITS = {"đồng", "vnd", "vnđ", "triệu đồng", "tỷ đồng", "nghìn đồng", "ngàn đồng", "usd"}

_TRAILING_UNIT = re.compile(r"\(([^()]{1,16})\)\s*$")


def is_missing(value: Any) -> bool:
    """None, NaN (pandas), or blank text."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    try:  # pandas.NA / NaT, without importing pandas here
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str | None:
    if is_missing(value):
        return None
    return unicodedata.normalize("NFC", str(value)).strip()


def shorten(name: str, lang: str, limit: int = SHORT_NAME_LIMIT) -> str:
    """A name cut at a word boundary to at most `limit` characters ("…" marks the cut), without
    the "Tỷ lệ" / "Share of" a rate's full name opens with."""
    text = " ".join(name.split())
    lowered = text.lower()
    for opening in _RATE_OPENINGS.get(lang, ()):
        if lowered.startswith(opening) and len(text) > len(opening):
            text = text[len(opening):]
            text = text[0].upper() + text[1:]
            break
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if text[limit - 1] != " " and " " in cut:  # not already at a word's end: back to the last one
        cut = cut[:cut.rfind(" ")]
    return cut.rstrip(" ,;:-–(") + "…"


def unit_word(label: str | None, lang: str) -> str:
    """What the numerator counts, read off its label ("Số trẻ tiêm đủ" → "trẻ", "Hospital fees
    (VND)" → "VND", "Number of households …" → "households"), else a generic word."""
    text = _text(label)
    if not text:
        return GENERIC_UNIT[lang]
    lowered = text.lower()
    if lang == "vi":
        for opening in ("số lượng ", "số "):
            if lowered.startswith(opening):
                rest = lowered[len(opening):]
                for noun in _VI_COUNT_NOUNS:
                    if rest == noun or rest.startswith(noun + " "):
                        return noun
                break
    else:
        words = re.findall(r"[a-z]+", lowered)
        if len(words) > 2 and words[:2] == ["number", "of"]:
            return words[2]
        if words and words[0] in _EN_COUNT_NOUNS:
            return words[0]
    bracket = _TRAILING_UNIT.search(text)
    if bracket and not any(ch.isdigit() for ch in bracket.group(1)):
        return bracket.group(1).strip()
    return GENERIC_UNIT[lang]


def _lower_first(text: str) -> str:
    # "Số trẻ tiêm đủ" reads "số trẻ tiêm đủ" inside a sentence; an acronym ("HSSK …") stays.
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _braces_escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def gap_sentence(numerator_label: str | None, unit: str, lang: str) -> str:
    """A neutral sentence for what an indicator still misses, with {gap} for the number.

    The views fill {gap} with denominator − numerator (``wording.remainder_sentence``), beside
    the gap to the target they word themselves ("Còn thiếu 17 trẻ để đạt 95 %"); so the sentence
    names 100 %, never "the target", and the two never contradict each other."""
    label = _text(numerator_label)
    unit = _braces_escaped(unit)
    # "100 %" with the no-break space Vietnamese figures carry everywhere (formatting.percent)
    base = f"còn thiếu {{gap}} {unit} để đạt 100\u00a0%" if lang == "vi" else f"{{gap}} {unit} short of 100%"
    return f"{base} ({_braces_escaped(_lower_first(label))})" if label else base


def _legacy_gap_sentences(numerator_label: str | None, unit: str, lang: str) -> set[str]:
    """The default sentences of earlier versions ("… để đạt mục tiêu", "… short of the target"):
    they said "the target" of a number that is the remainder to 100 %, so they are replaced."""
    out = set()
    for label in {_text(numerator_label), None}:
        for word in {unit, LEGACY_GENERIC_UNIT[lang], GENERIC_UNIT[lang]}:
            word = _braces_escaped(word)
            base = f"còn thiếu {{gap}} {word} để đạt mục tiêu" if lang == "vi" else f"{{gap}} {word} short of the target"
            out.add(f"{base} ({_braces_escaped(_lower_first(label))})" if label else base)
    return out


def is_money(indicator: Mapping) -> bool:
    """True for an indicator counted in money (its amounts may carry decimals)."""
    for lang in ("vi", "en"):
        word = _text(indicator.get(f"unit_{lang}"))
        if word and word.lower() in MONEY_UNITS:
            return True
    return False


def _int_or(value: Any, default: int | None) -> int | None:
    if is_missing(value):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def default_of(row: Mapping, field: str) -> Any:
    """The default of one field, from the row's other (given or defaulted) fields."""
    if field in ("short_vi", "short_en"):
        lang = field[-2:]
        name = _text(row.get(f"name_{lang}")) or _text(row.get("name_vi")) or str(row.get("code") or "")
        return shorten(name, lang)
    if field in ("unit_vi", "unit_en"):
        lang = field[-2:]
        return unit_word(row.get(f"numerator_{lang}"), lang)
    if field in ("gap_vi", "gap_en"):
        lang = field[-2:]
        unit = _text(row.get(f"unit_{lang}")) or unit_word(row.get(f"numerator_{lang}"), lang)
        return gap_sentence(row.get(f"numerator_{lang}"), unit, lang)
    if field in ("numerator_vi", "numerator_en"):
        return GENERIC_NUMERATOR[field[-2:]]
    if field in ("denominator_vi", "denominator_en"):
        return GENERIC_DENOMINATOR[field[-2:]]
    raise KeyError(field)


def complete(row: Mapping) -> dict:
    """The row with every field the views read filled: given values kept (text in NFC),
    missing ones derived. Derivation order matters: unit words before gap sentences, and the
    gap reads the numerator label as given (not its generic default)."""
    out = dict(row)
    name_vi = _text(out.get("name_vi")) or str(out.get("code") or "")
    out["name_vi"] = name_vi
    out["name_en"] = _text(out.get("name_en")) or name_vi
    # In this order: unit words read the numerator label as given, gap sentences the unit
    # word, and only then do missing labels get their generic words.
    for field in ("short_vi", "short_en", "unit_vi", "unit_en", "gap_vi", "gap_en",
                  "numerator_vi", "numerator_en", "denominator_vi", "denominator_en"):
        value = _text(out.get(field))
        if value is not None and _is_legacy(out, field, value):
            value = None  # an earlier version's default, stored before it was corrected
        out[field] = value or default_of(out, field)
    out["time_agg"] = (_text(out.get("time_agg")) or "stock").lower()
    hib = out.get("higher_is_better")
    out["higher_is_better"] = True if is_missing(hib) else bool(hib)
    out["display_unit"] = _text(out.get("display_unit")) or DEFAULT_DISPLAY_UNIT
    out["decimals"] = _int_or(out.get("decimals"), DEFAULT_DECIMALS)
    out["grp"] = _text(out.get("grp")) or DEFAULT_GROUP
    out["headline"] = _int_or(out.get("headline"), None)
    out["sort_order"] = _int_or(out.get("sort_order"), 0)
    return out


def _is_legacy(row: Mapping, field: str, value: str) -> bool:
    """An earlier version's default: the generic unit "đơn vị"/"units" where the numerator
    label names none, or a gap sentence that called the remainder "the target"."""
    lang = field[-2:]
    if field in ("unit_vi", "unit_en"):
        return value == LEGACY_GENERIC_UNIT[lang] and unit_word(row.get(f"numerator_{lang}"), lang) == GENERIC_UNIT[lang]
    if field in ("gap_vi", "gap_en"):
        return _is_legacy_gap(row, field, value)
    return False


def _is_legacy_gap(row: Mapping, field: str, value: str) -> bool:
    lang = field[-2:]
    unit = _text(row.get(f"unit_{lang}")) or GENERIC_UNIT[lang]
    return value in _legacy_gap_sentences(row.get(f"numerator_{lang}"), unit, lang)


def is_derived(row: Mapping, field: str) -> bool:
    """True when the stored value of `field` is what ``complete`` would derive from the row
    anyway (or what an earlier version derived): a re-import that changes the name then
    re-derives it instead of keeping a short name cut from the old one."""
    value = _text(row.get(field))
    if value is None:
        return True
    if field in ("gap_vi", "gap_en"):
        lang = field[-2:]
        unit = _text(row.get(f"unit_{lang}")) or GENERIC_UNIT[lang]
        numerator = _text(row.get(f"numerator_{lang}"))
        candidates = {gap_sentence(numerator, unit, lang), gap_sentence(None, unit, lang)}
        return value in candidates or _is_legacy(row, field, value)
    return value == default_of(row, field) or _is_legacy(row, field, value)
