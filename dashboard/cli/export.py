"""`dashboard export values`: the figures the dashboard shows, as CSV or XLSX.

The options are read by the one request reader (``dashboard.request``, view "export"), like the
page downloads, and the file is ``dashboard.table``'s: the same columns and rounding.
"""
from __future__ import annotations

from pathlib import Path

import click

from .. import exports, figures, request
from ..i18n import t


def register(main: click.Group) -> None:
    main.add_command(export)
    main.add_command(template)


def _both(key: str, **params) -> str:
    return f"{t(key, 'vi', **params)} / {t(key, 'en', **params)}"


@click.group()
def export() -> None:
    """Xuất số liệu như dashboard hiển thị / export the figures the dashboard shows."""


@export.command("values")
@click.option("--indicator", "indicator", default=None, metavar="CODE",
              help="Mã chỉ tiêu (bỏ trống: mọi chỉ tiêu) / indicator code (none: every indicator).")
@click.option("--period", default=None, metavar="P",
              help="Kỳ / period: YYYY-MM, YYYY-Qn hoặc/or YYYY (mặc định tháng mới nhất / default the latest month).")
@click.option("--level", default=None, metavar="L", help="Cấp / level (mặc định cấp dưới tỉnh / default the level below the top).")
@click.option("--unit", "--parent", "unit", default=None, metavar="CODE",
              help="Chỉ các đơn vị thuộc mã này / only units within this code.")
@click.option("--lang", default="vi", type=click.Choice(["vi", "en"]), show_default=True,
              help="Ngôn ngữ tiêu đề cột / language of the headers.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default=None,
              help="csv hoặc/or xlsx (mặc định theo đuôi của --out, rồi csv / default: from --out, else csv).")
@click.option("--out", "out", default=None, metavar="FILE",
              help="Tệp ghi ra; CSV mặc định ra màn hình (stdout) / output file; CSV defaults to stdout.")
@click.pass_obj
def export_values(ctx, indicator, period, level, unit, lang, fmt, out) -> None:
    """Xuất số liệu theo cấp, như tệp "Xuất dữ liệu" của trang / export figures by level, the
    same file as a page's "Export data".

    \b
    Cột, làm tròn và chữ như trên màn hình; CSV là UTF-8 có BOM, ô văn bản có thể bị
    bảng tính chạy như công thức được thêm dấu ' ở đầu / columns, rounding and words as on
    screen; CSV is UTF-8 with BOM; text cells a spreadsheet would run as formulas get a
    leading apostrophe.
    """
    ctx.engine  # points the read side at --database
    req = request.read("export", {"indicator": indicator, "period": period, "level": level, "unit": unit,
                                  "lang": lang})
    if req.problems:
        raise click.UsageError("\n".join(p.bilingual() for p in req.problems))
    if req.period is None:
        raise click.UsageError(_both("no_data_yet"))
    if fmt is None:
        fmt = "xlsx" if out and Path(out).suffix.lower() == ".xlsx" else "csv"
    if figures.is_demo():
        click.echo(_both("exp_demo"), err=True)
    body, rows = exports.data_file(req, fmt)
    if out in (None, "-") and fmt == "csv":
        click.get_binary_stream("stdout").write(body)
        out = "stdout"
    else:
        out = out if out not in (None, "-") else exports.data_filename(req, fmt)
        Path(out).write_bytes(body)
    click.echo(_both("exp_written", rows=rows, path=out), err=True)


@export.command("dhis2")
@click.option("--indicator", "indicators", multiple=True, required=True, metavar="CODE",
              help="Mã chỉ tiêu (lặp lại được) / indicator code (repeatable).")
@click.option("--period", required=True, metavar="P", help="Kỳ / period: YYYY-MM, YYYY-Qn, YYYY.")
@click.option("--mapping", "mapping_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Tệp ánh xạ DHIS2 (như khi nạp) / the DHIS2 mapping (as for the import).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default=None,
              help="json hoặc/or csv (mặc định theo đuôi của --out / default: from --out, else json).")
@click.option("--out", "out", default=None, metavar="FILE", help="Tệp ghi ra (mặc định stdout) / output file.")
@click.pass_obj
def export_dhis2_cmd(ctx, indicators, period, mapping_path, fmt, out) -> None:
    """Ghi số liệu tháng ra dataValueSet DHIS2 / write monthly figures as a DHIS2 dataValueSet."""
    import yaml

    from ..importer import Dhis2Mapping, export_dhis2
    from ..periods import PeriodError, parse_period

    try:
        months = parse_period(period).months
    except (PeriodError, ValueError) as exc:
        raise click.UsageError(str(exc))
    try:
        mapping = Dhis2Mapping.read(mapping_path)
    except (ValueError, OSError, KeyError, yaml.YAMLError) as exc:
        raise click.UsageError(f"{mapping_path}: {exc}")
    unknown = [i for i in indicators if i not in mapping.by_indicator]
    if unknown:
        raise click.UsageError(_both("exp_dhis2_unmapped", codes=", ".join(unknown)))
    fmt = fmt or ("csv" if out and Path(out).suffix.lower() == ".csv" else "json")
    with ctx.engine.connect() as conn:
        body = export_dhis2(conn, mapping, list(indicators), months, fmt)
    if out in (None, "-"):
        click.echo(body, nl=False)
    else:
        Path(out).write_text(body, encoding="utf-8")
        click.echo(_both("exp_written", rows=body.count('"dataElement"') if fmt == "json" else body.count("\n") - 1,
                         path=out), err=True)


@export.command("units")
@click.option("--kind", type=click.Choice(["units", "facilities"]), default="units", show_default=True,
              help="Đơn vị hành chính hay cơ sở y tế / administrative units or facilities.")
@click.option("--out", "out", default=None, metavar="FILE", help="Tệp CSV (mặc định stdout) / CSV file (default stdout).")
@click.pass_obj
def export_units(ctx, kind, out) -> None:
    """Danh sách mã mà lệnh nạp chấp nhận, đúng định dạng nạp / the codes the importer accepts,
    in its own import format (`dashboard import units|facilities`)."""
    from ..importer.template import units_csv

    with ctx.engine.connect() as conn:
        body, rows = units_csv(conn, kind)
    if out in (None, "-"):
        click.echo(body, nl=False)
    else:
        Path(out).write_text(body, encoding="utf-8-sig")
        click.echo(_both("exp_written", rows=rows, path=out), err=True)


@click.group()
def template() -> None:
    """Mẫu báo cáo tạo từ cơ sở dữ liệu / report templates made from the database."""


@template.command("values")
@click.option("--indicators", "indicators", required=True, metavar="CODE[,CODE…]",
              help="Các mã chỉ tiêu, cách nhau dấu phẩy (mỗi chỉ tiêu một trang) / indicator codes, comma-separated "
                   "(one sheet each).")
@click.option("--period", required=True, metavar="P", help="Kỳ báo cáo / reporting round: YYYY-MM, YYYY-Qn, YYYY.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.xlsx")
@click.pass_obj
def template_values(ctx, indicators, period, out) -> None:
    """Mẫu Excel cho một kỳ báo cáo: mỗi đơn vị phải báo cáo một dòng (mã, tên, theo khu vực),
    cột tháng, danh sách chọn mã, chỉ nhận số nguyên, tiêu đề được khoá, hướng dẫn tiếng Việt;
    điền xong nạp bằng `dashboard import values FILE` không cần ánh xạ / an Excel template for one
    round; once filled it imports with no mapping."""
    from ..importer.template import write_template
    from ..periods import PeriodError

    codes = [c.strip() for c in indicators.split(",") if c.strip()]
    try:
        with ctx.engine.connect() as conn:
            rows = write_template(conn, codes, period, out)
    except PeriodError as exc:
        raise click.UsageError(str(exc))
    except ValueError as exc:
        raise click.UsageError(_both("tpl_unknown_indicator", codes=str(exc)))
    click.echo(_both("exp_written", rows=rows, path=out), err=True)
