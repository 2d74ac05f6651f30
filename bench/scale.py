"""Search and pages at archive scale: real transcripts, real server, raw engines.

A benchmark, not a test: it prints figures and writes them to
docs/performance.md and docs/search-latency.svg; it asserts nothing.

    make bench                                   # 10k, 100k, 255k and 1M turns
    .venv/bin/python bench/scale.py --quick      # 10k turns, a few minutes
    .venv/bin/python bench/scale.py --sizes 255k --no-write

It needs the Security Now transcripts, ``securitynow.tar.xz`` of the shared
corpus (``../shared/corpus``; ``--corpus`` names another folder holding it).
Without them it says where to put them and stops.

For each size it builds an archive (``var/bench/``): the episodes are
imported with ``manage.py import_transcript`` (the 1M archive imports the
corpus four times, each copy under its own folder so every copy is new
interviews with new slugs) and indexed with ``manage.py rebuild_index``;
import and rebuild rates are recorded. Built archives are kept, keyed by the
corpus and by the code that shapes them (importer and parsing for the
database, the search package for the index), so a later run reuses them.
The raw engines' indexes are kept beside them.

Then, per size:

- gunicorn serves the archive with ``gunicorn.conf.py`` and make run's three
  workers. One client asks every query of ``bench/queries.txt`` for the
  search page and then the API: "cold" is each query's first run after the
  server started (the server is restarted before each pass), "warm" three
  more runs. Throughput with wrk at 1, 8 and 32 connections on search URLs
  and on an interview page; each worker's private memory (USS, from
  /proc/<pid>/smaps_rollup) at the end.
- ``archive.search.search`` in a fresh process (``bench/inprocess.py``):
  the engine and its database queries without HTTP, cold and warm.
- Raw Whoosh, SQLite FTS5 and tantivy (``bench/engines.py``) over the same
  turns, top 10 with highlighted fragments and the exact total, on the
  queries of the [known] and [language] sections.
- Pages over HTTP: home, an interview of about 500 turns, the longest one,
  a speaker page; latency, and SQL queries per page (in process).
"""

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse
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
PORT = 8391
LABEL = re.compile(r"^[A-Z][A-Z .'\-]{1,40}:\s", re.M)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k turns only")
    parser.add_argument("--sizes", default="10k,100k,255k,1M")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpus")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--no-raw", action="store_true", help="skip raw engines")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the report from the results the last run saved in var/bench",
    )
    args = parser.parse_args(argv)
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


def environment(data_dir: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DJANGO_DEBUG", "ARCHIVE_INDEX_DIR"}
    }
    env["ARCHIVE_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "archive.settings"
    return env


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


def source_folder(episodes: Path, turns: int, work: Path) -> Path:
    """A folder of links to the episodes that make about ``turns`` turns."""
    folder = work / "source"
    if folder.exists():
        shutil.rmtree(folder)
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


def build_archive(size: str, episodes: Path) -> tuple[Path, dict]:
    """The archive of ``size`` turns, built or reused; (data dir, facts)."""
    db_key = code_key(
        "archive/importer.py", "archive/parsing/*.py", "archive/migrations/*.py"
    )
    # What shapes the index's content (not how it is searched).
    index_key = code_key(
        *(
            f"archive/search/{name}.py"
            for name in ("analysis", "documents", "index", "segments", "writer")
        )
    )
    work = CACHE / f"archive-{episodes.parent.name}-{db_key}-{size}"
    data = work / "data"
    facts_path = work / "facts.json"
    facts = json.loads(facts_path.read_text()) if facts_path.exists() else {}
    env = environment(data)
    if not facts.get("imported"):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        manage(env, "migrate", "--noinput")
        source = source_folder(episodes, SIZES[size], work)
        progress(f"{size}: importing {source}")
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
    database = data / "archive.sqlite3"
    counts = sqlite_counts(database)
    facts.update(counts)
    facts["index_mb"] = folder_mb(data / "index")
    facts["database_mb"] = database.stat().st_size / 2**20
    return data, facts


def sqlite_counts(database: Path) -> dict:
    import sqlite3

    with sqlite3.connect(database) as db:
        turns = db.execute("select count(*) from archive_turn").fetchone()[0]
        interviews = db.execute("select count(*) from archive_interview").fetchone()[0]
    return {"turns": turns, "interviews": interviews}


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# Serving -----------------------------------------------------------------------


class Server:
    def __init__(self, data: Path):
        self.data = data
        self.process = None

    def start(self) -> None:
        env = environment(self.data)
        env["WEB_CONCURRENCY"] = str(WORKERS)
        env["ARCHIVE_BIND"] = f"127.0.0.1:{PORT}"
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
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", PORT), timeout=1):
                    pass
                if len(self.workers()) == WORKERS:
                    get("/")
                    time.sleep(1)  # the workers' warm-up searches
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

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


_connection: HTTPConnection | None = None


def get(path: str) -> tuple[int, bytes]:
    global _connection
    for attempt in range(2):
        try:
            if _connection is None:
                _connection = HTTPConnection("127.0.0.1", PORT, timeout=120)
            _connection.request("GET", path)
            response = _connection.getresponse()
            return response.status, response.read()
        except (OSError, ConnectionError):
            _connection = None
            if attempt:
                raise
    raise AssertionError("unreachable")


def timed(path: str) -> tuple[float, int]:
    started = time.perf_counter()
    status, _ = get(path)
    return (time.perf_counter() - started) * 1000, status


def search_path(query: str, api: bool) -> str:
    base = "/api/search" if api else "/search/"
    return f"{base}?{urllib.parse.urlencode({'q': query})}"


def time_http_searches(server: Server, queries: list[str]) -> dict:
    out = {}
    for api in (False, True):
        global _connection
        server.stop()
        _connection = None
        server.start()
        name = "api" if api else "page"
        rows = {q: {"ms": [], "status": []} for q in queries}
        for _ in range(4):  # the first pass after the start is the cold one
            for query in queries:
                ms, status = timed(search_path(query, api))
                rows[query]["ms"].append(ms)
                rows[query]["status"].append(status)
        out[name] = rows
    return out


def wrk(paths: list[str], clients: int, seconds: int) -> dict:
    quoted = ", ".join(json.dumps(p) for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            f"local paths = {{{quoted}}}\nlocal i = 0\n"
            "request = function()\n  i = i % #paths + 1\n"
            "  return wrk.format('GET', paths[i])\nend\n"
        )
    threads = min(clients, 2)
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{clients}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            script.name,
            f"http://127.0.0.1:{PORT}",
        ],
        capture_output=True,
        text=True,
    )
    os.unlink(script.name)
    text = result.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = re.search(r"Socket errors: (.*)", text)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", text)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    return {
        "clients": clients,
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


def page_paths(database: Path) -> dict[str, str]:
    import sqlite3

    with sqlite3.connect(database) as db:
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
        cold, status = timed(path)
        warm = [timed(path)[0] for _ in range(20)]
        out[name] = {"path": path, "cold": cold, "warm": warm, "status": status}
    return out


# In process and raw engines -------------------------------------------------------


def inprocess(data: Path, mode: str, argument) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(argument, handle)
    result = subprocess.run(
        [PY, str(ROOT / "bench" / "inprocess.py"), mode, handle.name],
        env=environment(data),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    os.unlink(handle.name)
    if result.returncode:
        sys.exit(f"bench: inprocess {mode} failed:\n{result.stderr}")
    return json.loads(result.stdout)


def inprocess_raw(data: Path, mode: str, argument: str) -> dict:
    result = subprocess.run(
        [PY, str(ROOT / "bench" / "inprocess.py"), mode, argument],
        env=environment(data),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode:
        sys.exit(f"bench: inprocess {mode} failed:\n{result.stderr}")
    return json.loads(result.stdout)


def raw_engines(work: Path, data: Path, queries: list[str]) -> dict:
    raw = work / "raw"
    turns_file = raw / "turns.tsv"
    raw.mkdir(exist_ok=True)
    if not turns_file.exists():
        subprocess.run(
            [PY, str(ROOT / "bench" / "inprocess.py"), "turns", str(turns_file)],
            env=environment(data),
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
    built = {
        "whoosh": engines.RawWhoosh(raw / "whoosh"),
        "fts5": engines.RawFTS5(raw / "fts5.sqlite3"),
        "tantivy": engines.RawTantivy(raw / "tantivy"),
    }
    facts_path = raw / "builds.json"
    builds = json.loads(facts_path.read_text()) if facts_path.exists() else {}
    for name, engine in built.items():
        if name not in builds:
            progress(f"  building raw {name}")
            builds[name] = engine.build(read_turns(turns_file))
            facts_path.write_text(json.dumps(builds))
            engine.close()
        fresh = type(engine)(engine_path(raw, name))
        fresh.open()
        built[name] = fresh
    times = engines.run(built.values(), queries, repeat=4)
    for engine in built.values():
        engine.close()
    return {"times": times, "builds": builds}


def engine_path(raw: Path, name: str) -> Path:
    return {
        "whoosh": raw / "whoosh",
        "fts5": raw / "fts5.sqlite3",
        "tantivy": raw / "tantivy",
    }[name]


def read_turns(path: Path):
    with open(path) as handle:
        for line in handle:
            pk, speaker, day, text = line.rstrip("\n").split("\t", 3)
            yield {"id": int(pk), "speaker": speaker, "date": int(day), "text": text}


# One size ------------------------------------------------------------------------


def measure(size: str, args, episodes: Path, sections: dict) -> dict:
    data, facts = build_archive(size, episodes)
    queries = [q for section in sections.values() for q in section]
    raw_queries = sections["known"] + sections.get("language", [])
    result = {"size": size, "facts": facts, "sections": sections}
    if size == args.sizes.split(",")[0]:
        progress(f"{size}: where indexing time goes")
        result["writer"] = inprocess_raw(data, "writer", "10000")
    progress(f"{size}: in-process searches")
    result["inprocess"] = inprocess(data, "search", queries)
    server = Server(data)
    try:
        progress(f"{size}: searches over HTTP")
        result["http"] = time_http_searches(server, queries)
        paths = page_paths(data / "archive.sqlite3")
        progress(f"{size}: pages")
        result["pages"] = time_pages(server, paths)
        result["page_queries"] = inprocess(data, "pages", list(paths.values()))
        progress(f"{size}: throughput")
        search_urls = [search_path(q, False) for q in sections["known"]]
        interview = next(p for n, p in paths.items() if "interview, " in n)
        result["throughput"] = {
            "search": [
                wrk(search_urls, int(c), args.seconds) for c in args.clients.split(",")
            ],
            "interview": [
                wrk([interview], int(c), args.seconds) for c in args.clients.split(",")
            ],
        }
        result["uss_mb"] = server.uss_mb()
    finally:
        server.stop()
    if not args.no_raw:
        progress(f"{size}: raw engines")
        result["raw"] = raw_engines(data.parent, data, raw_queries)
    return result


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


def ours(result: dict, which: str, queries: list[str]) -> dict:
    rows = result["http"][which]
    cold = [rows[q]["ms"][0] for q in queries]
    warm = [ms for q in queries for ms in rows[q]["ms"][1:]]
    return {"cold": cold, "warm": warm}


def summarize(result: dict) -> dict:
    sections = result["sections"]
    known = sections["known"]
    every = [q for s in sections.values() for q in s]
    out = {"size": result["size"], "turns": result["facts"]["turns"]}
    for which in ("page", "api"):
        times = ours(result, which, known)
        everything = ours(result, which, every)
        out[which] = {
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
                for status in result["http"][which][q]["status"]
                if status != 200
            ),
        }
    inproc = result["inprocess"]["queries"]
    out["inprocess"] = {
        "cold_p50": pct([inproc[q]["ms"][0] for q in known], 50),
        "cold_p95": pct([inproc[q]["ms"][0] for q in known], 95),
        "warm_p95": pct([ms for q in known for ms in inproc[q]["ms"][1:]], 95),
    }
    if "raw" in result:
        out["raw"] = {}
        for name, per_query in result["raw"]["times"].items():
            only_known = {q: per_query[q] for q in known if q in per_query}
            cold = engines.summary(engines.collect(only_known, "cold"))
            warm = engines.summary(engines.collect(only_known, "warm"))
            out["raw"][name] = {"cold": cold, "warm": warm}
    return out


def targets(results: list[dict]) -> list[list]:
    """Issue 8's targets against what this run measured."""
    by_size = {r["size"]: r for r in results}
    rows = []

    def add(target, size, value, limit, higher_is_better=False, unit="ms"):
        if value is None:
            rows.append([target, size, "not measured", ""])
            return
        met = value >= limit if higher_is_better else value <= limit
        rows.append([target, size, f"{fmt(value)} {unit}", "met" if met else "NOT met"])

    def known(size, which, key):
        r = by_size.get(size)
        return summarize(r)[which][key] if r else None

    for which in ("page", "api"):
        for label, size, key, limit in (
            ("cold p50 ≤ 20 ms", "255k", "cold_p50", 20),
            ("cold p95 ≤ 50 ms", "255k", "cold_p95", 50),
            ("no known query above 250 ms", "255k", "cold_max", 250),
            ("cold p95 ≤ 150 ms", "1M", "cold_p95", 150),
        ):
            add(f"search {which}: {label}", size, known(size, which, key), limit)
    r = by_size.get("255k")
    hostile = None
    if r:
        hostile = max(
            max(r["http"][w][q]["ms"])
            for w in ("page", "api")
            for q in r["sections"].get("hostile", [])
        )
    add("every hostile query under 1 s", "255k", hostile, 1000)
    facts = r["facts"] if r else {}
    rate = (
        facts["turns"] / facts["rebuild_seconds"]
        if facts.get("rebuild_seconds")
        else None
    )
    add("rebuild_index ≥ 2,500 turns/s", "255k", rate, 2500, True, "turns/s")
    total = (
        facts["import_seconds"] + facts["rebuild_seconds"]
        if facts.get("rebuild_seconds") and facts.get("import_seconds")
        else None
    )
    add("import + index under 5 minutes", "255k", total, 300, unit="s")
    page = None
    if r:
        near = [n for n in r["pages"] if n.startswith("interview, ")]
        if near:
            page = pct(r["pages"][near[0]]["warm"], 95)
    add("interview page (about 500 turns) p95 ≤ 30 ms", "255k", page, 30)
    for kind, limit in (("interview", 300), ("search", 60)):
        run = None
        if r:
            run = next((t for t in r["throughput"][kind] if t["clients"] == 32), None)
        add(
            f"{kind} at 32 clients ≥ {limit} req/s",
            "255k",
            run["rps"] if run else None,
            limit,
            True,
            "req/s",
        )
    big = by_size.get("1M")
    uss = max(m["uss"] for m in big["uss_mb"]) if big else None
    add("worker private memory ≤ 200 MB", "1M", uss, 200, unit="MB")
    return rows


def report(results: list[dict], args) -> str:
    summaries = [summarize(r) for r in results]
    lines = [
        "## Figures at scale (`make bench`, bench/scale.py)",
        "",
        f"Measured {_when(results)} on "
        f"{machine()}. gunicorn with gunicorn.conf.py and {WORKERS} workers "
        "(make run's), SQLite, one client for latencies. Milliseconds. The "
        "machine is shared and noisy: read the ratios to the raw engines, "
        "measured in the same run over the same turns, as the firm numbers.",
        "",
        "### Archives",
        "",
    ]
    rows = []
    for r in results:
        f = r["facts"]
        rows.append(
            [
                r["size"],
                f"{f['turns']:,}",
                f"{f['interviews']:,}",
                fmt(f.get("import_seconds")),
                fmt(f["turns"] / f["import_seconds"])
                if f.get("import_seconds")
                else "–",
                fmt(f.get("rebuild_seconds")),
                fmt(f["turns"] / f["rebuild_seconds"])
                if f.get("rebuild_seconds")
                else "–",
                fmt(f["index_mb"]),
            ]
        )
    lines.append(
        table(
            [
                "size",
                "turns",
                "interviews",
                "import s",
                "import turns/s",
                "rebuild s",
                "rebuild turns/s",
                "index MB",
            ],
            rows,
        )
    )
    writer = next((r["writer"] for r in results if "writer" in r), None)
    if writer:
        lines += [
            "",
            f"Where indexing time goes, {writer['documents']:,} documents in one "
            f"process: reading the database {writer['database_read_s']:.1f} s, "
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
        for which in ("page", "api"):
            x = s[which]
            rows.append(
                [
                    s["size"],
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
        ours_cold = s["inprocess"]["cold_p95"]
        row = [s["size"], fmt(s["inprocess"]["cold_p50"]), fmt(ours_cold)]
        for name in ("whoosh", "fts5", "tantivy"):
            raw = s.get("raw", {}).get(name)
            if raw:
                p95 = raw["cold"]["p95"]
                row += [fmt(p95), f"{ours_cold / p95:.1f}×" if p95 else "–"]
            else:
                row += ["–", "–"]
        rows.append(row)
    lines.append(
        table(
            [
                "size",
                "ours p50",
                "ours p95",
                "Whoosh p95",
                "ours/Whoosh",
                "FTS5 p95",
                "ours/FTS5",
                "tantivy p95",
                "ours/tantivy",
            ],
            rows,
        )
    )
    lines += ["", "### Every query, cold, search page over HTTP (largest size)", ""]
    last = results[-1]
    rows = []
    for section, queries in last["sections"].items():
        for q in queries:
            ms = last["http"]["page"][q]["ms"]
            total = last["inprocess"]["queries"][q]["total"]
            shown = q if len(q) <= 48 else q[:45] + "…"
            rows.append([section, f"`{shown}`", fmt(ms[0]), fmt(min(ms[1:])), total])
    lines.append(table(["set", "query", "cold", "warm", "total"], rows))
    lines += ["", "### Pages (HTTP) and throughput (wrk)", ""]
    rows = []
    for r in results:
        for name, p in r["pages"].items():
            queries = r["page_queries"][p["path"]]["queries"]
            rows.append(
                [
                    r["size"],
                    name,
                    fmt(p["cold"]),
                    fmt(pct(p["warm"], 50)),
                    fmt(pct(p["warm"], 95)),
                    queries,
                ]
            )
    lines.append(table(["size", "page", "first", "p50", "p95", "SQL queries"], rows))
    lines.append("")
    rows = []
    for r in results:
        for kind, runs in r["throughput"].items():
            for run in runs:
                rows.append(
                    [
                        r["size"],
                        kind,
                        run["clients"],
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
                "worker USS MB",
                "",
                " / ".join(
                    f"{fmt(m['uss'])} ({fmt(m['anonymous'])} anon.)"
                    for m in r["uss_mb"]
                ),
                "",
                "",
                "",
                "",
            ]
        )
    lines.append(
        table(
            ["size", "URLs", "clients", "req/s", "p50", "p99", "non-2xx", "socket"],
            rows,
        )
    )
    lines += ["", "### Issue 8's targets in this run", ""]
    lines.append(table(["target", "size", "measured", ""], targets(results)))
    lines += ["", "![search latency against archive size](search-latency.svg)", ""]
    return "\n".join(lines)


def _when(results: list[dict]) -> str:
    stamps = [r.get("measured_at") or time.time() for r in results]
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
    series = {"ours (HTTP page)": [], "ours (in process)": []}
    for name in ("whoosh", "fts5", "tantivy"):
        series[f"raw {name}"] = []
    for s in summaries:
        series["ours (HTTP page)"].append((s["turns"], s["page"]["cold_p95"]))
        series["ours (in process)"].append((s["turns"], s["inprocess"]["cold_p95"]))
        for name, raw in s.get("raw", {}).items():
            series[f"raw {name}"].append((s["turns"], raw["cold"]["p95"]))
    points = [p for values in series.values() for p in values if p[1]]
    if not points:
        return ""
    import math

    width, height, pad, legend = 820, 380, 60, 190
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

    colours = ["#c0392b", "#e67e22", "#2c3e50", "#16a085", "#8e44ad"]
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
        values = [(x, y) for x, y in values if y]
        if not values:
            continue
        colour = colours[i % len(colours)]
        coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in (px(x, y) for x, y in values))
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" '
            'stroke-width="2"/>'
        )
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
