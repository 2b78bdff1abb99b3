"""The 2025 reform in the importer, on both databases: the crosswalk (national and generic
formats) creates the old units and their links to the new ones, idempotently and undoably;
units files may hold two units of one code over periods that do not overlap; values name a code
resolved at their month, and a value under an old code after the reform is refused naming its
successor. Expected counts are computed here with pandas from the shipped CSV."""
from __future__ import annotations

import gzip

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from dashboard import importer, store, undo
from dashboard.cli import main
from dashboard.importer.crosswalk import NATIONAL_FILE, import_crosswalk
from tests.data_files import VALUE_HEADER, every_table_checksum, write_csv

AUDIT_TABLES = {"audit_log", "data_loads", "data_version", "meta"}
UNIT_HEADER = ["code", "name", "level", "parent_code", "valid_from", "valid_to"]


def stored(engine) -> dict[str, str]:
    return {k: v for k, v in every_table_checksum(engine).items() if k not in AUDIT_TABLES}


@pytest.fixture(scope="module")
def national() -> pd.DataFrame:
    with gzip.open(NATIONAL_FILE, "rt", encoding="utf-8") as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


@pytest.fixture
def hai_phong(national, tmp_path):
    """The national-format rows of new Hải Phòng (new_province_code 31), as a file."""
    rows = national[national["new_province_code"] == "31"]
    path = tmp_path / "xw_31.csv"
    rows.to_csv(path, index=False)
    return path, rows


@pytest.fixture
def demo_units(use_engine, demo_data):
    """The demo's new units (new Hải Phòng: the city, its zones, its 114 communes) and indicators;
    the old ones are what the crosswalk brings."""
    new = demo_data.units[demo_data.units["valid_to"].isna()]
    with store.write_transaction(use_engine) as conn:
        store.load_builtin_indicators(conn)
        store.upsert_units(conn, new)
        store.rebuild_hierarchy(conn)
    return use_engine


def units(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text("SELECT code, name, level, parent_code, valid_from, valid_to FROM units"), conn)


def links(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text("SELECT old_code, new_code, effective, share, basis FROM unit_links"), conn)


def ok(report):
    assert report.ok, [i.message() for i in report.errors]
    return report


def test_national_crosswalk_creates_the_old_units_and_links_idempotently_and_undoably(demo_units, hai_phong):
    engine = demo_units
    path, rows = hai_phong
    before = stored(engine)
    before_units = units(engine)

    dry = ok(import_crosswalk(engine, [path], user="t", dry_run=True))
    assert stored(engine) == before

    wards = rows[rows["old_ward_code"] != ""]
    n_wards = wards["old_ward_code"].nunique()
    n_districts = rows["old_district_code"].nunique()
    n_provinces = rows["old_province_code"].nunique()
    district_links = rows[["old_district_code", "new_ward_code"]].drop_duplicates()
    province_links = rows[["old_province_code", "new_province_code"]].drop_duplicates()
    n_links = len(wards) + len(district_links) + len(province_links)
    assert dry.added == n_wards + n_districts + n_provinces + n_links

    report = ok(import_crosswalk(engine, [path], user="t"))
    assert report.added == dry.added and report.replaced == 0
    assert not report.warnings  # every new commune of Hải Phòng is in the demo
    got = units(engine)
    old = got[got["valid_to"].notna()]
    assert old["level"].value_counts().to_dict() == {"commune": n_wards, "district": n_districts,
                                                     "province": n_provinces}
    assert set(old["code"]) == ({f"{c}@2025-06" for c in wards["old_ward_code"]}
                                | {f"{c}@2025-06" for c in rows["old_district_code"]}
                                | {f"{c}@2025-06" for c in rows["old_province_code"]})
    assert {str(v)[:10] for v in old["valid_to"]} == {"2025-06-30"}
    by_code = old.set_index("code")
    assert by_code.loc["31@2025-06", "name"] == "Thành phố Hải Phòng"
    assert by_code.loc["30@2025-06", "name"] == "Tỉnh Hải Dương"
    assert by_code.loc["303@2025-06", "parent_code"] == "31@2025-06"
    first = wards.iloc[0]
    assert by_code.loc[f"{first.old_ward_code}@2025-06", "parent_code"] == f"{first.old_district_code}@2025-06"
    # The new units are as they were: same codes, names, validity.
    def plain(frame):
        return frame.astype(str).sort_values("code").reset_index(drop=True)

    assert plain(got[got["valid_to"].isna()]).equals(plain(before_units))

    got_links = links(engine)
    assert len(got_links) == n_links
    assert {str(v)[:10] for v in got_links["effective"]} == {"2025-07-01"}
    commune = got_links.merge(wards.assign(old_code=wards["old_ward_code"] + "@2025-06", new_code=wards["new_ward_code"]),
                              on=["old_code", "new_code"])
    assert len(commune) == len(wards)
    divided = commune["divided"] == "True"
    assert commune.loc[divided, "share"].isna().all() and (commune.loc[~divided, "share"] == 1).all()
    # Old provinces 30 and 31 went whole into new 31.
    assert got_links[got_links["old_code"].isin(["30@2025-06", "31@2025-06"])][["new_code", "share"]].values.tolist() \
        == [["31", 1.0], ["31", 1.0]]
    # District shares: each old commune counts 1/k towards each of its k new communes (whole
    # communes only: the island district has none).
    w = wards.assign(k=wards.groupby("old_ward_code")["new_ward_code"].transform("count"))
    w = w.assign(weight=1 / w["k"])
    per = w.groupby(["old_district_code", "new_ward_code"])["weight"].sum() / \
        w.groupby("old_district_code")["old_ward_code"].nunique()
    dist = got_links[got_links["old_code"].str.len() == len("303@2025-06")].copy()
    dist["d"] = dist["old_code"].str[:3]
    for (d, new), share in per.items():
        assert dist[(dist["d"] == d) & (dist["new_code"] == new)]["share"].iloc[0] == pytest.approx(share)
    assert dist.groupby("d")["share"].sum().to_numpy() == pytest.approx(1.0, abs=1e-12)

    after = stored(engine)
    again = ok(import_crosswalk(engine, [path], user="t"))
    assert (again.added, again.replaced) == (0, 0) and stored(engine) == after

    load_id = report.files[0].load_id
    done = undo.undo(engine, load_id, actor="t")
    assert done[0].removed == report.added
    assert stored(engine) == before


def test_default_loads_only_what_feeds_stored_new_units_and_all_loads_every_old_unit(demo_units, national, tmp_path):
    engine = demo_units
    # Hải Phòng's rows plus Hà Nội's (province 01): the demo has no new Hà Nội communes.
    rows = national[national["new_province_code"].isin(["31", "01"])]
    path = tmp_path / "xw.csv"
    rows.to_csv(path, index=False)
    report = ok(import_crosswalk(engine, [path], user="t"))
    keys = [w.key for w in report.warnings]
    assert keys == ["imp_xw_skipped_links", "imp_xw_skipped_units"]
    hanoi = rows[rows["new_province_code"] == "01"]
    skipped = (len(hanoi) + len(hanoi[["old_district_code", "new_ward_code"]].drop_duplicates())
               + len(hanoi[["old_province_code", "new_province_code"]].drop_duplicates()))
    assert report.warnings[0].params["links"] == skipped
    old = units(engine).query("valid_to.notna()", engine="python")
    assert not old["code"].str.startswith("01").any()
    everything = ok(import_crosswalk(engine, [path], user="t", all_units=True))
    old = units(engine).query("valid_to.notna()", engine="python")
    assert old["code"].str.startswith("01@").sum() == 1
    assert len(old) == (rows.loc[rows["old_ward_code"] != "", "old_ward_code"].nunique()
                        + rows["old_district_code"].nunique() + rows["old_province_code"].nunique())
    assert everything.warnings[0].key == "imp_xw_skipped_links"
    assert not links(engine)["new_code"].str.startswith("0").any()


def test_bad_crosswalk_rows_are_named_and_nothing_is_loaded(demo_units, hai_phong, tmp_path):
    engine = demo_units
    _path, rows = hai_phong
    bad = rows.copy()
    bad.iloc[3, bad.columns.get_loc("divided")] = "maybe"
    bad.iloc[5, bad.columns.get_loc("old_province_code")] = "29"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    before = stored(engine)
    report = import_crosswalk(engine, [path], user="t")
    assert not report.ok and stored(engine) == before
    where = [(i.line, i.column, i.key) for i in report.errors]
    assert (5, "divided", "imp_bad_bool") in where and (7, "old_province_code", "imp_xw_unknown_old_province") in where
    message = report.errors[0].message()
    assert "bad.csv, dòng/line 5, cột/column divided" in message and "/" in message

    generic = write_csv(tmp_path / "g.csv", ["old_code", "new_code", "effective", "share"],
                        [["99999", "11311", "2025-07-01", "0.5"], ["00004", "11311", "2025-07-01", "1.5"]])
    report = import_crosswalk(engine, [generic], user="t")
    assert [(i.line, i.column, i.key) for i in report.errors] == [(2, "old_code", "imp_xw_unknown_old"),
                                                                  (3, "share", "imp_xw_share")]
    assert "tháng 2025-06" in report.errors[0].message() and "valid in 2025-06" in report.errors[0].message()
    assert stored(engine) == before


def test_generic_crosswalk_creates_old_units_and_the_command_loads_it(demo_units, tmp_path):
    engine = demo_units
    path = write_csv(tmp_path / "g.csv", ["old_code", "new_code", "effective", "share", "basis", "old_name",
                                         "old_level", "old_parent"],
                     [["31", "31", "2025-07-01", "1", "", "Thành phố Hải Phòng", "province", ""],
                      ["303", "11311", "2025-07-01", "0.6", "ước tính", "Quận Hồng Bàng", "district", "31"],
                      ["303", "11602", "2025-07-01", "0.4", "ước tính", "Quận Hồng Bàng", "district", "31"]])
    url = engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    dry = runner.invoke(main, ["--database", url, "import", "crosswalk", str(path), "--dry-run"], catch_exceptions=False)
    assert dry.exit_code == 0, dry.output
    assert "sẽ thêm 5" in dry.stdout and links(engine).empty
    done = runner.invoke(main, ["--database", url, "import", "crosswalk", str(path), "--user", "t"],
                         catch_exceptions=False)
    assert done.exit_code == 0, done.output
    got = units(engine).set_index("code")
    assert got.loc["303@2025-06", "parent_code"] == "31@2025-06"
    assert str(got.loc["303@2025-06", "valid_to"])[:10] == "2025-06-30"
    assert sorted(links(engine)[["old_code", "new_code", "share"]].values.tolist()) == [
        ["303@2025-06", "11311", 0.6], ["303@2025-06", "11602", 0.4], ["31@2025-06", "31", 1.0]]
    refused = runner.invoke(main, ["--database", url, "import", "units", str(path), "--all"])
    assert refused.exit_code == 2


@pytest.fixture
def reformed(demo_units, hai_phong):
    """The demo's new units valid from 2025-07-01 (communes), and the Hải Phòng crosswalk loaded."""
    engine = demo_units
    with engine.begin() as conn:
        conn.execute(text("UPDATE units SET valid_from = :d WHERE level = 'commune'"), {"d": "2025-07-01"})
    ok(import_crosswalk(engine, [hai_phong[0]], user="t"))
    return engine


def commune_indicator(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT indicator_code FROM indicator_scopes WHERE entity_kind = 'commune' "
                                 "ORDER BY indicator_code")).scalar()


def test_values_under_a_shared_code_go_to_the_unit_valid_in_their_month(reformed, hai_phong, tmp_path):
    engine = reformed
    _path, rows = hai_phong
    ind = commune_indicator(engine)
    wards = rows[rows["old_ward_code"] != ""]
    reused = sorted(set(wards["old_ward_code"]) & set(rows["new_ward_code"]))[0]
    gone = sorted(set(wards["old_ward_code"]) - set(rows["new_ward_code"]))[0]
    gone_to = sorted(wards.loc[wards["old_ward_code"] == gone, "new_ward_code"])
    fresh = sorted(set(rows["new_ward_code"]) - set(wards["old_ward_code"]))[0]   # 11948, from island district 318
    good = write_csv(tmp_path / "v.csv", VALUE_HEADER, [[ind, reused, "2024-05", 10, 20],
                                                        [ind, reused, "2025-09", 11, 20],
                                                        [ind, f"{reused}@2024-06", "2024-06", 12, 20],
                                                        [ind, gone, "2024-05", 13, 20]])
    report = importer.import_files(engine, "values", [good], user="t")
    assert report.ok, [i.message() for i in report.errors]
    with engine.connect() as conn:
        got = sorted(tuple(r) for r in conn.execute(text("SELECT entity_code, period, numerator FROM kpi_values")))
    assert got == sorted([(f"{reused}@2025-06", "2024-05", 10.0), (reused, "2025-09", 11.0),
                          (f"{reused}@2025-06", "2024-06", 12.0), (f"{gone}@2025-06", "2024-05", 13.0)])

    before = stored(engine)
    bad = write_csv(tmp_path / "b.csv", VALUE_HEADER, [[ind, gone, "2025-09", 1, 2],
                                                       [ind, f"{reused}@2025-06", "2025-08", 1, 2],
                                                       [ind, fresh, "2024-01", 1, 2]])
    report = importer.import_files(engine, "values", [bad], user="t")
    assert stored(engine) == before
    by_line = {i.line: i for i in report.errors}
    assert by_line[2].key == "imp_merged_into" and by_line[2].column == "unit_code"
    message = by_line[2].message()
    assert f"{gone}@2025-06 đã sáp nhập vào" in message and "từ 01/07/2025" in message
    assert all(f"({code})" in message for code in gone_to) and "was merged into" in message
    assert by_line[3].key == "imp_merged_into" and f"({reused})" in by_line[3].message()
    assert by_line[4].key == "imp_formed_from" and "(318@2025-06)" in by_line[4].message()


def test_units_files_may_share_a_code_over_periods_that_do_not_overlap(reformed, tmp_path):
    engine = reformed
    path = write_csv(tmp_path / "u.csv", UNIT_HEADER, [
        ["99001", "Xã Một (cũ)", "commune", "303", "", "2025-06-30"],
        ["99001", "Xã Một", "commune", "303", "2025-07-01", ""],
        ["99002", "Xã Hai", "commune", "303", "2025-07-01", ""]])
    report = importer.import_files(engine, "units", [path], user="t")
    assert report.ok, [i.message() for i in report.errors]
    got = units(engine).set_index("code")
    # An old unit takes its key code@YYYY-MM; its plain parent is the old district of that code.
    assert got.loc["99001@2025-06", "name"] == "Xã Một (cũ)" and got.loc["99001@2025-06", "parent_code"] == "303@2025-06"
    assert got.loc["99001", "name"] == "Xã Một" and got.loc["99001", "parent_code"] == "303"
    # Re-uploaded, the stored units keep their keys.
    again = importer.import_files(engine, "units", [path], user="t")
    assert again.ok and (again.added, again.replaced) == (0, 3)

    before = stored(engine)
    overlap = write_csv(tmp_path / "o.csv", UNIT_HEADER, [
        ["99003", "Xã Ba (cũ)", "commune", "303", "", "2025-08-31"],
        ["99003", "Xã Ba", "commune", "303", "2025-07-01", ""]])
    report = importer.import_files(engine, "units", [overlap], user="t")
    assert not report.ok and stored(engine) == before
    issue = report.errors[0]
    assert (issue.key, issue.line) == ("imp_unit_overlap", 3)
    assert "dòng 2" in issue.message() and "line 2" in issue.message() and "o.csv" in issue.message()


def test_export_units_writes_keys_and_official_codes_and_round_trips(reformed, tmp_path):
    engine = reformed
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "units.csv"
    result = CliRunner().invoke(main, ["--database", url, "export", "units", "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(frame.columns) == UNIT_HEADER[:1] + ["official_code"] + UNIT_HEADER[1:]
    row = frame.set_index("code").loc["31@2025-06"]
    assert (row["official_code"], row["valid_to"], row["level"]) == ("31", "2025-06-30", "province")
    assert (frame["code"].str.split("@").str[0] == frame["official_code"]).all()
    before = {k: v for k, v in stored(engine).items() if k != "record_history"}
    report = importer.import_files(engine, "units", [out], user="t")
    assert report.ok and report.added == 0, [i.message() for i in report.errors][:5]
    assert report.replaced == len(frame)
    assert {k: v for k, v in stored(engine).items() if k != "record_history"} == before


def test_a_2024_workbook_by_old_names_and_codes_loads_under_the_old_units(reformed, hai_phong, tmp_path):
    from openpyxl import Workbook

    engine = reformed
    _path, rows = hai_phong
    all_units = units(engine)
    unique = all_units["name"].map(all_units["name"].value_counts()) == 1
    wards = rows[rows["old_ward_code"] != ""].drop_duplicates("old_ward_code")
    # An old commune known only by its old name, and one whose code the new commune reuses.
    only_old = wards[wards["old_ward"].isin(all_units.loc[unique, "name"])].iloc[0]
    reused = wards[wards["old_ward_code"].isin(rows["new_ward_code"])
                   & wards["old_ward"].isin(all_units.loc[unique, "name"])].iloc[-1]
    wb = Workbook()
    ws = wb.active
    ws.append(["BÁO CÁO TỶ LỆ NGƯỜI DÂN CÓ HỒ SƠ SỨC KHỎE ĐIỆN TỬ THÁNG 5 NĂM 2024"])
    ws.append([])
    ws.append(["STT", "Đơn vị", "Số người dân đã có hồ sơ sức khỏe điện tử", "Dân số"])
    ws.append([1, only_old.old_ward, 120, 1000])
    ws.append([2, reused.old_ward, 130, 1100])
    path = tmp_path / "2024.xlsx"
    wb.save(path)
    report = importer.import_files(engine, "values", [path], user="t")
    assert report.ok, [i.message() for i in report.errors]
    with engine.connect() as conn:
        got = sorted(tuple(r) for r in conn.execute(text("SELECT entity_code, period, numerator FROM kpi_values")))
    assert got == sorted([(f"{only_old.old_ward_code}@2025-06", "2024-05", 120.0),
                          (f"{reused.old_ward_code}@2025-06", "2024-05", 130.0)])


def test_a_crosswalk_whose_old_units_hold_values_is_undone_only_after_them(demo_units, hai_phong, tmp_path):
    engine = demo_units
    before = stored(engine)
    xw = ok(import_crosswalk(engine, [hai_phong[0]], user="t")).files[0].load_id
    rows = hai_phong[1]
    old = rows.loc[rows["old_ward_code"] != "", "old_ward_code"].iloc[0] + "@2025-06"
    values = write_csv(tmp_path / "v.csv", VALUE_HEADER, [[commune_indicator(engine), old, "2024-05", 1, 2]])
    report = importer.import_files(engine, "values", [values], user="t")
    assert report.ok, [i.message() for i in report.errors]
    later = report.files[0].load_id
    with pytest.raises(undo.UndoRefused) as refused:
        undo.undo(engine, xw, actor="t")
    assert refused.value.later == [later]
    done = undo.undo(engine, xw, actor="t", cascade=True)
    assert [p.load_id for p in done] == [later, xw]
    assert stored(engine) == before
