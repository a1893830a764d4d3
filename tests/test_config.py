"""Settings: precedence, typed environment overrides, and every kind of bad settings file."""

import subprocess
import sys

import pytest

from ooi_status.config import SettingsError, load_settings, mask_url


def write(tmp_path, text):
    path = tmp_path / "local_config.py"
    path.write_text(text)
    return str(path)


def test_defaults_use_sqlite_files_in_the_data_dir():
    settings = load_settings(environ={"OOISTATUS_DATA_DIR": "/srv/ooi"})
    assert settings.MONITOR_URL == "sqlite:////srv/ooi/monitor.sqlite"
    assert settings.METADATA_URL == "sqlite:////srv/ooi/metadata.sqlite"
    assert settings.CHECK_INTERVAL == 60
    assert settings.MONITORED_METHODS == ["telemetered", "streamed"]
    assert settings.AVAILABILITY_COLORS["Missing"] == "#d9534d"


def test_file_overrides_defaults_and_environment_overrides_file(tmp_path):
    path = write(tmp_path, "CHECK_INTERVAL = 30\nNOTIFY_URL_PORT = 1\nMONITOR_URL = 'postgresql://u@h/m'\n")
    settings = load_settings(environ={"OOISTATUS_SETTINGS": path, "OOISTATUS_NOTIFY_URL_PORT": "2"})
    assert settings.CHECK_INTERVAL == 30
    assert settings.NOTIFY_URL_PORT == 2
    assert settings.MONITOR_URL == "postgresql://u@h/m"
    assert settings.source == path


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("CHECK_INTERVAL", "15", 15),
        ("NOTIFY_TIMEOUT", "2.5", 2.5),
        ("NOTIFY_TIMEOUT", "3", 3.0),
        ("API_REQUIRE_KEY_FOR_READS", "true", True),
        ("API_REQUIRE_KEY_FOR_READS", "0", False),
        (
            "MONITORED_METHODS",
            "streamed, telemetered,recovered_host",
            ["streamed", "telemetered", "recovered_host"],
        ),
        ("MONITORED_METHODS", '["streamed"]', ["streamed"]),
        ("API_KEYS", '{"ops": "sha256:ab"}', {"ops": "sha256:ab"}),
        ("CASSANDRA_USERNAME", "cassandra", "cassandra"),
        ("LOG_LEVEL", "DEBUG", "DEBUG"),
    ],
)
def test_environment_values_are_typed(name, text, expected):
    assert load_settings(environ={f"OOISTATUS_{name}": text})[name] == expected


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("CHECK_INTERVAL", "soon"),
        ("API_REQUIRE_KEY_FOR_READS", "maybe"),
        ("API_KEYS", "not json"),
        ("NOTIFY_TIMEOUT", "fast"),
        ("API_KEYS", "[1, 2]"),
    ],
)
def test_bad_environment_values_name_the_variable(name, text):
    with pytest.raises(SettingsError, match=f"OOISTATUS_{name}.*{name}"):
        load_settings(environ={f"OOISTATUS_{name}": text})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("CHEK_INTERVAL = 30\n", "unknown setting CHEK_INTERVAL"),
        ("CHECK_INTERVAL = '30'\n", "CHECK_INTERVAL must be int, got str"),
        ("CHECK_INTERVAL = True\n", "CHECK_INTERVAL must be int, got bool"),
        ("MONITORED_METHODS = 'streamed'\n", "MONITORED_METHODS must be list"),
        ("MONITOR_URL = 'not a url'\n", "MONITOR_URL is not a database URL"),
        ("CHECK_INTERVAL = 0\n", "CHECK_INTERVAL must be greater than 0"),
        ("STREAM_SOURCE = 'mysql'\n", "STREAM_SOURCE must be one of postgres, cassandra"),
        ("CHECK_INTERVAL = = 3\n", "line 1: syntax error"),
        ("import nosuchmodule_xyz\n", "failed to run: ModuleNotFoundError"),
    ],
)
def test_bad_settings_file_names_setting_and_file(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(SettingsError) as info:
        load_settings(environ={"OOISTATUS_SETTINGS": path})
    assert message in str(info.value)
    assert path in str(info.value)


def test_missing_settings_file(tmp_path):
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings(environ={"OOISTATUS_SETTINGS": str(tmp_path / "nope.py")})


def test_unreadable_settings_file(tmp_path):
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings(environ={"OOISTATUS_SETTINGS": str(tmp_path)})


def test_none_allowed_only_where_the_default_is_none(tmp_path):
    assert load_settings(environ={"OOISTATUS_SETTINGS": write(tmp_path, "CASSANDRA_PASSWORD = None\n")})
    with pytest.raises(SettingsError, match="CHECK_INTERVAL must be int, got NoneType"):
        load_settings(environ={"OOISTATUS_SETTINGS": write(tmp_path, "CHECK_INTERVAL = None\n")})


def test_passwords_are_masked_for_logs():
    assert (
        mask_url("postgresql+psycopg2://ooi:s3cret@db.example/metadata")
        == "postgresql+psycopg2://ooi:***@db.example/metadata"
    )
    assert "s3cret" not in mask_url("postgresql://u:s3cret@h/x")


def test_command_line_exits_2_with_one_clear_line(tmp_path):
    path = write(tmp_path, "CHECK_INTERVAL = 'soon'\n")
    result = subprocess.run(
        [sys.executable, "-m", "ooi_status.monitor.cli", "--once"],
        env={"OOISTATUS_SETTINGS": path, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "CHECK_INTERVAL must be int, got str" in result.stderr
    assert path in result.stderr
    assert "Traceback" not in result.stderr


def test_bare_postgresql_urls_use_psycopg2(settings):
    from ooi_status.db import make_engine

    engine = make_engine("postgresql://u@127.0.0.1:1/x", settings)
    assert engine.dialect.driver == "psycopg2"
