"""servicekit.db.embedded: attach to a running server, fail with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from servicekit.db.embedded import resolve_database_url, start_embedded
from servicekit.db.errors import EmbeddedDatabaseError


def test_start_embedded_when_data_dir_parent_is_a_file_raises_one_line(tmp_path: Path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    with pytest.raises(EmbeddedDatabaseError) as failure:
        start_embedded(blocker / "postgres")

    message = str(failure.value)
    assert message.startswith("embedded PostgreSQL could not start in")
    assert "PGSERVER_DATA_DIR" in message
    assert "\n" not in message


def test_start_embedded_when_server_already_running_attaches_from_another_process(
    embedded_cluster,
):
    # What a service does when `make run` (or another service) started the server first.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from servicekit.db.embedded import start_embedded;"
            " print(start_embedded(sys.argv[1]))",
            str(embedded_cluster.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip() == embedded_cluster.admin_dsn


def test_resolve_database_url_when_url_configured_does_not_start_a_server(tmp_path: Path):
    url = "postgresql://postgres@db.example.com/postgres"

    assert resolve_database_url(url, tmp_path / "never-created") == url
    assert not (tmp_path / "never-created").exists()
