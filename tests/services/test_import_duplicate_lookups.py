"""Guard of the import's duplicate matching (issue 13), by the queries it makes, never by a
timing."""

from __future__ import annotations


def test_duplicate_matching_asks_per_batch_not_per_row(services, tmp_path, monkeypatch):
    """The preview's duplicate matching finds the rows that may match in SQL, then looks their
    keys up a batch at a time: three lookups (UID, email, phone) for 1,200 matching rows."""
    from crmcompanion.services import import_export
    from crmcompanion.store import transfer

    own = tmp_path / "stored.csv"
    own.write_text("Name,Email,Phone\n" + "".join(
        f"Stored {i},s{i}@example.com,+33 6 10 00 {i // 100:02} {i % 100:02}\n"
        for i in range(1200)), encoding="utf-8")
    services.import_export.run(services.import_export.preview(own).plan)
    again = tmp_path / "again.csv"
    again.write_text("Full name,E-mail,Mobile\n" + "".join(
        f"Again {i},S{i}@example.com,+33 6 10 00 {i // 100:02} {i % 100:02}\n"
        for i in range(1200)), encoding="utf-8")
    lookups: list[int] = []
    real = transfer._first_ids

    def counting(session, table, key, id_column, keys):
        lookups.append(len(keys))
        return real(session, table, key, id_column, keys)

    monkeypatch.setattr(transfer, "_first_ids", counting)
    preview = services.import_export.preview(again)
    assert preview.duplicate_count == 1200
    assert len(lookups) <= 3 * -(-1200 // import_export.BATCH_SIZE), lookups
