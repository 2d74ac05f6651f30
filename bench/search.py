"""How fast search is: the search page and the API on a synthetic archive.

A benchmark, not a test: it prints figures and asserts nothing about time.

    .venv/bin/python bench/search.py --turns 40000      # quick (make bench)
    .venv/bin/python bench/search.py                    # 255,000 turns, ~25 min
    .venv/bin/python bench/search.py --keep /tmp/s255   # build once, then reuse

The archive is built by ``bench/pages.py``'s builder (same interviews,
speakers, series, topics and dates) with richer prose: policy vocabulary at
realistic frequencies, so that a query matches the share of turns it would in
a real archive ("security" a quarter of them, "treaty" a few in a hundred,
"Stuxnet" a few in ten thousand). The index is built with
``archive.search.queue.rebuild()``, as ``manage.py rebuild_index`` does.

Everything happens in a temporary data directory, deleted at the end, unless
``--keep DIR`` names one: the first run builds there and leaves it; a later
run with the same ``--keep`` (and ``--turns``, ``--seed``) reuses the
database and index and goes straight to timing. Each run saves one turn and
commits it to the index (to time the first search after a commit), so a kept
index gains a small segment per run.

Requests go in-process through ``django.test.Client`` with DEBUG off; the
times include routing, middleware, the search, the queries and rendering,
but not a WSGI server or the network. After timing, each search runs again
with its phases timed (parse, compile, collecting matches, facets, the page
of hits, SQL, rendering) by wrapping those functions for that pass only.
"""

import argparse
import contextlib
import functools
import gc
import itertools
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages  # bench/pages.py: the archive builder and the report helpers

ROOT = pages.ROOT
MARKER = "bench-search.json"
# bench/pages.py's builder: 200 ordinary interviews of 20 to 300 turns at
# scale 1, plus three fixed ones of these sizes.
TURNS_PER_INTERVIEW = 160
FIXED_TURNS = pages.LONG_TURNS + pages.HUGE_TURNS + pages.SHORT_TURNS


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--turns",
        type=int,
        default=255_000,
        help="about this many turns in the archive (default 255000; "
        "40000 is a quick run)",
    )
    parser.add_argument(
        "--repeat", type=int, default=20, help="timed requests per URL (default 20)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        type=Path,
        help="build the archive and index in DIR and leave them there; "
        "a later run with the same DIR reuses them",
    )
    args = parser.parse_args(argv)
    if args.turns < FIXED_TURNS + 1000 or args.repeat < 1:
        parser.error(f"--turns must be at least {FIXED_TURNS + 1000}, --repeat >= 1")
    return args


def configure(data_dir: Path) -> None:
    """Point the settings at ``data_dir``, then set Django up (before any
    import of ``archive.settings``, which reads the environment)."""
    os.environ["ARCHIVE_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "archive.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))

    import django
    from django.conf import settings

    django.setup()
    settings.STATIC_ROOT = data_dir / "static"


# Prose with policy vocabulary -----------------------------------------------
#
# A sentence is an opener, a subject, a verb, an object and a tail. Objects
# come in three tiers (common, middling, rare) so that words land at the
# frequencies of real interviews; subjects carry the acronyms and countries.

SUBJECTS = [
    "states",
    "governments",
    "the U.S. government",
    "the United States",
    "Washington",
    "China",
    "Beijing",
    "Russia",
    "the European Union",
    "the UN Group of Governmental Experts",
    "NATO allies",
    "Congress",
    "private companies",
    "technology firms",
    "critical infrastructure operators",
    "non-state actors",
    "intelligence agencies",
    "law enforcement",
    "regional organisations",
    "smaller countries",
    "network operators",
    "civil society groups",
    "the United States and China",
    "military cyber commands",
    "foreign ministries",
    "India",
    "Japan",
    "cloud providers",
    "researchers",
    "diplomats",
]
OCCASIONAL_SUBJECTS = [
    "the NSA",
    "GCHQ",
    "the GGE",
    "the G-20",
    "the State Department",
    "the Pentagon",
    "U.S. Cyber Command",
    "the People's Liberation Army",
    "national security officials",
    "the security services",
    "Israel",
    "Iran",
    "North Korea",
    "Estonia",
    "the OSCE",
    "ASEAN members",
    "the African Union",
    "telecom carriers",
    "Brussels",
    "Moscow",
]
VERBS = [
    *pages.VERBS,
    "pushed hard for",
    "are deeply sceptical of",
    "have been negotiating over",
    "publicly endorsed",
    "privately worry about",
    "took a hard line on",
    "misread",
    "found common ground on",
]
COMMON_OBJECTS = [
    "norms of responsible state behaviour",
    "the attribution of cyber operations",
    "confidence-building measures",
    "the protection of election infrastructure",
    "national security",
    "cyber security",
    "cybersecurity standards",
    "the security of the software supply chain",
    "critical infrastructure protection",
    "the stability of cyberspace",
    "the laws of armed conflict in cyberspace",
    "data localisation rules",
    "the theft of intellectual property",
    "vulnerability disclosure",
    "ransomware against hospitals",
    "cyber deterrence",
    "information sharing with industry",
    "the future of the internet",
    "offensive cyber capabilities",
    "the integrity of financial data",
    "privacy and data protection",
    "cross-border data flows",
    "internet governance",
    "incident response",
    "cyber norms",
    "the role of the private sector",
    "state-sponsored hacking",
    "disinformation campaigns",
    "the defence of allied networks",
    "technology export controls",
]
MIDDLING_OBJECTS = [
    "a binding treaty",
    "treaty negotiations at the UN",
    "internet sovereignty",
    "sovereignty over the internet",
    "cyber sovereignty",
    "economic espionage",
    "cyber espionage",
    "espionage against defence contractors",
    "end-to-end encryption",
    "encryption backdoors",
    "lawful access to encrypted data",
    "the Budapest Convention on Cybercrime",
    "a new convention on cybercrime",
    "the 2015 U.S.-China agreement",
    "the Snowden disclosures",
    "Edward Snowden's revelations",
    "the OPM breach",
    "the Tallinn Manual",
    "the Wassenaar Arrangement",
    "the G-20 statement on cyber theft",
    "the Strategic and Economic Dialogue (S&ED)",
    "zero-day vulnerabilities",
    "facial recognition exports",
    "5G equipment from Huawei and ZTE",
    "submarine cables",
    "satellite communications",
    "the NotPetya attack",
    "election interference in 2016",
    "Xi Jinping's visit to Washington",
    "the Christchurch Call",
]
RARE_OBJECTS = [
    "Stuxnet",
    "the WannaCry outbreak",
    "the SolarWinds compromise",
    "the Sony Pictures hack",
    "Operation Aurora",
    "the Shadow Brokers leak",
    "the Paris Call for Trust and Security in Cyberspace",
    "the Ottawa Convention as a model",
    "the Vienna Document",
    "the Clipper Chip debate",
    "Resolution 1373",
    "the CLOUD Act",
    "the Mirai botnet",
    "the Equifax breach",
    "the Colonial Pipeline shutdown",
    "quantum-resistant cryptography",
    "Article 51 of the UN Charter",
    "the Bletchley Declaration",
    "Tomahawk-era arms control",
    "the Hague Convention",
]
TAILS = [
    "",
    "",
    "",
    "",
    " in peacetime",
    " before the next crisis",
    ", and that is the hard part",
    " under international law",
    " after the 2015 agreement",
    " in practice rather than on paper",
    " at the working level",
    ", whatever the communiqués say",
    " since the Obama administration",
    " in the run-up to the summit",
    " for at least a decade",
    " without much public debate",
    ", to be honest",
    " on both sides of the Atlantic",
]
OPENERS = [
    "",
    "",
    "",
    "",
    "I think ",
    "Frankly, ",
    "Look, ",
    "What we saw in 2015 was that ",
    "The point I would make is that ",
    "In my experience ",
    "It is fair to say that ",
    "Historically, ",
    "Give us a sense: ",
    "From where I sit, ",
    "As my colleagues at the Atlantic Council put it, ",
    "After the summit in Osaka, ",
]


def _long_tail(count: int) -> list[str]:
    """Made-up place names, for a term dictionary the size of a real one's."""
    rng = random.Random(7)
    syllables = ["ka", "lo", "mi", "ter", "sun", "vel", "dor", "an", "bri"]
    syllables += ["gal", "hov", "ist", "nar", "pel", "qua", "ros", "tib"]
    names = set()
    while len(names) < count:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        names.add(word.capitalize())
    return sorted(names)


PLACES = _long_tail(4000)
# Zipf-like: a few places come up often, most of them once or twice.
PLACE_WEIGHTS = list(itertools.accumulate(1 / (i + 1) for i in range(len(PLACES))))


def sentence(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.004:
        obj = rng.choice(RARE_OBJECTS)
    elif roll < 0.08:
        obj = rng.choice(MIDDLING_OBJECTS)
    else:
        obj = rng.choice(COMMON_OBJECTS)
    subject = rng.choice(OCCASIONAL_SUBJECTS if rng.random() < 0.12 else SUBJECTS)
    text = (
        f"{rng.choice(OPENERS)}{subject} {rng.choice(VERBS)} {obj}{rng.choice(TAILS)}."
    )
    if rng.random() < 0.05:
        first, last = rng.choice(pages.FIRST_NAMES), rng.choice(pages.LAST_NAMES)
        place = rng.choices(PLACES, cum_weights=PLACE_WEIGHTS)[0]
        text += (
            f" {first} {last} said as much at the {place} meeting "
            f"in {rng.randint(1995, 2025)}."
        )
    return text[0].upper() + text[1:]


def prose():
    """bench/pages.py's builder, with this module's vocabulary in its prose."""
    return mock.patch.multiple(
        pages,
        sentence=sentence,
        SUBJECTS=SUBJECTS,
        OBJECTS=COMMON_OBJECTS + MIDDLING_OBJECTS,
    )


# Building -------------------------------------------------------------------


def build(args: argparse.Namespace, data_dir: Path) -> dict:
    """The archive (bench/pages.py's builder) and its index, with timings."""
    from archive.models import Turn
    from archive.search import queue

    pages.create_database(argparse.Namespace(database_url=""))
    scale = (args.turns - FIXED_TURNS) / (200 * TURNS_PER_INTERVIEW)
    builder = argparse.Namespace(interviews=200, scale=scale, seed=args.seed)
    progress(f"Building the archive (about {args.turns:,} turns)…")
    start = time.perf_counter()
    with prose():
        pages.build_archive(builder)
    database_seconds = time.perf_counter() - start

    progress("Building the index (archive.search.queue.rebuild)…")
    shown, last = [0.0], [0.0]

    def report_progress(done: int, total: int) -> None:
        # Called after each interview's documents: the last call marks the
        # end of adding documents and the start of the final commit.
        last[0] = time.perf_counter()
        if last[0] - shown[0] > 30:
            shown[0] = last[0]
            progress(f"  {done:,} of {total:,} turns")

    start = time.perf_counter()
    queue.rebuild(progress=report_progress)
    end = time.perf_counter()
    built = {
        "turns": args.turns,
        "seed": args.seed,
        "database_seconds": database_seconds,
        "index_seconds": end - start,
        "commit_seconds": end - last[0],
        "indexed_turns": Turn.objects.published().count(),
    }
    (data_dir / MARKER).write_text(json.dumps(built, indent=2) + "\n")
    return built


def reuse(args: argparse.Namespace, data_dir: Path) -> dict | None:
    """The facts of a finished build in ``data_dir``, if it matches ``args``."""
    marker = data_dir / MARKER
    if not marker.exists():
        if any(data_dir.iterdir()):
            raise SystemExit(
                f"{data_dir} is not empty and holds no finished benchmark build; "
                "delete it or name another directory."
            )
        return None
    built = json.loads(marker.read_text())
    if (built["turns"], built["seed"]) != (args.turns, args.seed):
        raise SystemExit(
            f"{data_dir} holds a build with --turns {built['turns']} "
            f"--seed {built['seed']}; delete it or name another directory."
        )
    return built


# The searches ---------------------------------------------------------------


def searches() -> list[tuple[str, dict]]:
    """(what it is, query parameters) for each timed search."""
    from django.db.models import Count, Q

    from archive.models import Speaker

    busy = (
        Speaker.objects.annotate(
            n=Count("turns", filter=Q(turns__interview__published=True))
        )
        .order_by("-n", "name")
        .first()
    )
    return [
        ("very common word", {"q": "security"}),
        ("common word, sorted newest first", {"q": "security", "sort": "newest"}),
        ("common word, page 5", {"q": "security", "page": 5}),
        ("middling word", {"q": "sovereignty"}),
        ("middling word", {"q": "treaty"}),
        ("middling word", {"q": "espionage"}),
        ("middling word", {"q": "encryption"}),
        ("rare word", {"q": "Stuxnet"}),
        ("two common words (AND)", {"q": "security norms"}),
        ("compound: cybersecurity or both", {"q": "cyber security"}),
        ("acronym and name", {"q": "NSA Snowden"}),
        ("phrase", {"q": '"critical infrastructure"'}),
        ("OR", {"q": "treaty OR convention"}),
        ("NOT", {"q": "security -election"}),
        ("prefix", {"q": "cyber*"}),
        ("busiest speaker's filter", {"q": f"speaker:{busy.slug} treaty"}),
        ("date range", {"q": "espionage date:2013..2015"}),
        ("misspelt: suggests a spelling", {"q": "sovreignty"}),
        ("no results", {"q": "blockchain"}),
    ]


def search_urls(params: dict) -> list[tuple[str, str]]:
    query = urlencode(params)
    return [("page", f"/search/?{query}"), ("API", f"/api/search?{query}")]


def label(params: dict) -> str:
    extras = [f"{k}={v}" for k, v in params.items() if k != "q"]
    return params["q"] + (f"  ({', '.join(extras)})" if extras else "")


# A URL slower than this many seconds in all stops after MIN_REPEAT requests,
# so that a full run stays within minutes when some searches take seconds.
URL_BUDGET = 10.0
MIN_REPEAT = 5


def time_searches(client, repeat: int) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = []
    for what, params in searches():
        for kind, url in search_urls(params):
            # The warm-up request also counts the queries.
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            # Read now: the next request's request_started signal empties the log.
            query_count = len(queries.captured_queries)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            if kind == "API":
                answer = response.json()
            times = []
            while len(times) < repeat and (
                len(times) < MIN_REPEAT or sum(times) < URL_BUDGET
            ):
                start = time.perf_counter()
                client.get(url)
                times.append(time.perf_counter() - start)
            rows.append(
                {
                    "what": what,
                    "params": params,
                    "kind": kind,
                    "url": url,
                    "times": times,
                    "queries": query_count,
                    "size": len(response.content),
                }
            )
        for row in rows[-2:]:
            row["total"], row["suggestion"] = answer["total"], answer["suggestion"]
    return rows


def overall_percentile(rows: list[dict], fraction: float) -> float:
    """A percentile of all requests, each URL weighing the same however many
    times it was requested (slow ones are requested fewer times)."""
    weighted = sorted((t, 1 / len(row["times"])) for row in rows for t in row["times"])
    wanted, seen = fraction * len(rows), 0.0
    for seconds, weight in weighted:
        seen += weight
        if seen >= wanted - 1e-9:
            return seconds
    return weighted[-1][0]


# Phases ---------------------------------------------------------------------


SQL = "SQL (execute)"
GC = "garbage collector"
OTHER = "other (routing, middleware, glue)"


class Phases:
    """Exclusive time per phase, from wrapping the functions that do the work.

    A wrapped call's time counts for its phase less the time of wrapped calls
    inside it, so the phases add up to the request. Inside an opaque phase
    (the spelling suggestion) nothing else is counted separately.
    """

    def __init__(self):
        self.totals: dict[str, float] = {}
        self.order: list[str] = []  # the phases, in the order of a request
        self._children: list[float] = []
        self._opaque = 0
        self._gc_started = 0.0

    def record(self, name: str, call, opaque: bool = False):
        if self._opaque:
            return call()
        self._children.append(0.0)
        self._opaque += opaque
        start = time.perf_counter()
        try:
            return call()
        finally:
            elapsed = time.perf_counter() - start
            self._opaque -= opaque
            children = self._children.pop()
            self.totals[name] = self.totals.get(name, 0.0) + elapsed - children
            if self._children:
                self._children[-1] += elapsed

    def wrap(self, name: str, func, opaque: bool = False, eager: bool = False):
        @functools.wraps(func)
        def timed(*args, **kwargs):
            if eager and not self._opaque:
                # A generator's work happens as it is consumed: consume it
                # here (the caller would have consumed all of it anyway).
                return iter(self.record(name, lambda: list(func(*args, **kwargs))))
            return self.record(name, lambda: func(*args, **kwargs), opaque)

        return timed

    def collecting(self, phase: str, info: dict) -> None:
        """A gc callback: the collector's pauses are a phase of their own."""
        if self._opaque:
            return
        if phase == "start":
            self._children.append(0.0)
            self._gc_started = time.perf_counter()
            return
        elapsed = time.perf_counter() - self._gc_started
        self._children.pop()
        self.totals[GC] = self.totals.get(GC, 0.0) + elapsed
        if self._children:
            self._children[-1] += elapsed

    def sql(self, execute, sql, params, many, context):
        return self.record(SQL, lambda: execute(sql, params, many, context))

    @contextlib.contextmanager
    def installed(self):
        """Wrap the phases' functions for the duration of the block."""
        from django.db import connection
        from whoosh.searching import Searcher

        from archive import api, views
        from archive import search as archive_search
        from archive.search import backend, highlight, index

        targets = [
            (archive_search, "parse_query", "parse", {}),
            (index._Searchers, "get", "open or check the searcher", {}),
            (backend, "compile_query", "compile (prefix expansion)", {}),
            (
                Searcher,
                "docs_for_query",
                "docs_for_query: all matches",
                {"eager": True},
            ),
            (index._Searchers, "column", "columns (loaded once per searcher)", {}),
            (backend.RawResults, "count", "count per interview", {}),
            (archive_search, "_published_interviews", "published interviews", {}),
            (archive_search, "_facets", "facet counting", {}),
            (Searcher, "search_page", "search_page: score the page", {}),
            (backend, "_raw_hit", "postings for highlighting", {}),
            (archive_search, "_hits", "hits from the database", {}),
            (highlight, "snippet", "snippets", {}),
            (archive_search, "_suggestion", "spelling suggestion", {"opaque": True}),
            (views, "render", "template rendering", {}),
            (api, "_json", "JSON rendering", {}),
        ]
        self.order = [name for _, _, name, _ in targets]
        self.order.insert(self.order.index("snippets") + 1, SQL)
        self.order += [GC, OTHER]
        with contextlib.ExitStack() as stack:
            for owner, attribute, name, options in targets:
                func = getattr(owner, attribute, None)
                if func is None:
                    progress(f"(phase {name!r}: {owner.__name__}.{attribute} is gone)")
                    continue
                wrapped = self.wrap(name, func, **options)
                stack.enter_context(mock.patch.object(owner, attribute, wrapped))
            stack.enter_context(connection.execute_wrapper(self.sql))
            gc.callbacks.append(self.collecting)
            stack.callback(gc.callbacks.remove, self.collecting)
            yield self


def phase_breakdown(client, url: str, runs: int) -> tuple[float, dict, str]:
    """(mean seconds per request, phase → mean seconds, "" or what failed)."""
    phases = Phases()
    failed = ""
    start = time.perf_counter()
    with phases.installed():
        for _ in range(runs):
            response = client.get(url)
            if response.status_code != 200 and not failed:
                error = response.exc_info[1] if response.exc_info else None
                failed = f"HTTP {response.status_code}" + (
                    f" ({type(error).__name__})" if error else ""
                )
    total = (time.perf_counter() - start) / runs
    means = {name: seconds / runs for name, seconds in phases.totals.items()}
    means[OTHER] = total - sum(means.values())
    ordered = {name: means.get(name, 0.0) for name in phases.order}
    return total, ordered, failed


def cold_searches(client, url: str) -> list[tuple[str, float, dict, str]]:
    """The first search in a new process, and the first after an index commit.

    A failure is reported, not raised: the searcher is then reopened, as a
    restarted worker would, and the benchmark goes on.
    """
    from archive.models import Turn
    from archive.search import index, queue

    rows = []
    index.searchers.reset()
    rows.append(("first search in a process", *phase_breakdown(client, url, 1)))
    # Saving a turn queues it; the consumer's commit makes every searcher
    # refresh on its next search, as an editor's correction does in production.
    Turn.objects.published().order_by("pk").first().save()
    queue.drain()
    client.raise_request_exception = False
    quiet = logging.getLogger("django.request")
    level, quiet.level = quiet.level, logging.CRITICAL
    try:
        rows.append(
            ("first search after an index commit", *phase_breakdown(client, url, 1))
        )
        rows.append(("the same search again", *phase_breakdown(client, url, 1)))
    finally:
        client.raise_request_exception = True
        quiet.level = level
    if rows[-1][3]:
        index.searchers.reset()
        rows.append(("after reopening the searcher", *phase_breakdown(client, url, 1)))
    return rows


# Report ---------------------------------------------------------------------


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def archive_facts(built: dict, data_dir: Path) -> list:
    import whoosh

    from archive.models import Interview, Speaker, Turn
    from archive.search import index

    turns = Turn.objects.count()
    searcher = index.searchers.get()
    build_dir = index.build_path(index.current_build())
    segments = len(searcher.reader().leaf_readers())
    indexed = built["indexed_turns"]
    return [
        ("Whoosh", f"whoosh-reloaded {'.'.join(map(str, whoosh.__version__))}"),
        (
            "Archive",
            f"{turns:,} turns ({indexed:,} published), "
            f"{Interview.objects.published().count():,} published interviews, "
            f"{Speaker.objects.count()} speakers",
        ),
        (
            "Database built in",
            f"{built['database_seconds']:.0f} s "
            f"({turns / built['database_seconds']:,.0f} turns/s)",
        ),
        (
            "Index built in",
            f"{built['index_seconds']:.0f} s "
            f"({indexed / built['index_seconds']:,.0f} turns/s, "
            "archive.search.queue.rebuild"
            + (
                f"; its final commit {built['commit_seconds']:.0f} s)"
                if "commit_seconds" in built
                else ")"
            ),
        ),
        (
            "Index",
            f"{searcher.doc_count():,} documents, {segments} segment"
            f"{'s' if segments != 1 else ''}, "
            f"{directory_size(build_dir) / 2**20:,.0f} MB on disk",
        ),
        (
            "SQLite file",
            f"{(data_dir / 'archive.sqlite3').stat().st_size / 2**20:,.0f} MB",
        ),
    ]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def report(args, facts, rows, cold, phases) -> str:
    by_kind = {kind: [r for r in rows if r["kind"] == kind] for kind in ("page", "API")}
    under_target = sum(pages.percentile(r["times"], 0.95) < 0.05 for r in rows)
    # Phases that took no time in any search (JSON on a page) are left out.
    phase_names = [
        name for name in phases[0][2] if any(p[name] >= 5e-5 for _, _, p, _ in phases)
    ]
    out = [
        "Search: benchmark (bench/search.py)",
        "",
        *(f"{name + ':':<26}{value}" for name, value in facts),
        "",
        f"Searches: {args.repeat} timed requests per URL after one warm-up "
        f"(n: fewer, at least {MIN_REPEAT}, once a URL has taken {URL_BUDGET:.0f} s), "
        "in-process (django.test.Client, DEBUG off); ms per request.",
        "",
        pages.table(
            ["query", "URL", "n", "median", "p95", "max", "hits", "queries", "what"],
            [
                (
                    label(row["params"]) if row["kind"] == "page" else "",
                    row["kind"],
                    len(row["times"]),
                    ms(statistics.median(row["times"])),
                    ms(pages.percentile(row["times"], 0.95)),
                    ms(max(row["times"])),
                    f"{row['total']:,}",
                    row["queries"],
                    (
                        row["what"]
                        + (f": “{row['suggestion']}”" if row["suggestion"] else "")
                        if row["kind"] == "page"
                        else ""
                    ),
                )
                for row in rows
            ],
        ),
        "",
        f"All search requests, each URL weighing the same: p95 "
        f"{ms(overall_percentile(rows, 0.95))} ms, median "
        f"{ms(overall_percentile(rows, 0.5))} ms (pages: p95 "
        f"{ms(overall_percentile(by_kind['page'], 0.95))}; API: p95 "
        f"{ms(overall_percentile(by_kind['API'], 0.95))}). "
        f"URLs with a p95 under 50 ms: {under_target} of {len(rows)}. "
        "Target: p95 under 50 ms.",
        "",
        "Cold searches (/search/?q=security, once each), ms:",
        "",
        pages.table(
            ["", "total", "columns", "open/check", "docs_for_query", "answer"],
            [
                (
                    what,
                    ms(total),
                    ms(p.get("columns (loaded once per searcher)", 0)),
                    ms(p.get("open or check the searcher", 0)),
                    ms(p.get("docs_for_query: all matches", 0)),
                    failed or "200",
                )
                for what, total, p, failed in cold
            ],
        ),
        "",
        f"Where the time goes: the search page, mean of {PHASE_RUNS} requests "
        "with the phases' functions wrapped; ms per request, exclusive "
        "(a phase's time leaves out the phases it calls).",
        "",
        phase_table(phase_names, phases),
    ]
    return "\n".join(out)


PHASE_RUNS = 3


def phase_table(names: list[str], phases: list, across: int = 10) -> str:
    """Phases as rows, queries as columns (``across`` at a time, to fit)."""
    tables = []
    for first in range(0, len(phases), across):
        chunk = phases[first : first + across]
        numbers = range(first + 1, first + len(chunk) + 1)
        rows = [
            (name, *(ms(p.get(name, 0.0)) for _, _, p, _ in chunk)) for name in names
        ]
        rows.append(("total", *(ms(total) for _, total, _, _ in chunk)))
        tables.append(pages.table(["phase", *(f"#{n}" for n in numbers)], rows))
    legend = [f"#{i + 1} {what}" for i, (what, *_) in enumerate(phases)]
    return "\n\n".join(tables) + "\n\n" + "\n".join(legend)


def main(argv=None) -> None:
    args = parse_args(argv)
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="archive-bench-search-"))
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    built = reuse(args, data_dir) if args.keep else None
    configure(data_dir)
    from django.test import Client

    try:
        if built is None:
            built = build(args, data_dir)
        else:
            progress(f"Reusing the archive and index in {data_dir}")
        client = Client(HTTP_HOST="localhost")
        client.get("/search/")  # templates and URLs loaded; no search yet
        cold = cold_searches(client, "/search/?q=security")
        facts = pages.machine_facts() + archive_facts(built, data_dir)
        progress("Timing the searches…")
        rows = time_searches(client, args.repeat)
        progress("Timing the phases…")
        phases = [
            (label(row["params"]), *phase_breakdown(client, row["url"], PHASE_RUNS))
            for row in rows
            if row["kind"] == "page"
        ]
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)
    print(report(args, facts, rows, cold, phases))
    if args.keep:
        print(f"\nThe archive and index stay in {data_dir} (--keep).")


if __name__ == "__main__":
    main()
