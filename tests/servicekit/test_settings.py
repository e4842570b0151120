import subprocess
import sys

import pytest

from servicekit.settings import LOCAL_DEV_JWT_SECRET, ServiceSettings, load_settings


class ExampleSettings(ServiceSettings):
    model_config = {**ServiceSettings.model_config, "env_prefix": "EXAMPLE_"}


def test_load_settings_when_prefixed_database_url_set_reads_it(monkeypatch):
    monkeypatch.setenv("EXAMPLE_DATABASE_URL", "postgresql://risk@db/x")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@db/x")
    settings = load_settings(ExampleSettings)
    assert settings.service_database_url == "postgresql://risk@db/x"
    assert settings.database_url == "postgresql://postgres@db/x"


def test_load_settings_when_port_prefixed_reads_it(monkeypatch):
    monkeypatch.setenv("EXAMPLE_PORT", "50099")
    assert load_settings(ExampleSettings).port == 50099


def test_load_settings_when_development_secret_outside_local_exits(monkeypatch, capsys):
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("JWT_SECRET", LOCAL_DEV_JWT_SECRET)
    with pytest.raises(SystemExit):
        load_settings(ExampleSettings)
    assert "JWT_SECRET is the local development secret" in capsys.readouterr().err


def test_load_settings_when_secret_too_short_prints_one_line_naming_variable():
    script = (
        "from servicekit.settings import ServiceSettings, load_settings\n"
        "load_settings(ServiceSettings)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        env={"JWT_SECRET": "short", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("invalid configuration: JWT_SECRET:")
