"""Similar complaints as the app runs them: the feedback service over a real database.

`benchmarks/similarity.py` times the model side (encode, rank, centroids) on vectors in
memory; this times what a refresh of the Add feedback dialog costs through
`FeedbackService`: encode the typed text, check whether a stored vector changed (one
aggregate over a covering index), rank against the cached matrix and read the neighbours'
rows and themes; and the theme suggestions (centroids cached until a vector or theme link
changes). `stored` complaints (default 10,000) over the demo's 8 themes are written and
encoded before the clock starts, as the app stores each complaint's vector when it is saved.

Run: `PYTHONPATH=. python benchmarks/feedback_bench.py [--stored N] [--runs N]`; prints
`similar_complaints_service_ms` and `theme_suggestions_service_ms` (p95) with the median.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

PROBES = ("the guy at the till was grumpy", "reservation vanished", "they charged me twice",
          "my package got lost", "website keeps crashing", "bread was old",
          "queue was endless", "far too expensive now")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def measure(stored: int = 10_000, runs: int = 100) -> dict[str, float]:
    from crmcompanion.core.clock import FixedClock
    from crmcompanion.services.container import open_services
    from crmcompanion.services.demo import fill_demo
    from crmcompanion.services.feedback_demo import COMPLAINTS
    from crmcompanion.store import feedback as repo

    with tempfile.TemporaryDirectory() as folder:
        services = open_services(f"sqlite:///{folder}/bench.sqlite3", Path(folder) / "b",
                                 FixedClock(datetime(2026, 11, 22, 10)))
        try:
            fill_demo(services.db, services.clock, 2000, staff_id=services.staff_id)
            texts = [(t, theme) for theme, said in COMPLAINTS.items() for t in said]
            rng = random.Random(1)
            created = datetime(2026, 5, 1)
            with services.db.write() as session:
                first = repo.next_item_id(session)
                theme_id = dict(zip(COMPLAINTS, repo.theme_ids(session, list(COMPLAINTS)),
                                    strict=True))
                items, links = [], []
                for k in range(stored):
                    text, theme = rng.choice(texts)
                    items.append({
                        "id": first + k, "customer_id": rng.randrange(1, 2001),
                        "kind": "complaint", "text": f"{text} ({k})", "satisfaction": None,
                        "source": "phone", "status": "new", "author_id": None,
                        "interaction_id": None, "reviewer": "", "review_site": "",
                        "merged_into_id": None, "created_at": created, "updated_at": created,
                        "version": 1})
                    links.append({"item_id": first + k, "theme_id": theme_id[theme]})
                repo.insert_rows(session, "feedback_items", items)
                repo.insert_rows(session, "feedback_item_themes", links)
            start = time.perf_counter()
            encoded = services.feedback.encode_missing()
            encode_s = time.perf_counter() - start
            feedback = services.feedback
            feedback.similar(PROBES[0])  # warm-up: the model, the matrix and centroid caches
            feedback.suggest_themes(PROBES[0])
            similar, themes = [], []
            for i in range(runs):
                text = PROBES[i % len(PROBES)]
                start = time.perf_counter()
                feedback.similar(text, 5)
                similar.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                feedback.suggest_themes(text, 3)
                themes.append((time.perf_counter() - start) * 1000)
        finally:
            services.close()
    return {
        "stored": encoded,
        "stored_encode_s": round(encode_s, 2),
        "similar_complaints_service_ms": round(p95(similar), 2),
        "similar_complaints_service_median_ms": round(statistics.median(similar), 2),
        "theme_suggestions_service_ms": round(p95(themes), 2),
        "theme_suggestions_service_median_ms": round(statistics.median(themes), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    for name, value in measure(args.stored, args.runs).items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
