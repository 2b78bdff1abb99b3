"""`dashboard db upgrade|current` and `dashboard load-demo`."""
from __future__ import annotations

import click

from ..bootstrap import load_demo_province
from ..database import current_revision, head_revision, upgrade
from .. import store


def register(main: click.Group) -> None:
    main.add_command(db)
    main.add_command(load_demo)


@click.group()
def db() -> None:
    """Lược đồ cơ sở dữ liệu / database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_obj
def db_upgrade(ctx, revision: str) -> None:
    """Tạo hoặc nâng cấp lược đồ / create or upgrade the schema (same on SQLite and PostgreSQL)."""
    engine = ctx.engine
    before = current_revision(engine)
    upgrade(engine, revision)
    if revision == "head":
        from .. import aggregates

        aggregates.ensure(engine)
    with store.write_transaction(engine) as conn:
        from sqlalchemy import text

        if conn.execute(text("SELECT COUNT(*) FROM indicators")).scalar_one() == 0:
            store.load_builtin_indicators(conn)
    click.echo(f"Lược đồ / schema: {before or '(trống / empty)'} -> {current_revision(engine)}")


@db.command("current")
@click.pass_obj
def db_current(ctx) -> None:
    """Phiên bản lược đồ hiện tại / show the current schema revision."""
    current = current_revision(ctx.engine)
    click.echo(f"{current or '(trống / empty)'} (head: {head_revision()})")


@click.command("load-demo")
@click.option("--user", default=None, help="Tên người nạp / user recorded in the audit (default: OS user).")
@click.option("--national", is_flag=True,
              help="Cả nước: 34 tỉnh, 3.321 xã, 12 chỉ tiêu × 60 tháng / the country: 34 provinces, 3,321 communes, "
                   "12 indicators × 60 months (about 2.4 M rows).")
@click.pass_obj
def load_demo(ctx, user: str | None, national: bool) -> None:
    """(Nạp lại) tỉnh minh họa Hải Phòng, hoặc cả nước với --national /
    (re)load the illustrative Hải Phòng province, or the country with --national, idempotently."""
    from ..bootstrap import DEMO_STEPS
    from .progress_bar import Steps

    engine = ctx.engine
    steps = Steps(len(DEMO_STEPS) + 1)
    steps("Lược đồ cơ sở dữ liệu / database schema")
    upgrade(engine)
    if national:
        from ..national import load_national
        from .data import BarProgress

        counts = load_national(engine, user=user, stream=click.get_text_stream("stderr"), progress=BarProgress())
    else:
        counts = load_demo_province(engine, user=user, progress=steps)
        steps.done()
    click.echo("Đã nạp dữ liệu minh họa / demo loaded: "
               + ", ".join(f"{k} {v}" for k, v in counts.items()))
