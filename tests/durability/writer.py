"""A writer process for the crash tests: saves through the real services, reports commits.

Run as `python writer.py DATABASE_FILE [--count N] [--tag TEXT]`. Prints "ready" once the
database is open, then for each save that has returned (so is committed) one line:
"C <customer id>" for a new customer, "I <interaction id> <customer id>" for a logged
conversation (every third customer gets one). Without --count it writes until killed; with
it, it writes N customers, prints "done" and exits 0 (any error: its one line on stderr,
exit 1).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from crmcompanion.core.clock import SystemClock
from crmcompanion.core.customer import CustomerDraft, EmailAddress
from crmcompanion.services.container import open_services

logger = logging.getLogger(__name__)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", type=Path)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--tag", default="w")
    args = parser.parse_args()
    services = open_services(
        f"sqlite:///{args.database}", args.database.parent / "backups", SystemClock()
    )
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    n = 0
    try:
        while not args.count or n < args.count:
            n += 1
            saved = services.customers.create(CustomerDraft(
                first_name=f"{args.tag}{n}", last_name="Crashtest", company="Durable Ltd",
                emails=(EmailAddress(f"{args.tag}{n}@example.com"),), tags=("crash",),
            ))
            out.write(f"C {saved.customer.id}\n")
            out.flush()
            if n % 3 == 0:
                logged = services.interactions.log(saved.customer.id, f"call {n}", "phone")
                out.write(f"I {logged.interaction.id} {saved.customer.id}\n")
                out.flush()
    except Exception as exc:  # the test reads this line
        sys.stderr.write(f"writer error: {exc!r}\n")
        return 1
    finally:
        services.close()
    out.write("done\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
