"""The real transcript corpus imports, and known turns survive messy layouts.

Opt-in: set ARCHIVE_CORPUS to the corpus folder (the shared folder of
``*.tar.xz`` archives, or a directory they were unpacked into), e.g.

    ARCHIVE_CORPUS=../shared/corpus .venv/bin/python -m pytest -m corpus

ARCHIVE_CORPUS_LIMIT caps the files read per source (default 100; 0 reads
all, which takes minutes). ``bench/corpus_report.py`` prints the same
figures in full.
"""

import os
from pathlib import Path

import pytest

if not os.environ.get("ARCHIVE_CORPUS"):
    pytest.skip(
        "the corpus tests are opt-in: set ARCHIVE_CORPUS to the corpus folder",
        allow_module_level=True,
    )

from bench import corpus_report

pytestmark = pytest.mark.corpus

LIMIT = int(os.environ.get("ARCHIVE_CORPUS_LIMIT", "100"))
# Failures that are right: files in a source that are not transcripts.
EXPECTED_FAILURES: dict[str, set[str]] = {}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    given = Path(os.environ["ARCHIVE_CORPUS"]).expanduser()
    found = corpus_report.corpus_dir(given, tmp_path_factory.mktemp("corpus"))
    if found is None:
        pytest.skip(f"ARCHIVE_CORPUS={given} holds no corpus")
    return found


@pytest.mark.parametrize("source", sorted(corpus_report.SOURCES))
def test_every_transcript_of_the_corpus_imports(db, corpus, source):
    stats = corpus_report.import_source(corpus, source, LIMIT)
    if not stats.files:
        pytest.skip(f"no {source} files in the corpus")
    unexpected = {
        reason: files
        for reason, files in stats.failed.items()
        if reason not in EXPECTED_FAILURES.get(source, set())
    }
    assert unexpected == {}
    assert stats.turns > stats.files


@pytest.mark.parametrize("source", corpus_report.GROUND_TRUTH)
def test_known_turns_survive_every_messy_layout(corpus, source):
    """Speakers renamed to names any label parser reads, so that the figure
    measures layout: wrapping, page furniture, line endings, encodings."""
    results = corpus_report.ground_truth(corpus, source, LIMIT)
    shares = {
        r.style: round(r.share, 4) for r in results if r.style.endswith("aliased")
    }
    assert shares["clean, aliased"] == 1.0
    assert min(shares.values()) >= 0.99, shares


@pytest.mark.parametrize("source", corpus_report.GROUND_TRUTH)
def test_known_turns_with_their_real_speaker_names_survive(corpus, source):
    """The real names: "John G. Roberts, Jr.", "Guest 2", "Guest"."""
    results = corpus_report.ground_truth(corpus, source, LIMIT)
    shares = {r.style: r.share for r in results if not r.style.endswith("aliased")}
    assert shares["clean"] == 1.0
    assert min(shares.values()) >= 0.99, shares
