"""The monitor schema's Alembic migrations, from a checkout or from the installed package.

The repository keeps ``migrations/`` (env.py, script.py.mako, versions/) and ``alembic.ini``
at its top level; building the wheel copies them into the package as ``ooi_status/_migrations``
(see setup.py). :func:`script_location` finds whichever this installation has, so
``ooi_status_db``, AUTO_MIGRATE and the demo work from any directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

#: The source checkout holding this package (an editable install), if it is one.
ROOT = Path(__file__).resolve().parent.parent
#: Where the wheel carries the migration scripts and their alembic.ini.
PACKAGED = Path(__file__).resolve().parent / "_migrations"


def script_location() -> Path:
    """The checkout's ``migrations/`` when running from one, else the packaged copy."""
    if (ROOT / "pyproject.toml").is_file() and (ROOT / "migrations" / "env.py").is_file():
        return ROOT / "migrations"
    if (PACKAGED / "env.py").is_file():
        return PACKAGED
    raise FileNotFoundError(
        f"no migration scripts: neither {ROOT / 'migrations'} nor {PACKAGED} holds env.py "
        "(reinstall the package: pip install ooi_status)"
    )


def config_file() -> Path:
    location = script_location()
    return location / "alembic.ini" if location == PACKAGED else ROOT / "alembic.ini"


def alembic_config(url: str | None = None, **options: Any) -> Config:
    """The project's Alembic configuration, aimed at ``url`` (None: the settings' MONITOR_URL).

    Logging is left to the caller; ``options`` go to :class:`alembic.config.Config`
    (``cmd_opts``, ``ini_section``, ``stdout``).
    """
    config = Config(str(config_file()), **options)
    config.set_main_option("script_location", str(script_location()))
    if url is not None:
        config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
