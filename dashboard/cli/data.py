"""`dashboard import` and `dashboard loads`.

Argument parsing and printing only: the work is in dashboard/importer/ (formats and rules:
docs/data-formats.md).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd
import yaml

from .. import figures, importer
from ..database import is_up_to_date
from ..i18n import t
from .progress_bar import ProgressBar

PROGRESS_MIN_ROWS = 2000


def register(main: click.Group) -> None:
    main.add_command(import_cmd)
    main.add_command(loads)


def _both(key: str, **params) -> str:
    return f"{t(key, 'vi', **params)} / {t(key, 'en', **params)}"


class BarProgress(importer.ImportProgress):
    """The importer's steps as progress bars on stderr (lines in a log when it is not a
    terminal); steps of fewer than PROGRESS_MIN_ROWS rows stay quiet."""

    def __init__(self, stream=None) -> None:
        self.stream = stream
        self.bar: ProgressBar | None = None

    def start(self, stage: str, label: str, total: int | None) -> None:
        self.end()
        self.bar = ProgressBar(f"{_both(f'imp_progress_{stage}')}: {label}", total,
                               stream=self.stream or click.get_text_stream("stderr"), min_rows=PROGRESS_MIN_ROWS)

    def update(self, position: int, rows: int) -> None:
        if self.bar is not None:
            self.bar.update(position, rows)

    def end(self) -> None:
        if self.bar is not None:
            self.bar.finish()
            self.bar = None


def _require_schema(engine) -> None:
    try:
        ready = is_up_to_date(engine)
    except Exception as exc:  # noqa: BLE001 - cannot even connect
        raise click.ClickException(f"Không kết nối được cơ sở dữ liệu / cannot connect to the database: {exc}")
    if not ready:
        raise click.ClickException("Cơ sở dữ liệu chưa có lược đồ mới nhất: chạy `dashboard db upgrade` / "
                                   "the database schema is missing or old: run `dashboard db upgrade`")


def _print_issues(issues: list[importer.Issue], total: int, limit: int, more_key: str, label_key: str) -> None:
    """The first `limit` issues (all if 0), then how many more there are: every issue is
    counted, even past the ones a report keeps."""
    shown = issues if limit <= 0 else issues[:limit]
    label = _both(label_key)
    for issue in shown:
        click.echo(f"{label}: {issue.message()}", err=True)
    if total > len(shown):
        click.echo(_both(more_key, count=total - len(shown)), err=True)


IMPORT_HELP = """Nạp số liệu từ tệp CSV (UTF-8) hoặc Excel .xlsx / load data from CSV (UTF-8) or .xlsx files.

\b
KIND và các cột / columns ([…] = không bắt buộc / optional):
  units       code,name,level,parent_code[,valid_from,valid_to,official_code]
  facilities  code,name,type,unit_code[,lat,lon]
  indicators  code,name_vi,name_en,time,higher_is_better
              [,short_vi,short_en,numerator_vi,denominator_vi,numerator_en,denominator_en,
              unit_vi,unit_en,gap_vi,gap_en,decimals,display_unit,reported_by,group,headline,sort_order]
  targets     indicator,unit_code,value,deadline[,source,note]
  crosswalk   old_code,new_code,effective[,share,basis,old_name,old_level,old_parent], hoặc dạng
              toàn quốc / or the national format (geodata/vn_commune_crosswalk_pre2025_to_2025.csv.gz);
              --all: tạo mọi đơn vị cũ / create every old unit
  dhis2       dataValueSet DHIS2 (JSON hoặc CSV) với --mapping / a DHIS2 dataValueSet
              (JSON or CSV) with --mapping
  values      indicator,unit_code,period,numerator,denominator
              hoặc báo cáo dạng bảng rộng (--layout wide, tự nhận) / or a wide report
              (--layout wide, detected): đơn vị theo dòng (tên hoặc mã), tháng và chỉ
              tiêu theo cột, tử số/mẫu số theo cặp cột hoặc cặp dòng, dòng tổng được
              kiểm tra / units as rows (name or code), months and indicators as columns,
              numerator/denominator as paired columns or rows, totals checked.

Số trong ô văn bản viết 1165558 hoặc 85.3 (không dấu phân cách hàng nghìn); tệp viết
1.165.558 và 85,3 thì nạp với --number-format vi. / Numbers in text cells are written
1165558 or 85.3 (no grouping); a file writing 1.165.558 and 85,3 needs --number-format vi.

Mọi tệp được kiểm tra trước; nếu có lỗi thì không ghi gì (mã thoát 1). Nhiều tệp được nạp
trong một giao dịch: tất cả hoặc không gì cả. Nạp lại cùng (chỉ tiêu, đơn vị, tháng) thì thay
số cũ. / Every file is checked first; on any error nothing is written (exit code 1).
Several files load in one transaction: all or nothing. Re-importing the same (indicator,
unit, month) replaces the stored figure. Details: docs/data-formats.md
"""


@click.command("import", help=IMPORT_HELP)
@click.argument("kind", type=click.Choice(importer.KINDS + ("dhis2", "crosswalk")), metavar="KIND")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE…")
@click.option("--sheet", metavar="NAME", help="Trang tính trong tệp .xlsx (mặc định trang đầu) / sheet of an .xlsx file "
              "(default: the first).")
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra, không ghi / check only, write nothing.")
@click.option("--number-format", "number_format", type=click.Choice(importer.NUMBER_FORMATS), default="plain",
              show_default=True,
              help="Cách tệp viết số / how the files write numbers: plain = 1165558, 85.3; "
                   "vi = 1.165.558, 85,3 (dấu chấm phân cách hàng nghìn, dấu phẩy thập phân / "
                   "'.' groups thousands, ',' marks decimals).")
@click.option("--layout", type=click.Choice(importer.LAYOUTS), default="auto", show_default=True,
              help="values: long = một dòng mỗi (chỉ tiêu, đơn vị, tháng); wide = báo cáo dạng bảng (đơn vị theo "
                   "dòng, tháng/chỉ tiêu theo cột); auto = tự nhận / long = one row per (indicator, unit, month); "
                   "wide = a report shaped for people; auto = detected.")
@click.option("--indicator", "wide_indicator", default=None, metavar="CODE",
              help="wide: chỉ tiêu của các cột không ghi chỉ tiêu / the indicator of columns that name none.")
@click.option("--period", "wide_period", default=None, metavar="YYYY-MM",
              help="wide: kỳ của các cột không ghi kỳ / the period of columns that name none.")
@click.option("--year", "wide_year", default=None, type=click.IntRange(1900, 2199),
              help="wide: năm của các cột chỉ ghi tháng (Tháng 1…) / the year of columns naming only a month.")
@click.option("--mapping", "mapping_path", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="wide: tệp YAML đã lưu (cột, tên đơn vị -> mã); dhis2: phần tử dữ liệu -> chỉ tiêu, đơn vị DHIS2 -> mã / "
                   "wide: a saved YAML mapping (columns, unit names -> codes); dhis2: data elements -> indicators, "
                   "org units -> codes.")
@click.option("--save-mapping", "save_mapping", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="wide: ghi cách đã đọc tệp ra YAML để dùng lại tháng sau / write what was understood as YAML for "
                   "next month.")
@click.option("--all", "all_units", is_flag=True,
              help="crosswalk: tạo mọi đơn vị cũ trong tệp, cả những đơn vị không dẫn tới đơn vị mới nào trong cơ sở "
                   "dữ liệu / create every old unit of the file, also those leading to no new unit in the database.")
@click.option("--user", default=None, metavar="NAME", help="Tên người nạp ghi vào nhật ký / user recorded in the audit "
              "(default: OS user).")
@click.option("--max-errors", default=50, show_default=True, type=click.IntRange(min=0),
              help="Số lỗi in ra tối đa (0 = tất cả); mọi lỗi đều được đếm / errors printed at most "
                   "(0 = all); all are counted.")
@click.pass_obj
def import_cmd(ctx, kind: str, files: tuple[Path, ...], sheet: str | None, dry_run: bool, number_format: str,
               layout: str, wide_indicator: str | None, wide_period: str | None, wide_year: int | None,
               mapping_path: Path | None, save_mapping: Path | None, all_units: bool, user: str | None,
               max_errors: int) -> None:
    engine = ctx.engine
    _require_schema(engine)
    dhis2 = None
    if all_units and kind != "crosswalk":
        raise click.UsageError(_both("imp_all_crosswalk_only"))
    if kind == "crosswalk":
        if layout == "wide" or mapping_path or save_mapping:
            raise click.UsageError(_both("imp_layout_wide_kind"))
        from ..importer.crosswalk import import_crosswalk

        report = import_crosswalk(engine, list(files), user=user, dry_run=dry_run, all_units=all_units, sheet=sheet,
                                  progress=BarProgress(), number_format=number_format)
        _finish(report, max_errors)
        return
    if kind == "dhis2":
        if mapping_path is None:
            raise click.UsageError(_both("imp_dhis2_needs_mapping"))
        try:
            dhis2 = importer.Dhis2Mapping.read(mapping_path)
        except (ValueError, OSError, KeyError, yaml.YAMLError) as exc:
            raise click.UsageError(f"{mapping_path}: {exc}")
        kind, mapping_path = "values", None
    elif kind != "values" and (layout == "wide" or mapping_path or save_mapping):
        raise click.UsageError(_both("imp_layout_wide_kind"))
    try:
        mapping = importer.Mapping.read(mapping_path) if mapping_path else None
    except (ValueError, OSError, yaml.YAMLError) as exc:
        raise click.UsageError(f"{mapping_path}: {exc}")
    if mapping is not None and layout == "auto":
        layout = "wide"
    wide = importer.WideOptions(indicator=wide_indicator, period=wide_period, year=wide_year, mapping=mapping)
    report = importer.import_files(engine, kind, list(files), user=user, dry_run=dry_run, sheet=sheet,
                                   progress=BarProgress(), number_format=number_format, layout=layout, wide=wide,
                                   save_mapping=save_mapping, dhis2=dhis2)
    _finish(report, max_errors)


def _finish(report, max_errors: int) -> None:
    _print_issues(report.errors, report.error_count, max_errors, "imp_more_errors", "imp_error")
    _print_issues(report.warnings, report.warning_count, max_errors, "imp_more_warnings", "imp_warning")
    if report.errors:
        click.echo(report.summary(), err=True)
        sys.exit(1)
    for f in report.files:
        click.echo(_both("imp_file_line", file=f.name, rows=f.rows, added=f.added, replaced=f.replaced,
                         checksum=f.checksum[:12]))
    click.echo(report.summary())


@click.group("loads", invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=0),
              help="Số lần nạp gần nhất (0 = tất cả) / most recent loads to list (0 = all).")
@click.pass_context
def loads(click_ctx, limit: int) -> None:
    """Nhật ký các lần nạp số liệu, hoàn tác / the audit of data loads (newest first), undo.

    Không có lệnh con: như `loads list` / without a subcommand: as `loads list`."""
    if click_ctx.invoked_subcommand is None:
        click_ctx.invoke(loads_list, limit=limit)


@loads.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=0),
              help="Số lần nạp gần nhất (0 = tất cả) / most recent loads to list (0 = all).")
@click.pass_obj
def loads_list(ctx, limit: int) -> None:
    """Các lần nạp, mới nhất trước, và lần nào đã hoàn tác / every load, newest first, and which were undone."""
    from .. import undo

    engine = ctx.engine
    _require_schema(engine)
    frame = undo.loads(engine)
    if limit:
        frame = frame.head(limit)
    if frame.empty:
        click.echo("Chưa có lần nạp nào / no loads yet")
        return
    click.echo(loads_table(frame).to_string(index=False))


@loads.command("undo")
@click.argument("load_id", type=int, metavar="ID")
@click.option("--cascade", is_flag=True, help="Hoàn tác cả các lần nạp sau đã ghi đè, mới nhất trước / also undo "
              "the later loads that overwrote it, newest first.")
@click.option("--yes", is_flag=True, help="Không hỏi lại / do not ask for confirmation.")
@click.pass_obj
def loads_undo(ctx, load_id: int, cascade: bool, yes: bool) -> None:
    """Hoàn tác một lần nạp: xóa các dòng của nó, khôi phục các dòng nó đã thay, trong một giao dịch /
    undo a load: its rows go, the rows it replaced come back, in one transaction."""
    from .. import undo
    from .users import actor

    engine = ctx.engine
    _require_schema(engine)
    try:
        with engine.connect() as conn:
            first = undo.plan(conn, load_id)
            plans = [undo.plan(conn, lid) for lid in first.later] + [first]
    except undo.UndoRefused as exc:
        raise click.ClickException(str(exc)) from None
    if first.later and not cascade:
        click.echo(str(undo.refusal(first)), err=True)
        sys.exit(1)
    for p in plans:
        click.echo(_both("loads_will_undo", id=p.load_id, kind=p.kind, file=p.source_file, removed=p.removed,
                         restored=p.restored))
    if not yes:
        click.confirm(_both("loads_confirm_undo"), abort=True)
    try:
        done = undo.undo(engine, load_id, actor=actor(), cascade=cascade)
    except undo.UndoRefused as exc:
        raise click.ClickException(str(exc)) from None
    for p in done:
        click.echo(_both("loads_undone", id=p.load_id, kind=p.kind, file=p.source_file, removed=p.removed,
                         restored=p.restored))


def loads_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The audit as printed: SQLite returns times as text, PostgreSQL as aware datetimes."""
    at = pd.to_datetime(frame["loaded_at"], utc=True, format="mixed")
    return pd.DataFrame({
        "id": frame["id"].astype(int),
        "thời điểm/time (UTC)": at.dt.strftime("%Y-%m-%d %H:%M:%S"),
        "người/user": frame["user_name"],
        "loại/kind": frame["kind"] + frame["is_demo"].map(lambda d: " (minh họa/demo)" if bool(d) else ""),
        "thêm/added": frame["rows_added"].astype(int),
        "thay/replaced": frame["rows_replaced"].astype(int),
        "mã kiểm tra/checksum": frame["checksum"].str[:12],
        "tệp/file": frame["source_file"],
        **({"hoàn tác/undone": [_undone(a, b) for a, b in zip(frame["undone_at"], frame["undone_by"])]}
           if "undone_at" in frame else {}),
    })


def _undone(at, by) -> str:
    if pd.isna(at):
        return ""
    return f"{pd.to_datetime(at, utc=True, format='mixed').strftime('%Y-%m-%d %H:%M')} {by}"
