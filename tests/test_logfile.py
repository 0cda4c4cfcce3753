"""crmcompanion.logfile: the rotating log is owner-only, however the umask, rotation included."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmcompanion.logfile import OwnerOnlyRotatingFileHandler, install_file_log


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    yield
    os.umask(old)


def test_rotated_files_are_owner_only_and_bounded(tmp_path: Path, open_umask: None) -> None:
    log = tmp_path / "crm.log"
    handler = OwnerOnlyRotatingFileHandler(log, maxBytes=200, backupCount=2, encoding="utf-8")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "x" * 80, None, None)
    try:
        for _ in range(20):
            handler.emit(record)
    finally:
        handler.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["crm.log", "crm.log.1", "crm.log.2"]  # rotated, two kept
    assert {stat.S_IMODE((tmp_path / f).stat().st_mode) for f in files} == {0o600}


def test_an_existing_world_readable_log_is_made_owner_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "logs" / "crm.log"
    log.parent.mkdir(mode=0o755)
    log.write_text("from an older version\n")
    log.chmod(0o644)
    root = logging.getLogger()
    console = logging.StreamHandler()
    monkeypatch.setattr(root, "handlers", [console])  # pytest's own handlers stay as they are
    monkeypatch.setattr(root, "level", logging.WARNING)
    handler = install_file_log(log)
    assert console.level == logging.WARNING  # the console keeps its level
    try:
        assert install_file_log(log) is handler  # installed once
        logging.getLogger("crmcompanion.test").info("an info line")
        handler.flush()
    finally:
        root.removeHandler(handler)
        handler.close()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    assert "an info line" in log.read_text()
