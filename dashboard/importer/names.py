"""Units and facilities found by the name people write, and periods in the spellings they use.

``fold`` compares names without case, diacritics, spacing or punctuation; ``strip_prefix``
drops the words that say what kind of place a name is (Xã, Phường, Thị trấn, Đặc khu, Khu
vực, TTYT, Trung tâm Y tế, Trạm Y tế, Bệnh viện …). :class:`UnitNames` resolves a written name
to one code, using (in order) the exact folded name, the name without its prefix, the kinds
of entity the indicator is reported by, the enclosing zone rows and the validity of the
units in the months read; anything left with more than one candidate is refused with the
candidates named.

``read_period`` reads "Tháng 1", "T1/2026", "01/2026", "1/2026", "Quý I/2026", "Năm 2026",
"2026-01", "202601", "2026Q3" and dates as a :class:`PeriodText` whose year may still be
missing (the caller supplies it from a title row or ``--year``).
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

_PUNCT = re.compile(r"[^\w]+", re.UNICODE)
_PARENS = re.compile(r"\([^()]*\)")


def fold(text) -> str:
    """'Xã  An Lão' -> 'xa an lao': lower case, no diacritics (đ -> d), words separated by one space."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFD", str(text))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = text.replace("đ", "d").replace("Đ", "D").casefold()
    return " ".join(_PUNCT.sub(" ", text).split())


#: Words that say what kind of place a name is, folded; longest first so "thi xa" wins over "xa".
PREFIXES = sorted({
    "trung tam y te", "ttyt", "tram y te", "tyt", "benh vien da khoa", "benh vien", "bvdk", "bv",
    "phong kham da khoa", "phong kham", "pkdk", "thi tran", "tt", "dac khu", "khu vuc", "kv", "phuong", "p",
    "xa", "thi xa", "thanh pho", "tp", "quan", "huyen", "tinh", "cum", "vung",
}, key=len, reverse=True)

_NUMBERING = re.compile(r"^\s*(?:(?P<roman>[IVXLC]+)|(?P<arabic>\d+(?:\.\d+)*)|(?P<letter>[a-zđ]))\s*[.)/:-]?\s+",
                        re.UNICODE)
_ONLY_NUMBERING = re.compile(r"^\s*(?:[IVXLC]+|\d+(?:\.\d+)*|[a-zđ])\s*[.)]?\s*$", re.UNICODE)
_BULLET = re.compile(r"^\s*[-+*•–·]+\s*")


def numbering(text) -> str | None:
    """The numbering a row starts with or holds alone: 'I', '2', '1.3', 'a' (None if none)."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return str(int(text)) if float(text).is_integer() else None
    s = str(text).strip()
    if _ONLY_NUMBERING.match(s):
        return s.rstrip(".)").strip()
    return None


def split_numbering(label: str) -> tuple[str | None, str]:
    """'I. Khu vực Một' -> ('I', 'Khu vực Một'); '- Xã Năm' -> (None, 'Xã Năm')."""
    s = _BULLET.sub("", label)
    m = _NUMBERING.match(s)
    if m and (m.group("roman") or m.group("arabic") or (m.group("letter") and s[1:2] in ".)")):
        return m.group(0).strip().rstrip(".)/:-").strip(), s[m.end():].strip()
    return None, s.strip()


def strip_prefix(folded: str) -> str:
    """The folded name without the words that say what kind of place it is (repeatedly:
    'ttyt khu vuc an lao' -> 'an lao'); the name itself if nothing would be left."""
    words = folded
    changed = True
    while changed:
        changed = False
        for p in PREFIXES:
            if words.startswith(p + " ") and len(words) > len(p) + 1:
                words = words[len(p) + 1:]
                changed = True
                break
    return words


#: Prefixes that say the same kind of place.
_PREFIX_GROUPS = [{"tram y te", "tyt"}, {"benh vien", "bv", "benh vien da khoa", "bvdk"}, {"trung tam y te", "ttyt"},
                  {"phong kham", "phong kham da khoa", "pkdk"}, {"thi tran", "tt"}, {"khu vuc", "kv"},
                  {"phuong", "p"}, {"thanh pho", "tp"}]


def prefix_group(folded: str) -> str | None:
    """The first prefix of a folded name, as its group ('tyt nam' -> 'tram y te')."""
    for p in PREFIXES:
        if folded.startswith(p + " "):
            for group in _PREFIX_GROUPS:
                if p in group:
                    return sorted(group, key=len)[-1]
            return p
    return None


def exact(text: str) -> str:
    """Lower case and single spaces, diacritics kept."""
    return " ".join(unicodedata.normalize("NFC", str(text)).casefold().split())


def strip_prefix_exact(text: str) -> str:
    """`exact` without the kind-of-place words, diacritics kept ('Xã Cẩm Giàng' -> 'cẩm giàng')."""
    words = exact(text).split(" ")
    stripped = strip_prefix(fold(text))
    n = len(stripped.split(" ")) if stripped else len(words)
    return " ".join(words[len(words) - n:]) if n <= len(words) else exact(text)


def roman_value(text: str) -> int | None:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    if not text or any(ch not in values for ch in text):
        return None
    total = 0
    for i, ch in enumerate(text):
        v = values[ch]
        total += -v if i + 1 < len(text) and values[text[i + 1]] > v else v
    return total


# --- periods --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PeriodText:
    """A period as a header writes it: kind 'month' | 'quarter' | 'year', its number, and the
    year if the text says it."""
    kind: str
    number: int          # month 1-12, quarter 1-4, or the year itself
    year: int | None

    def with_year(self, year: int | None) -> "PeriodText":
        return self if self.year is not None or year is None else PeriodText(self.kind, self.number, year)

    def months(self) -> list[str]:
        """The months covered (needs the year)."""
        assert self.year is not None
        if self.kind == "month":
            return [f"{self.year:04d}-{self.number:02d}"]
        if self.kind == "quarter":
            return [f"{self.year:04d}-{m:02d}" for m in range(3 * self.number - 2, 3 * self.number + 1)]
        return [f"{self.year:04d}-{m:02d}" for m in range(1, 13)]

    @property
    def label(self) -> str:
        y = "????" if self.year is None else f"{self.year:04d}"
        return {"month": f"{y}-{self.number:02d}", "quarter": f"{y}-Q{self.number}"}.get(self.kind, y)


_YEAR = r"((?:19|20|21)\d\d)"
_ROMAN_Q = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_P_MONTH_WORD = re.compile(r"^(?:thang|th|t|month|m)\s*(\d{1,2})(?:\s*(?:nam\s*)?" + _YEAR + r")?$")
_P_MONTH_NUM = re.compile(r"^(\d{1,2})\s+" + _YEAR + r"$")
_P_YEAR_MONTH = re.compile(r"^" + _YEAR + r"\s*(\d{2})$")
_P_QUARTER = re.compile(r"^(?:quy|q|quarter)\s*(i{1,3}|iv|[1-4])(?:\s*(?:nam\s*)?" + _YEAR + r")?$")
_P_YEAR_Q = re.compile(r"^" + _YEAR + r"\s*q\s*([1-4])$")
_P_YEAR = re.compile(r"^(?:nam|year)\s*" + _YEAR + r"$")
_YEAR_ANYWHERE = re.compile(r"(?<!\d)((?:19|20|21)\d\d)(?!\d)")


def read_period(value, bare_year: bool = False) -> PeriodText | None:
    """A header cell read as a period, or None. ``bare_year``: a lone 2026 is the year 2026
    (in a header row), not a number."""
    if value is None:
        return None
    if isinstance(value, datetime) or isinstance(value, date):
        return PeriodText("month", value.month, value.year)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if bare_year and float(value).is_integer() and 1900 <= value <= 2199:
            return PeriodText("year", int(value), int(value))
        return None
    f = fold(value)
    if not f:
        return None
    for pattern, kind in ((_P_MONTH_WORD, "month"), (_P_QUARTER, "quarter")):
        m = pattern.match(f)
        if m:
            raw = m.group(1)
            number = _ROMAN_Q[raw] if raw in _ROMAN_Q else int(raw)
            if kind == "month" and not 1 <= number <= 12:
                return None
            return PeriodText(kind, number, int(m.group(2)) if m.group(2) else None)
    m = _P_MONTH_NUM.match(f)        # '01/2026', '1/2026', '1-2026'
    if m and 1 <= int(m.group(1)) <= 12:
        return PeriodText("month", int(m.group(1)), int(m.group(2)))
    m = _P_YEAR_MONTH.match(f)       # '2026-01', '202601', '2026 01'
    if m and 1 <= int(m.group(2)) <= 12:
        return PeriodText("month", int(m.group(2)), int(m.group(1)))
    m = _P_YEAR_Q.match(f)           # '2026Q3', '2026-Q3'
    if m:
        return PeriodText("quarter", int(m.group(2)), int(m.group(1)))
    m = _P_YEAR.match(f) or (re.fullmatch(_YEAR, f) if bare_year else None)
    if m:
        return PeriodText("year", int(m.group(1)), int(m.group(1)))
    return None


def year_in(text) -> int | None:
    """The one year a title writes ('Báo cáo tháng 10 năm 2026' -> 2026); None if none or several."""
    years = {int(y) for y in _YEAR_ANYWHERE.findall(fold(text))} if text is not None else set()
    return years.pop() if len(years) == 1 else None


def period_in_title(text) -> PeriodText | None:
    """A period named inside a title ('BÁO CÁO THÁNG 10 NĂM 2026', 'Quý III/2026')."""
    f = fold(text)
    for m in re.finditer(r"(thang|quy)\s+(i{1,3}|iv|\d{1,2})\s*(?:nam\s*)?((?:19|20|21)\d\d)?", f):
        p = read_period(f"{m.group(1)} {m.group(2)} {m.group(3) or ''}".strip())
        if p is not None:
            return p.with_year(year_in(text))
    m = re.search(r"(?:^|\s)nam\s+((?:19|20|21)\d\d)", f)
    if m:
        return PeriodText("year", int(m.group(1)), int(m.group(1)))
    return None


# --- units by name --------------------------------------------------------------------------

@dataclass(frozen=True)
class Entity:
    code: str
    name: str
    kind: str                   # a unit level, or 'facility:<type>'
    ancestors: tuple[str, ...]  # nearest first
    valid_from: str | None
    valid_to: str | None

    def valid_in(self, month: str) -> bool:
        return not ((self.valid_from and month < self.valid_from) or (self.valid_to and month > self.valid_to))


@dataclass
class Resolved:
    code: str | None
    candidates: list[Entity]        # more than one: ambiguous; none: unknown
    suggestions: list[Entity]       # for an unknown name: the nearest names


class UnitNames:
    """Every unit and facility by folded name and by name without prefix."""

    def __init__(self, known, names: dict[str, str]):
        self.known = known
        self.entities: dict[str, Entity] = {}
        for code, info in known.units.items():
            self.entities[code] = Entity(code, names.get(code, code), info["level"], self._chain(code),
                                         info.get("valid_from"), info.get("valid_to"))
        for code, info in known.facilities.items():
            unit = info["unit_code"]
            vf, vt = known.validity(code)
            self.entities[code] = Entity(code, names.get(code, code), f"facility:{info['type']}",
                                         (unit, *self._chain(unit)), vf, vt)
        self.by_full: dict[str, list[Entity]] = {}
        self.by_bare: dict[str, list[Entity]] = {}
        self.by_plain: dict[str, list[Entity]] = {}   # without '(minh họa)', '(cũ)'…
        self.by_exact: dict[str, list[Entity]] = {}   # diacritics kept: Cẩm Giang is not Cẩm Giàng
        for e in self.entities.values():
            self.by_exact.setdefault(exact(e.name), []).append(e)
            self.by_exact.setdefault(strip_prefix_exact(e.name), []).append(e)
            full = fold(e.name)
            self.by_full.setdefault(full, []).append(e)
            self.by_bare.setdefault(strip_prefix(full), []).append(e)
            plain = fold(_PARENS.sub(" ", e.name))
            if plain != full:
                if plain not in self.by_full:
                    self.by_full[plain] = [e]
                self.by_plain.setdefault(strip_prefix(plain), []).append(e)

    def _chain(self, code: str) -> tuple[str, ...]:
        out, seen = [], {code}
        parent = self.known.units.get(code, {}).get("parent_code")
        while parent and parent not in seen:
            out.append(parent)
            seen.add(parent)
            parent = self.known.units.get(parent, {}).get("parent_code")
        return tuple(out)

    def depth(self, code: str) -> int:
        return len(self.entities[code].ancestors) if code in self.entities else 0

    def resolve(self, label: str, kinds: set[str] | None = None, within: Iterable[str] = (),
                months: Iterable[str] = ()) -> Resolved:
        """One code for a written name, or the candidates. ``kinds``: the kinds of entity
        acceptable here (None: any); ``within``: the enclosing zone rows' codes, innermost
        first; ``months``: the months the row's figures are for."""
        full = fold(split_numbering(label)[1])
        if not full:
            return Resolved(None, [], [])
        if label.strip() in self.entities:  # a code written where the name goes
            return Resolved(label.strip(), [], [])
        months = list(months)
        written = prefix_group(full)
        full = fold(_PARENS.sub(" ", split_numbering(label)[1])) or full
        written_exact = split_numbering(label)[1]
        for pool in (self.by_exact.get(exact(written_exact), []),
                     self.by_exact.get(strip_prefix_exact(written_exact), []),
                     self.by_full.get(full, []), self.by_bare.get(strip_prefix(full), []),
                     self.by_plain.get(strip_prefix(full), [])):
            found = self._narrow(pool, kinds, list(within), months)
            if len(found) > 1 and written:  # 'TYT Năm' is the station, not the commune
                same = [e for e in found if prefix_group(fold(e.name)) == written]
                found = same or found
            if len(found) == 1:
                return Resolved(found[0].code, [], [])
            if found:
                return Resolved(None, found, [])
        return Resolved(None, [], self.suggest(full, kinds))

    @staticmethod
    def _narrow(pool: list[Entity], kinds, within: list[str], months: list[str]) -> list[Entity]:
        found = [e for e in pool if kinds is None or e.kind in kinds]
        for zone in within:  # the innermost enclosing zone that decides
            inside = [e for e in found if zone in e.ancestors]
            if inside:
                found = inside
                break
        if len(found) > 1 and months:
            valid = [e for e in found if any(e.valid_in(m) for m in months)]
            found = valid or found
        return found

    def suggest(self, folded: str, kinds=None, n: int = 3) -> list[Entity]:
        bare = strip_prefix(folded)
        pool = {k: v for k, v in self.by_bare.items() if any(kinds is None or e.kind in kinds for e in v)}
        near = difflib.get_close_matches(bare, list(pool), n=n, cutoff=0.6)
        out: list[Entity] = []
        for k in near:
            out += [e for e in pool[k] if kinds is None or e.kind in kinds]
        return out[:n]


def shown(entities: Iterable[Entity], joiner: str = " / ") -> str:
    """"'Xã An Lão' (31402) / 'Xã An Lão' (31403)"."""
    return joiner.join(f"'{e.name}' ({e.code})" for e in entities)


def load_names(conn) -> dict[str, str]:
    from .. import sql

    names = {str(r.code): str(r.name) for r in sql.fetch_df(conn, "units").itertuples()}
    names.update({str(r.code): str(r.name) for r in sql.fetch_df(conn, "facilities").itertuples()})
    return names
