"""Settings: precedence, typed environment overrides, and every kind of bad settings file."""

import subprocess
import sys

import pytest

from ooi_status.config import SETTINGS_ENV, SettingsError, load_settings, mask_url


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
        ("CASSANDRA_CONSISTENCY = 'SOME'\n", "CASSANDRA_CONSISTENCY: unknown level 'SOME'; one of"),
        ("CASSANDRA_CONSISTENCY = 'LOCAL ONE'\n", "unknown level 'LOCAL ONE'"),
        ("WEBHOOK_URLS = ['http://a', 2]\n", "WEBHOOK_URLS must be a list of strings"),
        ("NOTIFY_HOLD = -1\n", "NOTIFY_HOLD must be from 0 to FLAP_WINDOW (3600) seconds, got -1"),
        (
            "NOTIFY_HOLD = 601\nFLAP_WINDOW = 600\n",
            "NOTIFY_HOLD must be from 0 to FLAP_WINDOW (600) seconds, got 601",
        ),
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


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("CHEK_INTERVAL = 30\n", "unknown setting CHEK_INTERVAL", id="unknown-name"),
        pytest.param("CHECK_INTERVAL = 'soon'\n", "CHECK_INTERVAL must be int, got str", id="wrong-type"),
        pytest.param("MONITOR_URL = 'not a url'\n", "MONITOR_URL is not a database URL", id="unparsable-url"),
        pytest.param(None, f"(from {SETTINGS_ENV}) cannot be read: no such file", id="missing-file"),
        pytest.param(
            "CASSANDRA_CONSISTENCY = 'SOME'\n",
            "CASSANDRA_CONSISTENCY: unknown level 'SOME'",
            id="consistency-level",
        ),
    ],
)
def test_command_line_exits_2_with_one_clear_line(tmp_path, content, message):
    path = str(tmp_path / "absent.py") if content is None else write(tmp_path, content)
    result = subprocess.run(
        [sys.executable, "-m", "ooi_status.monitor.cli", "--once"],
        env={SETTINGS_ENV: path, "OOISTATUS_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ooi_status_monitor: settings error: ")
    assert message in lines[0]
    assert path in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("file_text", "environ", "overrides", "where", "message"),
    [
        pytest.param(
            None,
            {"OOISTATUS_MONITOR_URL": "not a url"},
            {},
            "environment variable OOISTATUS_MONITOR_URL",
            "MONITOR_URL is not a database URL",
            id="url-from-environment",
        ),
        pytest.param(
            "CHECK_INTERVAL = 30\n",
            {"OOISTATUS_METADATA_URL": "not a url"},
            {},
            "environment variable OOISTATUS_METADATA_URL",
            "METADATA_URL is not a database URL",
            id="url-from-environment-with-file",
        ),
        pytest.param(
            "MONITOR_URL = 'not a url'\n",
            {"OOISTATUS_CHECK_INTERVAL": "30"},
            {},
            "settings file {path}",
            "MONITOR_URL is not a database URL",
            id="url-from-file",
        ),
        pytest.param(
            "NOTIFY_URL_PORT = 1\n",
            {"OOISTATUS_CHECK_INTERVAL": "0"},
            {},
            "environment variable OOISTATUS_CHECK_INTERVAL",
            "CHECK_INTERVAL must be greater than 0, got 0",
            id="positive-from-environment",
        ),
        pytest.param(
            "CHECK_INTERVAL = 0\n",
            {},
            {},
            "settings file {path}",
            "CHECK_INTERVAL must be greater than 0, got 0",
            id="positive-from-file",
        ),
        pytest.param(
            "CHECK_INTERVAL = 30\n",
            {},
            {"CHECK_INTERVAL": 0},
            "overrides",
            "CHECK_INTERVAL must be greater than 0, got 0",
            id="positive-from-overrides",
        ),
        pytest.param(
            "CHECK_INTERVAL = 30\n",
            {"OOISTATUS_STREAM_SOURCE": "mysql"},
            {},
            "environment variable OOISTATUS_STREAM_SOURCE",
            "STREAM_SOURCE must be one of postgres, cassandra, got 'mysql'",
            id="choice-from-environment",
        ),
        pytest.param(
            "LOG_LEVEL = 'LOUD'\n",
            {"OOISTATUS_CHECK_INTERVAL": "30"},
            {},
            "settings file {path}",
            "LOG_LEVEL must be one of",
            id="choice-from-file",
        ),
        pytest.param(
            "CHECK_INTERVAL = 30\n",
            {"OOISTATUS_CASSANDRA_CONSISTENCY": "SOME"},
            {},
            "environment variable OOISTATUS_CASSANDRA_CONSISTENCY",
            "CASSANDRA_CONSISTENCY: unknown level 'SOME'",
            id="consistency-from-environment",
        ),
        pytest.param(
            None,
            {"OOISTATUS_MONITORED_METHODS": "[1, 2]"},
            {},
            "environment variable OOISTATUS_MONITORED_METHODS",
            "MONITORED_METHODS must be a list of strings",
            id="list-from-environment",
        ),
        pytest.param(
            "CASSANDRA_CONTACT_POINTS = ['db1', None]\n",
            {"OOISTATUS_CHECK_INTERVAL": "30"},
            {},
            "settings file {path}",
            "CASSANDRA_CONTACT_POINTS must be a list of strings",
            id="list-from-file",
        ),
        pytest.param(
            "MONITORED_METHODS = [1]\n",
            {"OOISTATUS_MONITORED_METHODS": "streamed"},
            {"CHECK_INTERVAL": 0},
            "overrides",
            "CHECK_INTERVAL must be greater than 0",
            id="later-source-replaces-the-bad-value",
        ),
    ],
)
def test_errors_after_loading_name_the_source_of_the_value(
    tmp_path, file_text, environ, overrides, where, message
):
    path = None if file_text is None else write(tmp_path, file_text)
    if path is not None:
        environ = {SETTINGS_ENV: path, **environ}
    with pytest.raises(SettingsError) as info:
        load_settings(environ=environ, overrides=overrides)
    text = str(info.value)
    assert text.startswith(f"{where.format(path=path)}: setting "), text
    assert message in text
    assert "defaults" not in text
    if path is not None and "{path}" not in where:
        assert path not in text


def test_replace_names_itself_as_the_source(tmp_path):
    settings = load_settings(environ={SETTINGS_ENV: write(tmp_path, "CHECK_INTERVAL = 30\n")})
    with pytest.raises(SettingsError, match=r"^replace\(\): setting CHECK_INTERVAL must be greater than 0"):
        settings.replace(CHECK_INTERVAL=0)
    with pytest.raises(SettingsError, match=r"^replace\(\): setting MONITOR_URL is not a database URL"):
        settings.replace(MONITOR_URL="not a url")


def test_settings_know_where_each_value_came_from(tmp_path):
    path = write(tmp_path, "CHECK_INTERVAL = 30\nNOTIFY_URL_PORT = 1\n")
    settings = load_settings(
        environ={SETTINGS_ENV: path, "OOISTATUS_NOTIFY_URL_PORT": "2", "OOISTATUS_DATA_DIR": "/srv/ooi"},
        overrides={"RATE_WINDOW": 300},
    )
    assert settings.origin("CHECK_INTERVAL") == f"settings file {path}"
    assert settings.origin("NOTIFY_URL_PORT") == "environment variable OOISTATUS_NOTIFY_URL_PORT"
    assert settings.origin("RATE_WINDOW") == "overrides"
    assert settings.origin("NOTIFY_TIMEOUT") == "defaults"
    # derived from DATA_DIR, so from where DATA_DIR came from
    assert settings.origin("MONITOR_URL") == "environment variable OOISTATUS_DATA_DIR"
    changed = settings.replace(NOTIFY_TIMEOUT=3.0)
    assert changed.origin("NOTIFY_TIMEOUT") == "replace()"
    assert changed.origin("CHECK_INTERVAL") == f"settings file {path}"


def test_every_consistency_level_of_the_driver_in_any_case_is_accepted_as_the_reader_reads_it():
    from cassandra import ConsistencyLevel

    from ooi_status.sources.cassandra import consistency_level

    assert ConsistencyLevel.name_to_value
    for name, value in ConsistencyLevel.name_to_value.items():
        for spelling in (name, name.lower(), name.title()):
            settings = load_settings(environ={"OOISTATUS_CASSANDRA_CONSISTENCY": spelling})
            assert settings["CASSANDRA_CONSISTENCY"] == spelling
            assert consistency_level(settings.CASSANDRA_CONSISTENCY) == value


@pytest.mark.parametrize("text", ["SOME", "", "LOCAL-ONE", "LOCAL_ONE ", "10"])
def test_unknown_consistency_levels_fail_when_settings_load(text):
    with pytest.raises(SettingsError) as info:
        load_settings(environ={"OOISTATUS_CASSANDRA_CONSISTENCY": text})
    assert str(info.value).startswith(
        "environment variable OOISTATUS_CASSANDRA_CONSISTENCY: setting CASSANDRA_CONSISTENCY: "
        f"unknown level {text!r}; one of "
    )
    assert "LOCAL_ONE" in str(info.value)


def test_importing_the_settings_module_loads_nothing_else():
    code = (
        "import sys; import ooi_status.config; "
        "assert not [m for m in sys.modules if m == 'cassandra' or m.startswith('cassandra.')], 'cassandra'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_bare_postgresql_urls_use_psycopg2(settings):
    from ooi_status.db import make_engine

    engine = make_engine("postgresql://u@127.0.0.1:1/x", settings)
    assert engine.dialect.driver == "psycopg2"


def test_unknown_setting_variables_are_refused_naming_the_variable():
    with pytest.raises(SettingsError, match="environment variable OOISTATUS_CHEK_INTERVAL: unknown setting"):
        load_settings(environ={"OOISTATUS_CHEK_INTERVAL": "5"})


@pytest.mark.parametrize(
    "name", ["OOISTATUS_WORKERS", "OOISTATUS_BIND", "OOISTATUS_ACCESS_LOG", "OOISTATUS_TEST_POSTGRES"]
)
def test_the_allow_list_of_variables_that_are_not_settings(name):
    assert load_settings(environ={name: "anything"}).CHECK_INTERVAL == 60
