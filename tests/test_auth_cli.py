"""`dashboard users …`, `dashboard wall-tokens …` and `dashboard demo remove`, both databases."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from dashboard import cache, figures, store
from dashboard.auth import accounts, passwords, walltokens
from dashboard.cli import main
from dashboard.database import table_checksums
from tests.world import load_world

PASSWORD = "một mật khẩu dài"


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def run(engine, *args, stdin: str | None = None):
    return CliRunner().invoke(main, ["--database", url_of(engine), *args], input=stdin, catch_exceptions=False)


def audit_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT action, subject, detail FROM audit_log ORDER BY id"))]


# --- users ------------------------------------------------------------------------------------

def test_users_add_list_passwd_remove(use_engine):
    load_world(use_engine)
    added = run(use_engine, "users", "add", "Truong.KV1", "--role", "unit", "--unit", "001", "--name", "Trưởng KV Một",
                stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert run(use_engine, "users", "add", "sep", "--role", "admin", stdin=PASSWORD + "\n").exit_code == 0
    with use_engine.connect() as conn:
        row = conn.execute(text("SELECT username, role, unit_code, display_name, password_hash FROM users "
                                "WHERE username = 'truong.kv1'")).one()
    assert row[:4] == ("truong.kv1", "unit", "001", "Trưởng KV Một")
    assert row[4].startswith("$argon2id$") and PASSWORD not in row[4]
    assert passwords.verify(row[4], PASSWORD)
    assert accounts.authenticate(use_engine, "truong.kv1", PASSWORD).unit_code == "001"

    listing = run(use_engine, "users", "list")
    lines = listing.output.splitlines()
    assert listing.exit_code == 0 and len(lines) == 3
    assert lines[1].split()[:2] == ["sep", "admin"]
    assert lines[2].split()[:3] == ["truong.kv1", "unit", "001"]
    assert "$argon2" not in listing.output

    new = "mật khẩu mới tinh 2027"
    assert run(use_engine, "users", "passwd", "truong.kv1", stdin=new + "\n").exit_code == 0
    assert accounts.authenticate(use_engine, "truong.kv1", PASSWORD) is None
    assert accounts.authenticate(use_engine, "truong.kv1", new) is not None

    declined = run(use_engine, "users", "remove", "sep", stdin="n\n")
    assert declined.exit_code == 1 and accounts.get_user(use_engine, "sep") is not None
    assert run(use_engine, "users", "remove", "sep", "--yes").exit_code == 0
    assert accounts.get_user(use_engine, "sep") is None
    actions = [(a, s) for a, s, _d in audit_rows(use_engine)]
    assert actions == [("user_add", "truong.kv1"), ("user_add", "sep"), ("user_passwd", "truong.kv1"),
                       ("user_remove", "sep")]
    assert json.loads(audit_rows(use_engine)[0][2]) == {"role": "unit", "unit": "001"}


@pytest.mark.parametrize("args, stdin, message", [
    (["users", "add", "a", "--role", "viewer"], PASSWORD, "Tên đăng nhập 'a' không hợp lệ"),
    (["users", "add", "ke toan", "--role", "viewer"], PASSWORD, "không hợp lệ"),
    (["users", "add", "kt", "--role", "unit"], PASSWORD, "Vai trò unit cần --unit"),
    (["users", "add", "kt", "--role", "viewer", "--unit", "001"], PASSWORD, "Chỉ vai trò unit mới có --unit"),
    (["users", "add", "kt", "--role", "unit", "--unit", "999"], PASSWORD, "Không có đơn vị '999'"),
    (["users", "add", "kt", "--role", "viewer"], "ngắn", "Mật khẩu cần ít nhất 10 ký tự"),
    (["users", "add", "kt", "--role", "superuser"], PASSWORD, "Invalid value for '--role'"),
    (["users", "passwd", "khong.co"], PASSWORD, "Không có tài khoản 'khong.co'"),
    (["users", "remove", "khong.co", "--yes"], None, "Không có tài khoản 'khong.co'"),
])
def test_users_commands_refuse_bad_input_with_a_message(use_engine, args, stdin, message):
    load_world(use_engine)
    result = run(use_engine, *args, stdin=None if stdin is None else stdin + "\n")
    assert result.exit_code != 0 and message in result.output, result.output
    assert accounts.list_users(use_engine) == []


def test_a_user_name_is_added_once(use_engine):
    assert run(use_engine, "users", "add", "sep", "--role", "admin", stdin=PASSWORD + "\n").exit_code == 0
    again = run(use_engine, "users", "add", "SEP", "--role", "viewer", stdin=PASSWORD + "\n")
    assert again.exit_code == 1 and "Tài khoản 'sep' đã có" in again.output
    assert [u.role for u in accounts.list_users(use_engine)] == ["admin"]


def test_passwords_are_never_command_arguments():
    for command in ("add", "passwd"):
        params = {p.name for p in main.commands["users"].commands[command].params}
        assert not params & {"password", "pw", "secret"}, params


def test_a_password_prompt_asks_twice_on_a_terminal(use_engine, monkeypatch):
    from dashboard.cli import users as users_cli

    monkeypatch.setattr(users_cli.sys.stdin, "isatty", lambda: True, raising=False)
    prompts = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr(users_cli.click, "prompt", lambda *a, **kw: next(prompts) if kw.get("confirmation_prompt")
                        else pytest.fail("no confirmation asked"))
    assert users_cli.read_password(from_stdin=False) == PASSWORD


# --- wall tokens ------------------------------------------------------------------------------

def test_wall_tokens_add_list_revoke(use_engine):
    made = run(use_engine, "wall-tokens", "add", "Phòng điều hành", "--base-url", "https://bang.soyte.example/")
    assert made.exit_code == 0, made.output
    url = made.output.splitlines()[1]
    assert url.startswith("https://bang.soyte.example/wall?token=")
    raw = url.split("token=")[1]
    assert len(raw) >= 43 and walltokens.check(use_engine, raw).valid
    with use_engine.connect() as conn:
        assert raw not in str(conn.execute(text("SELECT * FROM wall_tokens")).all())
    listing = run(use_engine, "wall-tokens", "list")
    assert "Phòng điều hành" in listing.output and "đang dùng/active" in listing.output and raw not in listing.output
    assert run(use_engine, "wall-tokens", "revoke", "Phòng điều hành").exit_code == 0
    assert walltokens.check(use_engine, raw).status == "revoked"
    assert "thu hồi/revoked" in run(use_engine, "wall-tokens", "list").output
    twice = run(use_engine, "wall-tokens", "revoke", "1")
    assert twice.exit_code == 1 and "đã bị thu hồi" in twice.output
    assert run(use_engine, "wall-tokens", "revoke", "99").exit_code == 1
    assert [a for a, _s, _d in audit_rows(use_engine)] == ["wall_token_add", "wall_token_revoke"]


# --- demo remove ------------------------------------------------------------------------------

@pytest.fixture
def demo_and_real(empty_engine):
    """The demo, plus the department's own data: the tiny world province, one value of theirs
    on a demo commune (replacing the demo's), and one demo target they re-set."""
    from dashboard.bootstrap import prepare_database
    from dashboard.demo import build_demo

    prepare_database(empty_engine, load_demo=True)
    load_world(empty_engine)
    demo = build_demo()
    mine = demo.values[(demo.values["indicator"] == "hssk") & (demo.values["period"] == "2026-10")].iloc[[0]].copy()
    mine["numerator"] = 1.0
    target = demo.targets.iloc[[0]].copy()
    target["value"] = 99.0
    with store.write_transaction(empty_engine) as conn:
        load_id = store.record_load(conn, kind="values", source_file="so-y-te.csv", checksum="y")
        store.upsert_values(conn, mine, load_id)
        store.finish_load(conn, load_id, 1, 1)
        store.upsert_targets(conn, target)
    figures.set_engine(empty_engine)  # an account's unit is checked against the read side
    cache.clear()
    accounts.add_user(empty_engine, "kv303", PASSWORD, "unit", unit_code="303", actor="test")
    yield empty_engine, demo, mine.iloc[0], target.iloc[0]
    figures.set_engine(None)
    cache.clear()


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {table: conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()  # noqa: S608
                for table in ("kpi_values", "units", "facilities", "targets", "data_loads", "boundaries")}


def test_demo_remove_deletes_the_demo_and_keeps_the_departments_data(demo_and_real):
    """One demo load per database (they are slow): asked and declined first, then done."""
    from dashboard import request
    from layouts.common import shell

    engine, demo, my_value, my_target = demo_and_real
    untouched = table_checksums(engine)
    declined = run(engine, "demo", "remove", stdin="n\n")
    assert declined.exit_code == 1 and "Sẽ xóa / will delete" in declined.output
    assert table_checksums(engine) == untouched  # declined: nothing changed
    assert "demo-banner" in str(shell("x", req=request.read("overview", {}), active="overview", path="/"))
    before = counts(engine)
    with engine.connect() as conn:
        world_rows = conn.execute(text("SELECT indicator_code, entity_code, period, numerator FROM kpi_values v "
                                       "JOIN data_loads l ON l.id = v.load_id WHERE NOT l.is_demo ORDER BY 1, 2, 3")
                                  ).all()
    assert figures.is_demo()
    done = run(engine, "demo", "remove", "--yes")
    assert done.exit_code == 0, done.output
    assert "kv303" in done.output  # an account whose unit goes is named

    # Expected, from the demo's own frames: the department's value keeps its commune, the
    # commune's zone and the province; everything else of the demo goes.
    units = demo.units.set_index("code")
    kept = {my_value["entity_code"]}
    code = my_value["entity_code"]
    while pd.notna(units.loc[code, "parent_code"]):
        code = units.loc[code, "parent_code"]
        kept.add(code)
    after = counts(engine)
    assert after["kpi_values"] == before["kpi_values"] - (len(demo.values) - 1)
    assert after["units"] == before["units"] - (len(demo.units) - len(kept))
    assert after["facilities"] == before["facilities"] - len(demo.facilities)
    assert after["targets"] == before["targets"] - (len(demo.targets) - 1)
    assert after["data_loads"] == before["data_loads"] - 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT indicator_code, entity_code, period, numerator FROM kpi_values ORDER BY 1, 2, 3")
                            ).all() == world_rows
        stored_units = set(conn.execute(text("SELECT code FROM units")).scalars())
        assert kept <= stored_units and "303" not in stored_units
        assert conn.execute(text("SELECT value FROM targets WHERE indicator_code = :i AND scope_code = :s"),
                            {"i": my_target["indicator"], "s": my_target["scope_code"]}).scalar_one() == 99.0
        assert conn.execute(text("SELECT COUNT(*) FROM meta WHERE key IN ('demo_seed', 'demo_secret_key')")
                            ).scalar_one() == 0
        # The demo's crosswalk links go with its old units (none of them stays).
        assert conn.execute(text("SELECT COUNT(*) FROM unit_links")).scalar_one() == 0
        boundary_codes = set(conn.execute(text("SELECT code FROM boundaries")).scalars())
        closure_codes = set(conn.execute(text("SELECT entity_code FROM entity_ancestors")).scalars())
    assert boundary_codes <= stored_units
    assert closure_codes == stored_units | set(conn_free_facilities(engine))
    cache.clear()
    assert not figures.is_demo()  # the "Dữ liệu minh họa" label goes away
    assert "demo-banner" not in str(shell("x", req=request.read("overview", {}), active="overview", path="/"))
    action, subject, detail = audit_rows(engine)[-1]
    assert (action, subject) == ("demo_remove", "demo:hai-phong-2025")
    assert json.loads(detail)["values"] == len(demo.values) - 1
    assert run(engine, "demo", "remove", "--yes").output.startswith("Không có dữ liệu minh họa")


def conn_free_facilities(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT code FROM facilities")).scalars())
