"""``import_files``: read, check, load. The whole job of ``dashboard import``.

1. **read** each file as a stream of rows (``readers``): CSV in UTF-8, ``.xlsx`` from its
   first sheet or a named one;
2. **check** every row of every file against the codes already stored and the other rows
   of the same command (``checks``, ``values``), collecting *every* problem as an
   :class:`~dashboard.importer.report.Issue` with file, line, column, value and a bilingual
   reason;
3. **load** in one transaction (``load``), only if step 2 found no error and this is not a
   dry run. One ``data_loads`` row per file says how many rows were added and replaced.

Nothing is written when anything is wrong, so the database stays byte-for-byte as it was.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from .. import store
from .checks import Batch, Header, check_facilities, check_indicators, check_targets, check_unit_tree, check_units, map_header
from .formats import FORMATS, KINDS, NUMBER_FORMATS
from .known import Known
from .load import load
from .readers import open_table
from .report import FileResult, ImportProgress, ImportReport, IssueLog
from .values import ValueRows, check_values
from .dhis2 import Dhis2Issues, Dhis2Mapping, open_dhis2
from .wide import Mapping, WideIssues, looks_long, open_wide
from .wide import Options as WideOptions

LAYOUTS = ("auto", "long", "wide")

CHECKS = {"units": check_units, "facilities": check_facilities, "indicators": check_indicators,
          "targets": check_targets}


@dataclass
class Checked:
    """Files read and checked, ready for the loader (or for a preview of what it would do)."""
    report: ImportReport
    batch: Batch
    values: ValueRows | None
    files: list[FileResult]


def check_files(engine: Engine, kind: str, paths: list[str | Path], *, dry_run: bool = False,
                sheet: str | None = None, progress: ImportProgress | None = None, number_format: str = "plain",
                names: list[str] | None = None, layout: str = "auto", wide: "WideOptions | None" = None,
                save_mapping: str | Path | None = None, dhis2: "Dhis2Mapping | None" = None) -> Checked:
    """Read and check every file (steps 1 and 2). `names` are the files as the messages and
    the audit name them (an upload's own name rather than where it is staged). ``layout``
    (values only): ``long`` (the long format), ``wide`` (a report shaped for people, read by
    :mod:`.wide` with ``wide`` options), or ``auto`` (long when the first row is the long
    header). ``dhis2``: the files are DHIS2 dataValueSets read through this mapping
    (:mod:`.dhis2`). ``save_mapping`` writes what was understood of wide files as YAML."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if number_format not in NUMBER_FORMATS:
        raise ValueError(f"number_format must be one of {', '.join(NUMBER_FORMATS)}, not {number_format!r}")
    progress = progress or ImportProgress()
    report = ImportReport(kind=kind, dry_run=dry_run)
    with engine.connect() as conn:
        known = Known.load(conn)
    batch = Batch(kind, known, report, number_format, progress)
    values = ValueRows() if kind == "values" else None
    paths = [Path(p) for p in paths]
    results: list[FileResult] = []
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    wide = wide or WideOptions()
    wide.number_format = number_format
    if save_mapping is not None:
        wide.learned = Mapping(indicator=wide.indicator, year=wide.year)
    for path, name in zip(paths, names or display_names(paths)):
        is_wide = kind == "values" and dhis2 is None and (layout == "wide" or (layout == "auto" and path.is_file()
                                                             and path.suffix.lower() in (".xlsx", ".xlsm", ".csv")
                                                             and not looks_long(path, sheet)))
        if dhis2 is not None:
            is_wide = True  # long rows made by a reader: no header to map
            issues = Dhis2Issues(report, name)
            table = open_dhis2(path, name, known, dhis2, issues, number_format)
        elif is_wide:
            issues = WideIssues(report, name)
            table = open_wide(path, name, known, issues, wide, sheet=sheet)
        else:
            issues = IssueLog(report, name, cell_refs=path.suffix.lower() in (".xlsx", ".xlsm"))
            table = open_table(path, name, issues, sheet=sheet)
        if table is None:
            continue
        try:
            file = FileResult(table.name, table.source if names is None else name, table.checksum)
            results.append(file)
            if is_wide and table.total == 0 and report.errors:
                continue  # the sheet's own issues say why nothing was read
            if is_wide:
                header = Header({c: i for i, c in enumerate(FORMATS[kind].required)}, [], len(FORMATS[kind].required))
            else:
                header = map_header(table, FORMATS[kind], issues)
            if header is None:
                continue
            if values is not None:
                check_values(batch, table, header, issues, file, values)
            else:
                CHECKS[kind](batch, table, header, issues, file)
        finally:
            table.close()
    if kind == "units" and batch.rows:
        check_unit_tree(batch)
    if values is not None:
        values.report_duplicates()
    report.files = results
    report.sort_issues()
    if save_mapping is not None and wide.learned is not None:
        wide.learned.write(Path(save_mapping))
    return Checked(report, batch, values, results)


def import_files(engine: Engine, kind: str, paths: list[str | Path], user: str | None = None,
                 dry_run: bool = False, sheet: str | None = None, progress: ImportProgress | None = None,
                 number_format: str = "plain", names: list[str] | None = None, layout: str = "auto",
                 wide: "WideOptions | None" = None, save_mapping: str | Path | None = None,
                 dhis2: "Dhis2Mapping | None" = None) -> ImportReport:
    """Check every file, then load them all in one transaction (all or nothing).

    ``number_format`` states how the files write numbers in text cells: ``plain`` (dot
    decimal, no grouping) or ``vi`` ("." groups thousands, "," marks decimals); the other
    options are :func:`check_files`'. Returns an :class:`ImportReport`; nothing is written
    when ``report.errors`` is not empty or ``dry_run`` is true."""
    progress = progress or ImportProgress()
    checked = check_files(engine, kind, paths, dry_run=dry_run, sheet=sheet, progress=progress,
                          number_format=number_format, names=names, layout=layout, wide=wide,
                          save_mapping=save_mapping, dhis2=dhis2)
    report = checked.report
    if report.errors:
        return report
    problem = load(engine, checked.batch, checked.values, checked.files, user or store.current_user(), progress,
                   dry_run)
    if problem is not None:
        report.add_error(problem)
        return report
    report.written = not dry_run
    return report


def detect_kind(path: str | Path, sheet: str | None = None) -> str | None:
    """The one kind whose columns the file's header has (every required one, nothing unknown);
    None when no kind or several fit."""
    path = Path(path)
    report = ImportReport(kind="?", dry_run=True)
    issues = IssueLog(report, path.name, cell_refs=False)
    table = open_table(path, path.name, issues, sheet=sheet)
    if table is None:
        return None
    try:
        header = {str(c).strip().lower() for c in table.header if c is not None and str(c).strip()}
    finally:
        table.close()
    fits = [kind for kind in KINDS
            if set(FORMATS[kind].required) <= header and header <= set(FORMATS[kind].columns)]
    return fits[0] if len(fits) == 1 else None


def display_names(paths: list[Path]) -> list[str]:
    """File names as given; full paths only where two files share a name."""
    names = [p.name for p in paths]
    return [str(p) if names.count(p.name) > 1 else p.name for p in paths]
