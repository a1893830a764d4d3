"""Fixtures of the API tests: ``app`` on this test's two databases, ``client``, ``write_key``, ``fleet``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.factories import seed_fleet
from ooi_status.api import create_app, current_databases
from ooi_status.config import Settings
from ooi_status.keys import hash_api_key, new_api_key


@pytest.fixture
def write_key() -> str:
    """A key configured as "ops" in the app's settings."""
    return new_api_key()


@pytest.fixture
def api_settings(db_settings: Settings, write_key: str) -> Settings:
    return db_settings.replace(API_KEYS={"ops": hash_api_key(write_key)})


@pytest.fixture
def app(api_settings: Settings) -> Iterator[Flask]:
    app = create_app(api_settings, TESTING=True)
    yield app
    with app.app_context():
        current_databases().dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(write_key: str) -> dict[str, str]:
    """Headers of a write with the configured key."""
    return {"Authorization": f"Bearer {write_key}"}


@pytest.fixture
def fleet(monitor_db, now: datetime) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Three instruments, six streams of every status (api.factories.seed_fleet); ids by name."""
    return seed_fleet(monitor_db.engine, now)
