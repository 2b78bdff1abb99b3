"""What an import says back: issues with file, row, column and cell; per-file results; the
report of the whole command; and the progress hooks long steps call."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..i18n import t

#: Issues kept in a report; past this they are counted, not kept (a file of two million bad
#: rows must not need gigabytes to say so).
MAX_KEPT_ISSUES = 20_000


def both(key: str, **params) -> str:
    """'Vietnamese / English' for one locale key."""
    return f"{t(key, 'vi', **params)} / {t(key, 'en', **params)}"


class ByLanguage(dict):
    """A message parameter that differs by language ({'vi': …, 'en': …})."""


def column_letter(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass
class Issue:
    """One problem found in a file, in enough detail to find and fix it."""
    file: str
    key: str
    params: dict = field(default_factory=dict)
    line: int | None = None
    column: str | None = None
    value: Any = None
    cell: str | None = None  # 'C5' in a spreadsheet
    position: int | None = None  # the column's place in the file, to sort issues

    def reason(self, lang: str) -> str:
        params = {k: (v.get(lang, "") if isinstance(v, ByLanguage) else v) for k, v in self.params.items()}
        return t(self.key, lang, **params)

    @property
    def where(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(f"dòng/line {self.line}")
        if self.column is not None:
            col = f"cột/column {self.column}"
            if self.cell:
                col += f" ({self.cell})"
            parts.append(col)
        return ", ".join(parts)

    def message(self) -> str:
        shown = "" if self.value is None else f" = {_show(self.value)!s}"
        return f"{self.where}{shown}: {self.reason('vi')} / {self.reason('en')}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column, "cell": self.cell,
                "value": None if self.value is None else str(self.value), "reason_vi": self.reason("vi"),
                "reason_en": self.reason("en"), "key": self.key}


def _show(value) -> str:
    text_ = value if isinstance(value, str) else str(value)
    if len(text_) > 60:
        text_ = text_[:57] + "..."
    return repr(text_)


@dataclass
class FileResult:
    name: str          # as shown in messages
    source: str        # as recorded in the audit (absolute path, '#sheet' for a workbook)
    checksum: str      # sha256 of the file's bytes
    rows: int = 0
    added: int = 0
    replaced: int = 0
    load_id: int | None = None


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    files: list[FileResult] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    written: bool = False
    errors_not_kept: int = 0
    warnings_not_kept: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_not_kept

    @property
    def warning_count(self) -> int:
        return len(self.warnings) + self.warnings_not_kept

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def replaced(self) -> int:
        return sum(f.replaced for f in self.files)

    def add_error(self, issue: Issue) -> None:
        if len(self.errors) < MAX_KEPT_ISSUES:
            self.errors.append(issue)
        else:
            self.errors_not_kept += 1

    def add_warning(self, issue: Issue) -> None:
        if len(self.warnings) < MAX_KEPT_ISSUES:
            self.warnings.append(issue)
        else:
            self.warnings_not_kept += 1

    def sort_issues(self) -> None:
        """By file (in the order files were given), then line, then column."""
        order = {name: i for i, name in enumerate(dict.fromkeys(i.file for i in self.errors + self.warnings))}
        for issues in (self.errors, self.warnings):
            issues.sort(key=lambda i: (order[i.file], i.line or 0, -1 if i.position is None else i.position))

    def summary(self) -> str:
        if self.errors:
            return both("imp_summary_failed", errors=self.error_count)
        key = "imp_summary_dry" if self.dry_run else "imp_summary_ok"
        return both(key, files=len(self.files), kind=self.kind, added=self.added, replaced=self.replaced)


class IssueLog:
    """Records the issues of one file into the report, with the Excel cell where there is one."""

    def __init__(self, report: ImportReport, name: str, cell_refs: bool):
        self.report, self.name, self.cell_refs = report, name, cell_refs
        self.columns: dict[str, int] = {}

    def make(self, key, line=None, column=None, value=None, params=None) -> Issue:
        cell, position = None, self.columns.get(column)
        if self.cell_refs and line is not None and position is not None:
            cell = f"{column_letter(position + 1)}{line}"
        return Issue(self.name, key, params or {}, line, column, value, cell, position)

    def error(self, key, line=None, column=None, value=None, **params) -> None:
        self.report.add_error(self.make(key, line, column, value, params))

    def warn(self, key, line=None, column=None, value=None, **params) -> None:
        self.report.add_warning(self.make(key, line, column, value, params))


class ImportProgress:
    """Progress of long steps. The CLI shows a bar (dashboard/cli/progress_bar.py); this one
    shows nothing. ``start`` gives the step's size in its own unit (bytes of a file being
    read, rows being written) or None if unknown; ``update`` the position in that unit and
    the rows handled so far."""

    def start(self, stage: str, label: str, total: int | None) -> None:
        pass

    def update(self, position: int, rows: int) -> None:
        pass

    def end(self) -> None:
        pass
