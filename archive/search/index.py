"""Where the Whoosh index lives, its schema, and who may write to it.

Layout under ``$ARCHIVE_DATA_DIR/index``::

    CURRENT           the build id of the index that serves (written atomically)
    build-<id>/       one Whoosh index per build
    write.lock        held by whoever writes: the queue consumer or a rebuild

Readers never lock. Each process keeps one searcher and checks ``CURRENT``
before every search: an open searcher of an old build would otherwise believe
it is up to date, because Whoosh only compares generations within one index.
"""

import contextlib
import fcntl
import os
import shutil
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from whoosh import fields, index
from whoosh.filedb.filestore import FileStorage

from archive.search.analysis import policy_analyzer, spelling_analyzer


def schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),  # "t<turn pk>" or "i<interview pk>"
        kind=fields.ID(stored=True),  # question, answer, remark, lede
        interview=fields.ID(stored=True, sortable=True),  # interview pk
        interview_slug=fields.ID,
        speaker=fields.ID(stored=True, sortable=True),  # speaker slug
        speaker_names=fields.KEYWORD(lowercase=True),  # slug, name and alias words
        role=fields.ID,
        series=fields.ID,
        topics=fields.KEYWORD,
        date=fields.NUMERIC(int, bits=32, sortable=True, stored=True),  # 0: unknown
        date_asc=fields.NUMERIC(int, bits=32, sortable=True),  # unknown sorts last
        anchor=fields.NUMERIC(int, stored=True),
        position=fields.NUMERIC(int, stored=True, sortable=True),
        text=fields.TEXT(
            analyzer=policy_analyzer(), phrase=True, chars=True, stored=True
        ),
        words=fields.TEXT(analyzer=spelling_analyzer(), phrase=False, spelling=True),
    )


def root() -> Path:
    path = Path(getattr(settings, "ARCHIVE_INDEX_DIR", settings.DATA_DIR / "index"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def current_build() -> str | None:
    try:
        return (root() / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


def build_path(build: str) -> Path:
    return root() / f"build-{build}"


def new_build_id() -> str:
    return f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"


def create_build(build: str) -> index.Index:
    path = build_path(build)
    path.mkdir(parents=True)
    return FileStorage(str(path)).create_index(schema())


def switch_to(build: str) -> None:
    """Make ``build`` the serving index, atomically, and drop older builds."""
    previous = current_build()
    pointer = root() / "CURRENT"
    tmp = root() / f".CURRENT.{os.getpid()}"
    with open(tmp, "w") as handle:
        handle.write(build + "\n")
        handle.flush()
        os.fsync(handle.fileno())  # never an empty pointer after a crash
    os.replace(tmp, pointer)
    if previous and previous != build:
        # Searchers in other processes may still read the build that served
        # until now: it is kept a while, counted from now. Its own mtime only
        # says when it was last written, which can be long ago.
        with contextlib.suppress(FileNotFoundError):
            os.utime(build_path(previous))
    for old in root().glob("build-*"):
        if old.name != f"build-{build}" and _older_than(old, seconds=600):
            shutil.rmtree(old, ignore_errors=True)


def _older_than(path: Path, seconds: int) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except FileNotFoundError:
        return False


def open_current() -> index.Index:
    """The serving index, creating an empty one on first use."""
    return _open_current()[1]


def _open_current() -> tuple[str, index.Index]:
    """(build id, index) of the serving index, read from one look at CURRENT."""
    build = current_build()
    if build is None or not build_path(build).exists():
        with write_lock(timeout=30):
            ix = open_current_locked()
            return current_build(), ix
    return build, index.open_dir(str(build_path(build)))


def open_current_locked() -> index.Index:
    """``open_current`` for a caller that already holds the write lock."""
    build = current_build()
    if build is None or not build_path(build).exists():
        build = new_build_id()
        create_build(build)
        switch_to(build)
    return index.open_dir(str(build_path(build)))


@contextlib.contextmanager
def write_lock(timeout: float | None = None):
    """The one-writer lock, shared by the consumer and rebuilds (a file lock,
    so it holds across processes and is released if a process dies)."""
    path = root() / "write.lock"
    with open(path, "a") as handle:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError("the search index is busy") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Searchers:
    """One open searcher per process, reopened when the index changes."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key = None
        self._index = None
        self._searcher = None
        self.columns: dict = {}

    def get(self):
        key = (str(root()), current_build())
        with self._lock:
            if self._searcher is None or key != self._key:
                self._close()
                # The key must name the build actually opened: reading
                # CURRENT again could see a newer build than the one open,
                # and this searcher would then never move to it.
                build, self._index = _open_current()
                self._searcher = self._index.searcher()
                self._key = (str(root()), build)
                self.columns = {}
            elif not self._searcher.up_to_date():
                # Not Searcher.refresh(): in whoosh-reloaded 2.7.5 it keeps
                # the old segments beside the new ones (replaced and deleted
                # documents stay findable) and shares its readers with the
                # searcher it replaces, so closing that one breaks it.
                self._close()
                self._searcher = self._index.searcher()
                self.columns = {}
            return self._searcher

    def column(self, name: str) -> list:
        """A whole column as a list, docnum → value, cached per searcher."""
        if name not in self.columns:
            reader = self._searcher.reader()
            self.columns[name] = list(reader.column_reader(name))
        return self.columns[name]

    def _close(self):
        if self._searcher is not None:
            with contextlib.suppress(Exception):
                self._searcher.close()
        self._searcher = None

    def reset(self):
        with self._lock:
            self._close()
            self._key = None


searchers = _Searchers()
