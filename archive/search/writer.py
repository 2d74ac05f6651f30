"""The one way documents are written: Whoosh's writer plus the segment arrays.

``Writer`` wraps a Whoosh ``SegmentWriter``. Every document added goes to
Whoosh and to a ``segments.Builder`` in the same order, so Whoosh's document
numbers in the new segment are the builder's. At commit, our merge policy
chooses which old segments Whoosh copies into the new one, and writes the
new segment's arrays (added documents first, then the live documents of the
merged segments, as Whoosh's ``add_reader`` numbers them) before Whoosh
writes its table of contents.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from whoosh.codec.whoosh3 import W3Codec
from whoosh.reading import SegmentReader

from archive.search import segments

# Segments of a similar size (within a factor of MERGE_FACTOR) are merged once
# there are MERGE_FACTOR of them: each document is rewritten O(log n) times.
MERGE_FACTOR = 8
# A segment with this share of deleted documents is merged to drop them.
DELETED_SHARE = 0.3


def live_mask(segment) -> np.ndarray:
    """Whoosh segment → bool array, True for documents not deleted."""
    mask = np.ones(segment.doc_count_all(), dtype=bool)
    deleted = list(segment.deleted_docs())
    if deleted:
        mask[np.fromiter(deleted, dtype=np.int64, count=len(deleted))] = False
    return mask


def _tier(segment) -> int:
    return int(math.log(max(segment.doc_count(), 1), MERGE_FACTOR))


def choose_merges(whoosh_segments: list) -> list:
    """The segments worth merging into the one being written."""
    chosen = [
        s
        for s in whoosh_segments
        if s.doc_count_all() and s.deleted_count() / s.doc_count_all() >= DELETED_SHARE
    ]
    tiers: dict[int, list] = {}
    for segment in whoosh_segments:
        if segment not in chosen:
            tiers.setdefault(_tier(segment), []).append(segment)
    for members in tiers.values():
        if len(members) >= MERGE_FACTOR:
            chosen += members
    return chosen


class _Codec(W3Codec):
    # Whoosh's scoring is not used (segments.py ranks), so its per-posting
    # field-length statistics, which cost a file lookup per posting, are not
    # gathered.
    length_stats = False


class Writer:
    def __init__(self, ix, directory: Path, memory_mb: int = 256) -> None:
        # Separate files, not one compound file: a compound file is read
        # into each process's memory, separate files are mapped and shared.
        self.whoosh = ix.writer(
            timeout=30, compound=False, limitmb=memory_mb, codec=_Codec()
        )
        self.directory = directory
        self.builder = segments.Builder(ix.schema)

    def add(self, document: dict) -> None:
        self.whoosh.add_document(**document)
        self.builder.add(document)

    def update(self, document: dict) -> None:
        self.whoosh.delete_by_term("id", document["id"])
        self.add(document)

    def delete_by_term(self, field_name: str, value: str) -> None:
        self.whoosh.delete_by_term(field_name, value)

    @property
    def added(self) -> int:
        return self.builder.count

    def commit(self, *, merge: bool = True) -> None:
        self.whoosh.commit(mergetype=self._merge_policy(merge))

    def cancel(self) -> None:
        self.whoosh.cancel()

    def _merge_policy(self, merge: bool):
        def policy(whoosh_writer, whoosh_segments):
            chosen = choose_merges(whoosh_segments) if merge else []
            parts = [(self.builder.flat(), None)]
            for segment in chosen:
                parts.append(
                    (
                        segments.Segment.open(self.directory, segment.segment_id()),
                        live_mask(segment),
                    )
                )
                reader = SegmentReader(
                    whoosh_writer.storage, whoosh_writer.schema, segment
                )
                whoosh_writer.add_reader(reader)
                reader.close()
            if whoosh_writer._added:
                flat = segments.merge(parts) if chosen else parts[0][0]
                if flat.count != whoosh_writer.docnum:
                    raise RuntimeError(
                        f"segment arrays hold {flat.count} documents, "
                        f"Whoosh wrote {whoosh_writer.docnum}"
                    )
                segments.write(
                    flat, self.directory, whoosh_writer.newsegment.segment_id()
                )
            return [s for s in whoosh_segments if s not in chosen]

        return policy
