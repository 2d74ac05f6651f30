"""Raw search engines as yardsticks for the archive's own search.

A benchmark helper, not a test. It builds three plain engines over the SAME
turns and runs the SAME queries against each, so that the archive's search
can be reported as a ratio to them:

    RawWhoosh     Whoosh with its own QueryParser, searcher and highlighter
    RawFTS5       SQLite FTS5 (porter unicode61), snippet() for fragments
    RawTantivy    tantivy-py (en_stem), SnippetGenerator for fragments
    RawPostgres   PostgreSQL full-text search ('english'), a GIN index,
                  ts_rank_cd for order and ts_headline for fragments

"Raw" means each engine is used the plain way its documentation shows, with
none of the archive's machinery (segment arrays, budgets, facets, the
database). Every search does what a results page needs: the exact total
where the engine gives one, the ids of the top hits and a highlighted
fragment for each of them.

Absolute milliseconds on a shared two-core machine move from run to run;
the ratio between engines measured in the same run over the same turns and
queries moves much less, so the ratios are the firm numbers.

Queries are written in the archive's language (archive/search/query.py),
parsed by the archive's own parser and printed in each engine's syntax by
``translate()``; what an engine cannot express translates to None and is
skipped rather than approximated. Times include that translation (tens of
microseconds), as the archive's own times include parsing.

tantivy comes with the "bench" extra (.venv/bin/pip install -e '.[bench]').
Self-check, from the repository root (2,000 synthetic turns, a few seconds):

    .venv/bin/python bench/engines.py
"""

from __future__ import annotations

import importlib.util
import math
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import tantivy
from whoosh import fields, index, qparser
from whoosh.analysis import StemmingAnalyzer

ROOT = Path(__file__).resolve().parent.parent

__all__ = [
    "ENGINES",
    "Engine",
    "RawFTS5",
    "RawPostgres",
    "RawTantivy",
    "RawWhoosh",
    "Unsupported",
    "collect",
    "read_queries",
    "run",
    "summary",
    "synthetic_turns",
    "translate",
]

ENGINES = ("whoosh", "fts5", "tantivy", "postgres")
Turn = dict[str, Any]  # {"id": int, "text": str, "speaker": str, "date": YYYYMMDD}

# Date bounds for an open-ended range; the low one leaves out undated turns (0).
FIRST_DATE = 10101
LAST_DATE = 99991231


def _load_query_module():
    """archive/search/query.py, loaded from its file.

    ``import archive.search.query`` would first run archive/search/__init__.py,
    which imports the Django models and so needs Django set up. query.py itself
    uses only the standard library, so it is loaded on its own.
    """
    name = "_bench_archive_search_query"
    if name in sys.modules:
        return sys.modules[name]
    path = ROOT / "archive" / "search" / "query.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while loading
    spec.loader.exec_module(module)
    return module


Q = _load_query_module()


# Translation --------------------------------------------------------------------


class _Inexpressible(Exception):
    """Raised inside the printers when an engine cannot express a node."""


def translate(query: str, engine: str) -> str | None:
    """The closest native query for ``engine``, or None if it cannot express it.

    ``query`` is in the archive's language; ``engine`` is one of ENGINES.
    None also when nothing searchable is left of the query.
    """
    printers = {
        "whoosh": _whoosh,
        "fts5": _fts5,
        "tantivy": _tantivy,
        "postgres": _postgres,
    }
    if engine not in printers:
        raise ValueError(f"unknown engine {engine!r}; engines are {ENGINES}")
    tree = Q.parse_query(query).tree
    if tree is None:
        return None
    try:
        return printers[engine](tree)
    except _Inexpressible:
        return None


def _quote(text: str) -> str:
    """``text`` in double quotes, with the characters no engine escapes alike
    (double quote, backslash) turned into spaces; the analyzers treat them as
    spaces anyway."""
    words = text.replace('"', " ").replace("\\", " ").split()
    if not any(ch.isalnum() for ch in "".join(words)):
        raise _Inexpressible
    return '"' + " ".join(words) + '"'


def _prefix(node) -> str:
    """The lower-case letters of a Prefix; only letters and digits are safe
    bare (Whoosh) or inside a regular expression (tantivy)."""
    text = node.text.lower()
    if not text.isalnum():
        raise _Inexpressible
    return text


def _speaker(node) -> str:
    """The quoted speaker name of a Filter; the turns carry no other field."""
    if node.field != "speaker":
        raise _Inexpressible
    return _quote(node.value)


def _date_bounds(node) -> tuple[int, int]:
    """A DateRange as inclusive YYYYMMDD integers."""
    start, end = FIRST_DATE, LAST_DATE
    if node.start:
        parts = [int(part) for part in node.start.split("-")] + [1, 1]
        start = parts[0] * 10000 + parts[1] * 100 + parts[2]
    if node.end:
        parts = node.end.split("-")
        month = int(parts[1]) if len(parts) > 1 else 12
        day = int(parts[2]) if len(parts) > 2 else 31
        end = int(parts[0]) * 10000 + month * 100 + day
    return start, end


def _whoosh(node) -> str:
    """Whoosh QueryParser syntax; the default field is "text"."""
    if isinstance(node, Q.Word | Q.Phrase):
        return _quote(node.text)
    if isinstance(node, Q.Prefix):
        return _prefix(node) + "*"
    if isinstance(node, Q.Filter):
        return "speaker:" + _speaker(node)
    if isinstance(node, Q.DateRange):
        start, end = _date_bounds(node)
        return f"date:[{start} TO {end}]"
    if isinstance(node, Q.Not):
        return "NOT " + _whoosh(node.child)
    if isinstance(node, Q.And):
        return "(" + " AND ".join(_whoosh(child) for child in node.children) + ")"
    if isinstance(node, Q.Or):
        return "(" + " OR ".join(_whoosh(child) for child in node.children) + ")"
    raise _Inexpressible


def _fts5(node) -> str:
    """SQLite FTS5 MATCH syntax; words are searched in the text column only.

    FTS5's NOT is binary ("a NOT b") and it has no "every row", so a negation
    needs something positive beside it in the same AND; dates are not indexed.
    """
    if isinstance(node, Q.Word | Q.Phrase):
        return "text : " + _quote(node.text)
    if isinstance(node, Q.Prefix):
        return "text : " + _quote(_prefix(node)) + "*"
    if isinstance(node, Q.Filter):
        return "speaker : " + _speaker(node)
    if isinstance(node, Q.And):
        positives = [_fts5(c) for c in node.children if not isinstance(c, Q.Not)]
        negatives = [_fts5(c.child) for c in node.children if isinstance(c, Q.Not)]
        if not positives:
            raise _Inexpressible
        text = "(" + " AND ".join(positives) + ")"
        if negatives:
            text = "(" + text + " NOT (" + " OR ".join(negatives) + "))"
        return text
    if isinstance(node, Q.Or):
        return "(" + " OR ".join(_fts5(child) for child in node.children) + ")"
    # A DateRange, or a Not with nothing positive beside it.
    raise _Inexpressible


def _tantivy(node) -> str:
    """tantivy query-parser syntax; the default field is "text".

    "+x -y" in one group is "x and not y". A group of only "-y" matches
    nothing in tantivy, so a negation on its own is written "(* -y)": every
    document but y. tantivy's parser has no prefix for a single word, so a
    prefix is a regular expression on the text field (parse with
    allow_regexes=True).
    """
    if isinstance(node, Q.Word | Q.Phrase):
        return _quote(node.text)
    if isinstance(node, Q.Prefix):
        return "text:/" + _prefix(node) + ".*/"
    if isinstance(node, Q.Filter):
        return "speaker:" + _speaker(node)
    if isinstance(node, Q.DateRange):
        start, end = _date_bounds(node)
        return f"date:[{start} TO {end}]"
    if isinstance(node, Q.Not):
        return "(* -" + _tantivy(node.child) + ")"
    if isinstance(node, Q.And):
        parts = []
        for child in node.children:
            if isinstance(child, Q.Not):
                parts.append("-" + _tantivy(child.child))
            else:
                parts.append("+" + _tantivy(child))
        if not any(part.startswith("+") for part in parts):
            parts.insert(0, "*")
        return "(" + " ".join(parts) + ")"
    if isinstance(node, Q.Or):
        return "(" + " OR ".join(_tantivy(child) for child in node.children) + ")"
    raise _Inexpressible


def _lexemes(text: str) -> list[str]:
    """The words of ``text`` as quoted ``to_tsquery`` operands (the
    'english' configuration then stems them)."""
    words = ["".join(ch for ch in word if ch.isalnum()) for word in text.split()]
    words = [word for word in words if word]
    if not words:
        raise _Inexpressible
    return [f"'{word.lower()}'" for word in words]


def _postgres(node) -> str:
    """``to_tsquery`` syntax. Speaker names are indexed with weight A beside
    the text (weight D), so a speaker filter is its words restricted to A;
    dates are not indexed."""
    if isinstance(node, Q.Word | Q.Phrase):
        return "(" + " <-> ".join(_lexemes(node.text)) + ")"
    if isinstance(node, Q.Prefix):
        return _prefix(node) + ":*"
    if isinstance(node, Q.Filter):
        if node.field != "speaker":
            raise _Inexpressible
        return "(" + " <-> ".join(f"{w}:A" for w in _lexemes(node.value)) + ")"
    if isinstance(node, Q.Not):
        return "!" + _postgres(node.child)
    if isinstance(node, Q.And):
        return "(" + " & ".join(_postgres(child) for child in node.children) + ")"
    if isinstance(node, Q.Or):
        return "(" + " | ".join(_postgres(child) for child in node.children) + ")"
    raise _Inexpressible


# Engines ------------------------------------------------------------------------


class Engine(Protocol):
    name: str

    def build(self, turns: Iterable[Turn]) -> float: ...

    def search(
        self, query_text: str, limit: int = 10
    ) -> tuple[int | None, list[int]]: ...

    def close(self) -> None: ...


class Unsupported(ValueError):
    """The engine cannot express this query (``translate()`` gave None)."""


def _native(query_text: str, engine: str) -> str:
    native = translate(query_text, engine)
    if native is None:
        raise Unsupported(f"{engine} cannot express {query_text!r}")
    return native


class RawWhoosh:
    """Whoosh as its documentation shows it: one writer, QueryParser, highlights."""

    name = "whoosh"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.index = None
        self.searcher = None
        self.parser = None

    def build(self, turns: Iterable[Turn]) -> float:
        """Index ``turns`` into a new index; returns the seconds taken."""
        schema = fields.Schema(
            id=fields.NUMERIC(int, bits=64, stored=True),
            text=fields.TEXT(
                analyzer=StemmingAnalyzer(), stored=True, phrase=True, chars=True
            ),
            speaker=fields.TEXT(),
            date=fields.NUMERIC(int, bits=32),
        )
        self.close()
        start = time.perf_counter()
        self.directory.mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(self.directory), schema)
        # Whoosh's documented way to index in bulk: one process per core,
        # each writing its own segment (tantivy also gets every core).
        cores = os.cpu_count() or 1
        writer = (
            ix.writer(procs=cores, limitmb=512, multisegment=True)
            if cores > 1
            else ix.writer(limitmb=512)
        )
        for turn in turns:
            writer.add_document(
                id=turn["id"],
                text=turn["text"],
                speaker=turn["speaker"],
                date=turn["date"],
            )
        writer.commit()
        seconds = time.perf_counter() - start
        self.open()
        return seconds

    def open(self) -> None:
        """Open an index built earlier."""
        self.index = index.open_dir(str(self.directory))
        self.searcher = self.index.searcher()
        self.parser = qparser.QueryParser("text", self.index.schema)

    def search(self, query_text: str, limit: int = 10) -> tuple[int | None, list[int]]:
        """(exact total, ids of the top ``limit`` hits), with their highlights."""
        query = self.parser.parse(_native(query_text, self.name))
        results = self.searcher.search(query, limit=limit)
        ids = []
        for hit in results:
            ids.append(hit["id"])
            hit.highlights("text")
        # len() is Whoosh's exact count: when the top-N pass skipped blocks it
        # runs the query again, as a results page showing a total would. (It
        # undercounts an OR with a negated branch, "a OR -b": the collector
        # drops the branch that cannot reach the top hits yet calls its count
        # exact. No query in bench/queries.txt has one.)
        return len(results), ids

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
        if self.index is not None:
            self.index.close()
        self.index = self.searcher = self.parser = None


class RawFTS5:
    """SQLite FTS5 as its documentation shows it: MATCH, rank, snippet()."""

    name = "fts5"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = None

    def build(self, turns: Iterable[Turn]) -> float:
        """Index ``turns`` into a new database file; returns the seconds taken."""
        self.close()
        self.path.unlink(missing_ok=True)
        start = time.perf_counter()
        db = sqlite3.connect(self.path)
        db.execute(
            "CREATE VIRTUAL TABLE turns "
            "USING fts5(text, speaker, tokenize='porter unicode61')"
        )
        with db:
            db.executemany(
                "INSERT INTO turns (rowid, text, speaker) VALUES (?, ?, ?)",
                ((turn["id"], turn["text"], turn["speaker"]) for turn in turns),
            )
        with db:
            db.execute("INSERT INTO turns (turns) VALUES ('optimize')")
        db.close()
        seconds = time.perf_counter() - start
        self.open()
        return seconds

    def open(self) -> None:
        """Open a database built earlier."""
        self.db = sqlite3.connect(self.path)

    def search(self, query_text: str, limit: int = 10) -> tuple[int | None, list[int]]:
        """(exact total, ids of the top ``limit`` hits), with their snippets."""
        native = _native(query_text, self.name)
        total = self.db.execute(
            "SELECT count(*) FROM turns WHERE turns MATCH ?", (native,)
        ).fetchone()[0]
        rows = self.db.execute(
            "SELECT rowid, snippet(turns, 0, '<b>', '</b>', '…', 24) FROM turns "
            "WHERE turns MATCH ? ORDER BY rank LIMIT ?",
            (native, limit),
        ).fetchall()
        return total, [rowid for rowid, _snippet in rows]

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
        self.db = None


class RawTantivy:
    """tantivy-py as its documentation shows it: parse_query, SnippetGenerator."""

    name = "tantivy"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.index = None
        self.schema = None

    def build(self, turns: Iterable[Turn]) -> float:
        """Index ``turns`` into a new index; returns the seconds taken."""
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("id", stored=True)
        builder.add_text_field("text", stored=True, tokenizer_name="en_stem")
        builder.add_text_field("speaker")
        builder.add_integer_field("date", indexed=True)
        self.close()
        self.schema = builder.build()
        if self.directory.exists():
            shutil.rmtree(self.directory)
        start = time.perf_counter()
        self.directory.mkdir(parents=True)
        self.index = tantivy.Index(self.schema, path=str(self.directory))
        writer = self.index.writer(heap_size=512_000_000)
        for turn in turns:
            writer.add_document(
                tantivy.Document(
                    id=turn["id"],
                    text=turn["text"],
                    speaker=turn["speaker"],
                    date=turn["date"],
                )
            )
        writer.commit()
        writer.wait_merging_threads()
        seconds = time.perf_counter() - start
        self.index.reload()
        return seconds

    def open(self) -> None:
        """Open an index built earlier."""
        self.index = tantivy.Index.open(str(self.directory))
        self.schema = self.index.schema

    def search(self, query_text: str, limit: int = 10) -> tuple[int | None, list[int]]:
        """(exact total, ids of the top ``limit`` hits), with their snippets.

        A prefix is a regex query, which SnippetGenerator does not highlight:
        its fragments come back without marks, but are still made.
        """
        query = self.index.parse_query(
            _native(query_text, self.name), ["text"], allow_regexes=True
        )
        searcher = self.index.searcher()
        result = searcher.search(query, limit, count=True)
        snippets = tantivy.SnippetGenerator.create(searcher, query, self.schema, "text")
        ids = []
        for _score, address in result.hits:
            doc = searcher.doc(address)
            ids.append(doc["id"][0])
            snippets.snippet_from_doc(doc).to_html()
        return result.count, ids

    def close(self) -> None:
        self.index = None  # tantivy-py has no close(); dropping the index is one


# Timing -------------------------------------------------------------------------


class RawPostgres:
    """PostgreSQL full-text search as its documentation shows it: a
    ``tsvector`` column with a GIN index, ``@@``, ``ts_rank_cd`` and
    ``ts_headline``. ``url`` names a database and ``table`` the engine's
    table in it (``build`` drops and recreates it), so that several indexes,
    one per archive size, can live side by side."""

    name = "postgres"

    def __init__(self, url: str, table: str = "bench_raw_turns") -> None:
        self.url = url
        self.table = table
        self.db = None

    def build(self, turns: Iterable[Turn]) -> float:
        """Index ``turns`` into a new table; returns the seconds taken."""
        import psycopg

        self.close()
        start = time.perf_counter()
        with psycopg.connect(self.url, autocommit=True) as db:
            db.execute(f"DROP TABLE IF EXISTS {self.table}")
            db.execute(
                f"CREATE TABLE {self.table} (id bigint PRIMARY KEY, text text, "
                "speaker text, date integer, tsv tsvector)"
            )
            with db.cursor().copy(
                f"COPY {self.table} (id, text, speaker, date) FROM STDIN"
            ) as copy:
                for turn in turns:
                    copy.write_row(
                        (turn["id"], turn["text"], turn["speaker"], turn["date"])
                    )
            db.execute(
                f"UPDATE {self.table} SET tsv = setweight(to_tsvector('english', "
                "speaker), 'A') || to_tsvector('english', text)"
            )
            db.execute(f"CREATE INDEX ON {self.table} USING gin (tsv)")
            db.execute(f"VACUUM ANALYZE {self.table}")
        seconds = time.perf_counter() - start
        self.open()
        return seconds

    def open(self) -> None:
        """Connect to a table built earlier."""
        import psycopg

        self.db = psycopg.connect(self.url, autocommit=True)

    def search(self, query_text: str, limit: int = 10) -> tuple[int | None, list[int]]:
        """(exact total, ids of the top ``limit`` hits), with their fragments."""
        native = _native(query_text, self.name)
        query = "to_tsquery('english', %s)"
        total = self.db.execute(
            f"SELECT count(*) FROM {self.table} WHERE tsv @@ {query}", (native,)
        ).fetchone()[0]
        rows = self.db.execute(
            f"SELECT id, ts_headline('english', text, {query}, "
            "'MaxFragments=1, MinWords=8, MaxWords=24') FROM ("
            f"SELECT id, text FROM {self.table} WHERE tsv @@ {query} "
            f"ORDER BY ts_rank_cd(tsv, {query}) DESC LIMIT %s) AS top",
            (native, native, native, limit),
        ).fetchall()
        return total, [row[0] for row in rows]

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
        self.db = None


def postgres_url() -> str | None:
    """A database for RawPostgres (``BENCH_POSTGRES_URL``, else the local
    server's ``archive_bench_raw``, created when missing), or None when no
    PostgreSQL answers."""
    try:
        import psycopg
    except ImportError:
        return None
    url = os.environ.get("BENCH_POSTGRES_URL")
    if url:
        return url
    server = "postgres://postgres@127.0.0.1:5432"
    try:
        with psycopg.connect(
            f"{server}/postgres", autocommit=True, connect_timeout=3
        ) as db:
            exists = db.execute(
                "SELECT 1 FROM pg_database WHERE datname = 'archive_bench_raw'"
            ).fetchone()
            if not exists:
                db.execute("CREATE DATABASE archive_bench_raw")
    except psycopg.OperationalError:
        return None
    return f"{server}/archive_bench_raw"


def read_queries(path: str | Path) -> list[str]:
    """The queries of a bench/queries.txt file: one a line, "#" lines skipped."""
    queries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            queries.append(line)
    return queries


def run(
    engines: Iterable[Engine], queries: Sequence[str], repeat: int = 1
) -> dict[str, dict[str, dict[str, Any]]]:
    """Time every query on every engine, ``repeat`` times.

    Returns {engine name: {query: {"native": str | None, "ms": [float, ...],
    "total": int | None}}}. "ms" holds one time per pass: the first pass over
    all the queries is the cold one, later passes are warm. A query the engine
    cannot express has native None, no times and total None.
    """
    report: dict[str, dict[str, dict[str, Any]]] = {}
    for engine in engines:
        per_query: dict[str, dict[str, Any]] = {}
        for query in queries:
            native = translate(query, engine.name)
            per_query[query] = {"native": native, "ms": [], "total": None}
        for _ in range(repeat):
            for query in queries:
                entry = per_query[query]
                if entry["native"] is None:
                    continue
                start = time.perf_counter()
                total, _ids = engine.search(query)
                entry["ms"].append((time.perf_counter() - start) * 1000)
                entry["total"] = total
        report[engine.name] = per_query
    return report


def collect(per_query: dict[str, dict[str, Any]], which: str) -> list[float]:
    """The "cold" (first pass) or "warm" (later passes) times of one engine."""
    if which == "cold":
        return [entry["ms"][0] for entry in per_query.values() if entry["ms"]]
    if which == "warm":
        return [ms for entry in per_query.values() for ms in entry["ms"][1:]]
    raise ValueError(f'which must be "cold" or "warm", not {which!r}')


def summary(times: Iterable[float]) -> dict[str, float | None]:
    """Count, p50, p95, p99 and max of ``times`` (nearest-rank percentiles).

    The percentiles are None when there are no times.
    """
    ordered = sorted(times)
    result: dict[str, float | None] = {"n": len(ordered)}
    for name, percent in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100)):
        if not ordered:
            result[name] = None
            continue
        rank = max(1, math.ceil(percent / 100 * len(ordered)))
        result[name] = ordered[rank - 1]
    return result


# Self-check ---------------------------------------------------------------------

# The common words of the synthetic turns, beside the words of the queries.
FILLER_TEXT = (
    "the a of and to in that is it we they was for on with as have be at this "
    "but not what about there people think really going know just so very "
    "government policy state attack network system data company law question "
    "answer interview international agreement public private sector problem "
    "users software computer security risk threat years world said right"
)
FILLER = FILLER_TEXT.split()
SPEAKERS = ("Leo Laporte", "Steve Gibson", "Tim Maurer", "Jason Healey", "Amy Webb")
# Queries outside bench/queries.txt that use the rest of the language.
LANGUAGE_CHECKS = (
    'speaker:"Leo Laporte" certificate',
    "speaker:maurer -security",
    "year:2015 ransomware",
    "date:..2012 vpn",
    "cert* OR encrypt*",
    "-the",
    "vpn OR -tor",
    "role:guest vpn",
)


def synthetic_turns(count: int, queries: Sequence[str], seed: int = 1) -> list[Turn]:
    """``count`` turns of deterministic prose over a small vocabulary.

    Most words are filler; one in ten is a word of ``queries``, and one turn in
    ten also holds a whole query, so that the phrases match somewhere.
    """
    rng = random.Random(seed)
    query_words = sorted(
        {word.strip('"').lower() for query in queries for word in query.split()}
    )
    phrases = [query.replace('"', "") for query in queries]
    turns = []
    for number in range(1, count + 1):
        words = [
            rng.choice(query_words if rng.random() < 0.1 else FILLER)
            for _ in range(rng.randint(10, 80))
        ]
        if rng.random() < 0.1:
            words.insert(rng.randrange(len(words) + 1), rng.choice(phrases))
        text = " ".join(words).capitalize() + "."
        if rng.random() < 0.1:
            date = 0
        else:
            date = rng.randint(2008, 2024) * 10000 + rng.randint(1, 12) * 100 + 1
        turns.append(
            {"id": number, "text": text, "speaker": rng.choice(SPEAKERS), "date": date}
        )
    return turns


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> None:
    queries = read_queries(ROOT / "bench" / "queries.txt")
    turns = synthetic_turns(2000, queries)
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        engines = [
            RawWhoosh(Path(tmp) / "whoosh"),
            RawFTS5(Path(tmp) / "fts5.sqlite3"),
            RawTantivy(Path(tmp) / "tantivy"),
        ]
        if url := postgres_url():
            engines.append(RawPostgres(url))
        builds = {engine.name: engine.build(turns) for engine in engines}
        report = run(engines, queries, repeat=3)
        checks = run(engines, LANGUAGE_CHECKS, repeat=1)
        for engine in engines:
            engine.close()

    names = [engine.name for engine in engines]
    print(f"{len(turns)} synthetic turns, {len(queries)} queries, 3 passes\n")
    print("Totals per query (- = cannot express):")
    print(f"  {'query':34}" + "".join(f"{name:>9}" for name in names))
    for query in [*queries, *LANGUAGE_CHECKS]:
        source = report if query in queries else checks
        totals = [source[name][query]["total"] for name in names]
        print(
            f"  {query:34}" + "".join(f"{'-' if t is None else t:>9}" for t in totals)
        )

    print("\nMilliseconds per search (nearest-rank percentiles):")
    header = ("engine", "build s", "cold p50", "cold p95", "cold max", "warm p50")
    header += ("warm p95", "warm p99", "warm max", "skipped")
    print("  " + "".join(f"{column:>10}" for column in header))
    for name in names:
        cold = summary(collect(report[name], "cold"))
        warm = summary(collect(report[name], "warm"))
        skipped = sum(1 for entry in report[name].values() if entry["native"] is None)
        row = [name, f"{builds[name]:.2f}"]
        row += [_ms(cold[key]) for key in ("p50", "p95", "max")]
        row += [_ms(warm[key]) for key in ("p50", "p95", "p99", "max")]
        row.append(str(skipped))
        print("  " + "".join(f"{cell:>10}" for cell in row))

    print("\nTranslations of the language checks:")
    for query in LANGUAGE_CHECKS:
        print(f"  {query}")
        for name in names:
            print(f"    {name:8} {translate(query, name)}")


if __name__ == "__main__":
    main()
