"""Search and pages at archive scale: real transcripts, real server, raw engines.

A benchmark, not a test: it prints figures and writes them to
docs/performance.md and docs/search-latency.svg; it asserts nothing.

    make bench                                   # 10k, 100k, 255k and 1M turns
    .venv/bin/python bench/scale.py --quick      # 10k turns, a few minutes
    .venv/bin/python bench/scale.py --sizes 255k --no-write
    .venv/bin/python bench/scale.py --quick --engines postgres

It needs the Security Now transcripts, ``securitynow.tar.xz`` of the shared
corpus (``../shared/corpus``; ``--corpus`` names another folder holding it).
Without them it says where to put them and stops.

For each size it builds the archive twice, once for each of our search
engines (``--engines`` picks one), from the same folder of episodes (the 1M
archive imports the corpus four times, each copy under its own folder so
every copy is new interviews with new slugs):

- whoosh: SQLite and a Whoosh index in ``var/bench/``, imported with
  ``manage.py import_transcript`` and indexed with ``manage.py
  rebuild_index``;
- postgres: the PostgreSQL database ``bench_<size>`` on the local server
  (``postgres://postgres@127.0.0.1:5432``), imported with
  ``ARCHIVE_SEARCH_BACKEND=postgres manage.py import_transcript``, which
  writes the search entries in each import's own transaction (then
  ``VACUUM ANALYZE``, as autovacuum would soon do). Skipped, with a note,
  when no server answers.

Import and rebuild rates are recorded. Built archives are kept, keyed by the
corpus and by the code that shapes them (importer and parsing for the
database, the search package for the index or the entries), so a later run
reuses them; a PostgreSQL archive keeps its key in its own table,
``bench_build``. The raw engines' indexes are kept beside them.

Then, per size and per engine:

- gunicorn serves the archive with ``gunicorn.conf.py`` and make run's three
  workers. One client asks every query of ``bench/queries.txt`` for the
  search page and then the API: "cold" is each query's first run after the
  server started (the server is restarted before each pass), "warm" three
  more runs. Throughput with wrk at 1, 8 and 32 connections on search URLs
  and on an interview page; each worker's private memory (USS, from
  /proc/<pid>/smaps_rollup) at the end.
- PostgreSQL only: two app servers (two gunicorns, each with its own data
  directory, the same secret key, one database) under 32 connections of
  search URLs, 16 to each: wrk takes one host, so two wrk processes run at
  once, and their rates are added and the worse p99 kept.
- ``archive.search.search`` in a fresh process (``bench/inprocess.py``):
  the engine and its database queries without HTTP, cold and warm.
- Pages over HTTP: home, an interview of about 500 turns, the longest one,
  a speaker page; latency, and SQL queries per page (in process).

And once per size, raw Whoosh, SQLite FTS5, tantivy and, when a server
answers, PostgreSQL (``bench/engines.py``) over the same turns, top 10 with
highlighted fragments and the exact total, on the queries of the [known]
and [language] sections.
"""

import argparse
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
from contextlib import closing
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import engines  # noqa: E402  (bench/engines.py)

PY = sys.executable
CACHE = ROOT / "var" / "bench"
QUERIES = ROOT / "bench" / "queries.txt"
SIZES = {"10k": 10_000, "100k": 100_000, "255k": 255_000, "1M": 1_000_000}
WORKERS = 3  # make run's default
PORT = 8391  # the second app server, when there is one, listens on PORT + 1
LABEL = re.compile(r"^[A-Z][A-Z .'\-]{1,40}:\s", re.M)
OURS = ("whoosh", "postgres")  # our engines, ARCHIVE_SEARCH_BACKEND's values
RAW = {
    "whoosh": "Whoosh",
    "fts5": "FTS5",
    "tantivy": "tantivy",
    "postgres": "PostgreSQL",
}
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
# The code that shapes what a build holds, by kind of build: a key over these
# files names the build, so a change to them builds afresh.
DATABASE_CODE = (
    "archive/importer.py",
    "archive/parsing/*.py",
    "archive/migrations/*.py",
)
# What shapes the Whoosh index's content (not how it is searched).
INDEX_CODE = tuple(
    f"archive/search/{name}.py"
    for name in ("analysis", "documents", "index", "segments", "writer")
)
# What shapes the PostgreSQL engine's entries, written during the import.
ENTRY_CODE = tuple(
    f"archive/search/{name}.py"
    for name in ("analysis", "documents", "hooks", "vectors")
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k turns only")
    parser.add_argument("--sizes", default="10k,100k,255k,1M")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpus")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument(
        "--engines",
        default=",".join(OURS),
        help="our engines to measure, comma-separated (default: whoosh,postgres)",
    )
    parser.add_argument("--no-raw", action="store_true", help="skip raw engines")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the report from the results the last run saved in var/bench",
    )
    args = parser.parse_args(argv)
    args.engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if not args.engines or set(args.engines) - set(OURS):
        parser.error(f"--engines takes one or both of {', '.join(OURS)}")
    if args.quick:
        args.sizes, args.clients, args.seconds = "10k", "1,32", 5
    return args


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# Queries --------------------------------------------------------------------


def query_sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = "known"
    for line in QUERIES.read_text().splitlines():
        if match := re.match(r"#\s*\[(\w+)\]", line):
            current = match[1]
        elif line.strip() and not line.startswith("#"):
            sections.setdefault(current, []).append(line.strip())
    return sections


# Building archives -------------------------------------------------------------


def code_key(*patterns: str) -> str:
    digest = hashlib.sha1()
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def corpus_episodes(args) -> Path:
    archive = args.corpus / "securitynow.tar.xz"
    if not archive.exists():
        sys.exit(
            f"bench: {archive} not found. The benchmark reads the Security Now "
            "transcripts of the shared corpus: put securitynow.tar.xz in "
            "../shared/corpus (or name its folder with --corpus DIR)."
        )
    stamp = f"{archive.stat().st_size}-{int(archive.stat().st_mtime)}"
    folder = CACHE / f"corpus-{stamp}"
    episodes = folder / "episodes"
    if not episodes.exists():
        progress(f"unpacking {archive}")
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
    return episodes


def environment(data_dir: Path, database_url: str | None = None) -> dict:
    """The environment of a manage.py, gunicorn or inprocess.py process for
    the archive whose data directory is ``data_dir``: SQLite there and Whoosh,
    or, with ``database_url``, that PostgreSQL database and its engine."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "DATABASE_REPLICA_URL",
            "DJANGO_DEBUG",
            "ARCHIVE_INDEX_DIR",
            "ARCHIVE_SEARCH_BACKEND",
        }
    }
    env["ARCHIVE_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "archive.settings"
    # The timing client and wrk ask from loopback far beyond a reader's
    # allowance (archive/throttle.py).
    env["ARCHIVE_RATE_LIMIT_EXEMPT"] = "127.0.0.1,::1"
    if database_url:
        env["DATABASE_URL"] = database_url
        env["ARCHIVE_SEARCH_BACKEND"] = "postgres"
    return env


@dataclass
class Archive:
    """One built archive, as the bench serves and measures it."""

    engine: str  # one of OURS
    data: Path  # ARCHIVE_DATA_DIR (of the first app server)
    facts: dict = field(default_factory=dict)
    database_url: str | None = None  # PostgreSQL; None: SQLite in ``data``

    @property
    def label(self) -> str:
        return f"ours ({self.engine})"

    def env(self, data: Path | None = None) -> dict:
        return environment(data or self.data, self.database_url)

    def connect(self):
        """A DB-API connection to the archive's database."""
        if self.database_url:
            import psycopg

            return psycopg.connect(self.database_url)
        import sqlite3

        return sqlite3.connect(self.data / "archive.sqlite3")


def manage(env: dict, *arguments: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [PY, str(ROOT / "manage.py"), *arguments],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode:
        sys.exit(f"bench: manage.py {' '.join(arguments)} failed:\n{result.stderr}")
    return result


def source_folder(episodes: Path, size: str) -> Path:
    """A folder of links to the episodes that make about ``size``'s turns,
    the one both engines' archives import."""
    folder = CACHE / f"source-{episodes.parent.name}-{size}"
    if folder.exists():
        shutil.rmtree(folder)
    turns = SIZES[size]
    files = sorted(episodes.glob("*.txt"))
    labels = {f: len(LABEL.findall(f.read_text(errors="replace"))) for f in files}
    corpus_turns = sum(labels.values())
    copies = max(1, round(turns / corpus_turns))
    for copy in range(copies):
        target = folder / f"copy-{copy + 1}"
        target.mkdir(parents=True)
        taken = 0
        for path in files:
            if copies == 1 and taken >= turns:
                break
            (target / path.name).symlink_to(path)
            taken += labels[path]
    return folder


def build_archive(size: str, episodes: Path) -> Archive:
    """The SQLite and Whoosh archive of ``size`` turns, built or reused."""
    db_key = code_key(*DATABASE_CODE)
    index_key = code_key(*INDEX_CODE)
    work = CACHE / f"archive-{episodes.parent.name}-{db_key}-{size}"
    data = work / "data"
    archive = Archive("whoosh", data)
    facts_path = work / "facts.json"
    facts = json.loads(facts_path.read_text()) if facts_path.exists() else {}
    env = archive.env()
    if not facts.get("imported"):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        manage(env, "migrate", "--noinput")
        source = source_folder(episodes, size)
        progress(f"{size}: importing {source} (SQLite)")
        started = time.perf_counter()
        manage(env, "import_transcript", "--no-progress", str(source))
        facts = {"imported": True, "import_seconds": time.perf_counter() - started}
        facts_path.write_text(json.dumps(facts))
    if facts.get("index_key") != index_key:
        progress(f"{size}: rebuilding the index")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        started = time.perf_counter()
        manage(env, "rebuild_index")
        facts["rebuild_seconds"] = time.perf_counter() - started
        facts["index_key"] = index_key
        # The queue the import left was covered by the rebuild.
        manage(env, "index_worker", "--once")
        facts_path.write_text(json.dumps(facts))
    facts.update(counts(archive))
    facts["index_mb"] = index_mb(data / "index")
    facts["database_mb"] = (data / "archive.sqlite3").stat().st_size / 2**20
    archive.facts = facts
    return archive


def postgres_answers() -> bool:
    import psycopg

    try:
        psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def build_postgres(size: str, episodes: Path) -> Archive:
    """The PostgreSQL archive of ``size`` turns (database ``bench_<size>``),
    searched by our PostgreSQL engine; built afresh unless the database kept
    from an earlier run was built from the same corpus by the same code."""
    import psycopg
    from psycopg.types.json import Jsonb

    key = "-".join(
        (episodes.parent.name, code_key(*DATABASE_CODE), code_key(*ENTRY_CODE), size)
    )
    name = f"bench_{size.lower()}"
    work = CACHE / f"postgres-{size}"
    archive = Archive("postgres", work / "app-1", database_url=f"{PG_SERVER}/{name}")
    facts = kept_build(archive.database_url, key)
    if facts is None:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
            server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            server.execute(f"CREATE DATABASE {name}")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        env = archive.env()
        manage(env, "migrate", "--noinput")
        source = source_folder(episodes, size)
        progress(f"{size}: importing {source} (PostgreSQL, {name})")
        started = time.perf_counter()
        manage(env, "import_transcript", "--no-progress", str(source))
        facts = {"import_seconds": time.perf_counter() - started}
        with psycopg.connect(archive.database_url, autocommit=True) as db:
            # Fresh statistics for the planner, as autovacuum would soon give
            # them; not part of the import's time.
            started = time.perf_counter()
            db.execute("VACUUM ANALYZE")
            facts["analyze_seconds"] = time.perf_counter() - started
            db.execute("CREATE TABLE bench_build (key text PRIMARY KEY, facts jsonb)")
            db.execute("INSERT INTO bench_build VALUES (%s, %s)", (key, Jsonb(facts)))
    facts.update(counts(archive))
    with closing(archive.connect()) as db:
        facts["database_mb"] = (
            db.execute("SELECT pg_database_size(current_database())").fetchone()[0]
            / 2**20
        )
        # The engine's index: the entries, the vocabulary and the name
        # words, each with its indexes.
        facts["index_mb"] = (
            db.execute(
                "SELECT sum(pg_total_relation_size(t))::bigint FROM unnest(ARRAY["
                "'archive_searchentry', 'archive_searchterm', 'archive_searchname'"
                "]::regclass[]) AS t"
            ).fetchone()[0]
            / 2**20
        )
    archive.facts = facts
    return archive


def kept_build(url: str, key: str) -> dict | None:
    """The facts of the build kept in database ``url`` if it has ``key``."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as db:
            if db.execute("SELECT to_regclass('bench_build')").fetchone()[0] is None:
                return None  # an import that did not finish
            row = db.execute(
                "SELECT facts FROM bench_build WHERE key = %s", (key,)
            ).fetchone()
    except psycopg.OperationalError:
        return None  # no such database yet
    return row[0] if row else None


def postgres_settings(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as db:
        return {
            name: db.execute(f"SHOW {name}").fetchone()[0]
            for name in ("server_version", "shared_buffers", "work_mem")
        }


def counts(archive: Archive) -> dict:
    with closing(archive.connect()) as db:
        turns = db.execute("select count(*) from archive_turn").fetchone()[0]
        interviews = db.execute("select count(*) from archive_interview").fetchone()[0]
    return {"turns": turns, "interviews": interviews}


def index_mb(index: Path) -> float:
    """The size of the Whoosh index that serves (a rebuild leaves the build
    it replaced beside it for a while, archive/search/index.py)."""
    current = index / "CURRENT"
    if current.exists():
        return folder_mb(index / f"build-{current.read_text().strip()}")
    return folder_mb(index)


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# Serving -----------------------------------------------------------------------


class Server:
    """gunicorn serving one archive (``env``) on ``port``; its log goes to
    gunicorn.log in the archive's data directory."""

    def __init__(self, env: dict, port: int = PORT):
        self.env = env
        self.port = port
        self.process = None

    def start(self) -> None:
        env = dict(self.env)
        env["WEB_CONCURRENCY"] = str(WORKERS)
        env["ARCHIVE_BIND"] = f"127.0.0.1:{self.port}"
        log = Path(env["ARCHIVE_DATA_DIR"]) / "gunicorn.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as stderr:
            self.process = subprocess.Popen(
                [
                    str(Path(PY).parent / "gunicorn"),
                    "archive.wsgi",
                    "--config",
                    str(ROOT / "gunicorn.conf.py"),
                    "--access-logfile",
                    "/dev/null",
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                if len(self.workers()) == WORKERS:
                    get("/", self.port)
                    time.sleep(1)  # the workers' warm-up searches
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start on port {self.port}: see {log}")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except FileNotFoundError:
            return []

    def uss_mb(self) -> list[dict]:
        """Per worker: private memory (USS) and, of it, the anonymous part
        (the heap). Pages of the memory-mapped index that only one worker has
        touched yet count as private too, though the kernel shares them."""
        sizes = []
        for pid in self.workers():
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            fields = {
                line.split(":")[0]: int(line.split()[1])
                for line in rollup.splitlines()[1:]
                if line.split()[1].isdigit()
            }
            private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
            sizes.append(
                {"uss": private / 1024, "anonymous": fields.get("Anonymous", 0) / 1024}
            )
        return sizes

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)
        self.process = None


_connections: dict[int, HTTPConnection] = {}  # one kept-alive client per port


def get(path: str, port: int = PORT) -> tuple[int, bytes]:
    for attempt in range(2):
        try:
            if port not in _connections:
                _connections[port] = HTTPConnection("127.0.0.1", port, timeout=120)
            _connections[port].request("GET", path)
            response = _connections[port].getresponse()
            return response.status, response.read()
        except (OSError, ConnectionError):
            _connections.pop(port, None)
            if attempt:
                raise
    raise AssertionError("unreachable")


def timed(path: str, port: int = PORT) -> tuple[float, int]:
    started = time.perf_counter()
    status, _ = get(path, port)
    return (time.perf_counter() - started) * 1000, status


def search_path(query: str, api: bool) -> str:
    base = "/api/search" if api else "/search/"
    return f"{base}?{urllib.parse.urlencode({'q': query})}"


def time_http_searches(server: Server, queries: list[str]) -> dict:
    out = {}
    for api in (False, True):
        server.stop()
        _connections.pop(server.port, None)
        server.start()
        name = "api" if api else "page"
        rows = {q: {"ms": [], "status": []} for q in queries}
        for _ in range(4):  # the first pass after the start is the cold one
            for query in queries:
                ms, status = timed(search_path(query, api), server.port)
                rows[query]["ms"].append(ms)
                rows[query]["status"].append(status)
        out[name] = rows
    return out


def wrk(
    paths: list[str], clients: int, seconds: int, ports: tuple[int, ...] = (PORT,)
) -> dict:
    """wrk asking for ``paths`` in turn over ``clients`` connections. With
    several ports (app servers), one wrk per port runs at the same time with
    an equal share of the connections, since wrk asks one host: their rates
    are added, and the worse p50 and p99 of the runs kept."""
    quoted = ", ".join(json.dumps(p) for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            f"local paths = {{{quoted}}}\nlocal i = 0\n"
            "request = function()\n  i = i % #paths + 1\n"
            "  return wrk.format('GET', paths[i])\nend\n"
        )
    share = clients // len(ports)
    runs = [
        subprocess.Popen(
            [
                "wrk",
                f"-t{min(share, 2)}",
                f"-c{share}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for port in ports
    ]
    figures = [_wrk_figures(run.communicate()[0]) for run in runs]
    os.unlink(script.name)

    def worst(key):
        values = [f[key] for f in figures if f[key] is not None]
        return max(values) if values else None

    return {
        "clients": clients,
        "servers": len(ports),
        "rps": sum(f["rps"] for f in figures),
        "non_2xx": sum(f["non_2xx"] for f in figures),
        "socket_errors": "; ".join(
            f["socket_errors"] for f in figures if f["socket_errors"]
        ),
        "p50_ms": worst("p50_ms"),
        "p99_ms": worst("p99_ms"),
    }


def _wrk_figures(text: str) -> dict:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", text)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    return {
        "rps": float(rate[1]) if rate else 0.0,
        "non_2xx": int(errors[1]) if errors else 0,
        "socket_errors": socket_errors[1] if socket_errors else "",
        "p50_ms": _wrk_ms(p50),
        "p99_ms": _wrk_ms(p99),
    }


def _wrk_ms(match) -> float | None:
    if not match:
        return None
    value, unit = float(match[1]), match[2]
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def page_paths(archive: Archive) -> dict[str, str]:
    with closing(archive.connect()) as db:
        near_500 = db.execute(
            "select slug, turn_count from archive_interview where published "
            "order by abs(turn_count - 500) limit 1"
        ).fetchone()
        longest = db.execute(
            "select slug, turn_count from archive_interview where published "
            "order by turn_count desc limit 1"
        ).fetchone()
        speaker = db.execute(
            "select s.slug from archive_speaker s join archive_turn t "
            "on t.speaker_id = s.id group by s.id order by count(*) desc limit 1"
        ).fetchone()
    return {
        "home": "/",
        f"interview, {near_500[1]} turns": f"/interviews/{near_500[0]}/",
        f"interview, {longest[1]} turns": f"/interviews/{longest[0]}/",
        "speaker (most turns)": f"/speakers/{speaker[0]}/",
        "interview list": "/interviews/",
    }


def time_pages(server: Server, paths: dict[str, str]) -> dict:
    out = {}
    for name, path in paths.items():
        cold, status = timed(path, server.port)
        warm = [timed(path, server.port)[0] for _ in range(20)]
        out[name] = {"path": path, "cold": cold, "warm": warm, "status": status}
    return out


# In process and raw engines -------------------------------------------------------


def inprocess(env: dict, mode: str, argument) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(argument, handle)
    try:
        return inprocess_raw(env, mode, handle.name)
    finally:
        os.unlink(handle.name)


def inprocess_raw(env: dict, mode: str, argument: str) -> dict:
    result = subprocess.run(
        [PY, str(ROOT / "bench" / "inprocess.py"), mode, argument],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode:
        sys.exit(f"bench: inprocess {mode} failed:\n{result.stderr}")
    return json.loads(result.stdout)


def raw_engines(raw: Path, env: dict, queries: list[str]) -> dict:
    """The raw engines over the published turns of the archive ``env`` names,
    built into ``raw`` (and, for PostgreSQL, a table of the raw database) or
    reused from there."""
    turns_file = raw / "turns.tsv"
    raw.mkdir(parents=True, exist_ok=True)
    if not turns_file.exists():
        partial = raw / "turns.tsv.partial"
        inprocess_raw(env, "turns", str(partial))
        partial.rename(turns_file)
    names = ["whoosh", "fts5", "tantivy"]
    url = engines.postgres_url()
    if url:
        names.append("postgres")
    else:
        progress(
            f"  raw postgres skipped: no PostgreSQL answers at {PG_SERVER} "
            "(BENCH_POSTGRES_URL names another database)"
        )
    facts_path = raw / "builds.json"
    builds = json.loads(facts_path.read_text()) if facts_path.exists() else {}
    built = {}
    for name in names:
        if name not in builds or not raw_present(raw, name, url):
            progress(f"  building raw {name}")
            engine = raw_engine(raw, name, url)
            builds[name] = engine.build(read_turns(turns_file))
            facts_path.write_text(json.dumps(builds))
            engine.close()
        built[name] = raw_engine(raw, name, url)
        built[name].open()
    times = engines.run(built.values(), queries, repeat=4)
    for engine in built.values():
        engine.close()
    return {"times": times, "builds": {name: builds[name] for name in names}}


def raw_engine(raw: Path, name: str, url: str | None):
    if name == "postgres":
        return engines.RawPostgres(url, table=engine_path(raw, name))
    kinds = {
        "whoosh": engines.RawWhoosh,
        "fts5": engines.RawFTS5,
        "tantivy": engines.RawTantivy,
    }
    return kinds[name](engine_path(raw, name))


def engine_path(raw: Path, name: str) -> Path | str:
    """Where raw engine ``name`` keeps the index built in ``raw``: a path,
    or for PostgreSQL a table of the raw database, named after ``raw`` so
    that each size (and each build of it) has its own."""
    if name == "postgres":
        return "bench_raw_" + hashlib.sha1(raw.name.encode()).hexdigest()[:12]
    return {
        "whoosh": raw / "whoosh",
        "fts5": raw / "fts5.sqlite3",
        "tantivy": raw / "tantivy",
    }[name]


def raw_present(raw: Path, name: str, url: str | None) -> bool:
    """Whether the index of ``name`` recorded as built in ``raw`` is there
    (the raw database lives on after var/bench is cleared, and the other way
    round)."""
    if name != "postgres":
        return Path(engine_path(raw, name)).exists()
    import psycopg

    with psycopg.connect(url) as db:
        found = db.execute("SELECT to_regclass(%s)", (engine_path(raw, name),))
        return found.fetchone()[0] is not None


def read_turns(path: Path):
    with open(path) as handle:
        for line in handle:
            pk, speaker, day, text = line.rstrip("\n").split("\t", 3)
            yield {"id": int(pk), "speaker": speaker, "date": int(day), "text": text}


# One size ------------------------------------------------------------------------


def measure(size: str, args, episodes: Path, sections: dict) -> dict:
    started_at = time.time()
    archives = []
    if "whoosh" in args.engines:
        archives.append(build_archive(size, episodes))
    if "postgres" in args.engines:
        archives.append(build_postgres(size, episodes))
    first = archives[0]
    result = {
        "size": size,
        "started_at": started_at,
        "sections": sections,
        "turns": first.facts["turns"],
        "interviews": first.facts["interviews"],
        "ours": {},
    }
    if size == args.sizes.split(",")[0] and first.engine == "whoosh":
        progress(f"{size}: where indexing time goes")
        result["writer"] = inprocess_raw(first.env(), "writer", "10000")
    for archive in archives:
        result["ours"][archive.engine] = measure_archive(size, archive, args, sections)
        if archive.database_url:
            result["postgres_server"] = postgres_settings(archive.database_url)
    if not args.no_raw:
        progress(f"{size}: raw engines")
        raw = CACHE / f"raw-{episodes.parent.name}-{code_key(*DATABASE_CODE)}-{size}"
        raw_queries = sections["known"] + sections.get("language", [])
        result["raw"] = raw_engines(raw, first.env(), raw_queries)
    return result


def measure_archive(size: str, archive: Archive, args, sections: dict) -> dict:
    """Everything measured of one engine's archive of one size."""
    queries = [q for section in sections.values() for q in section]
    clients = [int(c) for c in args.clients.split(",")]
    env = archive.env()
    step = f"{size}, {archive.label}"
    out = {"facts": archive.facts}
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    progress(f"{step}: in-process searches")
    out["inprocess"] = inprocess(env, "search", queries)
    server = Server(env)
    search_urls = [search_path(q, False) for q in sections["known"]]
    try:
        progress(f"{step}: searches over HTTP")
        out["http"] = time_http_searches(server, queries)
        paths = page_paths(archive)
        progress(f"{step}: pages")
        out["pages"] = time_pages(server, paths)
        out["page_queries"] = inprocess(env, "pages", list(paths.values()))
        progress(f"{step}: throughput")
        interview = next(p for n, p in paths.items() if "interview, " in n)
        out["throughput"] = {
            "search": [wrk(search_urls, c, args.seconds) for c in clients],
            "interview": [wrk([interview], c, args.seconds) for c in clients],
        }
        out["uss_mb"] = server.uss_mb()
    finally:
        server.stop()
    if archive.engine == "postgres":
        progress(f"{step}: two app servers")
        out["two_servers"] = two_servers(archive, search_urls, max(clients), args)
    return out


def two_servers(archive: Archive, paths: list[str], clients: int, args) -> dict:
    """wrk over ``paths`` against two app servers sharing the archive's
    database: each with its own data directory (so its own page cache), both
    with the same secret key, as two hosts behind a balancer would be."""
    key = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
    servers = []
    for number in (1, 2):
        env = archive.env(archive.data.parent / f"app-{number}")
        env["DJANGO_SECRET_KEY"] = key
        servers.append(Server(env, PORT + number - 1))
    try:
        for server in servers:
            server.start()
        run = wrk(paths, clients, args.seconds, ports=tuple(s.port for s in servers))
        run["uss_mb"] = [m for server in servers for m in server.uss_mb()]
    finally:
        for server in servers:
            server.stop()
    return run


# Report ----------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(p / 100 * len(ordered) + 0.5) - 1)]


def fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def ours(measured: dict, which: str, queries: list[str]) -> dict:
    rows = measured["http"][which]
    cold = [rows[q]["ms"][0] for q in queries]
    warm = [ms for q in queries for ms in rows[q]["ms"][1:]]
    return {"cold": cold, "warm": warm}


def summarize(result: dict) -> dict:
    sections = result["sections"]
    known = sections["known"]
    every = [q for s in sections.values() for q in s]
    out = {"size": result["size"], "turns": result["turns"], "ours": {}, "raw": {}}
    for engine, measured in result["ours"].items():
        mine = {}
        for which in ("page", "api"):
            times = ours(measured, which, known)
            everything = ours(measured, which, every)
            mine[which] = {
                "cold_p50": pct(times["cold"], 50),
                "cold_p95": pct(times["cold"], 95),
                "cold_p99": pct(times["cold"], 99),
                "cold_max": max(times["cold"]),
                "warm_p50": pct(times["warm"], 50),
                "warm_p95": pct(times["warm"], 95),
                "all_cold_max": max(everything["cold"]),
                "errors": sum(
                    1
                    for q in every
                    for status in measured["http"][which][q]["status"]
                    if status != 200
                ),
            }
        inproc = measured["inprocess"]["queries"]
        cold = [inproc[q]["ms"][0] for q in known]
        warm = [ms for q in known for ms in inproc[q]["ms"][1:]]
        mine["inprocess"] = {
            "cold_p50": pct(cold, 50),
            "cold_p95": pct(cold, 95),
            "warm_p50": pct(warm, 50),
            "warm_p95": pct(warm, 95),
        }
        out["ours"][engine] = mine
    for name, per_query in result.get("raw", {}).get("times", {}).items():
        only_known = {q: per_query[q] for q in known if q in per_query}
        cold = engines.summary(engines.collect(only_known, "cold"))
        warm = engines.summary(engines.collect(only_known, "warm"))
        out["raw"][name] = {"cold": cold, "warm": warm}
    return out


def targets(results: list[dict]) -> list[list]:
    """Issue 8's targets (and issue 12's for the PostgreSQL engine) against
    what this run measured, engine by engine."""
    by_size = {r["size"]: r for r in results}
    rows = []
    for engine in OURS:
        if any(engine in r["ours"] for r in results):
            rows += _targets(by_size, engine)
    return rows


def _targets(by_size: dict, engine: str) -> list[list]:
    label = f"ours ({engine})"
    rows = []

    def add(
        target,
        size,
        value,
        limit,
        higher_is_better=False,
        unit="ms",
        why="not measured",
    ):
        if value is None:
            rows.append([target, size, label, why, ""])
            return
        met = value >= limit if higher_is_better else value <= limit
        rows.append(
            [target, size, label, f"{fmt(value)} {unit}", "met" if met else "NOT met"]
        )

    def mine(size):
        r = by_size.get(size)
        return r["ours"].get(engine) if r else None

    def known(size, which, key):
        return (
            summarize(by_size[size])["ours"][engine][which][key] if mine(size) else None
        )

    for which in ("page", "api"):
        for target, size, key, limit in (
            ("cold p50 ≤ 20 ms", "255k", "cold_p50", 20),
            ("cold p95 ≤ 50 ms", "255k", "cold_p95", 50),
            ("no known query above 250 ms", "255k", "cold_max", 250),
            ("cold p95 ≤ 150 ms", "1M", "cold_p95", 150),
        ):
            add(f"search {which}: {target}", size, known(size, which, key), limit)
    measured = mine("255k")
    hostile = None
    if measured:
        hostile = max(
            max(measured["http"][w][q]["ms"])
            for w in ("page", "api")
            for q in by_size["255k"]["sections"].get("hostile", [])
        )
    add("every hostile query under 1 s", "255k", hostile, 1000)
    facts = measured["facts"] if measured else {}
    rebuild, imported = facts.get("rebuild_seconds"), facts.get("import_seconds")
    add(
        "rebuild_index ≥ 2,500 turns/s",
        "255k",
        facts["turns"] / rebuild if rebuild else None,
        2500,
        True,
        "turns/s",
        why="none: the import writes the entries" if imported else "not measured",
    )
    # The PostgreSQL engine's import writes its entries: nothing to rebuild.
    total = None
    if imported and (rebuild or engine == "postgres"):
        total = imported + (rebuild or 0)
    add("import + index under 5 minutes", "255k", total, 300, unit="s")
    page = None
    if measured:
        near = [n for n in measured["pages"] if n.startswith("interview, ")]
        if near:
            page = pct(measured["pages"][near[0]]["warm"], 95)
    add("interview page (about 500 turns) p95 ≤ 30 ms", "255k", page, 30)
    for kind, limit in (("interview", 300), ("search", 60)):
        run = None
        if measured:
            run = next(
                (t for t in measured["throughput"][kind] if t["clients"] == 32), None
            )
        add(
            f"{kind} at 32 clients ≥ {limit} req/s",
            "255k",
            run["rps"] if run else None,
            limit,
            True,
            "req/s",
        )
    big = mine("1M")
    uss = max(m["uss"] for m in big["uss_mb"]) if big else None
    add("worker private memory ≤ 200 MB", "1M", uss, 200, unit="MB")
    if engine == "postgres":
        _postgres_targets(by_size, add, known)
    return rows


def _postgres_targets(by_size: dict, add, known) -> None:
    """Issue 12's targets for the PostgreSQL engine, through the caller's
    ``add``."""
    for which in ("page", "api"):
        value = known("255k", which, "cold_p95")
        add(f"search {which}: cold p95 ≤ 100 ms (issue 12)", "255k", value, 100)
    measured = by_size.get("255k", {}).get("ours", {}).get("postgres")
    one = two = None
    if measured and "two_servers" in measured:
        two = measured["two_servers"]["rps"]
        one = next(
            t["rps"] for t in measured["throughput"]["search"] if t["clients"] == 32
        )
    add(
        f"search at 32 clients over two app servers ≥ one server's "
        f"{fmt(one) if one else '–'} req/s (issue 12)",
        "255k",
        two,
        one or 0,
        True,
        "req/s",
    )


def report(results: list[dict], args) -> str:
    summaries = [summarize(r) for r in results]
    seen = [e for e in OURS if any(e in r["ours"] for r in results)]
    raw_seen = [n for n in RAW if any(n in s["raw"] for s in summaries)]
    label = {engine: f"ours ({engine})" for engine in OURS}
    lines = [
        "## Figures at scale (`make bench`, bench/scale.py)",
        "",
        f"Measured {_when(results)} on {machine()}. {_engines_described(results)} "
        f"Each served by gunicorn with gunicorn.conf.py and {WORKERS} workers "
        "(make run's); one client for latencies. Cold is a query's first run "
        "after the app server started: neither the operating system's file "
        "cache nor PostgreSQL's buffers are emptied in between, for either "
        "engine. Milliseconds. The machine is shared and noisy: read the ratios "
        "to the raw engines, measured in the same run over the same turns, as "
        "the firm numbers.",
        "",
        "### Archives",
        "",
    ]
    rows = []
    for r in results:
        for engine in seen:
            if engine not in r["ours"]:
                continue
            f = r["ours"][engine]["facts"]
            rows.append(
                [
                    r["size"],
                    label[engine],
                    f"{f['turns']:,}",
                    f"{f['interviews']:,}",
                    fmt(f.get("import_seconds")),
                    _rate(f["turns"], f.get("import_seconds")),
                    fmt(f.get("rebuild_seconds")),
                    _rate(f["turns"], f.get("rebuild_seconds")),
                    fmt(f["index_mb"]),
                    fmt(f["database_mb"]),
                ]
            )
    lines.append(
        table(
            [
                "size",
                "engine",
                "turns",
                "interviews",
                "import s",
                "import turns/s",
                "rebuild s",
                "rebuild turns/s",
                "index MB",
                "database MB",
            ],
            rows,
        )
    )
    if "postgres" in seen:
        analyzed = [
            f"{fmt(r['ours']['postgres']['facts']['analyze_seconds'])} s at {r['size']}"
            for r in results
            if "postgres" in r["ours"]
        ]
        lines += [
            "",
            "ours (postgres) needs no rebuild: `import_transcript` writes each "
            "turn's search entry in the transaction that imports it, so its "
            "import time includes the indexing. Its index MB is the entries, "
            "the vocabulary and the speaker-name words with their indexes (GIN "
            "and B-tree); database MB includes them. `VACUUM ANALYZE` after the "
            f"import, not counted: {', '.join(analyzed)}.",
        ]
    writer = next((r["writer"] for r in results if "writer" in r), None)
    if writer:
        lines += [
            "",
            f"Where Whoosh indexing time goes, {writer['documents']:,} documents in "
            f"one process: reading the database {writer['database_read_s']:.1f} s, "
            f"our analysis {writer['analysis_s']:.1f} s, Whoosh's own writing "
            f"{writer['whoosh_s']:.1f} s, the segment arrays "
            f"{writer['arrays_s']:.1f} s: {writer['all_per_s']:,.0f} documents/s "
            f"in all. Whoosh alone, with analysis free, writes "
            f"{writer['whoosh_alone_per_s']:,.0f} documents/s per core.",
        ]
    lines += [
        "",
        "### Search, the 40 known queries (HTTP, cold = first run after start)",
        "",
    ]
    rows = []
    for s in summaries:
        for engine in seen:
            if engine not in s["ours"]:
                continue
            for which in ("page", "api"):
                x = s["ours"][engine][which]
                rows.append(
                    [
                        s["size"],
                        label[engine],
                        which,
                        fmt(x["cold_p50"]),
                        fmt(x["cold_p95"]),
                        fmt(x["cold_p99"]),
                        fmt(x["cold_max"]),
                        fmt(x["warm_p50"]),
                        fmt(x["warm_p95"]),
                        fmt(x["all_cold_max"]),
                        x["errors"],
                    ]
                )
    lines.append(
        table(
            [
                "size",
                "engine",
                "",
                "cold p50",
                "cold p95",
                "cold p99",
                "cold max",
                "warm p50",
                "warm p95",
                "max, every query",
                "non-200",
            ],
            rows,
        )
    )
    lines += ["", "### Beside the raw engines (top 10 with highlights, in process)", ""]
    rows = []
    for s in summaries:
        for engine in seen:
            if engine not in s["ours"]:
                continue
            mine = s["ours"][engine]["inprocess"]
            row = [
                s["size"],
                label[engine],
                fmt(mine["cold_p50"]),
                fmt(mine["cold_p95"]),
            ]
            for name in raw_seen:
                p95 = s["raw"][name]["cold"]["p95"] if name in s["raw"] else None
                row += [fmt(p95), f"{mine['cold_p95'] / p95:.1f}×" if p95 else "–"]
            rows.append(row)
    headers = ["size", "engine", "ours p50", "ours p95"]
    for name in raw_seen:
        headers += [f"{RAW[name]} p95", f"ours/{RAW[name]}"]
    lines.append(table(headers, rows))
    lines += [
        "",
        "Cold is each query's first run in a fresh process (ours) or on a "
        "freshly opened index or connection (raw), warm three more runs; the 40 "
        "known queries:",
        "",
    ]
    rows = []
    for s in summaries:
        timings = [
            (label[e], s["ours"][e]["inprocess"]) for e in seen if e in s["ours"]
        ]
        timings += [
            (
                f"raw {name}",
                {
                    "cold_p50": s["raw"][name]["cold"]["p50"],
                    "cold_p95": s["raw"][name]["cold"]["p95"],
                    "warm_p50": s["raw"][name]["warm"]["p50"],
                    "warm_p95": s["raw"][name]["warm"]["p95"],
                },
            )
            for name in raw_seen
            if name in s["raw"]
        ]
        for name, t in timings:
            rows.append(
                [s["size"], name]
                + [fmt(t[k]) for k in ("cold_p50", "cold_p95", "warm_p50", "warm_p95")]
            )
    lines.append(
        table(["size", "engine", "cold p50", "cold p95", "warm p50", "warm p95"], rows)
    )
    last = results[-1]
    lines += [
        "",
        f"### Every query, search page over HTTP ({last['size']})",
        "",
        "Cold, warm (the fastest of three more runs) and the total found, in process.",
        "",
    ]
    present = [e for e in seen if e in last["ours"]]
    rows = []
    for section, queries in last["sections"].items():
        for q in queries:
            shown = q if len(q) <= 48 else q[:45] + "…"
            row = [section, f"`{shown}`"]
            for engine in present:
                measured = last["ours"][engine]
                ms = measured["http"]["page"][q]["ms"]
                total = measured["inprocess"]["queries"][q]["total"]
                row += [fmt(ms[0]), fmt(min(ms[1:])), "–" if total is None else total]
            rows.append(row)
    headers = ["set", "query"]
    for engine in present:
        headers += [f"{label[engine]} cold", "warm", "total"]
    lines.append(table(headers, rows))
    lines += ["", "### Pages (HTTP) and throughput (wrk)", ""]
    rows = []
    for r in results:
        for engine in seen:
            measured = r["ours"].get(engine)
            if not measured:
                continue
            for name, p in measured["pages"].items():
                queries = measured["page_queries"][p["path"]]["queries"]
                rows.append(
                    [
                        r["size"],
                        label[engine],
                        name,
                        fmt(p["cold"]),
                        fmt(pct(p["warm"], 50)),
                        fmt(pct(p["warm"], 95)),
                        queries,
                    ]
                )
    lines.append(
        table(["size", "engine", "page", "first", "p50", "p95", "SQL queries"], rows)
    )
    lines.append("")
    rows = []
    for r in results:
        for engine in seen:
            measured = r["ours"].get(engine)
            if not measured:
                continue
            runs = [
                (kind, run)
                for kind, kinds in measured["throughput"].items()
                for run in kinds
            ]
            if "two_servers" in measured:
                runs.append(("search, 2 app servers", measured["two_servers"]))
            for kind, run in runs:
                clients = run["clients"]
                if run.get("servers", 1) > 1:
                    clients = (
                        f"{clients} ({run['servers']} × {clients // run['servers']})"
                    )
                rows.append(
                    [
                        r["size"],
                        label[engine],
                        kind,
                        clients,
                        fmt(run["rps"]),
                        fmt(run["p50_ms"]),
                        fmt(run["p99_ms"]),
                        run["non_2xx"],
                        run["socket_errors"] or "none",
                    ]
                )
            rows.append(
                [
                    r["size"],
                    label[engine],
                    "worker USS MB",
                    "",
                    " / ".join(
                        f"{fmt(m['uss'])} ({fmt(m['anonymous'])} anon.)"
                        for m in measured["uss_mb"]
                    ),
                    "",
                    "",
                    "",
                    "",
                ]
            )
    lines.append(
        table(
            [
                "size",
                "engine",
                "URLs",
                "clients",
                "req/s",
                "p50",
                "p99",
                "non-2xx",
                "socket",
            ],
            rows,
        )
    )
    if "postgres" in seen:
        lines += [
            "",
            "Search, 2 app servers: the PostgreSQL archive served by two "
            f"gunicorns ({WORKERS} workers each, each with its own data directory "
            "and so its own page cache, the same secret key, one database) on two "
            "ports. wrk asks one host, so two wrk processes ran at the same time "
            "with half the connections each, one per server: req/s is the sum of "
            "the two, p50 and p99 the worse of the two. Both servers, PostgreSQL "
            f"and wrk share the same {os.cpu_count()} cores, so this shows what a "
            "second app server costs and keeps on one machine, not what a second "
            "machine would add.",
        ]
    lines += ["", "### Issue 8's and issue 12's targets in this run", ""]
    lines.append(table(["target", "size", "engine", "measured", ""], targets(results)))
    lines += ["", "![search latency against archive size](search-latency.svg)", ""]
    return "\n".join(lines)


def _rate(turns: int, seconds: float | None) -> str:
    return fmt(turns / seconds) if seconds else "–"


def _engines_described(results: list[dict]) -> str:
    parts = []
    if any("whoosh" in r["ours"] for r in results):
        parts.append(
            "**ours (whoosh)**, SQLite and the Whoosh index in the data "
            "directory (the default)"
        )
    pg = next((r["postgres_server"] for r in results if "postgres_server" in r), None)
    if pg:
        parts.append(
            "**ours (postgres)**, `ARCHIVE_SEARCH_BACKEND=postgres` over a "
            f"PostgreSQL {pg['server_version']} database on the same machine "
            f"(shared_buffers {pg['shared_buffers']}, work_mem {pg['work_mem']}: "
            "as installed), its search entries written by `import_transcript` "
            "as it imported"
        )
    if len(parts) == 1:
        return f"Our engine: {parts[0]}."
    return (
        "Our two engines over the same turns, imported from the same files: "
        + " and ".join(parts)
        + "."
    )


def _when(results: list[dict]) -> str:
    stamps = [r.get("measured_at") or time.time() for r in results]
    stamps += [r["started_at"] for r in results if "started_at" in r]
    first, last = (time.gmtime(min(stamps)), time.gmtime(max(stamps)))
    return (
        f"{time.strftime('%Y-%m-%d %H:%M', first)}–{time.strftime('%H:%M UTC', last)}"
    )


def machine() -> str:
    cpu = "?"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def svg_plot(summaries: list[dict]) -> str:
    """p95 cold latency against turns, log–log, one line per engine."""
    series = {}
    for engine in OURS:
        series[f"ours ({engine}, HTTP page)"] = []
        series[f"ours ({engine}, in process)"] = []
    for name in RAW:
        series[f"raw {name}"] = []
    for s in summaries:
        for engine, mine in s["ours"].items():
            point = (s["turns"], mine["page"]["cold_p95"])
            series[f"ours ({engine}, HTTP page)"].append(point)
            point = (s["turns"], mine["inprocess"]["cold_p95"])
            series[f"ours ({engine}, in process)"].append(point)
        for name, raw in s["raw"].items():
            series[f"raw {name}"].append((s["turns"], raw["cold"]["p95"]))
    order = list(series)  # each line keeps its colour whatever is missing
    series = {name: [p for p in values if p[1]] for name, values in series.items()}
    series = {name: values for name, values in series.items() if values}
    points = [p for values in series.values() for p in values]
    if not points:
        return ""
    import math

    width, height, pad, legend = 840, 380, 60, 210
    xs = [math.log10(x) for x, _ in points]
    ys = [math.log10(max(y, 0.1)) for _, y in points]
    x0, x1 = min(xs) - 0.1, max(xs) + 0.1
    y0, y1 = math.floor(min(ys)), math.ceil(max(ys))

    def px(x, y):
        return (
            pad + (math.log10(x) - x0) / (x1 - x0) * (width - 2 * pad - legend),
            height
            - pad
            - (math.log10(max(y, 0.1)) - y0) / (y1 - y0 or 1) * (height - 2 * pad),
        )

    colours = [
        "#c0392b",
        "#e67e22",
        "#2980b9",
        "#5dade2",
        "#2c3e50",
        "#16a085",
        "#8e44ad",
        "#7f8c8d",
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{pad}" y="20">Search p95, cold (ms, log) against turns (log)</text>',
    ]
    for decade in range(y0, y1 + 1):
        _, y = px(10**x0, 10**decade)
        parts.append(
            f'<line x1="{pad}" x2="{width - pad - legend}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{pad - 8}" y="{y + 4:.1f}" '
            f'text-anchor="end">{10**decade:g}</text>'
        )
    for s in summaries:
        x, _ = px(s["turns"], 10**y0)
        parts.append(
            f'<text x="{x:.1f}" y="{height - pad + 18}" '
            f'text-anchor="middle">{s["size"]}</text>'
        )
    for i, (name, values) in enumerate(series.items()):
        colour = colours[order.index(name) % len(colours)]
        places = [px(x, y) for x, y in values]
        coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in places)
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" '
            'stroke-width="2"/>'
        )
        # A dot for each size: a run of one size draws no line.
        parts += [
            f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>'
            for a, b in places
        ]
        parts.append(
            f'<text x="{width - legend}" y="{pad + 16 * i}" '
            f'fill="{colour}">{name}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def write_docs(text: str, svg: str) -> None:
    path = ROOT / "docs" / "performance.md"
    current = path.read_text()
    start, end = "<!-- bench:scale:start -->", "<!-- bench:scale:end -->"
    block = f"{start}\n{text}\n{end}"
    if start in current:
        before, rest = current.split(start, 1)
        after = rest.split(end, 1)[1]
        current = before + block + after
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    path.write_text(current)
    if svg:
        (ROOT / "docs" / "search-latency.svg").write_text(svg)


def main(argv=None) -> None:
    args = parse_args(argv)
    started = time.monotonic()
    results = []
    if args.report_only:
        for size in args.sizes.split(","):
            saved = CACHE / f"result-{size}.json"
            if saved.exists():
                result = json.loads(saved.read_text())
                result.setdefault("measured_at", saved.stat().st_mtime)
                results.append(result)
    else:
        if "postgres" in args.engines and not postgres_answers():
            progress(f"ours (postgres) skipped: no PostgreSQL answers at {PG_SERVER}")
            args.engines.remove("postgres")
            if not args.engines:
                sys.exit("bench: nothing left to measure")
        episodes = corpus_episodes(args)
        sections = query_sections()
        for size in args.sizes.split(","):
            results.append(measure(size, args, episodes, sections))
            results[-1]["measured_at"] = time.time()
            (CACHE / f"result-{size}.json").write_text(json.dumps(results[-1]))
    text = report(results, args)
    if not args.report_only:
        minutes = (time.monotonic() - started) / 60
        text += f"\nThis run of bench/scale.py took {minutes:.1f} min.\n"
    print(text)
    if not args.no_write:
        write_docs(text, svg_plot([summarize(r) for r in results]))


if __name__ == "__main__":
    main()
