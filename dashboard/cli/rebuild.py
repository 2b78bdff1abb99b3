"""`dashboard db rebuild-aggregates`: recompute every stored figure (after restoring a backup, a
change made outside the dashboard, or to check that the stored figures are whole)."""
from __future__ import annotations

import time

import click

from .. import aggregates, store
from .db import db


def register(main: click.Group) -> None:
    db.add_command(rebuild_aggregates)


@click.command("rebuild-aggregates")
@click.pass_obj
def rebuild_aggregates(ctx) -> None:
    """Tính lại mọi số liệu tổng hợp / recompute every stored figure (one transaction)."""
    started = time.perf_counter()
    with click.progressbar(length=1, label="Tổng hợp / aggregates", file=click.get_text_stream("stderr"),
                           show_pos=True) as bar:
        def step(done: int, total: int, code: str) -> None:
            bar.length = total
            bar.update(done - bar.pos, current_item=code)
            if not bar.is_hidden:
                return
            click.echo(f"  {done}/{total} {code} ({time.perf_counter() - started:.0f} s)", err=True)

        with store.write_transaction(ctx.engine) as conn:
            counts = aggregates.rebuild(conn, on_progress=step)
    click.echo(f"{counts['sums']} số liệu, {counts['progress']} tiến độ, {counts['seconds']} s / "
               f"{counts['sums']} figures, {counts['progress']} progress rows", err=True)
