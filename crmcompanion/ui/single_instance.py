"""One running app per database: a second launch brings the first window to the front.

Two GUIs on one database would run two schedulers (harmless for delivery, thanks to the
fired-reminder log, but confusing: two windows, two tray icons). The first instance holds a
QLockFile next to the data and listens on a QLocalServer whose name is derived from the
database URL; a second instance fails to take the lock, sends "activate" to that server and
exits. A stale lock left by a crash is taken over by QLockFile itself.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from crmcompanion import APP_SLUG

logger = logging.getLogger(__name__)

ACTIVATE = b"activate\n"
CONNECT_TIMEOUT_MS = 1000


def instance_key(database_url: str) -> str:
    return hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:16]


def server_name(database_url: str) -> str:
    return f"{APP_SLUG}-{instance_key(database_url)}"


def lock_path(lock_file: Path, database_url: str) -> Path:
    """`paths.lock_file`, made specific to the database (a home may hold several)."""
    return lock_file.with_name(f"{lock_file.stem}-{instance_key(database_url)}{lock_file.suffix}")


class SingleInstance(QObject):
    activation_requested = Signal()

    def __init__(self, database_url: str, lock_file: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(database_url)
        self.lock_path = lock_path(lock_file, database_url)
        self._lock = QLockFile(str(self.lock_path))
        self._lock.setStaleLockTime(0)  # rely on the pid check, never on age
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """True: we are the instance (now listening). False: another runs and was told."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        if self._lock.tryLock(100):
            QLocalServer.removeServer(self.name)  # a socket file left by a crash
            server = QLocalServer(self)
            server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
            if not server.listen(self.name):
                logger.warning("Cannot listen for second launches: %s", server.errorString())
            server.newConnection.connect(self._on_connection)
            self._server = server
            return True
        logger.info("Another instance runs on this database; asking it to come to the front")
        self.notify_running()
        return False

    def notify_running(self) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            logger.warning("The running instance did not answer: %s", socket.errorString())
            return False
        socket.write(ACTIVATE)
        socket.flush()
        socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        return True

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._lock.unlock()

    def _on_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(b"activate"):
            self.activation_requested.emit()
