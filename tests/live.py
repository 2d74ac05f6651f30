"""A real archive served by gunicorn, with the indexing consumer beside it,
as `make run` serves it: for the browser tests and the screenshots.

Everything runs in subprocesses, in its own data directory (and its own
SQLite file, or a PostgreSQL database of its own when ``database_url`` is
given), with DEBUG off.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAFF = ("curator", "a-long-browser-test-password")


def isolated_env(data_dir: Path, database_url: str | None = None) -> dict:
    """Environment for a subprocess with its own data directory (and SQLite
    file there unless ``database_url`` says otherwise), DEBUG off."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "DATABASE_REPLICA_URL",
            "DJANGO_DEBUG",
            "DJANGO_SECRET_KEY",
        }
    }
    env["ARCHIVE_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "archive.settings"
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        # Its own SQLite file: the suite's PostgreSQL search engine (the
        # third run of `make test`) cannot serve it.
        env.pop("ARCHIVE_SEARCH_BACKEND", None)
    return env


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {args}:\n{result.stdout}{result.stderr}")
    return result


def create_staff(env) -> None:
    """The staff account ``STAFF`` (username, password)."""
    manage(
        env | {"DJANGO_SUPERUSER_PASSWORD": STAFF[1]},
        "createsuperuser",
        "--noinput",
        "--username",
        STAFF[0],
        "--email",
        "curator@example.org",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_postgres_database(url: str, name: str) -> str:
    """A new, empty database ``name`` on the server of ``url``."""
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def database_for(engine: str, name: str) -> str | None:
    """For a test run on both engines: None (its own SQLite file) for
    "sqlite", else a fresh database ``name`` on the suite's PostgreSQL; the
    PostgreSQL variant is skipped when the suite runs on SQLite."""
    if engine == "sqlite":
        return None
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("PostgreSQL variant: run with DATABASE_URL on PostgreSQL")
    return fresh_postgres_database(url, name)


@contextlib.contextmanager
def serve(data_dir: Path, database_url: str | None = None, public_url: str = ""):
    """Set up an archive with the seed interviews and a staff account, serve
    it, and yield its base URL."""
    env = isolated_env(data_dir, database_url)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(env, "import_transcript", "fixtures/interviews")
    manage(env, "index_worker", "--once")
    create_staff(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["ARCHIVE_PUBLIC_URL"] = public_url or base
    # Tests poll and repeat searches; the limits have tests of their own.
    env["ARCHIVE_RATE_LIMIT_EXEMPT"] = "127.0.0.1"
    log = (data_dir / "server.log").open("w")
    processes = [
        gunicorn(env, port, log),
        subprocess.Popen(
            [sys.executable, "manage.py", "index_worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        wait_until_serving(base, processes[0], data_dir / "server.log")
        yield base
    finally:
        stop(processes)
        log.close()


def gunicorn(env: dict, port: int, log, workers: int = 2) -> subprocess.Popen:
    """gunicorn serving the archive on loopback with the repository's
    gunicorn.conf.py, as `make run` does; output to ``log``."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "archive.wsgi",
            "--config",
            "gunicorn.conf.py",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_until_serving(base: str, server, log_path: Path, seconds: float = 30):
    """Return once ``base`` answers; fail with the server's log if it dies
    first (a generous safety net, not a measurement)."""
    deadline = time.monotonic() + seconds
    while True:
        if server.poll() is not None:
            raise RuntimeError(log_path.read_text())
        try:
            urllib.request.urlopen(base + "/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers, if not with a page
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stop(processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
