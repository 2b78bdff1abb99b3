"""`dashboard wall-tokens add|list|revoke`: one token per operations-room screen.

A screen opens ``/wall?token=…`` and needs no sign-in. The token is printed once, when it
is made (only its SHA-256 is stored); revoking it stops the screen at its next refresh.
"""
from __future__ import annotations

import click

from ..auth import walltokens
from ..auth.accounts import AccountError
from .data import _require_schema
from .users import _when, actor


def register(main: click.Group) -> None:
    main.add_command(wall_tokens)


@click.group("wall-tokens")
def wall_tokens() -> None:
    """Mã truy cập màn hình lớn / wall-screen tokens."""


@wall_tokens.command("add")
@click.argument("name")
@click.option("--base-url", default=None, metavar="URL",
              help="Địa chỉ của dashboard, để in đường dẫn đầy đủ / the dashboard's address, to print the full URL "
                   "(e.g. https://dashboard.soyte.example).")
@click.pass_obj
def tokens_add(ctx, name: str, base_url: str | None) -> None:
    """Tạo mã cho một màn hình (in ra một lần) / create a token for one screen (printed once)."""
    engine = ctx.engine
    _require_schema(engine)
    try:
        token, raw = walltokens.create(engine, name, actor=actor())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    path = f"/wall?token={raw}"
    click.echo(f"Màn hình / screen #{token.id} {token.name}")
    click.echo(f"{(base_url or '').rstrip('/')}{path}")
    click.echo("Mã chỉ hiện một lần: lưu lại ngay / the token is shown once: keep it now", err=True)


@wall_tokens.command("list")
@click.pass_obj
def tokens_list(ctx) -> None:
    """Danh sách mã (không hiện mã) / list the tokens (the tokens themselves are not shown)."""
    engine = ctx.engine
    _require_schema(engine)
    tokens = walltokens.list_tokens(engine)
    if not tokens:
        click.echo("Chưa có mã nào / no tokens yet")
        return
    for tk in tokens:
        status = "đang dùng/active" if tk.active else f"thu hồi/revoked {_when(tk.revoked_at)} ({tk.revoked_by})"
        click.echo(f"#{tk.id}  {tk.name}  {_when(tk.created_at)}  {tk.created_by}  {status}")


@wall_tokens.command("revoke")
@click.argument("ident", metavar="ID|NAME")
@click.pass_obj
def tokens_revoke(ctx, ident: str) -> None:
    """Thu hồi mã: màn hình dừng ở lần cập nhật sau / revoke a token: its screen stops at the next refresh."""
    engine = ctx.engine
    _require_schema(engine)
    try:
        token = walltokens.revoke(engine, ident, actor=actor())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã thu hồi / revoked: #{token.id} {token.name}")
