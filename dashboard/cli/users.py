"""`dashboard users add|passwd|remove|list`: accounts that sign in to the dashboard.

Passwords are read from a hidden prompt (twice), or from the first line of standard input
when it is not a terminal or with --password-stdin (for scripts:
``printf '%s\\n' "$PW" | dashboard users add ...``); never from an argument, which other
users of the server could read in ``ps``.
"""
from __future__ import annotations

import sys

import click

from .. import store
from ..auth import accounts
from ..auth.accounts import AccountError
from ..i18n import t
from .data import _require_schema

ROLE_HELP = ("admin: nạp số liệu, tài khoản, mã màn hình / uploads, loads, accounts, wall tokens; "
             "viewer: xem toàn bộ / reads everything; unit: trưởng đơn vị, cần --unit / a unit head, needs --unit")


def register(main: click.Group) -> None:
    main.add_command(users)


def actor() -> str:
    """Who is recorded in the audit for a command: the operating-system account."""
    return f"{store.current_user()} (cli)"


def _both(key: str, **values) -> str:
    return f"{t(key, 'vi', **values)} / {t(key, 'en', **values)}"


def read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = click.get_text_stream("stdin").readline()
        password = line.rstrip("\r\n")
    else:
        password = click.prompt("Mật khẩu / password", hide_input=True,
                                confirmation_prompt="Nhập lại mật khẩu / repeat the password")
    try:
        return accounts.check_password(password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None


def _fail(exc: AccountError):
    raise click.ClickException(str(exc))


@click.group()
def users() -> None:
    """Tài khoản đăng nhập / accounts that sign in (admin, viewer, unit)."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(accounts.ROLES), help=ROLE_HELP)
@click.option("--unit", "unit_code", default=None, metavar="CODE",
              help="Mã đơn vị của trưởng đơn vị (vai trò unit) / the unit of a unit head (role unit).")
@click.option("--name", "display_name", default=None, help="Họ tên hiển thị / display name.")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ dòng đầu của stdin / read the password "
                                                     "from the first line of standard input.")
@click.pass_obj
def users_add(ctx, username: str, role: str, unit_code: str | None, display_name: str | None,
              password_stdin: bool) -> None:
    """Thêm tài khoản / add an account."""
    engine = ctx.engine
    _require_schema(engine)
    try:
        accounts.normalise_username(username)
        accounts.check_role(role, unit_code)
    except AccountError as exc:
        _fail(exc)
    password = read_password(password_stdin)
    try:
        user = accounts.add_user(engine, username, password, role, unit_code=unit_code, display_name=display_name,
                                 actor=actor())
    except AccountError as exc:
        _fail(exc)
    where = f", {user.unit_code}" if user.unit_code else ""
    click.echo(f"Đã thêm / added: {user.username} ({user.role}{where})")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ stdin / read the password from stdin.")
@click.pass_obj
def users_passwd(ctx, username: str, password_stdin: bool) -> None:
    """Đặt mật khẩu mới (các phiên cũ bị đăng xuất) / set a new password (older sessions end)."""
    engine = ctx.engine
    _require_schema(engine)
    try:
        if accounts.get_user(engine, username) is None:
            raise AccountError("auth_err_no_user", value=username)
    except AccountError as exc:
        _fail(exc)
    password = read_password(password_stdin)
    try:
        user = accounts.set_password(engine, username, password, actor=actor())
    except AccountError as exc:
        _fail(exc)
    click.echo(f"Đã đổi mật khẩu / password changed: {user.username}")


@users.command("remove")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Không hỏi lại / do not ask for confirmation.")
@click.pass_obj
def users_remove(ctx, username: str, yes: bool) -> None:
    """Xóa tài khoản (phiên của nó kết thúc ngay) / remove an account (its sessions end at once)."""
    engine = ctx.engine
    _require_schema(engine)
    try:
        user = accounts.get_user(engine, username)
        if user is None:
            raise AccountError("auth_err_no_user", value=username)
    except AccountError as exc:
        _fail(exc)
    if not yes:
        click.confirm(f"Xóa tài khoản {user.username}? / remove account {user.username}?", abort=True)
    try:
        accounts.remove_user(engine, username, actor=actor())
    except AccountError as exc:
        _fail(exc)
    click.echo(f"Đã xóa / removed: {user.username}")


@users.command("list")
@click.pass_obj
def users_list(ctx) -> None:
    """Danh sách tài khoản / list the accounts."""
    engine = ctx.engine
    _require_schema(engine)
    rows = accounts.list_users(engine)
    if not rows:
        click.echo("Chưa có tài khoản nào / no accounts yet")
        return
    header = ("tên/user", "vai trò/role", "đơn vị/unit", "họ tên/name", "tạo/created", "đăng nhập/last login")
    table = [header] + [(u.username, u.role, u.unit_code or "", u.display_name or "", _when(u.created_at),
                         _when(u.last_login_at)) for u in rows]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def _when(value) -> str:
    if value is None:
        return "—"
    return (value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value))[:16]
