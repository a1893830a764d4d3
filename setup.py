"""The build step pyproject.toml cannot express: the wheel carries the Alembic migrations.

``migrations/`` and ``alembic.ini`` stay at the repository's top level (``alembic upgrade head``
from a checkout); building copies env.py, script.py.mako, versions/*.py and an alembic.ini
into ``ooi_status/_migrations`` of the build, where ooi_status.migrate finds them.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithMigrations(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's migrations/ directly
        source = HERE / "migrations"
        target = Path(self.build_lib) / "ooi_status" / "_migrations"
        (target / "versions").mkdir(parents=True, exist_ok=True)
        for name in ("env.py", "script.py.mako"):
            shutil.copy2(source / name, target / name)
        for revision in sorted((source / "versions").glob("*.py")):
            shutil.copy2(revision, target / "versions" / revision.name)
        ini = (HERE / "alembic.ini").read_text()
        (target / "alembic.ini").write_text(ini.replace("%(here)s/migrations", "%(here)s"))


setup(cmdclass={"build_py": BuildWithMigrations})
