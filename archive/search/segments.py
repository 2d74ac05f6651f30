"""Per-segment arrays that let a search touch postings as arrays, not one by one.

Whoosh is the index of record: it stores each document, keeps the term index
and manages segments and deletions. What made searching slow was per-match
Python work in its matchers (scoring every match to rank a page, collecting
every match again to count). So beside each Whoosh segment the writer keeps,
in plain ``.npy`` files that every worker memory-maps (one shared copy):

- for every ``text`` term, its postings (document numbers, frequencies) and
  each occurrence's position and character span;
- for every filter term (speaker names, interview slug, role, series, topics,
  kind), its document numbers;
- per document, the columns that ranking, sorting and facets need.

The arrays are derived by the writer under the write lock when Whoosh writes
the segment (``Builder`` for added documents, ``merge`` when segments merge),
named after the segment so Whoosh's own clean-up removes them with it, and
written before Whoosh commits its table of contents: a reader that sees a
segment finds its arrays. Segments never change once written; deletions are
Whoosh's per-segment deleted set, read as a mask when a searcher opens.
"""

from __future__ import annotations

import json
import os
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from archive.search import analysis

# Bump when the arrays' layout changes; the index version covers analysis.
FORMAT = 1
FILTER_FIELDS = ("interview_slug", "speaker_names", "role", "series", "topics", "kind")
KINDS = ("question", "answer", "remark", "lede")
COLUMNS = (
    "pk",
    "kind",
    "interview",
    "speaker",
    "series",
    "date",
    "date_asc",
    "position",
    "length",
)
_SEP = "\x1f"  # field and term in a filter key
_NONE = -1


def filter_key(field_name: str, term: str) -> str:
    return f"{field_name}{_SEP}{term}"


@dataclass
class Flat:
    """A segment's content before sorting: one row per occurrence."""

    text_keys: list[str]
    t_term: np.ndarray
    t_doc: np.ndarray
    t_pos: np.ndarray
    t_start: np.ndarray
    t_end: np.ndarray
    filter_keys: list[str]
    f_term: np.ndarray
    f_doc: np.ndarray
    columns: dict[str, np.ndarray]
    speakers: list[str]
    series: list[str]
    count: int


class Builder:
    """Collects the documents a writer adds, in the order Whoosh numbers them."""

    def __init__(self, schema) -> None:
        self.schema = schema
        self.text_ids: dict[str, int] = {}
        self.filter_ids: dict[str, int] = {}
        self.text = tuple(array("i") for _ in range(5))
        self.filters = (array("i"), array("i"))
        self.columns = {name: array("i") for name in COLUMNS}
        self.speakers: dict[str, int] = {}
        self.series: dict[str, int] = {}
        self.count = 0

    def add(self, document: dict) -> None:
        doc = self.count
        ids = self.text_ids
        terms, docs, positions, starts, ends = self.text
        spans = analysis.index_spans(document.get("text", ""))
        for term, pos, start, end in spans:
            tid = ids.get(term)
            if tid is None:
                tid = ids[term] = len(ids)
            terms.append(tid)
            docs.append(doc)
            positions.append(pos)
            starts.append(start)
            ends.append(end)
        f_terms, f_docs = self.filters
        for name in FILTER_FIELDS:
            value = document.get(name)
            if not value:
                continue
            for term in set(self.schema[name].process_text(value, mode="index")):
                key = filter_key(name, term)
                fid = self.filter_ids.get(key)
                if fid is None:
                    fid = self.filter_ids[key] = len(self.filter_ids)
                f_terms.append(fid)
                f_docs.append(doc)
        speaker = document.get("speaker") or ""
        series = document.get("series") or ""
        row = {
            "pk": int(document["id"][1:]),
            "kind": KINDS.index(document["kind"]),
            "interview": int(document["interview"]),
            "speaker": self.speakers.setdefault(speaker, len(self.speakers))
            if speaker
            else _NONE,
            "series": self.series.setdefault(series, len(self.series))
            if series
            else _NONE,
            "date": document.get("date", 0),
            "date_asc": document.get("date_asc", 0),
            "position": document.get("position", 0),
            "length": len(spans),
        }
        for name in COLUMNS:
            self.columns[name].append(row[name])
        self.count += 1

    def flat(self) -> Flat:
        def arr(values):
            return np.frombuffer(values, dtype=np.int32) if len(values) else _EMPTY

        return Flat(
            text_keys=list(self.text_ids),
            t_term=arr(self.text[0]),
            t_doc=arr(self.text[1]),
            t_pos=arr(self.text[2]),
            t_start=arr(self.text[3]),
            t_end=arr(self.text[4]),
            filter_keys=list(self.filter_ids),
            f_term=arr(self.filters[0]),
            f_doc=arr(self.filters[1]),
            columns={name: arr(values) for name, values in self.columns.items()},
            speakers=list(self.speakers),
            series=list(self.series),
            count=self.count,
        )


_EMPTY = np.zeros(0, dtype=np.int32)


# Writing --------------------------------------------------------------------


def _prefix(directory: Path, segment_id: str) -> str:
    return str(directory / f"{segment_id}.ax")


def write(flat: Flat, directory: Path, segment_id: str) -> None:
    """Sort ``flat`` into postings and write the segment's array files."""
    base = _prefix(directory, segment_id)
    text = _postings(flat.text_keys, flat.t_term, flat.t_doc)
    keys, order, post_term, post_start = text
    _save(base, "tkeys", _key_blob(keys))
    _save(base, "toffs", _key_offsets(keys))
    post_doc = flat.t_doc[order][post_start]
    post_freq = np.diff(np.append(post_start, len(order))).astype(np.int32)
    _save(base, "tfirst", _first_posting(post_term, len(keys)))
    _save(base, "pdoc", post_doc.astype(np.int32))
    _save(base, "pfreq", post_freq)
    _save(base, "poff", post_start.astype(np.int32))
    _save(base, "ppos", flat.t_pos[order].astype(np.int32))
    _save(base, "pstart", flat.t_start[order].astype(np.int32))
    _save(base, "pend", flat.t_end[order].astype(np.int32))
    fkeys, forder, fpost_term, fpost_start = _postings(
        flat.filter_keys, flat.f_term, flat.f_doc
    )
    _save(base, "fkeys", _key_blob(fkeys))
    _save(base, "foffs", _key_offsets(fkeys))
    _save(base, "ffirst", _first_posting(fpost_term, len(fkeys)))
    _save(base, "fdoc", flat.f_doc[forder][fpost_start].astype(np.int32))
    columns = np.zeros((len(COLUMNS), flat.count), dtype=np.int32)
    for i, name in enumerate(COLUMNS):
        columns[i] = flat.columns[name]
    _save(base, "cols", columns)
    meta = {
        "format": FORMAT,
        "count": flat.count,
        "speakers": flat.speakers,
        "series": flat.series,
    }
    # Written last: a segment with its meta file has all its arrays.
    tmp = f"{base}.meta.tmp"
    with open(tmp, "w") as handle:
        json.dump(meta, handle)
    os.replace(tmp, f"{base}.meta.json")


def _postings(keys: list[str], terms: np.ndarray, docs: np.ndarray):
    """(sorted keys, row order, term of each posting, first row of each posting).

    Rows arrive in document order (and position order within a document), so
    a stable sort by term keeps each term's rows in document order.
    """
    ranked = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.empty(len(keys), dtype=np.int32)
    rank[np.asarray(ranked, dtype=np.int64)] = np.arange(len(keys), dtype=np.int32)
    sorted_keys = [keys[i] for i in ranked]
    if not len(terms):
        return sorted_keys, np.zeros(0, np.int64), _EMPTY, np.zeros(0, np.int64)
    by_rank = rank[terms]
    order = np.argsort(by_rank, kind="stable")
    t, d = by_rank[order], docs[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (t[1:] != t[:-1]) | (d[1:] != d[:-1])
    post_start = np.flatnonzero(new)
    return sorted_keys, order, t[post_start], post_start


def _first_posting(post_term: np.ndarray, nterms: int) -> np.ndarray:
    """For each term, the index of its first posting (and one past the end)."""
    return np.searchsorted(post_term, np.arange(nterms + 1)).astype(np.int64)


def _key_blob(keys: list[str]) -> np.ndarray:
    return np.frombuffer("\0".join(keys).encode(), dtype=np.uint8)


def _key_offsets(keys: list[str]) -> np.ndarray:
    lengths = [len(k.encode()) + 1 for k in keys]
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def _save(base: str, name: str, values: np.ndarray) -> None:
    with open(f"{base}.{name}.npy", "wb") as handle:
        np.save(handle, values)


# Reading --------------------------------------------------------------------


class Keys:
    """Sorted keys in one memory-mapped blob, searched by bisection."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        self.blob = blob
        self.offsets = offsets
        self.n = len(offsets) - 1
        self._found: dict[str, int] = {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> str:
        start, end = self.offsets[i], self.offsets[i + 1] - 1
        return self.blob[start:end].tobytes().decode()

    def find(self, key: str) -> int:
        """The key's index, or -1."""
        found = self._found.get(key)
        if found is None:
            i = bisect_left(self, key)
            found = i if i < self.n and self[i] == key else -1
            if len(self._found) > 50_000:
                self._found.clear()
            self._found[key] = found
        return found

    def starting_with(self, prefix: str) -> Iterator[tuple[int, str]]:
        i = bisect_left(self, prefix)
        while i < self.n:
            key = self[i]
            if not key.startswith(prefix):
                return
            yield i, key
            i += 1

    def all(self) -> list[str]:
        if not self.n:
            return []
        return self.blob[: self.offsets[-1] - 1].tobytes().decode().split("\0")


@dataclass
class Segment:
    """One segment's arrays, memory-mapped read-only."""

    count: int
    speakers: list[str]
    series: list[str]
    text_keys: Keys
    tfirst: np.ndarray
    pdoc: np.ndarray
    pfreq: np.ndarray
    poff: np.ndarray
    ppos: np.ndarray
    pstart: np.ndarray
    pend: np.ndarray
    filter_keys: Keys
    ffirst: np.ndarray
    fdoc: np.ndarray
    cols: np.ndarray
    _columns: dict = field(default_factory=dict)

    @classmethod
    def open(cls, directory: Path, segment_id: str) -> Segment:
        base = _prefix(directory, segment_id)
        with open(f"{base}.meta.json") as handle:
            meta = json.load(handle)
        if meta.get("format") != FORMAT:
            raise FileNotFoundError(f"{segment_id}: arrays of another format")

        def load(name):
            return np.load(f"{base}.{name}.npy", mmap_mode="r")

        return cls(
            count=meta["count"],
            speakers=meta["speakers"],
            series=meta["series"],
            text_keys=Keys(load("tkeys"), load("toffs")),
            tfirst=load("tfirst"),
            pdoc=load("pdoc"),
            pfreq=load("pfreq"),
            poff=load("poff"),
            ppos=load("ppos"),
            pstart=load("pstart"),
            pend=load("pend"),
            filter_keys=Keys(load("fkeys"), load("foffs")),
            ffirst=load("ffirst"),
            fdoc=load("fdoc"),
            cols=load("cols"),
        )

    @staticmethod
    def exists(directory: Path, segment_id: str) -> bool:
        return os.path.exists(f"{_prefix(directory, segment_id)}.meta.json")

    def column(self, name: str) -> np.ndarray:
        return self.cols[COLUMNS.index(name)]

    @property
    def total_length(self) -> int:
        if "total_length" not in self._columns:
            self._columns["total_length"] = int(
                self.column("length").sum(dtype=np.int64)
            )
        return self._columns["total_length"]

    def text_range(self, term: str) -> tuple[int, int]:
        """The postings of ``term``: a slice of pdoc/pfreq/poff (empty if none)."""
        i = self.text_keys.find(term)
        if i < 0:
            return 0, 0
        return int(self.tfirst[i]), int(self.tfirst[i + 1])

    def filter_docs(self, field_name: str, term: str) -> np.ndarray:
        i = self.filter_keys.find(filter_key(field_name, term))
        if i < 0:
            return _EMPTY
        return self.fdoc[self.ffirst[i] : self.ffirst[i + 1]]

    def filter_terms(self, field_name: str) -> Iterator[tuple[str, np.ndarray]]:
        prefix = filter_key(field_name, "")
        for i, key in self.filter_keys.starting_with(prefix):
            yield key[len(prefix) :], self.fdoc[self.ffirst[i] : self.ffirst[i + 1]]


# Merging --------------------------------------------------------------------


def merge(parts: Iterable[tuple[Flat | Segment, np.ndarray | None]]) -> Flat:
    """The content of several sources as one, documents renumbered in order.

    Each part is a source and a mask of its live documents (None: all live),
    exactly as Whoosh's ``add_reader`` copies them: live documents in order,
    one source after another.
    """
    flats = [
        _as_flat(source) if isinstance(source, Segment) else source
        for source, _ in parts
    ]
    masks = [mask for _, mask in parts]
    text_keys: dict[str, int] = {}
    filter_keys: dict[str, int] = {}
    speakers: dict[str, int] = {}
    series: dict[str, int] = {}
    out: dict[str, list] = {
        name: []
        for name in ("t_term", "t_doc", "t_pos", "t_start", "t_end", "f_term", "f_doc")
    }
    columns: dict[str, list] = {name: [] for name in COLUMNS}
    base = 0
    for flat, live in zip(flats, masks, strict=True):
        if live is None:
            live = np.ones(flat.count, dtype=bool)
        renumber = np.cumsum(live, dtype=np.int64) - 1 + base
        tmap = _remap(flat.text_keys, text_keys)
        keep = live[flat.t_doc] if len(flat.t_doc) else np.zeros(0, bool)
        out["t_term"].append(tmap[flat.t_term[keep]])
        out["t_doc"].append(renumber[flat.t_doc[keep]])
        for name in ("t_pos", "t_start", "t_end"):
            out[name].append(getattr(flat, name)[keep])
        fmap = _remap(flat.filter_keys, filter_keys)
        fkeep = live[flat.f_doc] if len(flat.f_doc) else np.zeros(0, bool)
        out["f_term"].append(fmap[flat.f_term[fkeep]])
        out["f_doc"].append(renumber[flat.f_doc[fkeep]])
        smap = _remap(flat.speakers, speakers)
        rmap = _remap(flat.series, series)
        for name in COLUMNS:
            values = np.asarray(flat.columns[name])[live]
            if name == "speaker":
                values = _recode(values, smap)
            elif name == "series":
                values = _recode(values, rmap)
            columns[name].append(values)
        base += int(live.sum())

    def joined(values):
        return np.concatenate(values).astype(np.int32) if values else _EMPTY

    return Flat(
        text_keys=list(text_keys),
        filter_keys=list(filter_keys),
        speakers=list(speakers),
        series=list(series),
        columns={name: joined(values) for name, values in columns.items()},
        count=base,
        **{name: joined(values) for name, values in out.items()},
    )


def _remap(keys: list[str], into: dict[str, int]) -> np.ndarray:
    mapping = np.empty(len(keys), dtype=np.int32)
    for i, key in enumerate(keys):
        mapping[i] = into.setdefault(key, len(into))
    return mapping


def _recode(codes: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    result = np.full(len(codes), _NONE, dtype=np.int32)
    present = codes >= 0
    result[present] = mapping[codes[present]]
    return result


def _as_flat(segment: Segment) -> Flat:
    """A written segment back in rows, one per occurrence."""
    nterms = len(segment.text_keys)
    df = np.diff(np.asarray(segment.tfirst))
    post_term = np.repeat(np.arange(nterms, dtype=np.int32), df)
    freqs = np.asarray(segment.pfreq)
    fdf = np.diff(np.asarray(segment.ffirst))
    return Flat(
        text_keys=segment.text_keys.all(),
        t_term=np.repeat(post_term, freqs),
        t_doc=np.repeat(np.asarray(segment.pdoc), freqs),
        t_pos=np.asarray(segment.ppos),
        t_start=np.asarray(segment.pstart),
        t_end=np.asarray(segment.pend),
        filter_keys=segment.filter_keys.all(),
        f_term=np.repeat(np.arange(len(segment.filter_keys), dtype=np.int32), fdf),
        f_doc=np.asarray(segment.fdoc),
        columns={name: np.asarray(segment.column(name)) for name in COLUMNS},
        speakers=segment.speakers,
        series=segment.series,
        count=segment.count,
    )
