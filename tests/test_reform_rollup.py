"""Series across the 2025 reform, on a hand-made world: a merge, a split with shares, a split
without shares, a commune that moved between provinces, a station that follows its old commune.

The expected figures are computed here with pandas over the raw rows and the crosswalk, by the
rules of issue 13 (the successors' sums times the shares; shares not given are equal parts of
what is left; a stock counts the entities valid at the period's end; exact where a unit holds
whole predecessors), never by the product's code."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from dashboard import figures, store

END = date(2025, 6, 30)
START = date(2025, 7, 1)
UNITS = pd.DataFrame([
    ("01@2025-06", "Tỉnh Cũ Một", "province", None, None, END),
    ("02@2025-06", "Tỉnh Cũ Hai", "province", None, None, END),
    ("011@2025-06", "Huyện Cũ", "district", "01@2025-06", None, END),
    ("101@2025-06", "Xã A", "commune", "011@2025-06", None, END),
    ("102@2025-06", "Xã B", "commune", "011@2025-06", None, END),
    ("103@2025-06", "Xã C", "commune", "01@2025-06", None, END),
    ("105@2025-06", "Xã D", "commune", "01@2025-06", None, END),
    ("201@2025-06", "Xã E", "commune", "02@2025-06", None, END),
    ("202@2025-06", "Xã F", "commune", "02@2025-06", None, END),
    # New units; 01 and 101 reuse old codes, as most did in 2025.
    ("01", "Tỉnh Mới Một", "province", None, START, None),
    ("02", "Tỉnh Mới Hai", "province", None, START, None),
    ("101", "Phường Mới 101", "commune", "01", START, None),
    ("104", "Xã Mới 104", "commune", "01", START, None),
    ("106", "Xã Mới 106", "commune", "01", START, None),
    ("202", "Xã Mới 202", "commune", "02", START, None),
], columns=["code", "name", "level", "parent_code", "valid_from", "valid_to"])

LINKS = pd.DataFrame([
    ("101@2025-06", "101", 1.0),   # merge: A and B whole into 101
    ("102@2025-06", "101", 1.0),
    ("103@2025-06", "101", 0.3),   # split with shares
    ("103@2025-06", "104", 0.7),
    ("105@2025-06", "104", None),  # split without shares: equal parts
    ("105@2025-06", "106", None),
    ("201@2025-06", "106", 1.0),   # moved from old province 02 into new province 01
    ("202@2025-06", "202", 1.0),
], columns=["old_code", "new_code", "share"]).assign(effective=START, basis=None)
SHARE = {("105@2025-06", "104"): 0.5, ("105@2025-06", "106"): 0.5}

FACILITIES = pd.DataFrame([
    ("TS", "Trạm Y tế B", "station", "102@2025-06", None, None),  # closed with its commune
    ("TN", "Trạm Y tế 104", "station", "104", None, None),        # outlives the reform
], columns=["code", "name", "type", "unit_code", "lat", "lon"])

INDICATORS = [
    {"code": "hs", "name_vi": "Tồn", "name_en": "Stock", "time": "stock", "reported_by": ["commune"]},
    {"code": "kb", "name_vi": "Dòng", "name_en": "Flow", "time": "flow", "reported_by": ["commune"]},
    {"code": "tr", "name_vi": "Trạm", "name_en": "Station", "time": "flow", "reported_by": ["facility:station"]},
]
OLD_MONTHS = ["2025-04", "2025-05", "2025-06"]
NEW_MONTHS = ["2025-07", "2025-08", "2025-09"]
OLD_COMMUNES = [c for c, lvl in zip(UNITS["code"], UNITS["level"]) if lvl == "commune" and "@" in c]
NEW_COMMUNES = [c for c, lvl in zip(UNITS["code"], UNITS["level"]) if lvl == "commune" and "@" not in c]
NEW_PARENT = {"101": "01", "104": "01", "106": "01", "202": "02"}


def _values() -> pd.DataFrame:
    rng = np.random.default_rng(2025)
    rows = []
    for ind in ("hs", "kb"):
        for codes, months in ((OLD_COMMUNES, OLD_MONTHS), (NEW_COMMUNES, NEW_MONTHS)):
            for code in codes:
                for month in months:
                    if (code, month) == ("105@2025-06", "2025-05"):
                        continue  # D did not report in May: the derived figure is incomplete
                    den = int(rng.integers(200, 900))
                    rows.append((ind, code, month, int(rng.integers(0, den)), den))
    for month in OLD_MONTHS + NEW_MONTHS:
        if month in OLD_MONTHS:
            rows.append(("tr", "TS", month, int(rng.integers(1, 50)), 50))
        rows.append(("tr", "TN", month, int(rng.integers(1, 40)), 40))
    return pd.DataFrame(rows, columns=["indicator", "entity_code", "period", "numerator", "denominator"])


VALUES = _values()


@pytest.fixture
def world(use_engine):
    with store.write_transaction(use_engine) as conn:
        store.upsert_indicators(conn, INDICATORS)
        store.upsert_units(conn, UNITS)
        store.upsert_facilities(conn, FACILITIES)
        store.upsert_links(conn, LINKS)
        store.rebuild_hierarchy(conn)
        load_id = store.record_load(conn, kind="values", source_file="reform.csv", checksum="x")
        added, replaced = store.upsert_values(conn, VALUES, load_id)
        store.finish_load(conn, load_id, added, replaced)
    return use_engine


# --- the oracle: pandas over the raw rows -------------------------------------------------------

def _shares() -> pd.DataFrame:
    """(old, new, share) with the missing shares filled in by hand."""
    out = LINKS[["old_code", "new_code", "share"]].copy()
    out["share"] = [SHARE.get((o, n), s) for o, n, s in zip(out["old_code"], out["new_code"], out["share"])]
    return out


def _contributions(indicator: str, start: str, end: str, stock: bool) -> pd.DataFrame:
    """Each reporting commune's figure in the window (stock: its latest month; flow: the sum)."""
    v = VALUES[(VALUES["indicator"] == indicator) & (VALUES["period"] >= start) & (VALUES["period"] <= end)]
    if stock:
        v = v.sort_values("period").groupby("entity_code").tail(1)
        return v.set_index("entity_code")[["numerator", "denominator"]]
    return v.groupby("entity_code")[["numerator", "denominator"]].sum()


def _expected_new(indicator: str, start: str, end: str, stock: bool) -> dict[str, tuple[float, float]]:
    """New units' figures: reported by new communes, or derived from old ones (shares)."""
    contrib = _contributions(indicator, start, end, stock)
    out: dict[str, list[float]] = {}

    def add(unit, num, den):
        got = out.setdefault(unit, [0.0, 0.0])
        got[0] += num
        got[1] += den

    for code, row in contrib.iterrows():
        if "@" not in code:
            add(code, row.numerator, row.denominator)
            add(NEW_PARENT[code], row.numerator, row.denominator)
        elif not stock or end <= "2025-06":  # a stock over a window ending after the reform: new only
            for link in _shares()[_shares()["old_code"] == code].itertuples():
                add(link.new_code, row.numerator * link.share, row.denominator * link.share)
                add(NEW_PARENT[link.new_code], row.numerator * link.share, row.denominator * link.share)
    return {k: (v[0], v[1]) for k, v in out.items()}


def _stored(engine, indicator: str, period: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text("SELECT entity_code, numerator, denominator, reported, expected, basis "
                                "FROM aggregates WHERE indicator_code = :i AND period = :p"),
                           conn, params={"i": indicator, "p": period}).set_index("entity_code")


CASES = [  # indicator, period label, start, end, stock
    ("hs", "2025-05", "2025-05", "2025-05", True),
    ("kb", "2025-06", "2025-06", "2025-06", False),
    ("hs", "2025-Q2", "2025-04", "2025-06", True),
    ("kb", "2025-Q2", "2025-04", "2025-06", False),
    ("hs", "2025", "2025-01", "2025-09", True),
    ("kb", "2025", "2025-01", "2025-09", False),
    ("hs", "2025-08", "2025-08", "2025-08", True),
]


@pytest.mark.parametrize("indicator,label,start,end,stock", CASES)
def test_new_units_are_their_predecessors_summed_with_shares(world, indicator, label, start, end, stock):
    stored = _stored(world, indicator, label)
    expected = _expected_new(indicator, start, end, stock)
    assert set(expected) == {"01", "02", "101", "104", "106", "202"}
    for code, (num, den) in expected.items():
        assert stored.loc[code, "numerator"] == pytest.approx(num), (code, label)
        assert stored.loc[code, "denominator"] == pytest.approx(den), (code, label)


def test_old_units_keep_their_own_history(world):
    q2 = _stored(world, "kb", "2025-Q2")
    raw = VALUES[(VALUES["indicator"] == "kb") & VALUES["period"].isin(OLD_MONTHS)]
    for old, members in {"01@2025-06": ["101@2025-06", "102@2025-06", "103@2025-06", "105@2025-06"],
                         "02@2025-06": ["201@2025-06", "202@2025-06"],
                         "011@2025-06": ["101@2025-06", "102@2025-06"]}.items():
        mine = raw[raw["entity_code"].isin(members)]
        assert q2.loc[old, "numerator"] == mine["numerator"].sum()
        assert q2.loc[old, "basis"] == 0  # reported, through the hierarchy
    # After the reform an old unit has no figure: nobody of it exists any more.
    assert "01@2025-06" not in _stored(world, "kb", "2025-08").index
    # Old province 01 before, new province 01 after: two units, two series, same code.
    assert _stored(world, "kb", "2025-08").loc["01", "basis"] == 0


def test_basis_says_exact_where_whole_predecessors_and_estimated_where_parts(world):
    june = _stored(world, "hs", "2025-06")
    # 101 holds A and B whole but 30 % of C; 104 and 106 hold parts of C and D: estimated.
    assert {c: int(june.loc[c, "basis"]) for c in ("101", "104", "106", "202")} == \
        {"101": 2, "104": 2, "106": 2, "202": 1}
    # The new province holds all of C and all of D (their parts add up to 1) and E: exact.
    assert int(june.loc["01", "basis"]) == 1 and int(june.loc["02", "basis"]) == 1
    # In May half of D did not report: 106's figure is E alone, exact but incomplete.
    may = _stored(world, "hs", "2025-05")
    assert int(may.loc["106", "basis"]) == 1 and may.loc["106", "reported"] < may.loc["106", "expected"]
    assert int(_stored(world, "hs", "2025-08").loc["104", "basis"]) == 0


def test_completeness_counts_predecessors_valid_in_the_month(world):
    may = _stored(world, "hs", "2025-05")
    # D (half in 104, half in 106) did not report in May.
    assert (may.loc["104", "reported"], may.loc["104", "expected"]) == (1, 2)
    assert (may.loc["106", "reported"], may.loc["106", "expected"]) == (1, 2)
    assert (may.loc["01", "reported"], may.loc["01", "expected"]) == (4, 5)
    aug = _stored(world, "hs", "2025-08")
    assert (aug.loc["01", "reported"], aug.loc["01", "expected"]) == (3, 3)
    # A stock of the year counts who exists at its end: the new communes only, never twice.
    year = _stored(world, "hs", "2025")
    assert (year.loc["01", "reported"], year.loc["01", "expected"]) == (3, 3)


def test_a_station_follows_its_old_commune_and_a_lasting_one_keeps_reporting(world):
    q2 = _stored(world, "tr", "2025-Q2")
    ts = VALUES[(VALUES["entity_code"] == "TS") & VALUES["period"].isin(OLD_MONTHS)]
    tn = VALUES[(VALUES["entity_code"] == "TN") & VALUES["period"].isin(OLD_MONTHS)]
    assert q2.loc["101", "numerator"] == ts["numerator"].sum() and int(q2.loc["101", "basis"]) == 1
    assert q2.loc["104", "numerator"] == tn["numerator"].sum() and int(q2.loc["104", "basis"]) == 0
    assert q2.loc["01", "numerator"] == ts["numerator"].sum() + tn["numerator"].sum()


def test_the_oracle_and_the_series_agree_with_the_stored_figures(world):
    for code in ("01", "104", "106"):
        live = figures.series_live("kb", code, "2025-04", "2025-09").set_index("period")
        stored = figures.series("kb", code, "2025-04", "2025-09").set_index("period")
        for month in OLD_MONTHS + NEW_MONTHS:
            exp = _expected_new("kb", month, month, False)[code]
            assert live.loc[month, "numerator"] == pytest.approx(exp[0])
            assert stored.loc[month, "numerator"] == pytest.approx(exp[0])
            assert live.loc[month, "expected"] == stored.loc[month, "expected"]
            assert int(live.loc[month, "basis"]) == int(stored.loc[month, "basis"]), (code, month)
        assert int(stored.loc["2025-05", "basis"]) >= 1 and int(stored.loc["2025-08", "basis"]) == 0


def test_listings_show_todays_units_before_the_reform_and_old_ones_under_old_parents(world):
    today = figures.figures("hs", "2025-Q2", "commune", "01")
    assert sorted(today["code"]) == ["101", "104", "106"]
    then = figures.figures("hs", "2025-Q2", "commune", "01@2025-06")
    assert sorted(then["code"]) == ["101@2025-06", "102@2025-06", "103@2025-06", "105@2025-06"]
    # Breadcrumbs and scope follow the hierarchy only: old C is not a child of new 101.
    assert [c for c, _ in figures.ancestors("103@2025-06")] == ["103@2025-06", "01@2025-06"]


def test_an_undone_link_load_takes_the_derived_figures_away(world):
    with store.write_transaction(world) as conn:
        conn.execute(text("DELETE FROM unit_links"))
        store.rebuild_hierarchy(conn)
    assert "104" not in _stored(world, "hs", "2025-05").index


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_at_0008(request, tmp_path):
    from dashboard.database import make_engine, upgrade
    from tests.conftest import _drop_schema, _pg_engine_in_new_schema, require_postgres

    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        upgrade(engine, "0008_import_mappings")
        yield engine
        engine.dispose()
    else:
        require_postgres()
        engine, admin, schema = _pg_engine_in_new_schema()
        upgrade(engine, "0008_import_mappings")
        yield engine
        engine.dispose()
        _drop_schema(admin, schema)


def test_migrating_a_database_keeps_every_stored_row(engine_at_0008):
    """Rows written before 0009_reform (here with plain SQL, as the code of that time did) are all
    there after the upgrade, and the figures are rebuilt by the new rules."""
    from dashboard import aggregates
    from dashboard.database import table_checksums, upgrade

    with engine_at_0008.begin() as conn:
        conn.execute(text("INSERT INTO units (code, name, level, parent_code) VALUES "
                          "('01', 'Tỉnh', 'province', NULL), ('00004', 'Xã Bốn', 'commune', '01')"))
        conn.execute(text("INSERT INTO indicators (code, name_vi, name_en, time_agg, higher_is_better) "
                          "VALUES ('kb', 'Dòng', 'Flow', 'flow', TRUE)"))
        conn.execute(text("INSERT INTO indicator_scopes (indicator_code, entity_kind) VALUES ('kb', 'commune')"))
        conn.execute(text("INSERT INTO entity_ancestors (entity_code, entity_kind, ancestor_code, ancestor_level, "
                          "depth) VALUES ('00004', 'commune', '00004', 'commune', 0), "
                          "('00004', 'commune', '01', 'province', 1), ('01', 'province', '01', 'province', 0)"))
        conn.execute(text("INSERT INTO data_loads (id, loaded_at, user_name, kind, source_file, checksum) "
                          "VALUES (1, CURRENT_TIMESTAMP, 'x', 'values', 'v.csv', 'x')"))
        conn.execute(text("INSERT INTO kpi_values (indicator_code, period, entity_code, numerator, denominator, "
                          "load_id) VALUES ('kb', '2025-05', '00004', 3, 4, 1), ('kb', '2025-06', '00004', 5, 8, 1)"))
    before = table_checksums(engine_at_0008)
    upgrade(engine_at_0008)
    after = table_checksums(engine_at_0008)
    for table in ("units", "kpi_values", "data_loads", "indicators", "indicator_scopes", "targets", "facilities"):
        assert after[table] == before[table], table
    with engine_at_0008.connect() as conn:
        closure = conn.execute(text("SELECT entity_code, ancestor_code, share, via FROM entity_ancestors "
                                    "ORDER BY entity_code, ancestor_code")).all()
    assert [tuple(r) for r in closure] == [("00004", "00004", 1.0, 0), ("00004", "01", 1.0, 0), ("01", "01", 1.0, 0)]
    aggregates.ensure(engine_at_0008)
    with engine_at_0008.connect() as conn:
        got = conn.execute(text("SELECT numerator, denominator, basis FROM aggregates "
                                "WHERE entity_code = '01' AND period = '2025-Q2' AND indicator_code = 'kb'")).one()
    assert tuple(got) == (8.0, 12.0, 0)


def test_a_late_report_of_an_old_commune_refreshes_its_successors_as_a_rebuild_would(world):
    """A load of one old commune's 2025-05 value moves new 104's and 106's derived figures and
    their progress: the refresh of that load equals recomputing everything, row for row."""
    from dashboard import aggregates
    from dashboard.database import table_checksums

    with store.write_transaction(world) as conn:
        store.upsert_targets(conn, pd.DataFrame([("hs", "01", 60.0, "2025-12", "KH")],
                                                columns=["indicator", "unit_code", "value", "deadline", "source"]))
    before = _stored(world, "hs", "2025-05")
    with store.write_transaction(world) as conn:
        load_id = store.record_load(conn, kind="values", source_file="late.csv", checksum="late")
        store.upsert_values(conn, pd.DataFrame([("hs", "105@2025-06", "2025-05", 300, 400)],
                                               columns=["indicator", "entity_code", "period", "numerator",
                                                        "denominator"]), load_id)
    after = _stored(world, "hs", "2025-05")
    assert after.loc["104", "numerator"] == pytest.approx(before.loc["104", "numerator"] + 150)
    assert after.loc["104", "reported"] == before.loc["104", "reported"] + 1
    tables = ("aggregates", "aggregate_progress", "agg_periods")
    incremental = {k: v for k, v in table_checksums(world).items() if k in tables}
    with store.write_transaction(world) as conn:
        aggregates.rebuild(conn)
    assert {k: v for k, v in table_checksums(world).items() if k in tables} == incremental
