"""Nothing stored is lost: a load keeps every row it replaces, with its own load id, so that it
can be undone exactly. The undo here is written in the test, from the history tables alone,
and must give back the tables as they were, to the last column. Both databases."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard import importer
from dashboard.database import table_checksums
from tests.data_files import VALUE_HEADER, write_csv
from tests.world import load_world


@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


def run(engine, kind, path, **kwargs):
    report = importer.import_files(engine, kind, [path], user="tester", **kwargs)
    assert report.ok, [i.message() for i in report.errors]
    return report


def values_table(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(text("SELECT indicator_code, period, entity_code, numerator, denominator, load_id "
                                 "FROM kpi_values"), conn)
    return frame.sort_values(["indicator_code", "period", "entity_code"]).reset_index(drop=True)


def undo_values(engine, load_id: int) -> None:
    """Undo one values load from the history alone."""
    with engine.begin() as conn:
        later = conn.execute(text("SELECT COUNT(*) FROM kpi_value_history WHERE load_id = :l"), {"l": load_id}).scalar()
        assert later == 0, "a later load replaced rows of this one"
        conn.execute(text("DELETE FROM kpi_values WHERE load_id = :l"), {"l": load_id})
        conn.execute(text("INSERT INTO kpi_values (indicator_code, period, entity_code, numerator, denominator, "
                          "load_id) SELECT indicator_code, period, entity_code, numerator, denominator, load_id "
                          "FROM kpi_value_history WHERE replaced_by_load_id = :l"), {"l": load_id})


def test_replaced_values_are_kept_with_the_load_that_replaced_them_and_undo_exactly(world, tmp_path):
    before = values_table(world)
    rows = [["stockind", "00004", "2025-09", 75, 100],   # replaces the world's 70/100
            ["stockind", "00005", "2025-09", 40, 200],   # new
            ["flowind", "BV1", "2025-09", 55.5, 100]]    # replaces 50/100
    report = run(world, "values", write_csv(tmp_path / "a.csv", VALUE_HEADER, rows))
    load_id = report.files[0].load_id
    with world.connect() as conn:
        kept = pd.read_sql(text("SELECT * FROM kpi_value_history ORDER BY indicator_code, entity_code"), conn)
    old = before.set_index(["indicator_code", "period", "entity_code"])
    assert list(zip(kept.indicator_code, kept.entity_code)) == [("flowind", "BV1"), ("stockind", "00004")]
    for r in kept.itertuples():
        was = old.loc[(r.indicator_code, r.period, r.entity_code)]
        assert (r.numerator, r.denominator, r.load_id) == (was.numerator, was.denominator, was.load_id)
        assert r.replaced_by_load_id == load_id
    assert (report.added, report.replaced) == (1, 2) == (1, len(kept))

    undo_values(world, load_id)
    pd.testing.assert_frame_equal(values_table(world), before)


def test_a_later_load_over_the_same_rows_is_seen_by_the_undo_of_the_first(world, tmp_path):
    first = run(world, "values", write_csv(tmp_path / "a.csv", VALUE_HEADER, [["stockind", "00004", "2025-09", 75, 100]]))
    after_first = values_table(world)
    second = run(world, "values", write_csv(tmp_path / "b.csv", VALUE_HEADER, [["stockind", "00004", "2025-09", 80, 100]]))
    with world.connect() as conn:
        chain = conn.execute(text("SELECT load_id, replaced_by_load_id, numerator FROM kpi_value_history "
                                  "WHERE entity_code = '00004' AND period = '2025-09' ORDER BY replaced_by_load_id")).all()
    world_load = int(after_first.set_index("entity_code").loc["00006", "load_id"].iloc[0])
    assert [tuple(r) for r in chain] == [(world_load, first.files[0].load_id, 70.0),
                                         (first.files[0].load_id, second.files[0].load_id, 75.0)]
    with pytest.raises(AssertionError, match="later load"):
        undo_values(world, first.files[0].load_id)
    undo_values(world, second.files[0].load_id)  # in order: the second, then the first
    pd.testing.assert_frame_equal(values_table(world), after_first)


def _rows(engine, table: str, key: list[str]) -> list[dict]:
    with engine.connect() as conn:
        frame = pd.read_sql(text(f"SELECT * FROM {table}"), conn)  # noqa: S608 - fixed names
    frame = frame.drop(columns=["id"], errors="ignore").sort_values(key).reset_index(drop=True)
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def undo_records(engine, load_id: int, table: str, key: list[str]) -> None:
    """Undo one load of a small table from record_history alone."""
    with engine.begin() as conn:
        changes = conn.execute(text("SELECT row_key, previous FROM record_history WHERE load_id = :l "
                                    "AND table_name = :t"), {"l": load_id, "t": table}).all()
        for row_key, previous in changes:
            where = " AND ".join(f"{k} = :k{i}" for i, k in enumerate(key))
            params = {f"k{i}": v for i, v in enumerate(json.loads(row_key))}
            if previous is None:  # the load added it
                conn.execute(text(f"DELETE FROM {table} WHERE {where}"), params)  # noqa: S608
                continue
            row = {k: v for k, v in json.loads(previous).items() if k != "reported_by" and k not in key}
            sets = ", ".join(f"{c} = :{c}" for c in row)
            conn.execute(text(f"UPDATE {table} SET {sets} WHERE {where}"), {**row, **params})  # noqa: S608


def test_units_and_targets_keep_their_previous_rows(world, tmp_path):
    units_before = _rows(world, "units", ["code"])
    path = write_csv(tmp_path / "u.csv", ["code", "name", "level", "parent_code"],
                     [["00004", "Phường Bốn (tên mới)", "commune", "001"], ["00009", "Xã Chín", "commune", "001"]])
    load_id = run(world, "units", path).files[0].load_id
    with world.connect() as conn:
        history = {json.loads(k)[0]: p for k, p in conn.execute(
            text("SELECT row_key, previous FROM record_history WHERE load_id = :l AND table_name = 'units'"),
            {"l": load_id})}
    assert history["00009"] is None  # added
    assert json.loads(history["00004"]) == {"code": "00004", "name": "Phường Bốn", "level": "commune",
                                            "parent_code": "001", "valid_from": None, "valid_to": None}
    undo_records(world, load_id, "units", ["code"])
    assert _rows(world, "units", ["code"]) == units_before

    targets_before = _rows(world, "targets", ["indicator_code", "scope_code", "deadline"])
    path = write_csv(tmp_path / "t.csv", ["indicator", "unit_code", "value", "deadline", "source"],
                     [["stockind", "01", 85, "2025-12", "KH mới"], ["stockind", "001", 60, "2025-12", None]])
    load_id = run(world, "targets", path).files[0].load_id
    undo_records(world, load_id, "targets", ["indicator_code", "scope_code", "deadline"])
    assert _rows(world, "targets", ["indicator_code", "scope_code", "deadline"]) == targets_before


def test_an_indicator_keeps_its_previous_definition_and_reporting_kinds(world, tmp_path):
    path = write_csv(tmp_path / "i.csv", ["code", "name_vi", "name_en", "time", "higher_is_better", "reported_by"],
                     [["stockind", "Chỉ tiêu tồn (mới)", "Stock (new)", "stock", "true", "commune;district"]])
    load_id = run(world, "indicators", path).files[0].load_id
    with world.connect() as conn:
        (previous,) = conn.execute(text("SELECT previous FROM record_history WHERE load_id = :l"),
                                   {"l": load_id}).scalars().all()
    previous = json.loads(previous)
    assert previous["name_vi"] == "Chỉ tiêu tồn" and previous["reported_by"] == ["commune"]
    assert previous["gap_vi"] == "còn {gap} người" and previous["unit_vi"] == "người"


def test_a_dry_run_keeps_no_history_and_changes_nothing(world, tmp_path):
    before = table_checksums(world)
    path = write_csv(tmp_path / "a.csv", VALUE_HEADER, [["stockind", "00004", "2025-09", 75, 100]])
    report = importer.import_files(world, "values", [path], dry_run=True)
    assert report.ok and (report.added, report.replaced) == (0, 1)
    assert table_checksums(world) == before
    with world.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM kpi_value_history")).scalar() == 0
