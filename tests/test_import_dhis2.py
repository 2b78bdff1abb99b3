"""DHIS2 dataValueSets: JSON and CSV in through a mapping (pairs of data elements, category
option combos, org unit uids and codes, period ids), and back out with the same mapping."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from dashboard import importer
from dashboard.cli import main
from dashboard.database import table_checksums
from tests.world import load_world

MAPPING = """
indicators:
  stockind:
    numerator: {dataElement: deTiemDu001, categoryOptionCombo: cocNam00001}
    denominator: deDoiTuong1.cocNam00001
  flowind:
    numerator: deDong00001
    denominator: deDong00002
org_units:
  ouPhuongBon: "00004"
  ouXaNam0001: "00005"
  HP_BV1: BV1
"""

#: What the dataValueSet says, paired by hand: (indicator, unit, month) -> (numerator, denominator).
EXPECTED = {("stockind", "00004", "2026-10"): (75.0, 100.0), ("stockind", "00005", "2026-10"): (40.0, 200.0),
            ("stockind", "00006", "2026-09"): (9.0, 10.0),     # 2026Q3 for a stock: its last month
            ("flowind", "BV1", "2026-10"): (12.0, 30.0)}

DATA_VALUES = [
    {"dataElement": "deTiemDu001", "period": "202610", "orgUnit": "ouPhuongBon", "categoryOptionCombo": "cocNam00001",
     "value": "75"},
    {"dataElement": "deDoiTuong1", "period": "202610", "orgUnit": "ouPhuongBon", "categoryOptionCombo": "cocNam00001",
     "value": "100"},
    {"dataElement": "deTiemDu001", "period": "202610", "orgUnit": "ouXaNam0001", "categoryOptionCombo": "cocNam00001",
     "value": "40"},
    {"dataElement": "deDoiTuong1", "period": "202610", "orgUnit": "ouXaNam0001", "categoryOptionCombo": "cocNam00001",
     "value": "200"},
    {"dataElement": "deTiemDu001", "period": "2026Q3", "orgUnit": "00006", "categoryOptionCombo": "cocNam00001",
     "value": "9"},
    {"dataElement": "deDoiTuong1", "period": "2026Q3", "orgUnit": "00006", "categoryOptionCombo": "cocNam00001",
     "value": "10"},
    # another category option combo of the same element: not ours
    {"dataElement": "deTiemDu001", "period": "202610", "orgUnit": "ouPhuongBon", "categoryOptionCombo": "cocNu000001",
     "value": "70"},
    {"dataElement": "deDong00001", "period": "202610", "orgUnit": "HP_BV1", "value": "12"},
    {"dataElement": "deDong00002", "period": "202610", "orgUnit": "HP_BV1", "value": "30"},
    {"dataElement": "deKhac00001", "period": "202610", "orgUnit": "xyz", "value": "1"},   # not mapped: ignored
]


@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


def stored(engine) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT indicator_code, entity_code, period, numerator, denominator FROM kpi_values "
                                 "WHERE period >= '2026-01'")).all()
    return {(r[0], r[1], r[2]): (float(r[3]), float(r[4])) for r in rows}


def write_csv(path, values, header=True):
    lines = ["dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value,storedby,lastupdated,"
             "comment,followup"] if header else []
    for dv in values:
        lines.append(f"{dv['dataElement']},{dv['period']},{dv['orgUnit']},{dv.get('categoryOptionCombo', '')},,"
                     f"{dv['value']},admin,2026-11-02T10:00:00.000,,false")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("shape", ["json", "csv", "csv-no-header"])
def test_a_data_value_set_loads_its_pairs(world, tmp_path, shape):
    mapping = tmp_path / "dhis2.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    if shape == "json":
        path = tmp_path / "dvs.json"
        path.write_text(json.dumps({"dataSet": "dsX", "dataValues": DATA_VALUES}), encoding="utf-8")
    else:
        path = write_csv(tmp_path / "dvs.csv", DATA_VALUES, header=shape == "csv")

    report = importer.import_files(world, "values", [path], dhis2=importer.Dhis2Mapping.read(mapping))

    assert report.ok and report.written, [i.message() for i in report.errors]
    assert stored(world) == EXPECTED


def test_half_a_pair_an_unknown_org_unit_and_a_flow_quarter_are_refused(world, tmp_path):
    mapping = tmp_path / "dhis2.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    values = [
        {"dataElement": "deTiemDu001", "period": "202610", "orgUnit": "ouPhuongBon",
         "categoryOptionCombo": "cocNam00001", "value": "75"},
        {"dataElement": "deDong00001", "period": "2026Q3", "orgUnit": "HP_BV1", "value": "1"},
        {"dataElement": "deDoiTuong1", "period": "202610", "orgUnit": "ouKhongCo01",
         "categoryOptionCombo": "cocNam00001", "value": "3"},
        {"dataElement": "deDoiTuong1", "period": "2026-13", "orgUnit": "ouXaNam0001",
         "categoryOptionCombo": "cocNam00001", "value": "3"},
    ]
    path = write_csv(tmp_path / "bad.csv", values)
    before = table_checksums(world)

    report = importer.import_files(world, "values", [path], dhis2=importer.Dhis2Mapping.read(mapping))

    assert sorted((i.line, i.key) for i in report.errors) == [
        (2, "imp_dhis2_half_pair"), (3, "imp_wide_flow_period"), (4, "imp_dhis2_unknown_org_unit"),
        (5, "imp_dhis2_bad_period")]
    assert table_checksums(world) == before


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_then_import_round_trips(world, tmp_path, fmt):
    mapping = tmp_path / "dhis2.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    db = world.url.render_as_string(hide_password=False)
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"dataValues": DATA_VALUES}), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["--database", db, "import", "dhis2", str(source), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    before = stored(world)

    out = tmp_path / f"out.{fmt}"
    result = runner.invoke(main, ["--database", db, "export", "dhis2", "--indicator", "stockind", "--indicator",
                                  "flowind", "--period", "2026", "--mapping", str(mapping), "--out", str(out)])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        written = json.loads(out.read_text(encoding="utf-8"))["dataValues"]
        assert {"dataElement": "deTiemDu001", "period": "202610", "orgUnit": "ouPhuongBon",
                "categoryOptionCombo": "cocNam00001", "value": "75"} in written
        assert len(written) == 2 * len(EXPECTED)
    # Remove the figures, load the exported file back: the same figures.
    with world.begin() as conn:
        conn.execute(text("DELETE FROM kpi_values WHERE period >= '2026-01'"))
    result = runner.invoke(main, ["--database", db, "import", "dhis2", str(out), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert stored(world) == before == EXPECTED
