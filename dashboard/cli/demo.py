"""`dashboard demo remove`: delete the illustrative demo province (values, loads, targets,
units, facilities, crosswalk links) in one audited transaction, after a confirmation."""
from __future__ import annotations

import click

from .data import _require_schema
from .users import actor


def register(main: click.Group) -> None:
    main.add_command(demo)


@click.group()
def demo() -> None:
    """Dữ liệu minh họa / the illustrative demo data."""


def _summary(removal) -> str:
    c = removal.counts()
    return (f"số liệu/values {c['values']}, lần nạp/loads {c['loads']}, chỉ tiêu mục tiêu/targets {c['targets']}, "
            f"đơn vị/units {c['units']}, cơ sở/facilities {c['facilities']}, liên kết chuyển đổi/crosswalk links "
            f"{c['links']}, ranh giới/boundaries {c['boundaries']}")


@demo.command("remove")
@click.option("--yes", is_flag=True, help="Không hỏi lại / do not ask for confirmation.")
@click.pass_obj
def demo_remove(ctx, yes: bool) -> None:
    """Xóa dữ liệu minh họa; số liệu thật của Sở không bị động đến /
    delete the demo's data; the department's own data is left alone."""
    from .. import demo_removal

    engine = ctx.engine
    _require_schema(engine)
    with engine.connect() as conn:
        preview = demo_removal.plan(conn)
    if preview.empty:
        click.echo("Không có dữ liệu minh họa / no demo data to remove")
        return
    click.echo("Sẽ xóa / will delete: " + _summary(preview))
    if preview.kept_units or preview.kept_facilities:
        click.echo(f"Giữ lại vì số liệu của Sở còn dùng / kept, still used by the department's data: "
                   f"{len(preview.kept_units)} đơn vị/units, {len(preview.kept_facilities)} cơ sở/facilities")
    if preview.orphaned_accounts:
        click.echo("Tài khoản mất đơn vị (sẽ không xem được gì) / accounts whose unit goes (they will see nothing): "
                   + ", ".join(preview.orphaned_accounts), err=True)
    if not yes:
        click.confirm("Xóa dữ liệu minh họa? / delete the demo data?", abort=True)
    done = demo_removal.remove(engine, actor=actor())
    click.echo("Đã xóa / deleted: " + _summary(done))
