"""Baseline for the start-up figures: the least a Qt app can do to show N customers.

A bare QTableView over a lazy model that asks raw sqlite3 for the count and for pages of 200
rows through the sort index; prints the same JSON line as the app's benchmark hook after the
first paint (and, with BENCHMARK_JUMP_TO_END=1, after scrolling to the end), then quits.

With `--today` it is the baseline of the Today figures instead: the four sections' counts
(overdue 30 days, today, next 7 days, days 8-30) and their first rows, read raw from the base
table `special_dates` (month*100+day ranges, two when a window wraps New Year) joined to
customers, shown in a bare QTableWidget; the JSON line comes after that table has painted.

Usage: python benchmarks/raw_first_paint.py DATABASE [--today]
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from datetime import date, timedelta

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView, QTableWidget, QTableWidgetItem

from crmcompanion.ui.bench_hooks import peak_rss_kb  # light: Qt, no app modules

PAGE = 200
SHOWN_PER_SECTION = 30
COLUMNS = ("display_name", "company", "primary_email", "primary_phone", "tags_text", "status")


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


def md_ranges(first: date, last: date) -> list[tuple[int, int]]:
    """month*100+day ranges covering first..last (two when it wraps New Year)."""
    lo, hi = first.month * 100 + first.day, last.month * 100 + last.day
    return [(lo, hi)] if lo <= hi else [(lo, 1231), (101, hi)]


def today_rows(path: str) -> list[tuple[str, str, str]]:
    """The four sections' counts and first rows, raw."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    today = date.today()
    windows = {
        "Overdue": (today - timedelta(days=30), today - timedelta(days=1)),
        "Today": (today, today),
        "Next 7 days": (today + timedelta(days=1), today + timedelta(days=7)),
        "Days 8-30": (today + timedelta(days=8), today + timedelta(days=30)),
    }
    shown: list[tuple[str, str, str]] = []
    for title, (first, last) in windows.items():
        ranges = md_ranges(first, last)
        where = " OR ".join("sd.md_key BETWEEN ? AND ?" for _ in ranges)
        args = [v for r in ranges for v in r]
        total = conn.execute(f"SELECT count(*) FROM special_dates sd WHERE {where}",
                             args).fetchone()[0]
        shown.append((title, str(total), ""))
        shown += conn.execute(
            f"SELECT c.display_name, sd.kind, sd.md_key FROM special_dates sd "
            f"JOIN customers c ON c.id = sd.customer_id WHERE {where} "
            f"ORDER BY sd.md_key LIMIT {SHOWN_PER_SECTION}", args).fetchall()
    conn.close()
    return [tuple(str(v) for v in row) for row in shown]  # type: ignore[misc]


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    if "--today" in sys.argv:
        rows = today_rows(sys.argv[1])
        table: QTableView = QTableWidget(len(rows), 3)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(value))
    else:
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
        result["peak_rss_kb"] = peak_rss_kb()
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
