"""`dashboard geodata import|build-zones|prepare|status`: boundaries for the maps."""
from __future__ import annotations

from pathlib import Path

import click

from .. import boundaries, store
from ..database import upgrade


def register(main: click.Group) -> None:
    main.add_command(geodata)


@click.group()
def geodata() -> None:
    """Ranh giới hành chính cho bản đồ / administrative boundaries for the maps."""


@geodata.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--level", required=True, type=click.Choice(boundaries.LEVELS),
              help="Cấp đơn vị / unit level of the features.")
@click.option("--code-field", default=None, help="Cột mã đơn vị / column holding the unit code (default: detected).")
@click.option("--name-field", default=None, help="Cột tên / column holding the name (default: detected).")
@click.option("--layer", default=None, help="Lớp trong tệp nhiều lớp / layer of a multi-layer file (GeoPackage, "
                                            "TopoJSON).")
@click.pass_obj
def geodata_import(ctx, file: Path, level: str, code_field: str | None, name_field: str | None,
                   layer: str | None) -> None:
    """Nạp ranh giới từ GeoJSON, TopoJSON, Shapefile nén zip hoặc GeoPackage /
    import boundaries from GeoJSON, TopoJSON, a zipped Shapefile or a GeoPackage."""
    from .progress_bar import Steps

    engine = ctx.engine
    steps = Steps(len(boundaries.IMPORT_STEPS) + 2)
    steps("Lược đồ cơ sở dữ liệu / database schema")
    upgrade(engine)
    try:
        with store.write_transaction(engine) as conn:
            report = boundaries.import_file(conn, file, level, code_field=code_field, name_field=name_field,
                                            layer=layer, progress=steps)
            steps("Ghi / committing")
    except boundaries.GeodataError as exc:
        raise click.ClickException(str(exc)) from None
    steps.done()
    for line in report.lines():
        click.echo(line)
    if level == "commune":
        click.echo("Chạy `dashboard geodata build-zones` để cập nhật khu vực và tỉnh / "
                   "run `dashboard geodata build-zones` to update the zones and the province outline.")


@geodata.command("build-zones")
@click.pass_obj
def geodata_build_zones(ctx) -> None:
    """Gộp ranh giới xã thành khu vực và tỉnh theo danh mục đơn vị /
    dissolve the communes into their zones and the province outline (from the units' parents)."""
    engine = ctx.engine
    upgrade(engine)
    try:
        with store.write_transaction(engine) as conn:
            reports = boundaries.build_zones(conn)
    except boundaries.GeodataError as exc:
        raise click.ClickException(str(exc)) from None
    for report in reports.values():
        for line in report.lines():
            click.echo(line)


@geodata.command("prepare")
@click.pass_obj
def geodata_prepare(ctx) -> None:
    """Chuẩn bị lại các lớp bản đồ từ ranh giới đã lưu /
    prepare the map layers again from the stored boundaries (done by every import)."""
    engine = ctx.engine
    upgrade(engine)
    with store.write_transaction(engine) as conn:
        sizes = boundaries.prepare_layers(conn)
    click.echo(f"Đã chuẩn bị / prepared {len(sizes)} lớp bản đồ / map layers, "
               f"{sum(sizes.values()) / 1024:.0f} KB")


@geodata.command("status")
@click.pass_obj
def geodata_status(ctx) -> None:
    """Ranh giới đã lưu / boundaries stored, per level and source."""
    engine = ctx.engine
    upgrade(engine)
    frame = boundaries.summary(engine)
    if frame.empty:
        click.echo("Chưa có ranh giới nào / no boundaries stored")
        return
    for row in frame.itertuples():
        click.echo(f"{row.level:9} {row.features:5}  {row.source}  ({row.imported_at})")
    for row in boundaries.layers_summary(engine).itertuples():
        click.echo(f"lớp / layers {row.level:9} {row.layers:4}  tolerance {row.finest:.4f}–{row.coarsest:.4f}°  "
                   f"largest {row.largest / 1024:.0f} KB")
