"""Where the Whoosh index lives, its schema, and who may write to it.

Layout under ``$ARCHIVE_DATA_DIR/index``::

    CURRENT           the build id of the index that serves (written atomically)
    build-<id>/       one Whoosh index per build, with its segment arrays
                      (``segments.py``) and VERSION, the INDEX_VERSION it was
                      built for
    write.lock        held by whoever writes: the queue consumer or a rebuild

Readers never lock. Each process keeps one ``View`` (a Whoosh searcher and
the arrays of its segments) and checks ``CURRENT`` before every search: an
open searcher of an old build would otherwise believe it is up to date,
because Whoosh only compares generations within one index.

A build made for another INDEX_VERSION (the analysis or the arrays changed)
is not searched: searches say so, and ``rebuild_index`` (which the index
consumer runs by itself) replaces it. A missing index is never created by a
reader: searches find nothing and say the index is being built.
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

from archive.search import segments
from archive.search.analysis import policy_analyzer, spelling_analyzer
from archive.search.writer import Writer, live_mask

# Bump whenever what is indexed changes (schema, analysis, segment arrays):
# an index built for another version must be rebuilt before it is searched.
INDEX_VERSION = 2


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
        # Positions and character spans live in the segment arrays.
        text=fields.TEXT(analyzer=policy_analyzer(), phrase=False, stored=True),
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
    ix = create_index_at(path)
    (path / "VERSION").write_text(f"{INDEX_VERSION}\n")
    return ix


def create_index_at(path: Path) -> index.Index:
    return FileStorage(str(path)).create_index(schema())


def open_dir(path: Path) -> index.Index:
    return index.open_dir(str(path))


def combine_parts(build: str, folders: list[Path]) -> None:
    """Move the segments written in ``folders`` into ``build`` and list them
    all in its table of contents (what Whoosh's own multi-process writer
    does with the segments of its sub-writers)."""
    target = build_path(build)
    ix = index.open_dir(str(target))
    collected = []
    for folder in folders:
        part = index.open_dir(str(folder))
        segments_of_part = part._segments()
        for segment in segments_of_part:
            prefix = f"{segment.segment_id()}."
            for name in os.listdir(folder):
                if name.startswith(prefix):
                    os.replace(folder / name, target / name)
        collected += segments_of_part
        shutil.rmtree(folder)
    toc = index.TOC(ix.schema, collected, ix.latest_generation() + 1)
    toc.write(ix.storage, ix.indexname)
    index.clean_files(ix.storage, ix.indexname, toc.generation, collected)


def build_version(build: str) -> int | None:
    try:
        return int((build_path(build) / "VERSION").read_text())
    except (FileNotFoundError, ValueError):
        return None


def needs_rebuild() -> str | None:
    """Why the serving index cannot serve (missing, or built for another
    version), or None when it can."""
    build = current_build()
    if build is None or not build_path(build).exists():
        return "missing"
    if build_version(build) != INDEX_VERSION:
        return "outdated"
    return None


def writer(ix: index.Index, memory_mb: int = 256) -> Writer:
    """The writer every change goes through (see ``writer.py``)."""
    return Writer(ix, Path(ix.storage.folder), memory_mb=memory_mb)


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


class IndexUnavailable(Exception):
    """No index can serve: it is missing or was built for another version."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def open_current() -> index.Index:
    """The serving index (IndexUnavailable when there is none to serve)."""
    return _open_current()[1]


def _open_current() -> tuple[str, index.Index]:
    """(build id, index) of the serving index, read from one look at CURRENT."""
    build = current_build()
    if build is None or not build_path(build).exists():
        raise IndexUnavailable("missing")
    if build_version(build) != INDEX_VERSION:
        raise IndexUnavailable("outdated")
    try:
        return build, index.open_dir(str(build_path(build)))
    except (index.EmptyIndexError, FileNotFoundError):
        raise IndexUnavailable("missing") from None


def open_current_locked() -> index.Index:
    """The serving index, for a caller that holds the write lock; an empty
    one is created when there is none (the caller then fills it)."""
    build = current_build()
    if build is None or not build_path(build).exists():
        build = new_build_id()
        create_build(build)
        switch_to(build)
    return index.open_dir(str(build_path(build)))


@contextlib.contextmanager
def write_lock(timeout: float | None = None, *, rebuild: bool = False, polite=False):
    """The one-writer lock, shared by the consumer and rebuilds (a file lock,
    so it holds across processes and is released if a process dies).

    A rebuild first takes ``rebuild.lock``, which a polite writer (the
    consumer) checks before each batch: while a rebuild waits, the consumer
    finishes the batch it holds and takes no other, so a stream of edits
    can never starve a rebuild.
    """
    with contextlib.ExitStack() as stack:
        priority = stack.enter_context(open(root() / "rebuild.lock", "a"))
        if rebuild:
            fcntl.flock(priority, fcntl.LOCK_EX)
            stack.callback(fcntl.flock, priority, fcntl.LOCK_UN)
        elif polite:
            try:
                fcntl.flock(priority, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                raise TimeoutError("a rebuild is waiting for the index") from None
            stack.callback(fcntl.flock, priority, fcntl.LOCK_UN)
        handle = stack.enter_context(open(root() / "write.lock", "a"))
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError("the search index is busy") from None
                time.sleep(0.05)
        stack.callback(fcntl.flock, handle, fcntl.LOCK_UN)
        yield


class View:
    """One consistent look at the serving index: a Whoosh searcher (stored
    fields, term lists, spelling) and, for each of its segments, the arrays
    and the mask of live documents, with Whoosh's document number offset."""

    def __init__(self, ix: index.Index, cache: dict):
        self.searcher = ix.searcher()
        directory = Path(ix.storage.folder)
        reader = self.searcher.reader()
        # An empty index has one leaf reader with no segment.
        parts = [(r, o) for r, o in reader.leaf_readers() if r.segment() is not None]
        self.segments: list[tuple[segments.Segment, object, int]] = []
        for segment_reader, offset in parts:
            whoosh_segment = segment_reader.segment()
            key = (str(directory), whoosh_segment.segment_id())
            arrays = cache.get(key)
            if arrays is None:
                arrays = cache[key] = segments.Segment.open(
                    directory, whoosh_segment.segment_id()
                )
            self.segments.append((arrays, live_mask(whoosh_segment), offset))
        self.doc_count = sum(s.count for s, _, _ in self.segments)
        total_length = sum(s.total_length for s, _, _ in self.segments)
        self.average_length = total_length / self.doc_count if self.doc_count else 1.0
        self._df: dict[str, int] = {}

    def doc_frequency(self, term: str) -> int:
        """Documents holding ``term`` in their text (deleted ones included, as
        in Whoosh's statistics)."""
        df = self._df.get(term)
        if df is None:
            df = 0
            for arrays, _, _ in self.segments:
                start, end = arrays.text_range(term)
                df += end - start
            if len(self._df) > 50_000:
                self._df.clear()
            self._df[term] = df
        return df

    def has_filter_term(self, field_name: str, term: str) -> bool:
        """Whether any document holds ``term`` in the filter field."""
        return any(
            len(arrays.filter_docs(field_name, term)) for arrays, _, _ in self.segments
        )

    def stored_fields(self, segment_number: int, docnum: int) -> dict:
        offset = self.segments[segment_number][2]
        return self.searcher.stored_fields(offset + docnum)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.searcher.close()


class _Searchers:
    """One open view per process, reopened when the index changes."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key = None
        self._index = None
        self._view: View | None = None
        # Segment arrays by (build folder, segment id): segments never change,
        # so a new view after a commit maps only the segments that are new.
        self._arrays: dict = {}

    def get(self) -> View:
        """The current view (IndexUnavailable when no index can serve)."""
        key = (str(root()), current_build())
        with self._lock:
            if self._view is None or key != self._key:
                self._close()
                # The key must name the build actually opened: reading
                # CURRENT again could see a newer build than the one open,
                # and this view would then never move to it.
                build, self._index = _open_current()
                self._key = (str(root()), build)
                self._arrays = {}
                self._view = self._open()
            elif not self._view.searcher.up_to_date():
                # A fresh searcher, not Searcher.refresh(): in whoosh-reloaded
                # 2.7.5 refresh keeps the old segments beside the new ones
                # (replaced and deleted documents stay findable) and shares
                # its readers with the searcher it replaces.
                self._close()
                self._view = self._open()
            return self._view

    def _open(self) -> View:
        # A commit between reading the table of contents and mapping a
        # segment's arrays can remove that segment: look again.
        for attempt in range(5):
            try:
                view = View(self._index, self._arrays)
                used = {id(arrays) for arrays, _, _ in view.segments}
                self._arrays = {k: a for k, a in self._arrays.items() if id(a) in used}
                return view
            except FileNotFoundError:
                if attempt == 4:
                    raise
                time.sleep(0.01)
        raise AssertionError("unreachable")

    def _close(self):
        if self._view is not None:
            self._view.close()
        self._view = None

    def reset(self):
        with self._lock:
            self._close()
            self._key = None
            self._arrays = {}


searchers = _Searchers()
