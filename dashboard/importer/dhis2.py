"""DHIS2 dataValueSets in and out, through a small YAML mapping.

A mapping says which data element (and category option combo) is an indicator's numerator
or its denominator, and which DHIS2 org unit (uid or code) is which unit::

    indicators:
      stockind:
        numerator: {dataElement: fbfJHSPpUQD, categoryOptionCombo: HllvX50cXC0}
        denominator: cYeuwXTCPkU          # a data element alone: any category option combo
    org_units:
      DiszpKrYNg8: "00004"                # uid or code -> unit code
    # org units written with our own unit codes need no line

``open_dhis2`` reads a dataValueSet (JSON ``{"dataValues": [...]}`` or the CSV DHIS2 exports:
``dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value,…``, header
optional) into long rows for ``values.check_values`` and the one loader: the two data
values of a pair become one row; periods ``202610``, ``2026Q3`` and ``2026`` (quarters and
years only for stock indicators, at their last month). ``export_dhis2`` writes figures back
as a dataValueSet with the same mapping.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .cells import CellError, read_number
from .formats import FORMATS
from .readers import Table, _scan_bytes
from .report import Issue, IssueLog

_CSV_COLUMNS = ("dataelement", "period", "orgunit", "categoryoptioncombo", "attributeoptioncombo", "value",
                "storedby", "lastupdated", "comment", "followup")
_ALIASES = {"de": "dataelement", "dataelementid": "dataelement", "pe": "period", "ou": "orgunit",
            "orgunitid": "orgunit", "catoptcombo": "categoryoptioncombo", "coc": "categoryoptioncombo",
            "attroptcombo": "attributeoptioncombo", "aoc": "attributeoptioncombo"}
_MONTH = re.compile(r"^(\d{4})(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def dhis2_period(pe: str) -> tuple[str, list[str]] | None:
    """DHIS2 period id -> (kind, months): '202610' -> ('month', ['2026-10'])."""
    pe = (pe or "").strip()
    m = _MONTH.match(pe)
    if m and 1 <= int(m.group(2)) <= 12:
        return "month", [f"{m.group(1)}-{m.group(2)}"]
    m = _QUARTER.match(pe)
    if m:
        q = int(m.group(2))
        return "quarter", [f"{m.group(1)}-{mo:02d}" for mo in range(3 * q - 2, 3 * q + 1)]
    m = _YEAR.match(pe)
    if m:
        return "year", [f"{m.group(1)}-{mo:02d}" for mo in range(1, 13)]
    return None


def period_id(period: str) -> str:
    """Our period ('2026-10', '2026-Q3', '2026') as DHIS2 writes it ('202610', '2026Q3', '2026')."""
    return period.replace("-Q", "Q").replace("-", "")


@dataclass
class Dhis2Mapping:
    #: (dataElement, categoryOptionCombo or None) -> (indicator, part)
    elements: dict[tuple[str, str | None], tuple[str, str]] = field(default_factory=dict)
    #: indicator -> {part: (dataElement, coc or None)}
    by_indicator: dict[str, dict[str, tuple[str, str | None]]] = field(default_factory=dict)
    org_units: dict[str, str] = field(default_factory=dict)     # DHIS2 uid/code -> unit code

    @classmethod
    def read(cls, path: Path) -> "Dhis2Mapping":
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not isinstance(data.get("indicators"), dict):
            raise ValueError("a DHIS2 mapping needs 'indicators: {code: {numerator: …, denominator: …}}'")
        out = cls(org_units={str(k): str(v) for k, v in (data.get("org_units") or {}).items()})
        for ind, parts in data["indicators"].items():
            if not isinstance(parts, dict) or not {"numerator", "denominator"} <= set(parts):
                raise ValueError(f"indicator {ind}: both numerator and denominator are needed")
            for part in ("numerator", "denominator"):
                spec = parts[part]
                if isinstance(spec, dict):
                    de, coc = str(spec["dataElement"]), spec.get("categoryOptionCombo")
                else:
                    de, _, coc = str(spec).partition(".")
                key = (de, str(coc) if coc else None)
                if key in out.elements:
                    raise ValueError(f"{de} is mapped twice")
                out.elements[key] = (str(ind), part)
                out.by_indicator.setdefault(str(ind), {})[part] = key
        return out

    def element(self, de: str, coc: str | None) -> tuple[str, str] | None:
        return self.elements.get((de, coc)) or self.elements.get((de, None))

    def unit(self, ou: str, known) -> str | None:
        if ou in self.org_units:
            return self.org_units[ou]
        if ou in known.units or ou in known.facilities:
            return ou
        return None


class Dhis2Issues(IssueLog):
    """Issues of long rows pointing back to the data values they were paired from."""

    def __init__(self, report, name):
        super().__init__(report, name, cell_refs=False)
        self.origins: list[int] = [0]

    def make(self, key, line=None, column=None, value=None, params=None) -> Issue:
        if line is not None and 0 < line < len(self.origins):
            line = self.origins[line]
        return Issue(self.name, key, dict(params or {}), line, column, value)


def _records(path: Path, issues: IssueLog) -> list[tuple[int, dict]] | None:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        issues.error("imp_not_utf8", encoding="?")
        return None
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            issues.error("imp_dhis2_bad_json", detail=str(exc)[:200])
            return None
        values = data.get("dataValues") if isinstance(data, dict) else None
        if not isinstance(values, list):
            issues.error("imp_dhis2_bad_json", detail="no dataValues list")
            return None
        top = {k: data.get(k) for k in ("period", "orgUnit", "attributeOptionCombo") if data.get(k)}
        out = []
        for i, dv in enumerate(values, start=1):
            dv = {**top, **dv} if isinstance(dv, dict) else {}
            out.append((i, {"dataelement": dv.get("dataElement"), "period": dv.get("period"),
                            "orgunit": dv.get("orgUnit"), "categoryoptioncombo": dv.get("categoryOptionCombo"),
                            "value": dv.get("value"), "deleted": dv.get("deleted")}))
        return out
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        issues.error("imp_empty_file")
        return None
    head = [_ALIASES.get(re.sub(r"[^a-z]", "", (c or "").lower()), re.sub(r"[^a-z]", "", (c or "").lower()))
            for c in rows[0]]
    start = 1
    if "dataelement" not in head:
        if len(rows[0]) < 6 or dhis2_period(rows[0][1]) is None:
            issues.error("imp_dhis2_bad_header", line=1, columns=", ".join(_CSV_COLUMNS[:6]))
            return None
        head, start = list(_CSV_COLUMNS), 0   # DHIS2 also writes and reads CSV without a header
    missing = [c for c in ("dataelement", "period", "orgunit", "value") if c not in head]
    if missing:
        issues.error("imp_header_missing", line=1, columns=", ".join(missing))
        return None
    out = []
    for n, row in enumerate(rows[start:], start=start + 1):
        if not any(c.strip() for c in row):
            continue
        out.append((n, {h: (row[i].strip() or None) if i < len(row) else None for i, h in enumerate(head)}))
    return out


def open_dhis2(path: Path, display: str, known, mapping: Dhis2Mapping, issues: Dhis2Issues,
               number_format: str = "plain") -> Table | None:
    """A dataValueSet as a :class:`Table` of long rows (pairs joined), or None with issues."""
    if not path.is_file():
        issues.error("imp_file_not_found")
        return None
    records = _records(path, issues)
    if records is None:
        return None
    pairs: dict[tuple[str, str, str], dict[str, tuple[float, int]]] = {}
    failed = False
    for line, r in records:
        de, pe, ou, coc = r.get("dataelement"), r.get("period"), r.get("orgunit"), r.get("categoryoptioncombo")
        if str(r.get("deleted")).lower() == "true":
            continue
        target = mapping.element(str(de or ""), coc)
        if target is None:
            continue  # a data element this dashboard does not follow
        ind, part = target
        period = dhis2_period(str(pe or ""))
        if period is None:
            issues.error("imp_dhis2_bad_period", line, "period", pe)
            failed = True
            continue
        kind, months = period
        if kind != "month":
            if known.indicators.get(ind, {}).get("time_agg") != "stock":
                issues.error("imp_wide_flow_period", line, "period", pe, period=pe)
                failed = True
                continue
        unit = mapping.unit(str(ou or ""), known)
        if unit is None:
            issues.error("imp_dhis2_unknown_org_unit", line, "orgUnit", ou)
            failed = True
            continue
        try:
            value = read_number(r.get("value"), number_format)
        except CellError as exc:
            issues.error(exc.key, line, "value", r.get("value"), **exc.params)
            failed = True
            continue
        if value is None:
            continue
        key = (ind, unit, months[-1])
        slot = pairs.setdefault(key, {})
        if part in slot:
            issues.error("imp_dhis2_twice", line, "value", r.get("value"), first_line=slot[part][1])
            failed = True
            continue
        slot[part] = (value, line)
    rows = []
    for (ind, unit, month), slot in pairs.items():
        if "numerator" not in slot or "denominator" not in slot:
            have = slot.get("numerator") or slot.get("denominator")
            issues.error("imp_dhis2_half_pair", have[1], "value", have[0], indicator=ind, unit=unit, month=month,
                         missing="mẫu số" if "denominator" not in slot else "tử số",
                         missing_en="denominator" if "denominator" not in slot else "numerator")
            failed = True
            continue
        issues.origins.append(slot["numerator"][1])
        rows.append((len(issues.origins) - 1, [ind, unit, month, slot["numerator"][0], slot["denominator"][0]]))
    if failed and not rows:
        return None
    return Table(display, str(path.resolve()), _scan_bytes(path)[0], False, list(FORMATS["values"].required), 0,
                 iter(rows), len(rows), lambda: 0)


def export_dhis2(conn, mapping: Dhis2Mapping, indicators: list[str], months: list[str], fmt: str = "json") -> str:
    """The stored monthly figures of `indicators` in `months` as a dataValueSet (JSON or CSV),
    two data values per figure, org units written back through the mapping."""
    from sqlalchemy import bindparam, text

    back = {}
    for ou, unit in mapping.org_units.items():
        back.setdefault(unit, ou)
    stmt = text("SELECT indicator_code, period, entity_code, numerator, denominator FROM kpi_values "
                "WHERE indicator_code IN :inds AND period IN :months "
                "ORDER BY indicator_code, period, entity_code").bindparams(bindparam("inds", expanding=True),
                                                                          bindparam("months", expanding=True))
    values = []
    for ind, period, entity, num, den in conn.execute(stmt, {"inds": list(indicators), "months": list(months)}):
        parts = mapping.by_indicator.get(ind)
        if not parts:
            continue
        for part, number in (("numerator", num), ("denominator", den)):
            de, coc = parts[part]
            dv = {"dataElement": de, "period": period_id(period), "orgUnit": back.get(entity, entity)}
            if coc:
                dv["categoryOptionCombo"] = coc
            dv["value"] = _plain(float(number))
            values.append(dv)
    if fmt == "json":
        return json.dumps({"dataValues": values}, ensure_ascii=False, indent=1)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(_CSV_COLUMNS[:6])
    for dv in values:
        w.writerow([dv["dataElement"], dv["period"], dv["orgUnit"], dv.get("categoryOptionCombo", ""), "",
                    dv["value"]])
    return out.getvalue()


def _plain(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)
