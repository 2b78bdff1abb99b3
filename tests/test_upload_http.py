"""The upload and loads pages over HTTP: behind an admin's sign-in, a bad file shows every row
error and changes nothing, a good file shows its preview, loads on confirmation with the admin
in the audit, the figures change without a restart, and undo from the loads page restores them
exactly. Both databases (the tiny province of tests/world.py as the department's own data)."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import text

from dashboard import undo
from tests.auth_helpers import STRONG_KEY, add_user, clear_accounts, configure, login
from tests.data_files import VALUE_HEADER, csv_text, every_table_checksum
from tests.world import load_world

#: An undo writes its own audit row and the data version; the load keeps its audit row.
AUDIT_TABLES = {"audit_log", "data_loads", "data_version", "meta", "users"}


@pytest.fixture
def site(use_engine, tmp_path):
    load_world(use_engine)
    clear_accounts(use_engine)
    add_user(use_engine, "quan.tri", "admin")
    add_user(use_engine, "nguoi.xem", "viewer")
    server = configure(secret_key=STRONG_KEY, upload_dir=str(tmp_path / "uploads"))
    yield server
    clear_accounts(use_engine)


def body(response) -> str:
    return response.get_data(as_text=True)


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def admin(server):
    client = server.test_client()
    assert login(client, "quan.tri").status_code == 302
    return client


def upload(client, content: bytes, name: str, kind: str = "auto", lang: str = "vi"):
    csrf = token_of(body(client.get(f"/admin/upload?lang={lang}")))
    return client.post("/admin/upload", data={"csrf_token": csrf, "action": "check", "kind": kind, "lang": lang,
                                              "number_format": "plain",
                                              "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def stored(engine):
    return {k: v for k, v in every_table_checksum(engine).items() if k not in AUDIT_TABLES}


def zone_value(client, period="2025-09"):
    """Khu vực Một (001) in the API: its communes' Sep figures as a ratio of sums."""
    answer = client.get(f"/api/v1/values?indicator=stockind&period={period}&level=district")
    assert answer.status_code == 200, body(answer)
    rows = answer.get_json()["rows"]
    return next(r for r in rows if r["code"] == "001")["value"]


def test_upload_and_loads_pages_are_for_signed_in_admins_only(site):
    anonymous = site.test_client()
    assert anonymous.get("/admin/upload").status_code == 302
    assert anonymous.get("/admin/upload").headers["Location"].startswith("/login?next=")
    assert anonymous.get("/admin/loads").status_code == 302
    posted = anonymous.post("/admin/upload", data={"action": "check"})
    assert posted.status_code in (302, 400)
    viewer = site.test_client()
    login(viewer, "nguoi.xem")
    assert viewer.get("/admin/upload").status_code == 403
    assert viewer.get("/admin/loads").status_code == 403
    client = admin(site)
    page = client.get("/admin/upload")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in body(page)
    assert client.get("/admin/loads").status_code == 200


def test_a_form_without_its_csrf_token_is_refused(site, use_engine):
    client = admin(site)
    before = stored(use_engine)
    refused = client.post("/admin/upload", data={"action": "check", "kind": "values",
                                                 "file": (io.BytesIO(b"x"), "v.csv")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400
    assert client.post("/admin/loads", data={"action": "undo", "id": "1"}).status_code == 400
    assert stored(use_engine) == before


def test_a_bad_file_shows_every_row_error_and_changes_nothing(site, use_engine):
    client = admin(site)
    before = every_table_checksum(use_engine)
    content = csv_text(VALUE_HEADER, [["stockind", "00004", "2025-09", 75, 100],
                                      ["stockind", "99999", "2025-09", 1, 2],      # unknown unit
                                      ["stockind", "00005", "2025-09", "x", 200]]  # not a number
                       ).encode("utf-8")
    answer = upload(client, content, "xấu.csv")
    assert answer.status_code == 422
    page = body(answer)
    rows = re.findall(r'<tr class="upload-issue">(.*?)</tr>', page, re.S)
    assert len(rows) == 2
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S) for r in rows]
    assert [c[0] for c in cells] == ["xấu.csv", "xấu.csv"]
    assert [c[1] for c in cells] == ["3", "4"]
    assert cells[0][2].startswith("unit_code") and cells[1][2].startswith("numerator")
    assert "99999" in cells[0][3]
    assert "Không có gì được ghi" in page
    assert 'id="upload-confirm"' not in page
    assert every_table_checksum(use_engine) == before


def test_a_file_of_no_known_kind_or_type_is_refused_with_its_name(site, use_engine):
    client = admin(site)
    before = every_table_checksum(use_engine)
    unknown = upload(client, b"a,b\n1,2\n", "la.csv")
    assert unknown.status_code == 400 and "la.csv" in body(unknown) and "không nhận ra loại tệp" in body(unknown)
    wrong = upload(client, b"MZ\x00", "virus.exe")
    assert wrong.status_code == 400 and ".csv hoặc .xlsx" in body(wrong)
    assert every_table_checksum(use_engine) == before


def test_the_upload_route_takes_the_upload_limit_and_refuses_past_it(site, use_engine):
    from tests.auth_helpers import _BASE

    client = admin(site)
    before = every_table_checksum(use_engine)
    # Over the limit of ordinary requests (2 MB), under the upload limit: read and checked.
    row = ["stockind", "00004", "2025-09", 75, 100]
    middle = csv_text(VALUE_HEADER, [row] * (_BASE.max_request_bytes // 25)).encode()
    assert _BASE.max_request_bytes < len(middle) < _BASE.max_upload_bytes
    assert upload(client, middle, "lớn.csv", kind="values").status_code == 422  # duplicate rows, named
    too_big = upload(client, b"x" * (_BASE.max_upload_bytes + 1), "quá lớn.csv", kind="values")
    assert too_big.status_code == 413
    assert every_table_checksum(use_engine) == before


def test_good_file_preview_confirm_overview_then_undo_restores_exactly(site, use_engine):
    client = admin(site)
    before = stored(use_engine)
    # Khu vực Một, Sep 2025: 00004 70/100; 00005 did not report in Sep.
    assert zone_value(client) == pytest.approx(70.0)
    # The province on the overview: (70 + 920 + 5) / (100 + 1000 + 50) = 86,5 %.
    assert "86,5\xa0%" in body(client.post("/_dash-update-component", json=_overview()))
    content = csv_text(VALUE_HEADER, [["stockind", "00004", "2025-09", 95, 100],    # replaces 70/100
                                      ["stockind", "00005", "2025-09", 150, 200],   # new
                                      ["flowind", "BV1", "2025-09", 55, 100]]       # replaces 50/100
                       ).encode("utf-8")
    answer = upload(client, content, "tháng 9.csv")
    assert answer.status_code == 200, body(answer)[:3000]
    page = body(answer)
    assert "thêm 1 dòng, thay 2 dòng" in page
    changes = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td class=\"text-end\">(\d+)</td>"
                         r"<td class=\"text-end\">(\d+)</td></tr>", page)
    assert [(c[1], c[2], c[3]) for c in changes] == [("2025-09", "0", "1"), ("2025-09", "1", "1")]
    moves = re.findall(r'<tr class="upload-move">(.*?)</tr>', page, re.S)
    # The most moving figure: 00004's own Sep 2025, 70 % -> 95 %.
    first = re.findall(r"<td[^>]*>(.*?)</td>", moves[0], re.S)
    assert first[1:] == ["2025-09", "Phường Bốn", "70,0\xa0%", "95,0\xa0%"]
    assert stored(use_engine) == before  # the preview wrote nothing
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)

    confirmed = client.post("/admin/upload", data={"csrf_token": token_of(page), "action": "confirm",
                                                   "token": token})
    assert confirmed.status_code == 200, body(confirmed)[:2000]
    assert "Đã nạp tệp tháng 9.csv: thêm 1 dòng, thay 2 dòng" in body(confirmed)
    # (95 + 150) / (100 + 200), without a restart.
    assert zone_value(client) == round(100 * 245 / 300, 1)
    overview = client.post("/_dash-update-component", json=_overview())
    assert overview.status_code == 200
    # The overview's province figure: (95 + 150 + 920 + 5) / (100 + 200 + 1000 + 50) = 86,7 %.
    assert "86,7\xa0%" in body(overview) and "86,5\xa0%" not in body(overview)
    loads = undo.loads(use_engine)
    newest = loads.iloc[0]
    assert (newest["user_name"], newest["source_file"], int(newest["rows_added"]), int(newest["rows_replaced"])) == \
        ("quan.tri", "tháng 9.csv", 1, 2)
    again = client.post("/admin/upload", data={"csrf_token": token_of(page), "action": "confirm", "token": token})
    assert again.status_code == 400  # the staged file went with the load

    listing = client.get("/admin/loads")
    assert "tháng 9.csv" in body(listing) and f'id="load-undo-{int(newest["id"])}"' in body(listing)
    assert "stockind 2025-09 (2)" in body(listing)
    ask = client.post("/admin/loads", data={"csrf_token": token_of(body(listing)), "action": "ask",
                                            "id": int(newest["id"])})
    assert ask.status_code == 200 and "xóa 1 dòng" not in body(ask) and "khôi phục 2 dòng" in body(ask)
    assert stored(use_engine) != before  # asking changes nothing
    done = client.post("/admin/loads", data={"csrf_token": token_of(body(ask)), "action": "undo",
                                             "id": int(newest["id"])})
    assert done.status_code == 200 and "Đã hoàn tác lần nạp" in body(done)
    assert stored(use_engine) == before
    assert zone_value(client) == pytest.approx(70.0)
    assert "86,5\xa0%" in body(client.post("/_dash-update-component", json=_overview()))
    assert undo.loads(use_engine).iloc[0]["undone_by"] == "quan.tri"
    refused = client.post("/admin/loads", data={"csrf_token": token_of(body(done)), "action": "undo",
                                                "id": int(newest["id"])})
    assert refused.status_code == 409 and "đã được hoàn tác" in body(refused)


def test_undo_of_an_overwritten_load_names_the_later_loads_and_cascades_on_confirmation(site, use_engine):
    client = admin(site)
    before = stored(use_engine)
    ids = []
    for n in (75, 80):
        page = body(upload(client, csv_text(VALUE_HEADER, [["stockind", "00004", "2025-09", n, 100]]).encode(),
                           f"v{n}.csv"))
        token = re.search(r'name="token" value="([^"]+)"', page).group(1)
        client.post("/admin/upload", data={"csrf_token": token_of(page), "action": "confirm", "token": token})
        ids.append(int(undo.loads(use_engine).iloc[0]["id"]))
    listing = body(client.get("/admin/loads"))
    ask = client.post("/admin/loads", data={"csrf_token": token_of(listing), "action": "ask", "id": ids[0]})
    page = body(ask)
    assert f"#{ids[1]}, #{ids[0]}" in page and 'name="cascade" value="1"' in page
    alone = client.post("/admin/loads", data={"csrf_token": token_of(page), "action": "undo", "id": ids[0]})
    assert alone.status_code == 409 and stored(use_engine) != before
    done = client.post("/admin/loads", data={"csrf_token": token_of(page), "action": "undo", "id": ids[0],
                                             "cascade": "1"})
    assert done.status_code == 200 and body(done).count("loads-notice") == 2
    assert stored(use_engine) == before


def _overview():
    from tests.auth_helpers import pages_body

    return pages_body("/", "?period=2025-09")


def test_the_loads_page_lists_the_demo_loads_without_an_undo_button(demo_db):
    clear_accounts(demo_db)
    add_user(demo_db, "quan.tri", "admin")
    server = configure()
    try:
        client = admin(server)
        page = client.get("/admin/loads")
        assert page.status_code == 200, body(page)[:2000]
        assert "minh họa" in body(page) and 'id="load-undo-' not in body(page)
    finally:
        clear_accounts(demo_db)
