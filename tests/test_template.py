"""Templates made from the database: a filled template imports with no mapping, and
`export units` writes what `import units` takes back."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import text

from dashboard import importer
from dashboard.cli import main
from tests.world import load_world


@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


def test_a_filled_template_round_trips_with_no_mapping(world, tmp_path):
    db = world.url.render_as_string(hide_password=False)
    out = tmp_path / "mau.xlsx"
    result = CliRunner().invoke(main, ["--database", db, "template", "values", "--indicators", "stockind,flowind",
                                       "--period", "2026-Q1", "--out", str(out)])
    assert result.exit_code == 0, result.output

    wb = load_workbook(out)
    assert wb.sheetnames == ["stockind", "flowind", "Hướng dẫn", "Đơn vị"]
    ws = wb["stockind"]
    rows = {ws.cell(r, 2).value: r for r in range(8, ws.max_row + 1) if ws.cell(r, 2).value}
    # Expected reporters of stockind in 2026-Q1 (communes valid then), under their zones' rows:
    # 00007 ended in 2025, so it is not asked for.
    assert list(rows) == ["001", "00004", "00005", "002", "00006", "00008"]
    assert ws.protection.sheet and not ws.cell(rows["00004"], 4).protection.locked
    assert ws.cell(5, 4).protection.locked
    kinds = sorted(dv.type for dv in ws.data_validations.dataValidation)
    assert kinds == ["list", "whole"]
    assert "Hướng dẫn" in wb.sheetnames and "để trống" in " ".join(str(c.value) for c in wb["Hướng dẫn"]["A"])

    # A person fills in a few cells (columns D/E = January numerator/denominator, F/G = February).
    ws.cell(rows["00004"], 4, 11)
    ws.cell(rows["00004"], 5, 20)
    ws.cell(rows["00008"], 6, 3)
    ws.cell(rows["00008"], 7, 9)
    fl = wb["flowind"]
    frows = {fl.cell(r, 2).value: r for r in range(8, fl.max_row + 1) if fl.cell(r, 2).value}
    assert set(frows) >= {"BV1", "BV2", "TYT4", "TYT5", "TYT6"}
    fl.cell(frows["TYT5"], 8, 1)
    fl.cell(frows["TYT5"], 9, 4)
    wb.save(out)

    report = importer.import_files(world, "values", [out], user="tester")

    assert report.ok and report.written, [i.message() for i in report.errors]
    with world.connect() as conn:
        got = conn.execute(text("SELECT indicator_code, entity_code, period, numerator, denominator FROM kpi_values "
                                "WHERE period >= '2026-01' ORDER BY 1, 2, 3")).all()
    assert [(a, b, c, float(d), float(e)) for a, b, c, d, e in got] == [
        ("flowind", "TYT5", "2026-03", 1.0, 4.0),
        ("stockind", "00004", "2026-01", 11.0, 20.0), ("stockind", "00008", "2026-02", 3.0, 9.0)]


def test_export_units_is_what_import_units_takes_back(world, tmp_path):
    db = world.url.render_as_string(hide_password=False)
    out = tmp_path / "units.csv"
    result = CliRunner().invoke(main, ["--database", db, "export", "units", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "code,official_code,name,level,parent_code,valid_from,valid_to"
    assert "00007,00007,Xã Bảy (cũ),commune,002,,2025-06-30" in lines
    report = importer.import_files(world, "units", [out], user="tester", dry_run=True)
    assert report.ok and report.added == 0, [i.message() for i in report.errors]
