"""Does the archive hold under load, concurrent writers and faults? Figures
for docs/reliability.md. A benchmark, not a test: it prints what it saw.

    .venv/bin/python bench/reliability.py load          # seed and 255k archives
    .venv/bin/python bench/reliability.py concurrency   # writers + searches, PostgreSQL
    .venv/bin/python bench/reliability.py faults       # kills, full disk, restarts
    .venv/bin/python bench/reliability.py all --seconds 20

Everything runs as `make run` runs it: gunicorn with gunicorn.conf.py (three
workers) and the index consumer beside it, on loopback, with loopback
exempt from the rate limits (ARCHIVE_RATE_LIMIT_EXEMPT, as documented for
load tests). Load comes from wrk with a Lua script that counts every status
code, so a 500 or a 503 cannot hide among the 2xx. The 255k-turn archive is
bench/scale.py's (built from the shared corpus, or reused from var/bench).
The fault that restarts PostgreSQL needs to run as root beside the server
(pg_ctlcluster), and the full disk needs a tmpfs mount (root).
"""

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale

ROOT = scale.ROOT
PY = scale.PY
PORT = scale.PORT
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")

STATUS_LUA = """
local paths = {%s}
local i = 0
counts = {}  -- a global: done() reads each thread's copy
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function() counts = {} end
request = function()
  i = i %% #paths + 1
  return wrk.format('GET', paths[i])
end
response = function(status) counts[status] = (counts[status] or 0) + 1 end
done = function(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for status, n in pairs(c) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, '"' .. status .. '": ' .. n) end
  io.write("STATUSES {" .. table.concat(parts, ", ") .. "}\\n")
  io.write(string.format("LATENCY %%f %%f %%f %%f\\n", latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("TIMEOUTS %%d ERRORS %%d\\n", summary.errors.timeout,
    summary.errors.connect + summary.errors.read + summary.errors.write))
end
"""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wrk(paths: list[str], seconds: int, connections: int = 32) -> dict:
    """wrk at ``connections`` on ``paths`` in turn: rate, percentiles and
    every status code seen."""
    quoted = ", ".join(json.dumps(p) for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(STATUS_LUA % quoted)
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            script.name,
            f"http://127.0.0.1:{PORT}",
        ],
        capture_output=True,
        text=True,
    )
    os.unlink(script.name)
    out = result.stdout
    line = {k: v for k, v in (ln.split(" ", 1) for ln in out.splitlines() if " " in ln)}
    statuses = json.loads(line.get("STATUSES", "{}"))
    p50, p90, p99, worst = (float(x) for x in line["LATENCY"].split())
    timeouts, errors = (int(x) for x in line["TIMEOUTS"].replace("ERRORS ", "").split())
    requests = sum(statuses.values())
    return {
        "requests": requests,
        "rps": round(requests / seconds, 1),
        "statuses": statuses,
        "p50": p50,
        "p90": p90,
        "p99": p99,
        "max": worst,
        "timeouts": timeouts,
        "socket_errors": errors,
    }


def wrk_in_background(paths: list[str], seconds: int) -> subprocess.Popen:
    """wrk() in another process, while this one makes trouble."""
    code = (
        "import json, sys; sys.path.insert(0, 'bench'); import reliability; "
        f"print(json.dumps(reliability.wrk({paths!r}, {seconds})))"
    )
    return subprocess.Popen(
        [PY, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def collect(process: subprocess.Popen) -> dict:
    return json.loads(process.communicate(timeout=3600)[0])


class Archive:
    """gunicorn (make run's three workers) and the index consumer, serving
    the archive in ``data`` (and ``database_url`` if given)."""

    running: list["Archive"] = []

    def __init__(self, data: Path, database_url: str | None = None):
        Archive.running.append(self)
        self.data = data
        self.env = scale.environment(data)
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.env["ARCHIVE_RATE_LIMIT_EXEMPT"] = "127.0.0.1"
        self.env["ARCHIVE_LOG_FORMAT"] = "json"
        self.gunicorn = self.consumer = None
        self.log = data / "serve.log"

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [PY, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if check and result.returncode:
            raise RuntimeError(f"manage.py {args}: {result.stderr[-2000:]}")
        return result

    def start(self, consumer: bool = True) -> None:
        log = self.log.open("a")
        self.gunicorn = subprocess.Popen(
            [
                str(Path(PY).parent / "gunicorn"),
                "archive.wsgi",
                "--config",
                "gunicorn.conf.py",
                "--workers",
                "3",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--access-logfile",
                "/dev/null",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        if consumer:
            self.start_consumer()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=5)
                time.sleep(1)
                return
            except urllib.error.HTTPError:
                return  # answering (perhaps 503: the index is being built)
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(self.log.read_text()[-3000:])

    def background(self, *args: str, **options) -> subprocess.Popen:
        """``manage.py args`` against this archive, running beside us."""
        return subprocess.Popen(
            [PY, "manage.py", *args], cwd=ROOT, env=self.env, text=True, **options
        )

    def start_consumer(self) -> None:
        log = self.log.open("a")
        self.consumer = self.background(
            "index_worker", stdout=log, stderr=log, start_new_session=True
        )

    def stop(self) -> None:
        for process in (self.gunicorn, self.consumer):
            if process and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)

    def queue_length(self) -> int:
        out = self.manage(
            "shell",
            "-v",
            "0",
            "-c",
            "from archive.models import IndexQueue; print(IndexQueue.objects.count())",
        ).stdout
        return int(out.split()[-1])

    def wait_for_queue(self, seconds: float = 600) -> float:
        started = time.monotonic()
        while self.queue_length() and time.monotonic() - started < seconds:
            time.sleep(0.5)
        return time.monotonic() - started

    def errors_logged(self) -> int:
        lines = self.log.read_text(errors="replace").splitlines()
        return sum(
            '"level": "ERROR"' in ln and "Internal Server Error" in ln for ln in lines
        )


PRELUDE = (
    "import os, sys\nsys.path.insert(0, os.getcwd())\nimport django\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'archive.settings')\n"
    "django.setup()\n"
)


def script(archive: "Archive", text: str, *args: str) -> subprocess.Popen:
    """A Python script run against ``archive``'s database, as its own process."""
    path = Path(tempfile.mkstemp(suffix=".py", dir=archive.data)[1])
    path.write_text(PRELUDE + text)
    return subprocess.Popen(
        [PY, str(path), *args],
        cwd=ROOT,
        env=archive.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=3600)
    if process.returncode:
        raise RuntimeError(err[-2000:])
    return out


def api(path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=30) as r:
        return json.loads(r.read())


def seed_archive(work: Path, database_url: str | None = None) -> Archive:
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    archive = Archive(data, database_url)
    archive.manage("migrate", "--noinput")
    archive.manage("collectstatic", "--noinput", "--verbosity", "0")
    archive.manage("import_transcript", "fixtures/interviews")
    archive.manage("index_worker", "--once")
    return archive


def fresh_pg(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


# Load ---------------------------------------------------------------------------


def load(args, work: Path) -> dict:
    results = {}
    seed = seed_archive(work / "seed")
    pages = {
        "home": "/",
        # The seeds' longest interview is also their typical one.
        "interview (27 turns)": "/interviews/cyber-norms-in-us-china-relations/",
        "speaker": "/speakers/tim-maurer/",
        "search page": "/search/?q=norms",
        "search API": "/api/search?q=china+cyber",
    }
    results["seed"] = run_load(seed, pages, args.seconds)
    if not args.no_corpus:
        episodes = scale.corpus_episodes(argparse.Namespace(corpus=args.corpus))
        data, facts = scale.build_archive("255k", episodes)
        big = Archive(data)
        paths = scale.page_paths(data / "archive.sqlite3")
        typical = next(v for k, v in paths.items() if "interview," in k)
        longest = [v for k, v in paths.items() if "interview," in k][-1]
        pages = {
            "home": "/",
            "interview (typical, ~500 turns)": typical,
            "interview (longest)": longest,
            "speaker (most turns)": paths["speaker (most turns)"],
            "search page": "/search/?q=encryption+backdoor",
            "search API": "/api/search?q=%22certificate+authority%22",
        }
        results["255k"] = run_load(big, pages, args.seconds)
        results["255k"]["facts"] = {k: facts.get(k) for k in ("turns", "interviews")}
    return results


def run_load(archive: Archive, pages: dict, seconds: int) -> dict:
    archive.start()
    out = {}
    try:
        for name, path in pages.items():
            say(f"wrk 32 × {seconds} s: {name} {path}")
            out[name] = {"path": path, **wrk([path], seconds)}
            say(f"  {out[name]}")
    finally:
        archive.stop()
    out["server errors logged"] = archive.errors_logged()
    return out


# Concurrent writers ------------------------------------------------------------

EDITOR = """
import random, sys, time
from django.db import transaction
from archive.models import Turn
name, n = sys.argv[-2], int(sys.argv[-1])
pks = list(Turn.objects.filter(interview__published=True).values_list("pk", flat=True))
rng = random.Random(name)
for i in range(n):
    # Read, change and save under a row lock, as a careful editor must: a
    # plain get-then-save would lose a word another process saved between.
    with transaction.atomic():
        turn = Turn.objects.select_for_update().get(pk=rng.choice(pks))
        turn.body += f" zq{name}x{i}"
        turn.save()
print("done", n)
"""

PUBLISHER = """
import sys, time
from archive.models import Interview
n = int(sys.argv[-1])
for i in range(n):
    for interview in Interview.objects.filter(title__startswith="Concurrent"):
        interview.published = not interview.published
        interview.save()
    time.sleep(0.05)
# End with every concurrent interview published.
for interview in Interview.objects.filter(title__startswith="Concurrent"):
    interview.published = True
    interview.save()
print("done", n)
"""


def concurrency(args, work: Path) -> dict:
    database = fresh_pg("archive_reliability")
    archive = seed_archive(work / "concurrency", database)
    sources = work / "concurrency" / "imports"
    sources.mkdir()
    for n in range(args.imports):
        (sources / f"concurrent-{n}.txt").write_text(
            f"---\ntitle: Concurrent import {n}\n---\n"
            f"Ann Lee: Question zqimport{n} about norms?\n\n"
            f"Bo Chen: Answer about sovereignty and zqimportanswer{n}.\n"
        )
    archive.start()
    say("writers and searches at once")
    load_paths = ["/search/?q=norms", "/api/search?q=sovereignty", "/", "/interviews/"]
    wrk_process = wrk_in_background(load_paths, args.seconds)
    time.sleep(2)
    writers = [script(archive, EDITOR, name, str(args.edits)) for name in "abc"]
    writers.append(
        archive.background(
            "import_transcript",
            "--no-progress",
            str(sources),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    )
    time.sleep(3)
    writers.append(script(archive, PUBLISHER, "40"))
    writer_results = []
    for writer in writers:
        _, err = writer.communicate(timeout=1800)
        writer_results.append({"code": writer.returncode, "err": err[-500:]})
    load_result = collect(wrk_process)
    drained = archive.wait_for_queue()
    say("checking every edit is found")
    missing = []
    for name in ("a", "b", "c"):
        for i in range(args.edits):
            token = f"zq{name}x{i}"
            if api(f"/api/search?q={token}&spelling=as-typed")["total"] < 1:
                missing.append(token)
    for n in range(args.imports):
        if api(f"/api/search?q=zqimport{n}&spelling=as-typed")["total"] != 1:
            missing.append(f"zqimport{n}")
    check = archive.manage("check_index", check=False)
    archive.stop()
    return {
        "database": "PostgreSQL",
        "writers": writer_results,
        "edits": 3 * args.edits,
        "imports": args.imports,
        "publish toggles": 40,
        "searches": load_result,
        "queue drained after writers (s)": round(drained, 1),
        "edits not found": missing,
        "check_index": check.stdout.strip().splitlines()[-1],
        "server errors logged": archive.errors_logged(),
    }


# Faults -------------------------------------------------------------------------


def faults(args, work: Path) -> dict:
    out = {}
    out["consumer killed mid-batch"] = kill_consumer(work / "f1")
    out["index disk full"] = full_disk(work / "f2")
    out["index folder deleted while serving"] = delete_index(work / "f3", args.seconds)
    out["PostgreSQL restarted under load"] = restart_postgres(work / "f4", args.seconds)
    if not args.no_corpus:
        out["rebuild killed halfway"] = kill_rebuild(args)
    return out


BULK_EDIT = """
import sys
from archive.models import Turn
tag = sys.argv[-1]
for turn in Turn.objects.all():
    turn.body += f" zq{tag}t{turn.pk}"
    turn.save()
print(Turn.objects.count())
"""


def bulk_edit(archive: Archive, tag: str, repeat: int = 1) -> int:
    for _ in range(repeat):
        out = finish(script(archive, BULK_EDIT, tag))
    return int(out.split()[-1])


def kill_consumer(work: Path) -> dict:
    """A long queue (80 new interviews of 100 turns, imported while no
    consumer runs), a consumer killed with SIGKILL once it has taken some
    of it in, and a new consumer that must finish the job."""
    archive = seed_archive(work)
    folder = work / "many"
    folder.mkdir()
    for n in range(80):
        (folder / f"talk-{n}.txt").write_text(
            "\n\n".join(
                f"{'Ann Lee' if i % 2 else 'Bo Chen'}: Turn {i} of talk {n}, "
                f"about norms and zqkc{n}x{i}."
                for i in range(100)
            )
        )
    archive.manage("import_transcript", "--no-progress", str(folder))
    database = archive.data / "archive.sqlite3"

    def queued() -> int:
        with sqlite3.connect(database, timeout=30) as db:
            return db.execute("select count(*) from archive_indexqueue").fetchone()[0]

    archive.start(consumer=False)
    before = queued()
    archive.start_consumer()
    while queued() >= before:  # under way: the queue has begun to shrink
        time.sleep(0.02)
    time.sleep(0.3)
    os.killpg(archive.consumer.pid, signal.SIGKILL)
    archive.consumer.wait()
    left = queued()
    archive.start_consumer()
    drained = archive.wait_for_queue()
    check = archive.manage("check_index", check=False).stdout.strip().splitlines()[-1]
    found = sum(
        api(f"/api/search?q=zqkc{n}x99&spelling=as-typed")["total"] for n in range(80)
    )
    archive.stop()
    return {
        "interviews queued (80 × 100 turns)": before,
        "left when the consumer was killed (SIGKILL mid-drain)": left,
        "drained by a new consumer (s)": round(drained, 1),
        "last turns of the 80 interviews found": found,
        "check_index": check,
        "server errors logged": archive.errors_logged(),
    }


def full_disk(work: Path) -> dict:
    archive = seed_archive(work)
    index = archive.data / "index"
    saved = work / "index-copy"
    shutil.copytree(index, saved)
    shutil.rmtree(index)
    index.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(index)], check=True
    )
    try:
        shutil.copytree(saved, index, dirs_exist_ok=True)
        filler = index / "filler"
        subprocess.run(["fallocate", "-l", "100m", str(filler)], capture_output=True)
        with filler.open("ab") as f:  # whatever fallocate left, fill to the brim
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        archive.start()
        bulk_edit(archive, "fd")
        time.sleep(5)
        during = wrk(["/search/?q=norms", "/api/search?q=zqfdt*"], 10)
        queued_while_full = archive.queue_length()
        filler.unlink()
        drained = archive.wait_for_queue()
        check = (
            archive.manage("check_index", check=False).stdout.strip().splitlines()[-1]
        )
        found = api("/api/search?q=zqfdt*&spelling=as-typed")["total"]
        archive.stop()
    finally:
        archive.stop()
        subprocess.run(["umount", str(index)], check=False)
    log = archive.log.read_text(errors="replace")
    return {
        "index on a 6 MB tmpfs, filled": True,
        "searches while full": during,
        "queue while full (nothing lost)": queued_while_full,
        "consumer errors logged while full": log.count("No space left on device"),
        "drained once space returned (s)": round(drained, 1),
        "edited turns found after": found,
        "check_index": check,
        "server errors logged": archive.errors_logged(),
    }


def delete_index(work: Path, seconds: int) -> dict:
    archive = seed_archive(work)
    archive.start()
    paths = ["/search/?q=norms", "/api/search?q=china", "/"]
    runner = wrk_in_background(paths, seconds)
    health = []  # (seconds since the deletion, status) of /healthz, twice a second
    started = time.monotonic()
    deleted_at = None
    while runner.poll() is None:
        if deleted_at is None and time.monotonic() - started > seconds / 3:
            shutil.rmtree(archive.data / "index")
            deleted_at = time.monotonic()
        try:
            status = urllib.request.urlopen(
                f"http://127.0.0.1:{PORT}/healthz", timeout=10
            ).status
        except urllib.error.HTTPError as exc:
            status = exc.code
        if deleted_at is not None:
            health.append((round(time.monotonic() - deleted_at, 1), status))
        time.sleep(0.5)
    result = collect(runner)
    unhealthy = [t for t, status in health if status != 200]
    check = archive.manage("check_index", check=False).stdout.strip().splitlines()[-1]
    found = api("/api/search?q=norms")["total"]
    archive.stop()
    return {
        "load during and after the deletion": result,
        "deleted after (s)": round(seconds / 3, 1),
        "healthz 503 from / to (s after the deletion)": (
            [unhealthy[0], unhealthy[-1]] if unhealthy else None
        ),
        "healthz at the end": health[-1][1] if health else None,
        "search after": found,
        "check_index": check,
        "server errors logged": archive.errors_logged(),
    }


def restart_postgres(work: Path, seconds: int) -> dict:
    database = fresh_pg("archive_reliability_restart")
    archive = seed_archive(work, database)
    archive.start()
    paths = [
        "/",
        "/interviews/",
        "/search/?q=norms",
        "/api/search?q=china",
        "/speakers/tim-maurer/",
    ]
    runner = wrk_in_background(paths, seconds)
    time.sleep(seconds / 3)
    started = time.monotonic()
    subprocess.run(["pg_ctlcluster", "15", "main", "restart"], check=True)
    restart = time.monotonic() - started
    result = collect(runner)
    after = wrk(paths, 5)
    archive.stop()
    return {
        "restart took (s)": round(restart, 1),
        "load across the restart": result,
        "load after": after,
        "server errors logged": archive.errors_logged(),
    }


def kill_rebuild(args) -> dict:
    episodes = scale.corpus_episodes(argparse.Namespace(corpus=args.corpus))
    data, _ = scale.build_archive("255k", episodes)
    archive = Archive(data)
    archive.start()
    before = api("/api/search?q=%22certificate+authority%22")["total"]
    rebuild = archive.background(
        "rebuild_index",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(60)
    during = wrk(
        ["/api/search?q=%22certificate+authority%22", "/search/?q=encryption"], 10
    )
    os.killpg(rebuild.pid, signal.SIGKILL)
    rebuild.wait()
    after = api("/api/search?q=%22certificate+authority%22")["total"]
    check = archive.manage("check_index", check=False).stdout.strip().splitlines()[-1]
    archive.stop()
    return {
        "killed after (s)": 60,
        "hits before / after": [before, after],
        "searches during the rebuild": during,
        "check_index after": check,
        "server errors logged": archive.errors_logged(),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["load", "concurrency", "faults", "all"])
    parser.add_argument("--seconds", type=int, default=60, help="per wrk run")
    parser.add_argument("--edits", type=int, default=150, help="per editor process")
    parser.add_argument("--imports", type=int, default=40)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpus")
    parser.add_argument("--no-corpus", action="store_true", help="seed archive only")
    args = parser.parse_args(argv)
    results = {}
    # Kept after the run (logs, databases) for a look at anything odd.
    work = ROOT / "var" / "reliability"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        for what in ("load", "concurrency", "faults"):
            if args.what in (what, "all"):
                results[what] = globals()[what](args, work)
                print(json.dumps({what: results[what]}, indent=1), flush=True)
    finally:
        for archive in Archive.running:  # whatever failed, no server lingers
            archive.stop()
    out = ROOT / "var" / f"reliability-{args.what}.json"
    out.write_text(json.dumps(results, indent=1))
    say(f"written to {out}")


if __name__ == "__main__":
    main()
