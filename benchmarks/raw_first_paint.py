"""Baseline for the start-up figures: the least a Qt app can do to show N customers.

A bare QTableView over a lazy model that asks raw sqlite3 for the count and for pages of 200
rows through the sort index; prints the same JSON line as the app's benchmark hook after the
first paint (and, with BENCHMARK_JUMP_TO_END=1, after scrolling to the end), then quits.

Usage: python benchmarks/raw_first_paint.py DATABASE
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import sys
import time

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

PAGE = 200
COLUMNS = ("display_name", "company", "primary_email", "primary_phone", "tags_text", "status")


def _peak_rss_kb() -> int:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec
    from the parent, so a child of a big process would report the parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class RawModel(QAbstractTableModel):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.total = self.conn.execute(
            "SELECT count(*) FROM customers WHERE archived_at IS NULL"
        ).fetchone()[0]
        self.pages: dict[int, list[tuple]] = {}

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.total

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        number, offset = divmod(index.row(), PAGE)
        page = self.pages.get(number)
        if page is None:
            page = self.conn.execute(
                f"SELECT {', '.join(COLUMNS)} FROM customers WHERE archived_at IS NULL "
                "ORDER BY sort_name, id LIMIT ? OFFSET ?",
                (PAGE, number * PAGE),
            ).fetchall()
            self.pages[number] = page
        return page[offset][index.column()] if offset < len(page) else None


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    table = QTableView()
    table.setModel(RawModel(sys.argv[1]))
    window.setCentralWidget(table)
    window.resize(1100, 700)

    def report() -> None:
        result: dict[str, object] = {"painted_at": time.time()}
        if os.environ.get("BENCHMARK_JUMP_TO_END"):
            table.scrollToBottom()
            window.repaint()
            app.processEvents()
        result["peak_rss_kb"] = _peak_rss_kb()
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        app.quit()

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                watched.removeEventFilter(self)
                QTimer.singleShot(0, report)
            return False

    spy = FirstPaint(window)
    window.installEventFilter(spy)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
