"""The ``dashboard`` command (also ``python -m dashboard``).

Each module in this package adds its commands through ``register(main)``, so later
features plug in without touching this file.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from ..config import ConfigError, Settings, load_settings, normalise_database_url
from ..database import engine_for


class Context:
    """What every command needs: the settings and, on demand, the engine."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @property
    def engine(self):
        from .. import figures

        engine = engine_for(self.settings.database_url)
        figures.set_engine(engine)
        return engine


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database", "database_url", metavar="URL", envvar="DATABASE_URL",
              help="Cơ sở dữ liệu / database URL (sqlite:///… or postgresql+psycopg://…). Default: data/dashboard.db")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Dashboard chỉ đạo điều hành — Sở Y tế. Quản trị dữ liệu / data administration."""
    try:
        settings = load_settings()
        if database_url:
            settings = Settings(**{**settings.__dict__, "database_url": normalise_database_url(database_url)})
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    ctx.obj = Context(settings)


def _register_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(main)


_register_all()


def run() -> None:  # pragma: no cover
    main(prog_name="dashboard")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
