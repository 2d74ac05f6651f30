"""How well the importer reads the real transcript corpus in ../shared/corpus.

A report, not a test: it prints figures. Opt-in, because the corpus is not
part of the repository (licences) and takes minutes to read in full.

    .venv/bin/python bench/corpus_report.py                  # ../shared/corpus
    .venv/bin/python bench/corpus_report.py --dir /tmp/corpus --limit 50
    .venv/bin/python bench/corpus_report.py --sources oyez,seenunseen-vtt --json

``--dir`` is either the shared folder of ``*.tar.xz`` archives (unpacked
into a temporary directory here) or a directory they were unpacked into.

Two parts:

1. Import: every transcript file of each source is imported as a dry run
   (``import_file(path, dry_run=True)``: the real import, rolled back) into a
   throwaway SQLite database; per source it prints files, parsed, failed
   (grouped by reason), turns, distinct speakers, warnings and seconds.
2. Ground truth: for the structured sources (Oyez JSON, WebVTT) the turns
   are read here, independently of the project's readers, rendered as
   labelled text by ``bench/messy.py`` (clean, and each messy style), parsed
   with ``archive.parsing.parse``, and the share of turns that come back with
   the right speaker and text is printed with the first mismatches.
"""

import argparse
import dataclasses
import itertools
import json
import os
import re
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import messy  # noqa: E402  (after the path is set)

# Where each source lives in the unpacked corpus.
SOURCES = {
    "securitynow": "episodes",
    "changelog": "changelog",
    "seenunseen-vtt": "seenunseen/transcripts_vtt",
    "oyez": "scotus-oyez",
}
GROUND_TRUTH = ("oyez", "seenunseen-vtt")


def corpus_dir(given: Path, workdir: Path) -> Path | None:
    """An unpacked corpus: ``given`` itself, or its tarballs unpacked into
    ``workdir``; None when there is nothing there."""
    if any((given / sub).is_dir() for sub in SOURCES.values()):
        return given
    archives = sorted(given.glob("*.tar.xz")) if given.is_dir() else []
    if not archives:
        return None
    for archive in archives:
        with tarfile.open(archive) as tar:
            tar.extractall(workdir, filter="data")
    return workdir


def source_files(corpus: Path, source: str, limit: int = 0) -> list[Path]:
    """The files of one source, as a folder import lists them; the first
    ``limit`` when given."""
    from archive.importer import transcript_files

    folder = corpus / SOURCES[source]
    if not folder.is_dir():
        return []
    files = transcript_files(folder)
    return files[:limit] if limit else files


@dataclass
class ImportStats:
    source: str
    files: int = 0
    parsed: int = 0
    failed: dict[str, list[str]] = field(default_factory=dict)  # reason: files
    skipped: dict[str, list[str]] = field(default_factory=dict)  # not transcripts
    turns: int = 0
    speakers: int = 0
    warnings: int = 0
    warning_kinds: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _reason(message: str) -> str:
    """A failure message without the details that differ from file to file."""
    return re.sub(r"“[^”]*”|\d+", "…", message)


def import_source(corpus: Path, source: str, limit: int = 0) -> ImportStats:
    """Dry-run import every file of a source. Needs Django set up."""
    from archive.importer import import_file

    stats = ImportStats(source)
    failed: dict[str, list[str]] = defaultdict(list)
    skipped: dict[str, list[str]] = defaultdict(list)
    kinds: dict[str, int] = defaultdict(int)
    speakers: set[str] = set()
    began = time.perf_counter()
    root = corpus / SOURCES[source]
    for path in source_files(corpus, source, limit):
        stats.files += 1
        outcome = import_file(
            path, dry_run=True, source_name=path.relative_to(root).as_posix()
        )
        if outcome.failed:
            failed[_reason(outcome.message)].append(path.name)
            continue
        if outcome.status == "skipped":
            skipped[_reason(outcome.message)].append(path.name)
            continue
        stats.parsed += 1
        turns = outcome.document["turns"]
        stats.turns += len(turns)
        speakers.update(t["speaker"]["name"] for t in turns)
        stats.warnings += len(outcome.warnings)
        for warning in outcome.warnings:
            kinds[_reason(warning)] += 1
    stats.seconds = round(time.perf_counter() - began, 2)
    stats.failed = dict(failed)
    stats.skipped = dict(skipped)
    stats.speakers = len(speakers)
    stats.warning_kinds = dict(kinds)
    return stats


# Ground truth, read here with the least code that reads these files, so
# that a bug in the project's readers cannot hide itself.


def oyez_turns(path: Path) -> list[tuple[str, str]]:
    """(speaker, text) per Oyez turn; turns without a named speaker or
    without text are left out (a labelled transcript cannot carry them)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    turns = []
    for section in (data.get("transcript") or {}).get("sections") or []:
        for turn in section.get("turns") or []:
            name = ((turn.get("speaker") or {}).get("name") or "").strip()
            text = " ".join(
                block.get("text") or "" for block in turn.get("text_blocks") or []
            )
            if name and text.strip():
                turns.append((name, " ".join(text.split())))
    return turns


_VTT_SPEAKER = re.compile(r"^\[([^\]]+)\]:\s*(.*)$", re.S)


def vtt_turns(path: Path) -> list[tuple[str, str]]:
    """(speaker, text) per run of cues of one speaker (``[Name]: text``)."""
    turns: list[list] = []
    for block in path.read_text(encoding="utf-8").replace("\r", "").split("\n\n"):
        lines = block.strip().split("\n")
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue
        text = " ".join(lines[timing + 1 :]).strip()
        m = _VTT_SPEAKER.match(text)
        speaker, text = (m[1].strip(), m[2]) if m else ("", text)
        if not text:
            continue
        if turns and (not speaker or speaker == turns[-1][0]):
            turns[-1][1].append(text)
        elif speaker:
            turns.append([speaker, [text]])
    return [(speaker, " ".join(" ".join(parts).split())) for speaker, parts in turns]


READERS = {"oyez": oyez_turns, "seenunseen-vtt": vtt_turns}


def aliased(turns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The same turns with each speaker renamed "Speaker Aa", "Speaker Ab", …

    Names the label parser cannot read as labels ("John G. Roberts, Jr.",
    "Guest 2") cost their turns whatever the layout; renamed, the figure
    measures the layout alone: wrapping, pages, line endings, encodings.
    """
    names: dict[str, str] = {}
    for speaker, _ in turns:
        if speaker not in names:
            i = len(names)
            names[speaker] = f"Speaker {chr(65 + i // 26 % 26)}{chr(97 + i % 26)}"
    return [(names[speaker], text) for speaker, text in turns]


@dataclass
class StyleFidelity:
    style: str
    expected: int = 0
    matched: int = 0
    failed_files: list[str] = field(default_factory=list)  # ParseError
    mismatches: list[dict] = field(default_factory=list)  # the first few

    @property
    def share(self) -> float:
        return self.matched / self.expected if self.expected else 1.0


def ground_truth(
    corpus: Path, source: str, limit: int = 0, *, examples: int = 5
) -> list[StyleFidelity]:
    """Render each file's known turns in every style and parse them back."""
    from archive.parsing import ParseError, parse

    results = {name: StyleFidelity(name) for name in messy.STYLES}
    results |= {
        f"{name}, aliased": StyleFidelity(f"{name}, aliased") for name in messy.STYLES
    }
    for number, path in enumerate(source_files(corpus, source, limit)):
        real = READERS[source](path)
        if not real:
            continue
        for (name, style), alias in itertools.product(
            messy.STYLES.items(), (False, True)
        ):
            result = results[f"{name}, aliased" if alias else name]
            turns = aliased(real) if alias else real
            try:
                text = messy.render(turns, style, seed=number)
            except UnicodeEncodeError:
                # Not every transcript fits Windows-1252; UTF-8 stands in.
                text = messy.render(turns, dataclasses.replace(style, encoding="utf-8"))
            try:
                parsed = [(t.speaker, t.body) for t in parse(text).turns]
            except ParseError as exc:
                result.expected += len(turns)
                result.failed_files.append(f"{path.name}: {exc}")
                continue
            found = messy.fidelity(turns, parsed, fold_case=style.upper)
            result.expected += found.expected
            result.matched += found.matched
            for want, got in found.mismatches:
                if len(result.mismatches) < examples:
                    result.mismatches.append(
                        {
                            "file": path.name,
                            "expected": [(s, t[:100]) for s, t in want[:2]],
                            "parsed": [(s, t[:100]) for s, t in got[:2]],
                        }
                    )
    return list(results.values())


def setup_django(data_dir: Path) -> None:
    """A throwaway archive in ``data_dir``: SQLite there, migrated."""
    os.environ["ARCHIVE_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "archive.settings"
    os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def print_report(imports: list[ImportStats], truth: dict[str, list]) -> None:
    for s in imports:
        print(
            f"\n{s.source}: {s.files} files, {s.parsed} parsed, "
            f"{sum(map(len, s.failed.values()))} failed, "
            f"{sum(map(len, s.skipped.values()))} skipped (not transcripts), "
            f"{s.turns} turns, "
            f"{s.speakers} distinct speakers, {s.warnings} warnings, {s.seconds} s"
        )
        for reason, names in sorted(s.failed.items(), key=lambda x: -len(x[1])):
            shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
            print(f"  failed ×{len(names)}: {reason}\n    {shown}")
        for reason, names in sorted(s.skipped.items(), key=lambda x: -len(x[1])):
            shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
            print(f"  skipped ×{len(names)}: {reason}\n    {shown}")
        for kind, count in sorted(s.warning_kinds.items(), key=lambda x: -x[1])[:5]:
            print(f"  warning ×{count}: {kind}")
    for source, results in truth.items():
        print(f"\nground truth, {source} (turns back with speaker and text):")
        results = sorted(results, key=lambda r: r.style.endswith("aliased"))
        for r in results:
            print(f"  {r.style:20} {r.matched:7}/{r.expected:<7} {100 * r.share:6.2f}%")
            for failure in r.failed_files[:3]:
                print(f"    failed: {failure}")
            for m in r.mismatches[:3]:
                print(f"    {m['file']}: expected {m['expected']}")
                print(f"    {' ' * len(m['file'])}  parsed   {m['parsed']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=SHARED, help=f"default {SHARED}")
    parser.add_argument(
        "--sources",
        default=",".join(SOURCES),
        help=f"comma-separated, of {', '.join(SOURCES)} (default all)",
    )
    parser.add_argument("--limit", type=int, default=0, help="files per source")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    if unknown := set(sources) - set(SOURCES):
        parser.error(f"unknown sources: {', '.join(sorted(unknown))}")

    with tempfile.TemporaryDirectory(prefix="corpus-report-") as tmp:
        corpus = corpus_dir(args.dir, Path(tmp) / "corpus")
        if corpus is None:
            print(f"No corpus at {args.dir}: nothing to report (skipped).")
            return 0
        setup_django(Path(tmp) / "data")
        imports = [import_source(corpus, s, args.limit) for s in sources]
        truth = {
            s: ground_truth(corpus, s, args.limit) for s in sources if s in READERS
        }
    if args.json:
        print(
            json.dumps(
                {
                    "imports": [s.__dict__ for s in imports],
                    "ground_truth": {
                        source: [{**r.__dict__, "share": r.share} for r in results]
                        for source, results in truth.items()
                    },
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print_report(imports, truth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
