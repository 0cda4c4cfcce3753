"""store.database.check_url: a URL that cannot name this app's database is one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmcompanion.core.errors import DatabaseProblem
from crmcompanion.store.database import open_database


@pytest.mark.parametrize(("url", "message"), [
    ("not a url", "is not a URL"),
    ("sqlite:", "is not a URL"),
    ("sqlite://", "names no database file"),
    ("sqlite:///:memory:", "names no database file"),
    ("sqlite:////dev/null", "/dev/null is not a regular file"),
    ("sqlite+aiosqlite:////tmp/x.sqlite3", "SQLite driver “aiosqlite”"),
])
def test_unusable_urls_are_one_sentence(url: str, message: str) -> None:
    with pytest.raises(DatabaseProblem, match=message) as caught:
        open_database(url)
    text = str(caught.value)
    assert "\n" not in text and "sqlalche.me" not in text and "SELECT" not in text


def test_query_parameters_are_refused_not_made_part_of_a_file_name(tmp_path: Path) -> None:
    with pytest.raises(DatabaseProblem, match=r"query parameters \(mode\)"):
        open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}?mode=ro")
    assert list(tmp_path.iterdir()) == []


def test_other_databases_keep_their_not_supported_message() -> None:
    with pytest.raises(DatabaseProblem, match="not supported"):
        open_database("mysql://user@127.0.0.1/crm")
