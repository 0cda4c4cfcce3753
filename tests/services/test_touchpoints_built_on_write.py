"""The derived touchpoint rows are built when a bulk load writes the data (demo, import), not
by the first Today read after it (issue 13: 1.6 s at 100,000 customers while the page said
"Loading…"). The first read after a load writes nothing, and shows what a full rebuild shows.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import text

from crmcompanion.services.container import Services
from crmcompanion.services.demo import fill_demo
from tests.ui.helpers import counted_statements

WRITES = ("insert", "update", "delete", "replace")


def shown(services: Services) -> list[tuple]:
    view = services.touchpoints.today_view()
    return [(s.section, s.total, tuple(i.key for i in s.items)) for s in view.sections]


def assert_first_read_builds_nothing(services: Services) -> None:
    with counted_statements(services) as seen:
        first = shown(services)
    assert not [s for s in seen if s.strip().lower().startswith(WRITES)], seen
    assert sum(total for _, total, _ in first) > 0
    # The same as rebuilding every customer's rows from scratch.
    with services.db.write() as session:
        session.execute(text("UPDATE contact_rhythm SET dirty = 1"))
    assert services.touchpoints.sync() > 0
    assert shown(services) == first


def test_demo_builds_the_touchpoint_rows_as_it_writes(services: Services):
    fill_demo(services.db, services.clock, 300, staff_id=services.staff_id)
    assert_first_read_builds_nothing(services)


def test_an_import_builds_the_touchpoint_rows_as_it_writes(services: Services,
                                                           tmp_path: Path):
    fill_demo(services.db, services.clock, 20, staff_id=services.staff_id)
    path = tmp_path / "google.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("Name", "Given Name", "Family Name", "Birthday", "E-mail 1 - Value",
                         "Phone 1 - Value"))
        for i in range(200):
            writer.writerow((f"Person {i}", "Person", str(i), f"1980-{i % 12 + 1:02}-"
                             f"{i % 28 + 1:02}", f"p{i}@example.org", f"+33 1 31 64 {i:02}"))
    preview = services.import_export.preview(path, find_duplicates=True)
    result = services.import_export.run(preview.plan)
    assert result.created == 200
    assert_first_read_builds_nothing(services)
