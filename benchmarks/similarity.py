"""Similar complaints (issue 15): speed of one refresh, model load cost, and ranking quality.

`measure(stored=10_000, runs=200)` prints nothing and returns figures; `report_figures(report)`
adds them to benchmarks/run.py's report:
- `similar_complaints_ms`: p95 of one refresh as the app does it while a complaint is typed:
  encode the typed text, rank it against `stored` stored vectors, turn the neighbours into
  themes (`core.similarity.suggest_themes`). Stored vectors are made before the clock starts,
  as the app stores each complaint's vector when it is saved.
  `similar_complaints_cached_ms`: the same with the theme centroids made once and reused.
- `similar_complaints_raw_ms`: the baseline, p95 of the same dot product and top-k in raw numpy
  on an already-encoded query (what is left when the model and the themes cost nothing);
  `similar_complaints_blas_ms` the same with `matrix @ query` (OpenBLAS), for comparison.
- `similar_complaints_lexical_ms`: the same refresh by the lexical fallback (`LexicalIndex`,
  built in `lexical_index_build_s`); `stored_encode_s`: encoding the 10,000 stored texts.
- `embedder_load_s` and `embedder_rss_mb`: a fresh interpreter's `get_embedder()` wall time
  and its resident memory before and after (imports of numpy, tokenizers, pydantic and the
  weights included).

`explore()` prints the top-3 theme hit rate on tests/fixtures/similar_complaints.json for each
variant tried (dimension, text preparation, neighbour vote vs theme centroid vs best match,
blend with the lexical score), and the lexical fallback's. Run: `python benchmarks/similarity.py
[--stored N] [--runs N] [--explore]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from crmcompanion.core import similarity  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "similar_complaints.json"
TOP = 3


def load_fixture() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- speed -----------------------------------------------------------------------------------
def stored_corpus(n: int, seed: int = 15) -> tuple[list[str], list[list[str]]]:
    """`n` stored complaints: the fixture's, each varied with a customer's opening and closing
    words (the texts differ, the themes recur), with their themes."""
    fixture = load_fixture()
    rng = random.Random(seed)
    openings = ["", "Hello, ", "Hi team, ", "Sorry to say it but ", "Once again: ", "FYI ",
                "Dear Sir or Madam, ", "Quick note: "]
    closings = ["", " Please sort this out.", " Very disappointing.", " Not happy.",
                " I expect an answer.", " Thanks.", " This is the second time.", " Regards"]
    texts, themes = [], []
    for i in range(n):
        row = fixture["stored"][i % len(fixture["stored"])]
        texts.append(f"{rng.choice(openings)}{row['text']}{rng.choice(closings)}")
        themes.append([row["theme"]])
    return texts, themes


def measure(stored: int = 10_000, runs: int = 200) -> dict[str, float]:
    from crmcompanion.infra.embeddings import get_embedder

    embedder = get_embedder()
    texts, themes = stored_corpus(stored)
    start = time.perf_counter()
    matrix = np.ascontiguousarray(embedder.encode(texts))
    encode_s = time.perf_counter() - start  # what saving 10,000 complaints costs the model
    typed = [probe["text"] for probe in load_fixture()["probes"]]
    queries = embedder.encode(typed)

    def refresh(text: str, centroids: similarity.ThemeCentroids | None = None) -> None:
        query = embedder.encode([text])[0]
        similarity.rank(query, matrix, 5)  # the similar complaints shown
        similarity.suggest_themes(query, matrix, themes, TOP, centroids=centroids)

    def raw(query: np.ndarray) -> None:
        # The same dot product and top 5 as core.similarity.rank, with no model and no themes.
        scores = np.einsum("ij,j->i", matrix, query)
        top = np.argpartition(scores, -5)[-5:]
        top[np.argsort(-scores[top])]

    def blas(query: np.ndarray) -> None:
        # The obvious numpy (`@`, OpenBLAS): measured last, as it leaves BLAS threads spinning
        # that would slow whatever runs after it (why rank uses einsum).
        scores = matrix @ query
        top = np.argpartition(scores, -5)[-5:]
        top[np.argsort(-scores[top])]

    for text in typed[:5]:  # warm-up: caches, the tokenizer's first call
        refresh(text)
    centroids = similarity.theme_centroids(matrix, themes)

    def timed(action: Callable[[int], object]) -> list[float]:
        times = []
        for i in range(runs):
            start = time.perf_counter()
            action(i)
            times.append(time.perf_counter() - start)
        return times

    # Each kind in its own block, so that one cannot slow the next.
    uncached = timed(lambda i: refresh(typed[i % len(typed)]))
    cached = timed(lambda i: refresh(typed[i % len(typed)], centroids))
    start = time.perf_counter()
    lexical = similarity.LexicalIndex(texts)
    lexical_build_s = time.perf_counter() - start

    def fallback(text: str) -> None:  # the same refresh when the model could not load
        lexical.rank(text, 5)
        lexical.suggest_themes(text, themes, TOP)

    lexical_times = timed(lambda i: fallback(typed[i % len(typed)]))
    raw_times = timed(lambda i: raw(queries[i % len(typed)]))
    blas_times = timed(lambda i: blas(queries[i % len(typed)]))
    return {
        "stored": stored,
        # The theme centroids recomputed on every refresh: the cost when nothing is cached.
        "similar_complaints_ms": round(p95(uncached) * 1000, 2),
        "similar_complaints_median_ms": round(statistics.median(uncached) * 1000, 2),
        # The centroids made once per set of stored vectors (theme_centroids), reused.
        "similar_complaints_cached_ms": round(p95(cached) * 1000, 2),
        "similar_complaints_raw_ms": round(p95(raw_times) * 1000, 2),
        "similar_complaints_blas_ms": round(p95(blas_times) * 1000, 2),
        "similar_complaints_lexical_ms": round(p95(lexical_times) * 1000, 2),
        "lexical_index_build_s": round(lexical_build_s, 3),
        "stored_encode_s": round(encode_s, 3),
    }


def measure_load() -> dict[str, float]:
    """A fresh interpreter's model load: wall time and resident memory before and after."""
    code = (
        "import json, time\n"
        "def rss():\n"
        "    with open('/proc/self/statm') as f:\n"
        "        return int(f.read().split()[1]) * __import__('os').sysconf('SC_PAGE_SIZE')\n"
        "import crmcompanion.infra.embeddings as e\n"
        "before = rss(); start = time.perf_counter()\n"
        "e.get_embedder()\n"
        "took = time.perf_counter() - start\n"
        "print(json.dumps({'embedder_load_s': round(took, 3),\n"
        "                  'embedder_rss_mb': round((rss() - before) / 2**20, 1)}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    loads = []
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True)
        loads.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = min(loads, key=lambda figures: figures["embedder_load_s"])
    return {"embedder_load_s": best["embedder_load_s"],
            "embedder_load_max_s": max(f["embedder_load_s"] for f in loads),
            "embedder_rss_mb": best["embedder_rss_mb"]}


def report_figures(report: object, stored: int = 10_000) -> None:
    """Add this module's figures to benchmarks/run.py's Report (its `add(name, value, unit,
    baseline)`): in run.py, `guarded(report, "similar complaints", lambda:
    similarity.report_figures(report))`."""
    figures = measure(stored)
    add = report.add  # type: ignore[attr-defined]
    add("similar_complaints_ms", figures["similar_complaints_ms"], "ms",
        figures["similar_complaints_raw_ms"])
    add("similar_complaints_cached_ms", figures["similar_complaints_cached_ms"], "ms",
        figures["similar_complaints_raw_ms"])
    load = measure_load()
    add("embedder_load_s", load["embedder_load_s"], "s", None)
    add("embedder_rss_mb", load["embedder_rss_mb"], "MB", None)


# --- quality -----------------------------------------------------------------------------------
def hit_rate(rank_themes: Callable[[str], list[str]], probes: list[dict]) -> tuple[float, list]:
    """Share of probes whose theme is among the first TOP themes `rank_themes` returns."""
    misses = []
    for probe in probes:
        offered = rank_themes(probe["text"])[:TOP]
        if probe["theme"] not in offered:
            misses.append((probe["text"], probe["theme"], offered))
    return 1 - len(misses) / len(probes), misses


Method = Callable[[np.ndarray, str, list[int]], list]


def _variants(matrix: np.ndarray, texts: list[str], labels: list[str]) -> dict[str, Method]:
    """Ways to rank themes for a query: method(query vector, query text, stored rows to
    use) -> themes, best first."""

    def vote(n: int) -> Method:
        def method(q: np.ndarray, _: str, rows: list[int]) -> list:
            indices, scores = similarity.rank(q, matrix[rows], n)
            return [s.theme_id for s in similarity.themes_from_neighbours(
                indices, scores, [[labels[i]] for i in rows], TOP)]
        return method

    def best_match(q: np.ndarray, _: str, rows: list[int]) -> list:
        indices, _scores = similarity.rank(q, matrix[rows], len(rows))
        return list(dict.fromkeys(labels[rows[i]] for i in indices))

    def centroid(q: np.ndarray, _: str, rows: list[int]) -> list:
        return [s.theme_id for s in similarity.suggest_themes(
            q, matrix[rows], [[labels[i]] for i in rows], TOP)]

    def blend(alpha: float) -> Method:
        def method(q: np.ndarray, text: str, rows: list[int]) -> list:
            lexical_scores = similarity.LexicalIndex([texts[i] for i in rows]).scores(text)
            scores = alpha * (matrix[rows] @ q) + (1 - alpha) * lexical_scores
            indices, values = similarity.top_k(scores, similarity.DEFAULT_NEIGHBOURS)
            return [s.theme_id for s in similarity.themes_from_neighbours(
                indices, values, [[labels[i]] for i in rows], TOP)]
        return method

    variants = {f"vote of {n} nearest": vote(n) for n in (5, 10, 20)}
    variants["best match per theme"] = best_match
    variants["theme centroid (suggest_themes)"] = centroid
    variants.update({f"blend {a} cosine + {1 - a:.2f} lexical, vote of 10": blend(a)
                     for a in (0.9, 0.75, 0.5)})
    return variants


def _rates(method: Method, matrix: np.ndarray, probe_vectors: np.ndarray, fixture: dict
           ) -> tuple[float, float]:
    """Top-3 hit rate on the probes, and leaving each stored complaint out in turn."""
    stored, probes = fixture["stored"], fixture["probes"]
    everything = list(range(len(stored)))
    on_probes = sum(p["theme"] in method(pv, p["text"], everything)[:TOP]
                    for pv, p in zip(probe_vectors, probes, strict=True)) / len(probes)
    left_out = sum(
        stored[i]["theme"] in method(matrix[i], stored[i]["text"],
                                     everything[:i] + everything[i + 1:])[:TOP]
        for i in everything) / len(stored)
    return on_probes, left_out


def explore() -> None:  # pragma: no cover - a measuring tool, its output is the point
    """Print, for each variant, the top-3 theme hit rate on the probes and leaving each stored
    complaint out in turn (a second, larger check that no variant wins by one lucky probe),
    and the share of the 5 nearest complaints that carry the probe's theme (p@5)."""
    import wordllama
    from wordllama import WordLlama

    fixture = load_fixture()
    stored, probes = fixture["stored"], fixture["probes"]
    texts = [row["text"] for row in stored]
    labels = [row["theme"] for row in stored]
    folder = Path(wordllama.__file__).parent
    print(f"fixture: {len(stored)} stored, {len(probes)} probes, {len(fixture['themes'])} "
          f"themes; top-{TOP} theme hit rate (chance {TOP / len(fixture['themes']):.0%}): "
          "probes | leave-one-out; p@5 = share of the 5 nearest complaints on the right theme")

    def lexical(_: object, text: str, rows: list[int]) -> list:
        index = similarity.LexicalIndex([texts[i] for i in rows])
        return [s.theme_id for s in index.suggest_themes(text, [[labels[i]] for i in rows], TOP)]

    rates = _rates(lexical, np.zeros((len(stored), 1)), np.zeros((len(probes), 1)), fixture)
    full_index = similarity.LexicalIndex(texts)
    precision = sum(sum(labels[i] == p["theme"] for i in full_index.rank(p["text"], 5)[0]) / 5
                    for p in probes) / len(probes)
    print(f"  {'lexical TF-IDF fallback, vote of 10':52} {rates[0]:6.1%} | {rates[1]:6.1%}"
          f"  p@5 {precision:5.1%}")

    preparations: dict[str, Callable[[str], str]] = {
        "raw text": lambda t: t,
        "stop words dropped": lambda t: " ".join(similarity.content_words(t)),
    }
    for dim in (256, 128, 64):
        model = WordLlama.load(cache_dir=folder, disable_download=True, dim=256,
                               trunc_dim=None if dim == 256 else dim)
        for prep_name, prep in preparations.items():
            raw_stored = similarity.normalise_rows(model.embed([prep(t) for t in texts]))
            raw_probes = similarity.normalise_rows(model.embed([prep(p["text"]) for p in probes]))
            for centred in (False, True):
                # Centring (subtracting the mean stored vector) removes the direction every
                # static-embedding vector shares, which inflates all cosines alike.
                mean = raw_stored.mean(axis=0) if centred else np.zeros(dim, dtype=np.float32)
                matrix = similarity.normalise_rows(raw_stored - mean)
                probe_vectors = similarity.normalise_rows(raw_probes - mean)
                print(f" {dim}d, {prep_name}{', centred' if centred else ''}", flush=True)
                precision = sum(
                    sum(labels[i] == p["theme"] for i in similarity.rank(q, matrix, 5)[0]) / 5
                    for q, p in zip(probe_vectors, probes, strict=True)) / len(probes)
                for name, method in _variants(matrix, texts, labels).items():
                    rates = _rates(method, matrix, probe_vectors, fixture)
                    print(f"  {name:52} {rates[0]:6.1%} | {rates[1]:6.1%}"
                          + (f"  p@5 {precision:5.1%}" if name.startswith("vote of 5") else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--explore", action="store_true", help="print the hit rate of variants")
    args = parser.parse_args(argv)
    if args.explore:
        explore()
        return 0
    figures = measure(args.stored, args.runs)
    figures.update(measure_load())
    for name, value in figures.items():
        print(f"{name:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
