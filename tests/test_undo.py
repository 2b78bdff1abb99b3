"""Undo a load: the figures come back exactly as they were before it (every stored table, the
aggregates included, to the last column), in one audited transaction; a load later loads
overwrote is refused with the reason, or undone after them with --cascade. Both databases."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from dashboard import figures, importer, undo
from dashboard.cli import main
from dashboard.database import make_engine, upgrade
from tests.data_files import VALUE_HEADER, every_table_checksum, write_csv
from tests.world import load_world

#: What an undo itself writes: its audit row, the new data version; the load's own audit stays.
AUDIT_TABLES = {"audit_log", "data_loads", "data_version", "meta"}


@pytest.fixture
def world(use_engine):
    load_world(use_engine)
    return use_engine


def run(engine, kind, path, **kwargs):
    report = importer.import_files(engine, kind, [path], user="tester", **kwargs)
    assert report.ok, [i.message() for i in report.errors]
    return report.files[0].load_id


def stored(engine) -> dict[str, str]:
    return {k: v for k, v in every_table_checksum(engine).items() if k not in AUDIT_TABLES}


def figure(engine, indicator, period, entity):
    with engine.connect() as conn:
        row = conn.execute(text("SELECT numerator, denominator FROM aggregates WHERE indicator_code = :i AND "
                                "period = :p AND entity_code = :e"), {"i": indicator, "p": period, "e": entity}).first()
    return None if row is None else tuple(row)


def test_undo_of_a_values_load_restores_every_table_and_figure_exactly(world, tmp_path):
    before = stored(world)
    province_before = figure(world, "stockind", "2025-Q3", "01")
    rows = [["stockind", "00004", "2025-09", 75, 100],   # replaces 70/100
            ["stockind", "00005", "2025-09", 40, 200],   # new cell
            ["stockind", "00004", "2025-10", 80, 100],   # a new month: new periods
            ["flowind", "BV1", "2025-09", 55.5, 100]]    # replaces 50/100
    load_id = run(world, "values", write_csv(tmp_path / "a.csv", VALUE_HEADER, rows))
    # Province Q3 stock = latest month in the quarter per commune: 75+40+920+5 over 100+200+1000+50.
    assert figure(world, "stockind", "2025-Q3", "01") == (1040.0, 1350.0)
    assert figure(world, "stockind", "2025-10", "00004") == (80.0, 100.0)

    done = undo.undo(world, load_id, actor="admin.test")
    assert [(p.load_id, p.removed, p.restored) for p in done] == [(load_id, 4, 2)]
    assert stored(world) == before
    # Before: 70+30+920+5 = 1025 over 100+200+1000+50.
    assert figure(world, "stockind", "2025-Q3", "01") == province_before == (1025.0, 1350.0)
    assert figure(world, "stockind", "2025-10", "00004") is None
    with world.connect() as conn:
        audit = conn.execute(text("SELECT actor, action, subject, detail FROM audit_log")).all()
    assert [(a, b, c) for a, b, c, _ in audit] == [("admin.test", "load_undo", f"load:{load_id}")]
    assert json.loads(audit[0][3]) == {"kind": "values", "file": str((tmp_path / "a.csv").resolve()),
                                       "removed": 4, "restored": 2}
    with pytest.raises(undo.UndoRefused, match="đã được hoàn tác"):
        undo.undo(world, load_id, actor="admin.test")
    listed = undo.loads(world).set_index("id")
    assert listed.loc[load_id, "undone_by"] == "admin.test"


def test_a_load_later_loads_overwrote_is_refused_then_undone_in_order_with_cascade(world, tmp_path):
    before = stored(world)
    first = run(world, "values", write_csv(tmp_path / "a.csv", VALUE_HEADER, [["stockind", "00004", "2025-09", 75, 100],
                                                                             ["stockind", "00006", "2025-09", 930, 1000]]))
    after_first = stored(world)
    unrelated = run(world, "values", write_csv(tmp_path / "u.csv", VALUE_HEADER, [["flowind", "BV2", "2025-08", 2, 10]]))
    after_unrelated = stored(world)
    second = run(world, "values", write_csv(tmp_path / "b.csv", VALUE_HEADER, [["stockind", "00004", "2025-09", 80, 100]]))
    third = run(world, "values", write_csv(tmp_path / "c.csv", VALUE_HEADER, [["stockind", "00004", "2025-09", 85, 100]]))

    with pytest.raises(undo.UndoRefused) as refused:
        undo.undo(world, first, actor="a")
    assert refused.value.later == [third, second]
    assert f"#{second} (1)" in refused.value.message("en")
    assert f"#{third}, #{second}, #{first}" in refused.value.message("en")
    with world.connect() as conn:  # refused: nothing changed, no audit
        assert conn.execute(text("SELECT COUNT(*) FROM audit_log")).scalar() == 0
    # The newest load alone is free to go; undoing it and the second gives the state after the unrelated one.
    undo.undo(world, third, actor="a")
    undo.undo(world, second, actor="a")
    assert stored(world) == after_unrelated
    run(world, "values", write_csv(tmp_path / "b2.csv", VALUE_HEADER, [["stockind", "00006", "2025-09", 940, 1000]]))
    done = undo.undo(world, first, actor="a", cascade=True)
    assert [p.load_id for p in done][-1] == first and len(done) == 2
    undo.undo(world, unrelated, actor="a")
    assert stored(world) == before
    assert stored(world) != after_first


def test_undo_of_small_tables_restores_the_previous_rows_and_removes_added_ones(world, tmp_path):
    before = stored(world)
    header = ["indicator", "unit_code", "value", "deadline", "source"]
    load_id = run(world, "targets", write_csv(tmp_path / "t.csv", header, [["stockind", "01", 85, "2025-12", "KH mới"],
                                                                          ["stockind", "001", 90, "2025-12", "KH khu vực"]]))
    with world.connect() as conn:
        assert conn.execute(text("SELECT value FROM targets WHERE scope_code = '01' AND indicator_code = 'stockind'"
                                 )).scalar() == 85
    assert stored(world) != before
    undo.undo(world, load_id, actor="a")
    assert stored(world) == before

    unit_header = ["code", "name", "level", "parent_code"]
    units = run(world, "units", write_csv(tmp_path / "u.csv", unit_header, [["00009", "Xã Chín", "commune", "001"]]))
    values = run(world, "values", write_csv(tmp_path / "v.csv", VALUE_HEADER, [["stockind", "00009", "2025-09", 1, 2]]))
    with pytest.raises(undo.UndoRefused) as refused:
        undo.undo(world, units, actor="a")
    assert refused.value.later == [values]
    undo.undo(world, units, actor="a", cascade=True)
    assert stored(world) == before


def test_demo_and_unknown_loads_are_refused(world):
    with pytest.raises(undo.UndoRefused, match="no load 999"):
        undo.undo(world, 999, actor="a")


# --- the command line ----------------------------------------------------------------------

@pytest.fixture
def cli_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    load_world(engine)
    engine.dispose()
    yield url
    from dashboard import cache
    from dashboard.database import engine_for

    engine_for(url).dispose()
    figures.set_engine(None)
    cache.clear()


def cli(url, *args, input=None):
    return CliRunner().invoke(main, ["--database", url, *map(str, args)], catch_exceptions=False, input=input)


def test_cli_loads_list_and_undo_with_confirmation_and_cascade(cli_db, tmp_path):
    engine = make_engine(cli_db)
    before = stored(engine)
    a = write_csv(tmp_path / "a.csv", VALUE_HEADER, [["stockind", "00004", "2025-09", 75, 100]])
    b = write_csv(tmp_path / "b.csv", VALUE_HEADER, [["stockind", "00004", "2025-09", 80, 100]])
    assert cli(cli_db, "import", "values", a, "--user", "x").exit_code == 0
    assert cli(cli_db, "import", "values", b, "--user", "x").exit_code == 0
    listing = cli(cli_db, "loads", "list")
    assert listing.exit_code == 0 and "b.csv" in listing.stdout.splitlines()[1]
    ids = [int(i) for i in undo.loads(engine)["id"]]
    second, first = ids[0], ids[1]

    refused = cli(cli_db, "loads", "undo", first)
    assert refused.exit_code == 1 and "--cascade" in refused.stderr and f"#{second}" in refused.stderr
    aborted = cli(cli_db, "loads", "undo", first, "--cascade", input="n\n")
    assert aborted.exit_code == 1 and stored(engine) != before
    done = cli(cli_db, "loads", "undo", first, "--cascade", input="y\n")
    assert done.exit_code == 0, done.output
    assert f"Đã hoàn tác lần nạp {second}" in done.stdout and f"Undid load {first}" in done.stdout
    assert stored(engine) == before
    listing = cli(cli_db, "loads")
    assert listing.exit_code == 0
    assert sum("(cli)" in line for line in listing.stdout.splitlines()) == 2
    unknown = cli(cli_db, "loads", "undo", 999, "--yes")
    assert unknown.exit_code == 1 and "no load 999" in unknown.stderr
    engine.dispose()
