"""One running app per database: a second launch brings the first window to the front.

Two GUIs on one database would run two schedulers (harmless for delivery, thanks to the
fired-reminder log, but confusing: two windows, two tray icons). The first instance holds a
QLockFile next to the data and listens on a QLocalServer whose name is derived from the
database URL; a second instance fails to take the lock, sends "activate" to that server and
exits. A stale lock left by a crash is taken over by QLockFile itself.

Object lifetimes matter here (a second instance connecting once segfaulted at teardown): an
accepted socket that was given `deleteLater()` and was then destroyed *directly* with its
parent (the server, when this object was garbage-collected before the event loop ran again)
left a DeferredDelete event for freed memory ("shared QObject was deleted directly", then
SIGSEGV). So no socket or server here ever gets `deleteLater()`: Python keeps a reference to
every accepted socket, a finished one is disposed of from the event loop through a timer owned
by this object (cancelled if this object goes first), and `release()` deletes the sockets,
then the server, directly and in that order.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QLockFile, QObject, QTimer, Signal

from crmcompanion import APP_SLUG

if TYPE_CHECKING:  # imported where used: QtNetwork is not needed before the first paint
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

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
    """Take the per-database lock or tell the running instance to come to the front.

    `activation_requested` is emitted (on the GUI thread, from the event loop) each time a
    later launch asks. Call `release()` when quitting.
    """

    activation_requested = Signal()

    def __init__(self, database_url: str, lock_file: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(database_url)
        self.lock_path = lock_path(lock_file, database_url)
        self._lock = QLockFile(str(self.lock_path))
        self._lock.setStaleLockTime(0)  # rely on the pid check, never on age
        self._server: QLocalServer | None = None
        self._clients: list[QLocalSocket] = []

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    @property
    def client_count(self) -> int:
        """Accepted connections not disposed of yet (tests check nothing piles up)."""
        return len(self._clients)

    def acquire(self, listen: bool = True) -> bool:
        """True: we are the instance (listening, unless `listen` is False: then call
        `listen()` later). False: another runs and was told."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        if self._lock.tryLock(100):
            if listen:
                self.listen()
            return True
        logger.info("Another instance runs on this database; asking it to come to the front")
        self.notify_running()
        return False

    def listen(self) -> None:
        """Answer later launches from now on (once; only while holding the lock).

        The app calls it after its window's first paint: QtNetwork and the socket cost ~7 ms
        there. A launch before it finds the lock taken and no one answering; it exits all the
        same, while this window is just appearing anyway."""
        if self._server is not None or not self._lock.isLocked():
            return
        from PySide6.QtNetwork import QLocalServer

        QLocalServer.removeServer(self.name)  # a socket file left by a crash
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            logger.warning("Cannot listen for second launches: %s", server.errorString())
        server.newConnection.connect(self._on_connection)
        self._server = server

    def notify_running(self) -> bool:
        """Connect to the running instance and ask it to show its window (blocking, short)."""
        from PySide6.QtNetwork import QLocalSocket

        # No parent and no event loop use: Python owns it and deletes it on return, with no
        # deferred delete pending, which is safe.
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            logger.warning("The running instance did not answer: %s", socket.errorString())
            return False
        socket.write(ACTIVATE)
        socket.flush()
        socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(CONNECT_TIMEOUT_MS)
        return True

    def release(self) -> None:
        """Stop listening and unlock. Sockets first, then the server: both deleted now."""
        for socket in self._clients:
            _delete_now(socket)
        self._clients.clear()
        if self._server is not None:
            server, self._server = self._server, None
            if shiboken6.isValid(server):
                server.close()
            _delete_now(server)
        self._lock.unlock()

    def _on_connection(self) -> None:
        if self._server is None:
            return
        while (socket := self._server.nextPendingConnection()) is not None:
            self._clients.append(socket)
            # Plain methods and sender(): no closure holds the socket, so nothing outlives it.
            socket.readyRead.connect(self._on_ready_read)
            socket.disconnected.connect(self._on_disconnected)
            if socket.bytesAvailable():
                self._read(socket)

    def _on_ready_read(self) -> None:
        from PySide6.QtNetwork import QLocalSocket

        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(b"activate"):
            # From the event loop, not from inside the socket's own signal: whatever a slot
            # does (raise the window, even drop this object) cannot pull the socket from under
            # a running emit. The timer belongs to self, so it dies with it.
            QTimer.singleShot(0, self, self._activate)

    def _activate(self) -> None:
        self.activation_requested.emit()

    def _on_disconnected(self) -> None:
        # Not from inside the socket's own signal: later, from the event loop.
        QTimer.singleShot(0, self, self._dispose_finished)

    def _dispose_finished(self) -> None:
        from PySide6.QtNetwork import QLocalSocket

        for socket in list(self._clients):
            if not shiboken6.isValid(socket):
                self._clients.remove(socket)
            elif socket.state() == QLocalSocket.LocalSocketState.UnconnectedState:
                self._clients.remove(socket)
                _delete_now(socket)


def _delete_now(obj: QObject) -> None:
    """Delete a Qt object at once, outside any of its own signals, with no deferred delete.

    Unparent first: shiboken keeps its own parent/child records, and deleting a child it
    still files under its parent leaves a dangling record that crashes when the parent goes.
    """
    if not shiboken6.isValid(obj):
        return
    from PySide6.QtNetwork import QLocalSocket

    obj.blockSignals(True)  # abort/close must not call back into us while it dies
    if isinstance(obj, QLocalSocket):
        obj.abort()
    obj.setParent(None)
    shiboken6.delete(obj)
