"""Guards of the import's speed-ups (issue 13), by the work done, never by a timing: a repeated
slash date is resolved once per file, not once per row."""

from __future__ import annotations

from crmcompanion.core import csv_import
from crmcompanion.core.date_parsing import SlashDate


def test_a_repeated_slash_date_is_resolved_once(tmp_path, monkeypatch):
    path = tmp_path / "outlook.csv"
    rows = ["First Name,Last Name,E-mail Address,Birthday", "Ann,Lee,ann@example.com,3/14/1971"]
    rows += [f"P{i},Lee,p{i}@example.com,{'3/4/1980' if i % 2 else '12/1/1990'}"
             for i in range(400)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    calls: list[SlashDate] = []
    real = SlashDate.resolve

    def counting(self, order):
        calls.append(self)
        return real(self, order)

    monkeypatch.setattr(SlashDate, "resolve", counting)
    parsed = csv_import.read_customers(path)
    birthdays = {p.values.special_dates[0][1:4] for p in parsed}
    assert birthdays == {(3, 14, 1971), (3, 4, 1980), (12, 1, 1990)}
    # A few times per distinct text and pass (reading it, then resolving it): not once per
    # row (~800 for these 401 rows read twice).
    assert len(calls) < 20, len(calls)
