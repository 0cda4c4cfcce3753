"""Similar complaints and theme words: ranking stored texts by meaning, and by words when
meaning is unavailable.

Why it exists (issue 15): while a complaint is typed, the app shows similar complaints of
other customers and offers their themes; the Themes view shows each theme's most distinctive
words. The vectors come from `infra.embeddings` (a static embedding model); this module only
does the arithmetic on them, so it stays a pure rule: numpy, no model, no database, no Qt.

- Vectors are stored as little-endian float32 bytes (`to_bytes` / `from_bytes` /
  `stack_vectors`), L2-normalised, so a dot product is the cosine similarity.
- `rank` is one matrix-vector product and a partial sort: ~0.5 ms at 10,000 stored rows.
- `suggest_themes` ranks themes by the cosine of the typed text with each theme's centroid
  (`theme_centroids`, made once per set of stored vectors).
- `LexicalIndex` is the fallback for a model that failed to load: TF-IDF over folded,
  stop-word-free, lightly stemmed words, in pure Python (an inverted index; a typed query has a
  handful of words, so scoring touches only the postings of those words).
- `distinctive_words`: the words that set a theme apart from the others (weighted log-odds with
  an informative prior, Monroe, Colaresi & Quinn 2008), shown as the users wrote them.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from crmcompanion.core.text import words as folded_words

logger = logging.getLogger(__name__)

ThemeId = TypeVar("ThemeId", bound=Hashable)

# Little-endian float32: the same bytes on every machine a database file is copied to.
VECTOR_DTYPE = np.dtype("<f4")

# How many nearest complaints vote on the themes in the lexical fallback: enough that one odd
# neighbour does not decide, few enough that a big theme cannot win by its size alone.
DEFAULT_NEIGHBOURS = 10


# --- vectors ---------------------------------------------------------------------------------
def to_bytes(vector: np.ndarray) -> bytes:
    """One vector as the bytes a database column stores (float32, little-endian)."""
    flat = np.asarray(vector, dtype=VECTOR_DTYPE).reshape(-1)
    return flat.tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    """The vector `to_bytes` stored (a read-only view on `blob`; copy it to change it)."""
    if len(blob) % VECTOR_DTYPE.itemsize:
        raise ValueError(f"a stored vector of {len(blob)} bytes is not a run of float32 values")
    return np.frombuffer(blob, dtype=VECTOR_DTYPE)


def stack_vectors(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    """Stored vectors as one (rows, dim) float32 matrix, ready for `rank`. One join and one
    frombuffer instead of a frombuffer per row: ~10x faster at 10,000 rows. Every blob must
    hold `dim` values (vectors of another model must be re-encoded, not mixed)."""
    width = dim * VECTOR_DTYPE.itemsize
    bad = next((i for i, blob in enumerate(blobs) if len(blob) != width), None)
    if bad is not None:
        raise ValueError(f"stored vector {bad} has {len(blobs[bad])} bytes, expected {width}")
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    matrix = np.frombuffer(b"".join(blobs), dtype=VECTOR_DTYPE).reshape(len(blobs), dim)
    return matrix.astype(np.float32, copy=False)


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero), float32: the form `rank` expects."""
    rows = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1).astype(np.float32)


def rank(query: np.ndarray, matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` rows of `matrix` most similar to `query` (both L2-normalised, so the dot
    product is the cosine): (row indices, scores), best first; ties keep the lower index
    first, so a result never shuffles between two refreshes. A zero `query` (the encoding
    of a text with no known word) is similar to nothing: no rows."""
    vector = np.asarray(query, dtype=np.float32).reshape(-1)
    if matrix.shape[0] == 0 or k <= 0 or not vector.any():
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
    # einsum, not `matrix @ vector`: the @ goes to OpenBLAS, which wakes its worker threads
    # for a matrix this size and leaves them spinning after the call, stealing a core from
    # the GUI thread on a small machine. Measured at 10,000 x 256 on a busy 2-core machine
    # (one refresh: encode, rank, themes): median 16 ms / p95 29-34 ms with @, 1.0 ms / 5-9 ms
    # with einsum, which runs on this thread alone.
    return top_k(np.einsum("ij,j->i", matrix, vector), k)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the `k` highest `scores`, best first (stable on ties)."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=scores.dtype)
    if k < scores.shape[0]:
        # argpartition is O(n); only the k candidates are sorted. The k-th value may be tied
        # with rows outside the partition: take every row at least as good, then sort stably.
        kth = np.partition(scores, -k)[-k]
        candidates = np.flatnonzero(scores >= kth)
    else:
        candidates = np.arange(scores.shape[0])
    order = np.argsort(-scores[candidates], kind="stable")[:k]
    chosen = candidates[order]
    return chosen, scores[chosen]


# --- themes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThemeSuggestion:
    """A theme offered for a typed complaint: its id, its score (higher is better; comparable
    within one suggestion list only) and how many stored complaints carry it."""

    theme_id: Hashable
    score: float
    complaints: int


@dataclass(frozen=True)
class ThemeCentroids:
    """Each theme's centroid: the normalised mean of the vectors of the complaints that carry
    it. Made once per set of stored vectors (`theme_centroids`), then used by every refresh."""

    theme_ids: tuple[Hashable, ...]
    matrix: np.ndarray  # (themes, dim), L2-normalised rows
    sizes: tuple[int, ...]  # complaints per theme


def theme_centroids(
    matrix: np.ndarray, theme_ids_per_row: Sequence[Collection[ThemeId]]
) -> ThemeCentroids:
    """The centroids of the themes in `theme_ids_per_row` (row i of `matrix` carries the
    themes `theme_ids_per_row[i]`: none, one or several; one listed twice counts once).
    Themes in first-seen order."""
    rows_count = matrix.shape[0]
    if len(theme_ids_per_row) != rows_count:
        raise ValueError(f"{len(theme_ids_per_row)} theme lists for {rows_count} rows")
    dim = matrix.shape[1] if matrix.ndim == 2 else 0
    # Flat (theme, row) pairs built by comprehensions and C-level maps, not a Python loop
    # with a dict per row: ~2 ms at 10,000 complaints instead of ~10.
    flat_themes = [theme for themes in theme_ids_per_row for theme in themes]
    if not flat_themes:
        return ThemeCentroids((), np.zeros((0, dim), dtype=np.float32), ())
    theme_ids = tuple(dict.fromkeys(flat_themes))
    position = {theme: slot for slot, theme in enumerate(theme_ids)}
    slots = np.fromiter(map(position.__getitem__, flat_themes), dtype=np.int64,
                        count=len(flat_themes))
    lengths = [len(themes) for themes in theme_ids_per_row]
    rows = np.repeat(np.arange(rows_count, dtype=np.int64), lengths)
    if max(lengths) > 1:
        # One sort by (theme, row) puts each theme's rows in one run and drops a theme a row
        # lists twice.
        sorted_slots, sorted_rows = np.divmod(np.unique(slots * rows_count + rows), rows_count)
    else:  # one theme a row at most (the usual case): no duplicates, a plain stable sort
        order = np.argsort(slots, kind="stable")
        sorted_slots, sorted_rows = slots[order], rows[order]
    bounds = np.flatnonzero(np.r_[True, sorted_slots[1:] != sorted_slots[:-1], True])
    # A gather and a sum per theme: ~5 ms at 10,000 complaints, against ~30 ms for
    # np.add.reduceat on the gathered rows and ~90 ms for np.add.at (measured, 8 and 200
    # themes alike).
    sums = np.stack([matrix[sorted_rows[start:end]].sum(axis=0, dtype=np.float32)
                     for start, end in itertools.pairwise(bounds.tolist())])
    sizes = np.diff(bounds)
    return ThemeCentroids(theme_ids, normalise_rows(sums), tuple(int(s) for s in sizes))


def suggest_themes(
    query_vec: np.ndarray,
    matrix: np.ndarray,
    theme_ids_per_row: Sequence[Collection[ThemeId]],
    k: int = 3,
    *,
    centroids: ThemeCentroids | None = None,
) -> list[ThemeSuggestion]:
    """The `k` themes whose complaints, taken together, are nearest `query_vec`, best first:
    the cosine of the query with each theme's centroid.

    Why centroids rather than a vote of the nearest complaints: averaging a theme's
    complaints averages away their particular wording and keeps what they share, which is
    what a differently-worded complaint has in common with them. Measured on the fixture
    (benchmarks/similarity.py --explore, 256 dimensions): top-3 theme hit rate 100% on the
    48 probes and 93.8% leaving each stored complaint out in turn, against 93.8% / 90.0% for
    a vote of the 10 nearest complaints and 97.9% / 92.5% for a vote of 20.

    Pass `centroids` (from `theme_centroids(matrix, theme_ids_per_row)`) to reuse them across
    refreshes; without, they are computed here (~7 ms at 10,000 complaints). A zero
    `query_vec` (a text with no known word) suggests nothing."""
    if centroids is None:
        centroids = theme_centroids(matrix, theme_ids_per_row)
    elif len(theme_ids_per_row) != matrix.shape[0]:
        raise ValueError(f"{len(theme_ids_per_row)} theme lists for {matrix.shape[0]} rows")
    indices, scores = rank(query_vec, centroids.matrix, k)
    if not scores.size or not scores.any():
        return []
    return [
        ThemeSuggestion(centroids.theme_ids[i], round(float(score), 6), centroids.sizes[i])
        for i, score in zip(indices.tolist(), scores.tolist(), strict=True)
    ]


def themes_from_neighbours(
    indices: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    theme_ids_per_row: Sequence[Iterable[ThemeId]],
    k: int = 3,
) -> list[ThemeSuggestion]:
    """Ranked themes from ranked neighbours, by a weighted vote: what the lexical fallback
    uses, since TF-IDF centroids of short texts would mostly match on the theme's commonest
    word. `complaints` is the number of neighbours that voted for the theme."""
    votes: dict[Hashable, float] = defaultdict(float)
    voters: Counter[Hashable] = Counter()
    for position, (row, score) in enumerate(zip(indices, scores, strict=True)):
        weight = _vote_weight(float(score), position)
        if weight <= 0:
            continue
        for theme in dict.fromkeys(theme_ids_per_row[int(row)]):
            votes[theme] += weight
            voters[theme] += 1
    ordered = sorted(votes.items(), key=lambda item: -item[1])
    return [ThemeSuggestion(theme, round(vote, 6), voters[theme]) for theme, vote in
            ordered[:k]]


def _vote_weight(score: float, position: int) -> float:
    """One neighbour's vote: its similarity, discounted by rank so that the nearest
    complaints weigh most (1/(1+position/4): the 5th counts half as much as the 1st) and a
    big theme cannot win on the number of its loosely similar rows alone. Neighbours with no
    similarity at all (a score <= 0: no shared word) do not vote."""
    if score <= 0:
        return 0.0
    return score / (1.0 + position / 4.0)


# --- words -----------------------------------------------------------------------------------
# Stop words of English, German, French and Spanish, folded like the text they are compared
# with (no accents, lowercase). Contractions split at the apostrophe ("won't" -> "won" "t"), so
# their first halves are here too. Single letters are dropped before this list is consulted.
_STOP_WORDS_TEXT = """
a about above after again against all almost also although always am an and another any
anyone anything are aren around as at away back be because been before being below between
both but by can cannot could couldn did didn do does doesn doing don done down during each
either else enough even ever every everyone everything few for from further get gets getting
got had hadn has hasn have haven having he her here hers herself him himself his how however
i if in into is isn it its itself just ll least less let like made make many may me might
mine more most much must mustn my myself neither never no nor not now of off often on once
one only or other others our ours ourselves out over own per quite rather re really same
shan she should shouldn since so some someone something still such than that the their
theirs them themselves then there these they this those though through thus to too under
until up upon us ve very was wasn we were weren what when where whether which while who whom
whose why will with within without won would wouldn yet you your yours yourself yourselves
im ive youre theyre thats theres dont cant wont didnt doesnt isnt wasnt

aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
anderes auch auf aus bei beim bin bis bist da dabei damit dann das dass dem den denn der des
dessen dich die dies diese diesem diesen dieser dieses dir doch dort du durch ein eine einem
einen einer eines er es etwas euch euer eure fur gegen gewesen hab habe haben hat hatte
hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer ihres im in ist ja jede
jedem jeden jeder jedes jetzt kann kein keine keinem keinen keiner man manche mehr mein meine
meinem meinen meiner mich mir mit muss musste nach nicht nichts noch nun nur ob oder ohne
schon sehr sein seine seinem seinen seiner sich sie sind so solche soll sollte sondern um
und uns unser unsere unter vom von vor war waren warum was weil weiter welche welchem
welchen welcher wenn wer werde werden wie wieder wir wird wo wurde wurden zu zum zur zwar
zwischen uber

ai au aux avec avait avez avons ce ceci cela celle celles celui ces cet cette chez comme dans
de des donc dont du elle elles en encore est et etaient etait ete etre eu eux fait ici il ils
je la le les leur leurs lui ma mais me meme mes moi mon ne ni nos notre nous on ont ou par
pas peu plus pour pourquoi qu quand que quel quelle quels qui sa sans se ses si son sont sous
sur ta te tes toi ton tous tout toute toutes tres tu un une vos votre vous deja apres avant
aussi alors bien car

al algo algunos ante antes como con contra cual cuando de del desde donde durante el ella
ellas ello ellos en entre era eran es esa esas ese eso esos esta estaba estaban estado estan
estar este esto estos estoy fue fueron ha habia han hasta hay la las le les lo los mas me mi
mis mucho muy nada ni no nos nosotros o otra otro para pero poco por porque que quien se sea
ser si sido sin sobre son su sus tambien te tengo tiene tienen todo todos tu tus un una unas
uno unos usted ustedes ya yo
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Endings too short or too common to strip safely ("bus", "this", "class" keep their "s").
_KEEP_S = ("ss", "us", "is", "ys", "as", "os")


def stem(word: str) -> str:
    """A light stem of a folded word: plurals and the commonest English verb endings, so
    "bookings", "booked" and "booking" meet, and "deliveries" meets "delivery". Deliberately
    crude (no dictionary): it only has to map the forms of one word onto one key, and it
    leaves short words alone so it rarely merges two different words."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(_KEEP_S):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        return _undouble(word[:-3])
    if word.endswith("ed") and len(word) > 4:
        return _undouble(word[:-2])
    return word


def _undouble(base: str) -> str:
    # "shipped" -> "shipp" -> "ship"; "called" keeps "call" (ll), "missed" keeps "miss".
    if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "lsz":
        return base[:-1]
    return base


def content_words(text: str) -> list[str]:
    """The folded words of `text` that carry meaning: no stop words, no single letters, no
    bare numbers shorter than 3 digits ("2-3 days"), in order, unstemmed."""
    return [
        word
        for word in folded_words(text)
        if len(word) > 1 and word not in STOP_WORDS and not (word.isdigit() and len(word) < 3)
    ]


def terms(text: str) -> list[str]:
    """The stemmed content words of `text`: what the lexical ranker compares."""
    return [stem(word) for word in content_words(text)]


# --- lexical fallback --------------------------------------------------------------------------
class LexicalIndex:
    """TF-IDF cosine ranking over stored texts, for when the embedding model cannot load.

    Sublinear term frequency (1 + log tf) and smoothed idf, as scikit-learn's
    TfidfVectorizer(sublinear_tf=True); rows are L2-normalised, so scores are cosines in
    [0, 1]. It only finds complaints sharing a word (after stemming) with the typed text:
    "grumpy" never finds "unfriendly". Measured on the fixture: see benchmarks/similarity.py.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        documents = [Counter(terms(text)) for text in texts]
        self._rows = len(documents)
        frequency: Counter[str] = Counter()
        for counts in documents:
            frequency.update(counts.keys())
        self._idf = {
            term: math.log((1 + self._rows) / (1 + df)) + 1.0 for term, df in frequency.items()
        }
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for row, counts in enumerate(documents):
            weights = {t: (1.0 + math.log(c)) * self._idf[t] for t, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for term, weight in weights.items():
                self._postings[term].append((row, weight / norm))

    def __len__(self) -> int:
        return self._rows

    def scores(self, text: str) -> np.ndarray:
        """The cosine of `text` with every stored row (0 where no word is shared)."""
        result = np.zeros(self._rows, dtype=np.float32)
        counts = Counter(t for t in terms(text) if t in self._idf)
        if not counts:
            return result
        weights = {t: (1.0 + math.log(c)) * self._idf[t] for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        for term, weight in weights.items():
            for row, stored in self._postings[term]:
                result[row] += weight / norm * stored
        return result

    def rank(self, text: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Like `rank`: the `k` best rows and their scores, best first, rows scoring 0 left
        out (they share no word with `text`)."""
        indices, scores = top_k(self.scores(text), k)
        keep = scores > 0
        return indices[keep], scores[keep]

    def suggest_themes(
        self,
        text: str,
        theme_ids_per_row: Sequence[Iterable[ThemeId]],
        k: int = 3,
        *,
        neighbours: int = DEFAULT_NEIGHBOURS,
    ) -> list[ThemeSuggestion]:
        """Like `suggest_themes`, on the word overlap of `text` with the stored rows."""
        if len(theme_ids_per_row) != self._rows:
            raise ValueError(f"{len(theme_ids_per_row)} theme lists for {self._rows} rows")
        indices, scores = self.rank(text, neighbours)
        return themes_from_neighbours(indices, scores, theme_ids_per_row, k)


# --- distinctive words -------------------------------------------------------------------------
def distinctive_words(
    texts_by_theme: Mapping[ThemeId, Sequence[str]], n: int = 10
) -> dict[ThemeId, list[str]]:
    """Per theme, up to `n` words that set its texts apart from the other themes' texts,
    most distinctive first, each shown in its commonest written form (folded: lowercase,
    no accents).

    A word is counted once per text (one long rant repeating a word is one voice) and scored
    by the z-score of its weighted log-odds ratio, theme against all other themes, with an
    informative Dirichlet prior from all texts (Monroe, Colaresi & Quinn 2008): a word
    frequent in every theme ("customer", "order") scores near 0, a word one text used once
    does not outrank one that ten texts share, and small themes are not drowned by big ones.
    Only words with a positive score (more frequent in the theme than elsewhere) are listed;
    with a single theme there is nothing to contrast, so its commonest words are listed.
    """
    per_theme: dict[ThemeId, Counter[str]] = {}
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    for theme, texts in texts_by_theme.items():
        counts: Counter[str] = Counter()
        for text in texts:
            seen: set[str] = set()
            for word in content_words(text):
                key = stem(word)
                surface[key][word] += 1
                if key not in seen:
                    seen.add(key)
                    counts[key] += 1
        per_theme[theme] = counts

    total: Counter[str] = Counter()
    for counts in per_theme.values():
        total.update(counts)
    all_count = sum(total.values())
    shown = {key: _commonest(forms) for key, forms in surface.items()}
    if not all_count:
        return {theme: [] for theme in per_theme}
    # The prior's total weight: the size of one average theme's vocabulary use, so it
    # smooths rare words without swamping the counts (Monroe et al. use the corpus' own
    # counts scaled; this keeps the scale independent of how many themes there are).
    prior_scale = max(1.0, all_count / max(1, len(per_theme)))
    alpha = {key: prior_scale * count / all_count for key, count in total.items()}
    alpha_sum = sum(alpha.values())

    result: dict[ThemeId, list[str]] = {}
    for theme, counts in per_theme.items():
        n_theme = sum(counts.values())
        n_rest = all_count - n_theme
        if n_rest == 0:
            commonest = sorted(counts.items(), key=lambda item: (-item[1], shown[item[0]]))
            result[theme] = [shown[key] for key, _ in commonest[:n]]
            continue
        scored: list[tuple[float, int, str]] = []
        for key, y_theme in counts.items():
            y_rest = total[key] - y_theme
            a = alpha[key]
            theme_log_odds = math.log((y_theme + a) / (n_theme + alpha_sum - y_theme - a))
            rest_log_odds = math.log((y_rest + a) / (n_rest + alpha_sum - y_rest - a))
            variance = 1.0 / (y_theme + a) + 1.0 / (y_rest + a)
            z = (theme_log_odds - rest_log_odds) / math.sqrt(variance)
            if z > 0:
                scored.append((z, y_theme, key))
        scored.sort(key=lambda item: (-item[0], -item[1], shown[item[2]]))
        result[theme] = [shown[key] for _, _, key in scored[:n]]
    return result


def _commonest(forms: Counter[str]) -> str:
    """The form of a stem users wrote most often (ties: the shortest, then alphabetical)."""
    return min(forms.items(), key=lambda item: (-item[1], len(item[0]), item[0]))[0]
