"""The upload page in headless Chromium against a real server: choose a file, see the checks'
preview, confirm, and the figure is stored, with the signed-in admin in the audit."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from dashboard.auth import accounts
from dashboard.database import make_engine
from tests.auth_helpers import STRONG_KEY
from tests.browser_helpers import LiveServer
from tests.data_files import VALUE_HEADER, write_csv

PASSWORD = "mật khẩu đủ dài 2026"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("upload"), env_extra={"ANONYMOUS_READ": "false",
                                                                          # real data follows the upload
                                                                          "SECRET_KEY": STRONG_KEY})
    engine = make_engine(f"sqlite:///{server.db_path}")
    from dashboard import figures

    saved = figures._engine
    figures.set_engine(engine)
    try:
        accounts.add_user(engine, "quan.tri", PASSWORD, "admin", actor="test")
    finally:
        figures.set_engine(saved)
    server.engine = engine
    yield server
    engine.dispose()
    server.stop()


def test_upload_preview_confirm_in_the_browser(admin_server, page, tmp_path):
    engine = admin_server.engine
    with engine.connect() as conn:
        ind, period, entity, num, den = conn.execute(text(
            "SELECT v.indicator_code, v.period, v.entity_code, v.numerator, v.denominator FROM kpi_values v "
            "JOIN units u ON u.code = v.entity_code WHERE u.level = 'commune' AND v.denominator > 10 "
            "AND v.numerator > 5 ORDER BY v.period DESC, v.indicator_code, v.entity_code LIMIT 1")).one()
    new = int(num) - 5
    path = write_csv(tmp_path / "sửa số.csv", VALUE_HEADER, [[ind, entity, period, new, int(den)]])

    page.goto(admin_server.url + "/admin/upload")
    page.wait_for_selector("#login-form")
    page.fill("#username", "quan.tri")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#upload-form", timeout=30_000)
    page.set_input_files("#upload-file", str(path))
    page.click("#upload-check")
    page.wait_for_selector("#upload-ready", timeout=60_000)
    assert "thêm 0 dòng, thay 1 dòng" in page.text_content("#upload-ready")
    assert page.query_selector_all("#upload-moves .upload-move")  # before → after shown
    with engine.connect() as conn:  # the preview wrote nothing
        assert conn.execute(text("SELECT numerator FROM kpi_values WHERE indicator_code = :i AND period = :p AND "
                                 "entity_code = :e"), {"i": ind, "p": period, "e": entity}).scalar() == num
    page.click("#upload-confirm")
    page.wait_for_selector("#upload-loaded", timeout=60_000)
    assert "sửa số.csv" in page.text_content("#upload-loaded")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT numerator FROM kpi_values WHERE indicator_code = :i AND period = :p AND "
                                 "entity_code = :e"), {"i": ind, "p": period, "e": entity}).scalar() == new
        assert conn.execute(text("SELECT user_name FROM data_loads ORDER BY id DESC LIMIT 1")).scalar() == "quan.tri"
    page.click("#upload-to-loads")
    page.wait_for_selector("#loads-table", timeout=30_000)
    assert "sửa số.csv" in page.text_content("#loads-table")


def test_a_wide_report_corrected_in_the_mapping_table_in_the_browser(admin_server, page, tmp_path):
    """A zone's communes by name, one written so that no unit has it: the page says the layout
    it detected, lists the name with a box for its code; typed in, checked again, saved, loaded."""
    from openpyxl import Workbook

    engine = admin_server.engine
    with engine.connect() as conn:
        zone = conn.execute(text("SELECT code, name FROM units WHERE level = 'district' ORDER BY code LIMIT 1")).one()
        communes = conn.execute(text("SELECT code, name FROM units WHERE parent_code = :z AND level = 'commune' "
                                     "AND valid_to IS NULL ORDER BY code LIMIT 4"), {"z": zone.code}).all()
    wb = Workbook()
    ws = wb.active
    ws.append(["BÁO CÁO TỶ LỆ NGƯỜI DÂN CÓ HỒ SƠ SỨC KHỎE ĐIỆN TỬ THÁNG 8 NĂM 2025"])
    ws.append([])
    ws.append(["STT", "Tên đơn vị", "Tử số", "Mẫu số"])
    ws.append(["I", zone.name])
    expected = {}
    for i, c in enumerate(communes, start=1):
        written = "Đơn vị chưa có tên này" if i == 1 else c.name
        ws.append([i, written, 10 * i, 100 * i])
        expected[c.code] = (10.0 * i, 100.0 * i)
    path = tmp_path / "báo cáo tháng 8.xlsx"
    wb.save(path)

    page.goto(admin_server.url + "/admin/upload")
    if page.query_selector("#login-form"):
        page.fill("#username", "quan.tri")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
    page.wait_for_selector("#upload-form", timeout=30_000)
    page.set_input_files("#upload-file", str(path))
    page.click("#upload-check")
    page.wait_for_selector("#upload-map-units", timeout=60_000)
    assert "Báo cáo dạng bảng rộng" in page.text_content("#upload-layout")
    unknown = page.query_selector("tr.upload-map-unit[data-status='unknown'] input[name^='other_']")
    unknown.fill(communes[0].code)
    page.click("#upload-recheck")
    page.wait_for_selector("#upload-ready, #upload-problems", timeout=60_000)
    assert page.query_selector("#upload-ready"), page.text_content("#upload-issues")
    # the first check answered 422 (a name to correct), which Chromium logs as a failed resource
    page.errors[:] = [e for e in page.errors if "status of 422" not in e]
    page.fill("#upload-mapping-name", "Báo cáo tháng (trình duyệt)")
    page.click("#upload-save-mapping")
    page.wait_for_selector("#upload-notice", timeout=60_000)
    page.click("#upload-confirm")
    page.wait_for_selector("#upload-loaded", timeout=60_000)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT entity_code, numerator, denominator FROM kpi_values WHERE period = "
                                 "'2025-08' AND indicator_code = 'hssk'")).all()
    assert {r[0]: (float(r[1]), float(r[2])) for r in rows if r[0] in expected} == expected
    page.goto(admin_server.url + "/admin/upload")
    page.wait_for_selector("#upload-form", timeout=30_000)
    assert "Báo cáo tháng (trình duyệt)" in page.text_content("#upload-mapping-id")
