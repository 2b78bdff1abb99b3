"""The upload page with wide reports and DHIS2 over HTTP: the layout detected and said, the
mapping understood shown as a table (columns → month, indicator, part; unit names → codes), a
commune name shared by two zones corrected there and checked again, the mapping saved on the
server and chosen from the list next month with no correction, and the confirmed load holding
exactly the numbers a person reads in the workbook, the admin in the audit. Both databases."""
from __future__ import annotations

import html
import io
import json
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from dashboard import store
from tests.auth_helpers import STRONG_KEY, add_user, clear_accounts, configure, login
from tests.data_files import every_table_checksum, save_like_excel
from tests.test_import_dhis2 import DATA_VALUES, EXPECTED as DHIS2_EXPECTED, MAPPING as DHIS2_MAPPING
from tests.test_import_wide import EXTRA_UNITS, MONTHLY, MONTHS, merge, province_book, vi
from tests.world import load_world


@pytest.fixture
def site(use_engine, tmp_path):
    load_world(use_engine)
    with store.write_transaction(use_engine) as conn:
        store.upsert_units(conn, EXTRA_UNITS)
        store.rebuild_hierarchy(conn)
    clear_accounts(use_engine)
    add_user(use_engine, "quan.tri", "admin")
    server = configure(secret_key=STRONG_KEY, upload_dir=str(tmp_path / "uploads"))
    yield server
    clear_accounts(use_engine)


def body(response) -> str:
    return response.get_data(as_text=True)


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def admin(server):
    client = server.test_client()
    assert login(client, "quan.tri").status_code == 302
    return client


def book_bytes(tmp_path, build, name: str, **kwargs) -> bytes:
    path = tmp_path / name
    build(path, **kwargs)
    return path.read_bytes()


def upload(client, content: bytes, name: str, **fields):
    page = body(client.get("/admin/upload"))
    data = {"csrf_token": csrf(page), "action": "check", "kind": "auto", "layout": "auto", "source": "table",
            "number_format": "vi", "lang": "vi", "file": (io.BytesIO(content), name)}
    data.update(fields)
    return client.post("/admin/upload", data=data, content_type="multipart/form-data")


def post(client, page: str, action: str, **fields):
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    return client.post("/admin/upload", data={"csrf_token": csrf(page), "action": action, "token": token,
                                              "lang": "vi", **fields})


def unit_rows(page: str) -> list[dict]:
    """The mapping table's unit rows: cell, written, status, selected code, candidate codes, field index."""
    out = []
    for status, row in re.findall(r'<tr class="upload-map-unit[^"]*" data-status="(\w+)">(.*?)</tr>', page, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        select = re.search(r'<select[^>]*name="code_(\d+)"[^>]*>(.*?)</select>', row, re.S)
        selected = re.search(r'<option value="([^"]*)" selected>', select.group(2))
        out.append({"cell": cells[0].split()[-1], "written": html.unescape(re.split(r"<br>", cells[1])[0]),
                    "status": status, "code": selected.group(1) if selected else "", "i": select.group(1),
                    "candidates": re.findall(r'<option value="(\d+)"', select.group(2))})
    return out


def mapping_form(page: str, choices: dict[str, str]) -> dict:
    """What a browser sends from the mapping table: its hidden fields, each select's selected
    option, with the admin's ``choices`` (field index -> code) made."""
    form = re.search(r'<form[^>]*id="upload-map-form".*?</form>', page, re.S).group(0)
    out = {n: html.unescape(v) for n, v in re.findall(r'<input type="hidden" name="((?:key|was)_\d+)" value="([^"]*)"',
                                                       form)}
    for i, options in re.findall(r'<select[^>]*name="code_(\d+)"[^>]*>(.*?)</select>', form, re.S):
        selected = re.search(r'<option value="([^"]*)" selected>', options)
        out[f"code_{i}"] = choices.get(i, selected.group(1) if selected else "")
    return out


def column_rows(page: str) -> list[list[str]]:
    rows = re.findall(r'<tr class="upload-map-column">(.*?)</tr>', page, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", r, re.S)] for r in rows]


def stored(engine, months: list[str]) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT entity_code, period, numerator, denominator FROM kpi_values "
                                 "WHERE indicator_code = 'stockind'")).all()
    return {(r[0], r[1]): (float(r[2]), float(r[3])) for r in rows if r[1] in months}


def last_load(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT user_name, kind, rows_added FROM data_loads ORDER BY id DESC")).first()


#: April, next month's report: (commune, month) -> (numerator, denominator), as typed.
APRIL = {("00004", "2026-04"): (1210, 2000), ("00005", "2026-04"): (41, 200), ("31402", "2026-04"): (8, 50),
         ("00006", "2026-04"): (925, 1000), ("31403", "2026-04"): (4, 40), ("00008", "2026-04"): (15, 60)}
#: The names as the department writes them (the two An Lão without their zones).
WRITTEN = [("1", "Phường Bốn", "00004"), ("2", "Năm", "00005"), ("3", "An Lão", "31402"), ("4", "xã sáu", "00006"),
           ("5", "Xã  An Lão", "31403"), ("6", "Xã Tám", "00008")]


def april_book(path, renamed: dict[str, str] | None = None) -> None:
    """A one-month report: a merged title with the month, the names without zones, numbers
    typed as text with Vietnamese dots, a total row, a signature."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Tháng 4"
    merge(ws, "A1:D1", "SỞ Y TẾ TỈNH THỬ")
    merge(ws, "A2:D2", "BÁO CÁO CHỈ TIÊU TỒN THÁNG 4 NĂM 2026")
    merge(ws, "A4:A5", "STT")
    merge(ws, "B4:B5", "Tên đơn vị")
    merge(ws, "C4:D4", "Tháng 4")
    ws["C5"], ws["D5"] = "Tử số", "Mẫu số"
    line = 6
    ws.cell(line, 2, "TỔNG CỘNG")
    ws.cell(line, 3, vi(sum(n for n, _ in APRIL.values())))
    ws.cell(line, 4, vi(sum(d for _, d in APRIL.values())))
    for num, name, code in WRITTEN:
        name = (renamed or {}).get(name, name)
        line += 1
        n, d = APRIL[(code, "2026-04")]
        ws.cell(line, 1, num)
        ws.cell(line, 2, name)
        ws.cell(line, 3, vi(n))
        ws.cell(line, 4, vi(d))
    ws.cell(line + 2, 3, "Người lập biểu")
    save_like_excel(wb, path)


def test_a_wide_report_is_detected_shown_as_its_mapping_and_loads_what_a_person_reads(site, use_engine, tmp_path):
    client = admin(site)
    page = body(client.get("/admin/upload"))
    assert 'name="layout"' in page and 'name="mapping_id"' in page and 'value="dhis2"' in page
    content = book_bytes(tmp_path, province_book, "bao_cao_quy_1.xlsx", text_numbers=True)

    answer = upload(client, content, "báo cáo quý 1.xlsx")

    page = body(answer)
    assert answer.status_code == 200, page
    assert "Đã nhận ra dạng tệp: Báo cáo dạng bảng rộng." in page
    columns = column_rows(page)
    assert [(c[0], c[2], c[4]) for c in columns] == [
        ("C", "2026-01", "tử số"), ("D", "2026-01", "mẫu số"), ("E", "2026-02", "tử số"),
        ("F", "2026-02", "mẫu số"), ("G", "2026-03", "tử số"), ("H", "2026-03", "mẫu số")]
    assert all("stockind" in c[3] for c in columns)
    units = unit_rows(page)
    communes = {u["written"]: u["code"] for u in units if u["code"] not in ("001", "002")}
    assert communes == {"Phường Bốn": "00004", "Năm": "00005", "An Lão": "31402", "xã sáu": "00006",
                        "Xã  An Lão": "31403", "Xã Tám": "00008"}
    assert {u["written"]: u["code"] for u in units if u["code"] in ("001", "002")} == {
        "KHU VỰC MỘT": "001", "Khu vực Hai": "002"}
    assert all(u["status"] == "name" for u in units)
    an_lao = next(u for u in units if u["written"] == "An Lão")
    assert an_lao["candidates"][0] == "31402" and "31403" in an_lao["candidates"]  # the other one offered
    assert 'id="upload-confirm"' in page and 'id="upload-save-mapping"' in page
    assert stored(use_engine, MONTHS) == {}

    loaded = post(client, page, "confirm")

    assert loaded.status_code == 200 and 'id="upload-loaded"' in body(loaded), body(loaded)
    assert stored(use_engine, MONTHS) == {k: (float(n), float(d)) for k, (n, d) in MONTHLY.items()}
    assert tuple(last_load(use_engine)) == ("quan.tri", "values", len(MONTHLY))


def test_a_shared_name_is_corrected_in_the_table_then_the_saved_mapping_serves_next_month(site, use_engine,
                                                                                          tmp_path):
    client = admin(site)
    before = every_table_checksum(use_engine)
    content = book_bytes(tmp_path, province_book, "quy_1.xlsx", duplicate_unzoned=True)

    refused = upload(client, content, "quy_1.xlsx")

    page = body(refused)
    assert refused.status_code == 422
    units = {u["written"]: u for u in unit_rows(page)}
    assert {w: (u["status"], u["code"]) for w, u in units.items()} == {
        "Phường Bốn": ("name", "00004"), "Năm": ("name", "00005"), "An Lão": ("ambiguous", ""),
        "xã sáu": ("name", "00006"), "Xã  An Lão": ("ambiguous", ""), "Xã Tám": ("name", "00008")}
    assert units["An Lão"]["cell"] == "B11" and units["Xã  An Lão"]["cell"] == "B13"
    assert set(units["An Lão"]["candidates"]) == {"31402", "31403"}
    assert 'id="upload-confirm"' not in page and 'id="upload-recheck"' in page
    assert every_table_checksum(use_engine) == before

    fixed = post(client, page, "recheck", **mapping_form(page, {units["An Lão"]["i"]: "31402",
                                                                units["Xã  An Lão"]["i"]: "31403"}))

    page = body(fixed)
    assert fixed.status_code == 200, page
    assert "Đã sửa 2 tên đơn vị." in page
    assert {u["written"]: (u["status"], u["code"]) for u in unit_rows(page)}["Xã  An Lão"] == ("mapping", "31403")
    saved = post(client, page, "save_mapping", mapping_name="Báo cáo chỉ tiêu tồn")
    page = body(saved)
    assert saved.status_code == 200 and "Đã lưu cách đọc “Báo cáo chỉ tiêu tồn”" in page
    loaded = post(client, page, "confirm")
    assert loaded.status_code == 200 and 'id="upload-loaded"' in body(loaded), body(loaded)
    assert stored(use_engine, MONTHS) == {k: (float(n), float(d)) for k, (n, d) in MONTHLY.items()}

    # Next month: the saved mapping chosen from the list; nothing to correct.
    form = body(client.get("/admin/upload"))
    mapping_id = re.search(r'<option value="(\d+)">Báo cáo chỉ tiêu tồn</option>', form).group(1)
    april = upload(client, book_bytes(tmp_path, april_book, "thang_4.xlsx"), "thang_4.xlsx", mapping_id=mapping_id)

    page = body(april)
    assert april.status_code == 200, page
    assert "Dùng cách đọc đã lưu: Báo cáo chỉ tiêu tồn." in page and "Đã sửa" not in page
    units = {u["written"]: (u["status"], u["code"]) for u in unit_rows(page)}
    assert units["An Lão"] == ("mapping", "31402") and units["Xã  An Lão"] == ("mapping", "31403")
    assert [(c[0], c[2]) for c in column_rows(page)] == [("C", "2026-04"), ("D", "2026-04")]
    loaded = post(client, page, "confirm")
    assert loaded.status_code == 200 and 'id="upload-loaded"' in body(loaded), body(loaded)
    assert stored(use_engine, ["2026-04"]) == {k: (float(n), float(d)) for k, (n, d) in APRIL.items()}
    assert tuple(last_load(use_engine)) == ("quan.tri", "values", len(APRIL))
    with use_engine.connect() as conn:
        actions = [r[0] for r in conn.execute(text("SELECT action FROM audit_log WHERE action LIKE 'mapping%'"))]
    assert actions == ["mapping_save"]


def test_an_unknown_name_is_given_its_code_by_hand(site, use_engine, tmp_path):
    client = admin(site)
    content = book_bytes(tmp_path, april_book, "thang_4.xlsx",
                         renamed={"Xã Tám": "Xã Tám Mới", "An Lão": "TYT An Lão", "Xã  An Lão": "Xã An Lão 2"})
    page = body(upload(client, content, "thang_4.xlsx"))
    units = {u["written"]: u for u in unit_rows(page)}
    assert units["Xã Tám Mới"]["status"] == "unknown" and 'name="other_' in page
    choices = {units["TYT An Lão"]["i"]: "31402", units["Xã An Lão 2"]["i"]: "31403"}

    typo = post(client, page, "recheck", **mapping_form(page, choices), **{f"other_{units['Xã Tám Mới']['i']}": "0008"})
    page = body(typo)
    assert typo.status_code == 422 and "0008" in page  # no such unit: said, still to correct
    units = {u["written"]: u for u in unit_rows(page)}
    fixed = post(client, page, "recheck", **mapping_form(page, {}), **{f"other_{units['Xã Tám Mới']['i']}": "00008"})

    page = body(fixed)
    assert fixed.status_code == 200, page
    assert {u["written"]: u["code"] for u in unit_rows(page)}["Xã Tám Mới"] == "00008"
    assert post(client, page, "confirm").status_code == 200
    assert stored(use_engine, ["2026-04"]) == {k: (float(n), float(d)) for k, (n, d) in APRIL.items()}


def test_a_dhis2_data_value_set_with_its_mapping_file_loads_its_pairs(site, use_engine):
    client = admin(site)
    content = json.dumps({"dataSet": "dsX", "dataValues": DATA_VALUES}).encode("utf-8")
    refused = upload(client, content, "dvs.json", source="dhis2")  # no mapping file
    assert refused.status_code == 400 and "Tệp ánh xạ DHIS2" in body(refused)

    answer = upload(client, content, "dvs.json", source="dhis2", number_format="plain",
                    dhis2_mapping=(io.BytesIO(DHIS2_MAPPING.encode("utf-8")), "dhis2.yaml"))

    page = body(answer)
    assert answer.status_code == 200, page
    assert 'id="upload-map-units"' not in page  # no names to map: the mapping file said it all
    loaded = post(client, page, "confirm")
    assert loaded.status_code == 200 and 'id="upload-loaded"' in body(loaded), body(loaded)
    with use_engine.connect() as conn:
        rows = conn.execute(text("SELECT indicator_code, entity_code, period, numerator, denominator FROM kpi_values "
                                 "WHERE period >= '2026-01'")).all()
    assert {(r[0], r[1], r[2]): (float(r[3]), float(r[4])) for r in rows} == DHIS2_EXPECTED


def test_wrong_choices_are_refused_by_name_never_a_500(site, use_engine, tmp_path):
    client = admin(site)
    before = every_table_checksum(use_engine)
    content = book_bytes(tmp_path, province_book, "quy_1.xlsx")
    for fields, words in (({"year": "20x6"}, "Năm “20x6”"), ({"mapping_id": "999"}, "cách đọc đã lưu"),
                          ({"layout": "sideways"}, ""), ({"source": "fax"}, "")):
        answer = upload(client, content, "quy_1.xlsx", **fields)
        assert answer.status_code == 400 and words in body(answer), fields
    assert upload(client, b"{}", "x.json").status_code == 400  # JSON only as DHIS2
    page = body(client.get("/admin/upload"))
    assert client.post("/admin/upload", data={"csrf_token": csrf(page), "action": "recheck",
                                              "token": "x" * 43}).status_code == 400
    english = body(upload(client, content, "quy_1.xlsx", lang="en"))
    assert "Layout detected: Wide report." in english and "numerator" in english and "by name" in english
    ready = body(upload(client, content, "quy_1.xlsx"))
    unnamed = post(client, ready, "save_mapping", mapping_name="  ")
    assert unnamed.status_code == 200 and "Hãy đặt tên" in body(unnamed)
    long_file = "indicator,unit_code,period,numerator,denominator\nstockind,00004,2026-05,1,2\n".encode()
    long_page = body(upload(client, long_file, "v.csv"))
    assert "Đã nhận ra dạng tệp: Dạng dọc" in long_page and 'id="upload-map-units"' not in long_page
    assert every_table_checksum(use_engine) == before


def test_the_migration_adds_the_table_and_goes_back(empty_engine):
    from alembic import command
    from sqlalchemy import inspect

    from dashboard.database import _alembic_config, current_revision, head_revision, upgrade
    from dashboard.importer import mappings
    from dashboard.importer.wide import Mapping

    # Later migrations stack on top; this one only has to be part of the chain at head.
    assert current_revision(empty_engine) == head_revision()
    saved = mappings.save(empty_engine, "Báo cáo tháng", Mapping(units={"An Lão": "31402"}), "quan.tri")
    again = mappings.save(empty_engine, "Báo cáo  tháng ", Mapping(units={"An Lão": "31403"}), "quan.tri")
    assert again == saved and [m["name"] for m in mappings.saved(empty_engine)] == ["Báo cáo tháng"]
    assert mappings.get(empty_engine, saved)[1].units == {"An Lão": "31403"}
    assert mappings.get(empty_engine, "x") is None and mappings.get(empty_engine, saved + 1) is None
    with empty_engine.connect() as conn:
        with conn.begin():
            command.downgrade(_alembic_config(conn), "0007_boundary_layers")
    assert "import_mappings" not in inspect(empty_engine).get_table_names()
    upgrade(empty_engine)
    assert "import_mappings" in inspect(empty_engine).get_table_names() and mappings.saved(empty_engine) == []
