"""One client of the concurrent-edit harness (test_concurrent_edits.py), run as its own
process: `python -m tests.postgres.edit_client URL CLIENT EDITS IDS GO`.

It waits for the file GO (so every client starts at once), then makes EDITS edits, each to one
of the shared customers IDS (comma-separated, taken in turn): read the customer, append this
edit's token to its notes, save with the version it read; on `EditConflict` count it and try
again from a fresh read. It prints one JSON object: the saves that succeeded (token, customer,
the version the save produced), the conflicts it was told about, and any other error.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from crmcompanion.services.container import open_services
from crmcompanion.services.customers import EditConflict


def main(url: str, client: int, edits: int, ids: list[int], go: Path) -> dict[str, object]:
    services = open_services(url)
    saves: list[tuple[str, int, int]] = []
    conflicts = 0
    errors: list[str] = []
    try:
        while not go.exists():
            time.sleep(0.005)
        for edit in range(edits):
            customer_id = ids[(client + edit) % len(ids)]
            token = f"c{client}e{edit}"
            while True:
                read = services.customers.get(customer_id)
                base = read.to_draft()
                mine = replace(base, notes=f"{base.notes} {token}".strip())
                try:
                    saved = services.customers.update(customer_id, mine, read.version, base)
                except EditConflict:
                    conflicts += 1
                    continue
                except Exception as exc:  # every other failure is reported
                    errors.append(f"{type(exc).__name__}: {exc}")
                    break
                saves.append((token, customer_id, saved.customer.version))
                break
    finally:
        services.close()
    return {"client": client, "saves": saves, "conflicts": conflicts, "errors": errors}


if __name__ == "__main__":
    url, client, edits, ids, go = sys.argv[1:6]
    result = main(url, int(client), int(edits), [int(i) for i in ids.split(",")], Path(go))
    sys.stdout.write(json.dumps(result) + "\n")
