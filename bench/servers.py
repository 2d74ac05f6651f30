"""One app server against two, over the PostgreSQL engine's 255k archive
that ``bench/scale.py --sizes 255k`` built (database ``bench_255k``).

    .venv/bin/python bench/servers.py [SECONDS] [ROUNDS]

In turn, ROUNDS times: wrk with 32 connections over the 40 known searches
against one gunicorn with 3 workers, one with 6, and two with 3 each (two
wrk processes of 16 connections, as ``scale.two_servers``). On one machine
this separates what a second server costs from what more processes cost.
Prints a line a run: req/s, p50 and p99 ms, non-2xx responses.
"""

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    archive = scale.Archive(
        "postgres",
        scale.CACHE / "postgres-255k" / "app-1",
        database_url=f"{scale.PG_SERVER}/bench_255k",
    )
    urls = [scale.search_path(q, False) for q in scale.query_sections()["known"]]
    for _ in range(rounds):
        for workers in (3, 6):
            scale.WORKERS = workers
            server = scale.Server(archive.env())
            server.start()
            try:
                run = scale.wrk(urls, 32, seconds)
            finally:
                server.stop()
            show(f"one server, {workers} workers", run)
        scale.WORKERS = 3
        show(
            "two servers, 3 workers each",
            scale.two_servers(archive, urls, 32, SimpleNamespace(seconds=seconds)),
        )


def show(label: str, run: dict) -> None:
    print(
        f"{label}: {run['rps']:.1f} req/s, p50 {run['p50_ms']} ms, "
        f"p99 {run['p99_ms']} ms, non-2xx {run['non_2xx']}",
        flush=True,
    )


if __name__ == "__main__":
    main()
