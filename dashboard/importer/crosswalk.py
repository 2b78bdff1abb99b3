"""``dashboard import crosswalk``: old unit → new unit links, and the old units themselves.

Two formats, told apart by the header (docs/data-formats.md, "Crosswalk"):

* **generic**: ``old_code,new_code,effective[,share,basis,old_name,old_level,old_parent]``,
  one link per row. With ``old_name`` (and ``old_level``) the old unit is created, valid until
  the day before ``effective`` and keyed ``<code>@<last month>`` (``unitkeys.ended_key``);
  without it the old code must name a stored unit valid the month before ``effective``.
* **national**: the columns of ``geodata/vn_commune_crosswalk_pre2025_to_2025.csv.gz``
  (``old_ward_code``, ``old_ward``, ``old_district_code``, ``old_district``,
  ``old_province_code``, ``new_ward_code``, ``new_ward``, ``new_province_code``, ``divided``,
  ``default``). The old provinces (names from ``geodata/vn_pre2025_provinces.csv``), old
  districts and old communes are created with ``valid_to`` 2025-06-30; links go from 2025-07-01:

  - old commune → new commune: share 1 (a commune not divided has exactly one successor), NULL
    where ``divided`` (apportioned by the roll-up's documented rule);
  - old district → the new communes its communes went to: share = the fraction of the
    district's communes going there (a divided commune counted 1/k towards each of its k new
    communes), basis "tỷ lệ số xã"; an island district without communes → its new commune, 1;
  - old province → new province: 1 when every one of its communes went there, else NULL.

A link whose new unit is not in the database is skipped, with one warning counting them (new
units are never created here). By default only the old units feeding a loaded link are
created; ``all_units`` creates every old unit of the file. Rows equal to what is stored are
not written again, so a re-import changes nothing. Everything goes through the one loader
(``load.load``): one transaction, one ``data_loads`` row (kind ``crosswalk``), every row it
replaces kept for ``dashboard loads undo``.
"""
from __future__ import annotations

import csv
import gzip
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine

from .. import store, unitkeys
from .cells import read_bool, read_date, read_number
from .checks import Batch, Header, Row, each_row
from .known import Known
from .readers import open_table
from .report import FileResult, ImportProgress, ImportReport, IssueLog

GEODATA = Path(__file__).resolve().parent.parent.parent / "geodata"
NATIONAL_FILE = GEODATA / "vn_commune_crosswalk_pre2025_to_2025.csv.gz"
PROVINCES_FILE = GEODATA / "vn_pre2025_provinces.csv"

REFORM = date(2025, 7, 1)
OLD_VALID_TO = REFORM - timedelta(days=1)
DISTRICT_BASIS = "tỷ lệ số xã"

NATIONAL_COLUMNS = ("old_ward_code", "old_ward", "old_district_code", "old_district", "old_province_code",
                    "new_ward_code", "new_ward", "new_province_code", "divided", "default")
GENERIC_REQUIRED = ("old_code", "new_code", "effective")
GENERIC_OPTIONAL = ("share", "basis", "old_name", "old_level", "old_parent")
LEVELS = store.UNIT_LEVELS


def old_province_names() -> dict[str, str]:
    """Pre-2025 province code -> Vietnamese name (63), from the product's geodata."""
    with open(PROVINCES_FILE, encoding="utf-8", newline="") as handle:
        return {r["code"]: r["name"] for r in csv.DictReader(handle)}


@dataclass
class Crosswalk:
    """What a crosswalk file asks for: old units to write, links to write (keys), and what was skipped."""
    units: dict[str, dict] = field(default_factory=dict)     # key -> units row
    links: dict[tuple[str, str], dict] = field(default_factory=dict)
    skipped_links: int = 0
    skipped_units: int = 0
    absent: set[str] = field(default_factory=set)            # new codes not in the database


def _month_before(day: date) -> str:
    return unitkeys.month_of(day - timedelta(days=1))


class _Keys:
    """Keys of old units: a stored unit of that code that ended in that month keeps its key
    (whatever it is); otherwise ``code@YYYY-MM``."""

    def __init__(self, known: Known):
        self.known = known
        self.resolver = unitkeys.Resolver((k, u["valid_from"], u["valid_to"]) for k, u in known.units.items())

    def old(self, code: str, valid_to: date) -> str:
        last = unitkeys.month_of(valid_to)
        for key in self.resolver.candidates(code):
            span = self.resolver.span(key)
            if span.valid_to == last:
                return key
        return unitkeys.ended_key(code, valid_to)

    def new(self, code: str, effective: date, level: str | None = None) -> str | None:
        """The stored unit of `code` valid in the month of `effective` (of `level`), or None."""
        at = unitkeys.month_of(effective)
        for key in self.resolver.candidates(code):
            span = self.resolver.span(key)
            if span.holds(at) and (level is None or self.known.units[key]["level"] == level):
                return key
        return None

    def existing(self, code: str, month: str) -> str | None:
        for key in self.resolver.candidates(code):
            if self.resolver.span(key).holds(month):
                return key
        return None


def _unit_row(key: str, name: str, level: str, parent: str | None, valid_to: date) -> dict:
    """An old unit's row; a stored unit keeps its own valid_from (the loader lays it over)."""
    return {"code": key, "name": name, "level": level, "parent_code": parent, "valid_from": None,
            "valid_to": valid_to}


# --- the national format ----------------------------------------------------------------

def _national(batch: Batch, table, header: Header, issues: IssueLog, file: FileResult, all_units: bool) -> Crosswalk:
    known = batch.known
    keys = _Keys(known)
    names = old_province_names()
    out = Crosswalk()
    # First pass: every row checked, kept as plain tuples.
    rows = []
    ward_seen: dict[str, tuple[int, str, str]] = {}      # old ward -> (line, name, district)
    district_seen: dict[str, tuple[int, str, str]] = {}  # old district -> (line, name, province)
    pairs: dict[tuple[str, str], int] = {}
    for line, cells in each_row(table, header, issues, batch.progress):
        row = Row(line, cells, header.columns, issues)
        ward, _ = row.code("old_ward_code", required=False)
        ward_name = row.text("old_ward", required=ward is not None)
        district, _ = row.code("old_district_code")
        district_name = row.text("old_district", required=True)
        province, _ = row.code("old_province_code")
        new_ward, _ = row.code("new_ward_code")
        new_province, _ = row.code("new_province_code")
        divided = row.get("divided", read_bool, required=True)
        if province is not None and province not in names:
            row.fail("imp_xw_unknown_old_province", "old_province_code", province, known=len(names))
        if ward is not None and ward in ward_seen:
            first_line, first_name, first_district = ward_seen[ward]
            if district is not None and district != first_district:
                row.fail("imp_xw_conflict", "old_district_code", district, code=ward, first_line=first_line,
                         first=first_district)
            elif ward_name is not None and ward_name != first_name:
                row.fail("imp_xw_conflict", "old_ward", ward_name, code=ward, first_line=first_line, first=first_name)
        if district is not None and district in district_seen:
            first_line, first_name, first_province = district_seen[district]
            if province is not None and province != first_province:
                row.fail("imp_xw_conflict", "old_province_code", province, code=district, first_line=first_line,
                         first=first_province)
            elif district_name is not None and district_name != first_name:
                row.fail("imp_xw_conflict", "old_district", district_name, code=district, first_line=first_line,
                         first=first_name)
        pair = (ward or f"@{district}", new_ward)
        if new_ward is not None and pair in pairs:
            row.fail("imp_duplicate", "new_ward_code", None, dup_key=f"{pair[0]}/{new_ward}", first_line=pairs[pair])
        if row.bad:
            continue
        pairs[pair] = line
        if ward is not None:
            ward_seen.setdefault(ward, (line, ward_name, district))
        district_seen.setdefault(district, (line, district_name, province))
        rows.append((line, ward, ward_name, district, district_name, province, new_ward, new_province, divided))
        file.rows += 1
    if batch.report.errors:
        return out
    # A commune not divided has exactly one successor; a divided one more than one.
    successors: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if r[1] is not None:
            successors.setdefault(r[1], []).append(i)
    for ward, ix in successors.items():
        flags = {rows[i][8] for i in ix}
        if len(flags) > 1:
            Row(rows[ix[-1]][0], [], header.columns, issues).fail(
                "imp_xw_divided_mixed", "divided", None, code=ward, first_line=rows[ix[0]][0])
        elif flags == {False} and len(ix) > 1:
            Row(rows[ix[1]][0], [], header.columns, issues).fail(
                "imp_xw_not_divided", "divided", None, code=ward, first_line=rows[ix[0]][0], count=len(ix))
    if batch.report.errors:
        return out

    # New units as stored (never created here).
    new_commune = {c: keys.new(c, REFORM, "commune") for c in {r[6] for r in rows}}
    new_province = {c: keys.new(c, REFORM, "province") for c in {r[7] for r in rows}}
    out.absent = {c for c, k in new_commune.items() if k is None} | {c for c, k in new_province.items() if k is None}

    ward_key = {w: keys.old(w, OLD_VALID_TO) for w in successors}
    district_key = {d: keys.old(d, OLD_VALID_TO) for d in district_seen}
    province_key = {p: keys.old(p, OLD_VALID_TO) for p in {r[5] for r in rows}}

    def link(old: str, new: str, share, basis=None) -> None:
        out.links[(old, new)] = {"old_code": old, "new_code": new, "effective": REFORM,
                                 "share": None if share is None else float(share),
                                 "basis": basis}

    fed: set[str] = set()   # old keys feeding at least one loaded link
    skipped = 0
    # old commune -> new commune
    for ward, ix in successors.items():
        divided = rows[ix[0]][8]
        for i in ix:
            target = new_commune[rows[i][6]]
            if target is None:
                skipped += 1
                continue
            link(ward_key[ward], target, None if divided else 1.0)
            fed.add(ward_key[ward])
    # old district -> new communes, by the share of its communes (a divided one counted 1/k each)
    district_rows: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        district_rows.setdefault(r[3], []).append(i)
    for district, ix in district_rows.items():
        weights: dict[str, float] = {}
        wards = {rows[i][1] for i in ix if rows[i][1] is not None}
        if not wards:  # an island district without communes: its rows go straight to new communes
            for i in ix:
                target = new_commune[rows[i][6]]
                if target is None:
                    skipped += 1
                    continue
                link(district_key[district], target, 1.0 / len(ix))
                fed.add(district_key[district])
            continue
        for ward in wards:
            parts = successors[ward]
            for i in parts:
                weights[rows[i][6]] = weights.get(rows[i][6], 0.0) + 1.0 / len(parts)
        for new, weight in sorted(weights.items()):
            target = new_commune[new]
            if target is None:
                skipped += 1
                continue
            share = weight / len(wards)
            link(district_key[district], target, share, None if abs(share - 1.0) < 1e-12 else DISTRICT_BASIS)
            fed.add(district_key[district])
    # old province -> new province
    province_rows: dict[str, set[str]] = {}
    for r in rows:
        province_rows.setdefault(r[5], set()).add(r[7])
    for province, news in province_rows.items():
        for new in sorted(news):
            target = new_province[new]
            if target is None:
                skipped += 1
                continue
            link(province_key[province], target, 1.0 if len(news) == 1 else None)
            fed.add(province_key[province])
    out.skipped_links = skipped

    # Old units: the ones feeding a loaded link and their ancestors, or all of them.
    wanted_wards = {w for w in successors if all_units or ward_key[w] in fed}
    wanted_districts = {d for d in district_seen if all_units or district_key[d] in fed
                        or any(ward_seen[w][2] == d for w in wanted_wards)}
    wanted_provinces = {p for p in province_key if all_units or province_key[p] in fed
                        or any(district_seen[d][2] == p for d in wanted_districts)}
    # A province (or district) wanted only as a parent brings no link of its own if its new unit is absent.
    for p in sorted(wanted_provinces):
        out.units[province_key[p]] = _unit_row(province_key[p], names[p], "province", None, OLD_VALID_TO)
    for d in sorted(wanted_districts):
        _line, name, p = district_seen[d]
        out.units[district_key[d]] = _unit_row(district_key[d], name, "district", province_key[p], OLD_VALID_TO)
    for w in sorted(wanted_wards):
        _line, name, d = ward_seen[w]
        out.units[ward_key[w]] = _unit_row(ward_key[w], name, "commune", district_key[d], OLD_VALID_TO)
    out.skipped_units = (len(successors) + len(district_seen) + len(province_key)) - len(out.units)
    # Links only from old units that are written or stored.
    out.links = {k: v for k, v in out.links.items() if k[0] in out.units or k[0] in known.units}
    return out


# --- the generic format -----------------------------------------------------------------

def _generic(batch: Batch, table, header: Header, issues: IssueLog, file: FileResult, all_units: bool) -> Crosswalk:
    known = batch.known
    keys = _Keys(known)
    out = Crosswalk()
    parsed = []
    created: dict[str, tuple[int, str, str, str | None, date]] = {}  # official code@month -> row
    for line, cells in each_row(table, header, issues, batch.progress):
        row = Row(line, cells, header.columns, issues)
        old, _ = row.code("old_code")
        new, _ = row.code("new_code")
        effective = row.get("effective", read_date, required=True)
        share = row.get("share", read_number, batch.number_format, False)
        basis = row.text("basis")
        old_name = row.text("old_name")
        old_level = row.text("old_level", required=old_name is not None)
        old_parent, _ = row.code("old_parent", required=False)
        if share is not None and not 0 < share <= 1:
            row.fail("imp_xw_share", "share", row.raw("share"))
        if old_level is not None and old_level not in LEVELS:
            row.fail("imp_bad_choice", "old_level", old_level, allowed=", ".join(LEVELS))
        if old_name is None and (old_level is not None or old_parent is not None):
            row.fail("imp_missing_value", "old_name")
        if row.bad:
            continue
        parsed.append((line, old, new, effective, share, basis, old_name, old_level, old_parent))
        file.rows += 1
    # Old units the file creates, then the links.
    for line, old, new, effective, share, basis, old_name, old_level, old_parent in parsed:
        if old_name is None:
            continue
        valid_to = effective - timedelta(days=1)
        key = keys.old(old, valid_to)
        first = created.get(key)
        if first is not None and (first[1], first[2], first[3]) != (old_name, old_level, old_parent):
            Row(line, [], header.columns, issues).fail("imp_xw_conflict", "old_name", old_name, code=old,
                                                       first_line=first[0], first=first[1])
            continue
        created.setdefault(key, (line, old_name, old_level, old_parent, valid_to))
    made = unitkeys.Resolver([(k, None, v[4]) for k, v in created.items()]
                             + [(k, u["valid_from"], u["valid_to"]) for k, u in known.units.items() if k not in created])
    level_of = {k: u["level"] for k, u in known.units.items()} | {k: v[2] for k, v in created.items()}
    for key, (line, name, level, parent, valid_to) in created.items():
        parent_key = None
        if parent is not None:
            # The parent of an old unit is the old unit of that code ending with it, when there is one.
            ended = keys.old(parent, valid_to)
            parent_key = ended if ended in created or ended in known.units else made.resolve(
                parent, unitkeys.month_of(valid_to))
            if parent_key is None or parent_key not in level_of:
                Row(line, [], header.columns, issues).fail("imp_unknown_unit", "old_parent", parent, hint="")
                continue
            if store.LEVEL_ORDER[level_of[parent_key]] >= store.LEVEL_ORDER[level]:
                Row(line, [], header.columns, issues).fail("imp_parent_level", "old_parent", parent, parent=parent_key,
                                                           parent_level=level_of[parent_key], level=level)
                continue
        elif level != "province":
            Row(line, [], header.columns, issues).fail("imp_parent_required", "old_parent", None, level=level)
            continue
        out.units[key] = _unit_row(key, name, level, parent_key, valid_to)
    totals: dict[str, tuple[float, int]] = {}
    skipped = 0
    for line, old, new, effective, share, basis, old_name, *_ in parsed:
        row = Row(line, [], header.columns, issues)
        before = _month_before(effective)
        if old_name is not None:
            old_key = keys.old(old, effective - timedelta(days=1))
        else:
            old_key = keys.existing(old, before)
            if old_key is None:
                row.fail("imp_xw_unknown_old", "old_code", old, month=before)
                continue
            vt = known.units[old_key]["valid_to"]
            if vt is None or vt >= unitkeys.month_of(effective):
                row.fail("imp_xw_old_still_valid", "old_code", old, code=old_key, valid_to=vt or "…",
                         effective=effective.isoformat())
                continue
        new_key = keys.new(new, effective)
        if new_key is None:
            out.absent.add(new)
            skipped += 1
            continue
        if (old_key, new_key) in out.links:
            row.fail("imp_duplicate", "new_code", None, dup_key=f"{old_key}/{new_key}",
                     first_line=out.links[(old_key, new_key)]["_line"])
            continue
        if share is not None:
            total, first_line = totals.get(old_key, (0.0, line))
            totals[old_key] = (total + share, first_line)
            if total + share > 1 + 1e-9:
                row.fail("imp_xw_share_sum", "share", share, code=old_key, total=round(total + share, 6),
                         first_line=first_line)
        out.links[(old_key, new_key)] = {"old_code": old_key, "new_code": new_key, "effective": effective,
                                         "share": share,
                                         "basis": basis, "_line": line}
    out.skipped_links = skipped
    # Units the file names only for links to absent new units are not needed unless --all.
    if not all_units:
        feeding = {k[0] for k in out.links}
        needed = set(feeding)
        parents = {k: r["parent_code"] for k, r in out.units.items()}
        for k in list(needed):
            cur = parents.get(k)
            while cur is not None and cur in parents:
                needed.add(cur)
                cur = parents.get(cur)
        out.skipped_units = len([k for k in out.units if k not in needed])
        out.units = {k: v for k, v in out.units.items() if k in needed}
    for v in out.links.values():
        v.pop("_line", None)
    return out


# --- reading, checking, loading -----------------------------------------------------------

def _opened(path: Path, name: str, issues: IssueLog, sheet: str | None, scratch: Path):
    """A .csv.gz is read through a plain copy beside it (the checksum is of what it holds)."""
    if path.name.lower().endswith(".csv.gz") and path.is_file():
        plain = scratch / path.name[:-3]
        try:
            with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
        except (OSError, EOFError) as exc:
            issues.error("imp_xw_gzip", detail=str(exc)[:200])
            return None
        path = plain
    return open_table(path, name, issues, sheet=sheet)


def check_crosswalk(engine: Engine, paths: list[str | Path], *, dry_run: bool = False, all_units: bool = False,
                    sheet: str | None = None, progress: ImportProgress | None = None, number_format: str = "plain",
                    names: list[str] | None = None):
    """Read and check crosswalk files; (report, batch, files) with the rows for the loader."""
    from .pipeline import display_names

    progress = progress or ImportProgress()
    report = ImportReport(kind="crosswalk", dry_run=dry_run)
    with engine.connect() as conn:
        known = Known.load(conn)
    batch = Batch("crosswalk", known, report, number_format, progress)
    paths = [Path(p) for p in paths]
    files: list[FileResult] = []
    merged = Crosswalk()
    with tempfile.TemporaryDirectory(prefix="crosswalk-") as scratch:
        for path, name in zip(paths, names or display_names(paths)):
            issues = IssueLog(report, name, cell_refs=path.suffix.lower() in (".xlsx", ".xlsm"))
            table = _opened(path, name, issues, sheet, Path(scratch))
            if table is None:
                continue
            try:
                file = FileResult(name, str(path.resolve()) if names is None else name, table.checksum)
                files.append(file)
                header = _header(table, issues)
                if header is None:
                    continue
                reader = _national if header[1] == "national" else _generic
                found = reader(batch, table, header[0], issues, file, all_units)
            finally:
                table.close()
            if report.errors:
                continue
            for k, v in found.units.items():
                merged.units[k] = {**v, "_file": file}
            for k, v in found.links.items():
                merged.links[k] = {**v, "_file": file}
            merged.skipped_links += found.skipped_links
            merged.skipped_units += found.skipped_units
            merged.absent |= found.absent
            if found.skipped_links:
                issues.warn("imp_xw_skipped_links", links=found.skipped_links, units=len(found.absent),
                            codes=_some(found.absent))
            if found.skipped_units and not all_units:
                issues.warn("imp_xw_skipped_units", units=found.skipped_units)
    batch.rows = list(merged.units.values())
    batch.links = list(merged.links.values())
    report.files = files
    report.sort_issues()
    return report, batch, files


def _some(codes: set[str], n: int = 8) -> str:
    shown = sorted(codes)
    return ", ".join(shown[:n]) + (" …" if len(shown) > n else "")


def _header(table, issues: IssueLog) -> tuple[Header, str] | None:
    columns = {}
    for i, cell in enumerate(table.header):
        name = "" if cell is None else str(cell).strip().lower()
        if name:
            if name in columns:
                issues.error("imp_header_duplicate", line=table.header_line, column=name)
                return None
            columns[name] = i
    issues.columns = columns
    if set(NATIONAL_COLUMNS) - {"default"} <= set(columns):
        allowed, kind = NATIONAL_COLUMNS, "national"
    else:
        missing = [c for c in GENERIC_REQUIRED if c not in columns]
        if missing:
            issues.error("imp_xw_header", line=table.header_line, columns=", ".join(missing),
                         generic=", ".join(GENERIC_REQUIRED), national=", ".join(NATIONAL_COLUMNS))
            return None
        allowed, kind = GENERIC_REQUIRED + GENERIC_OPTIONAL, "generic"
    unknown = [c for c in columns if c not in allowed]
    if unknown:
        issues.error("imp_header_unknown", line=table.header_line, columns=", ".join(unknown),
                     allowed=", ".join(allowed))
        return None
    return Header(columns, [i for i, c in enumerate(table.header) if c is None or not str(c).strip()],
                  len(table.header)), kind


def import_crosswalk(engine: Engine, paths: list[str | Path], user: str | None = None, dry_run: bool = False,
                     all_units: bool = False, sheet: str | None = None, progress: ImportProgress | None = None,
                     number_format: str = "plain", names: list[str] | None = None) -> ImportReport:
    """Check, then load in one transaction (nothing when anything is wrong or on a dry run)."""
    from .load import load

    progress = progress or ImportProgress()
    report, batch, files = check_crosswalk(engine, paths, dry_run=dry_run, all_units=all_units, sheet=sheet,
                                           progress=progress, number_format=number_format, names=names)
    if report.errors:
        return report
    problem = load(engine, batch, None, files, user or store.current_user(), progress, dry_run)
    if problem is not None:
        report.add_error(problem)
        return report
    report.written = not dry_run
    return report


__all__ = ["import_crosswalk", "check_crosswalk", "NATIONAL_FILE", "PROVINCES_FILE", "NATIONAL_COLUMNS",
           "GENERIC_REQUIRED", "GENERIC_OPTIONAL"]
