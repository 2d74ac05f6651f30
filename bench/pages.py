"""How fast the reading pages, the API and the importer are on a synthetic archive.

A benchmark, not a test: it prints figures and asserts nothing about time.

    .venv/bin/python bench/pages.py                # or: make bench
    .venv/bin/python bench/pages.py --scale 8      # ~260,000 turns
    .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1/x

Everything happens in a temporary data directory, deleted at the end: by
default a fresh SQLite file there, never the archive in ``var/``. With
``--database-url`` the server gets a throwaway ``archive_bench_<pid>``
database, created and dropped here, so a real database is never written to.

The archive is built from deterministic prose (``random.Random(seed)``), with
the interviews that make pages slow in real life: one of 1,100 turns (a long
podcast) and one of 5,000 (a day of hearings). Pages are requested in-process
through ``django.test.Client`` with DEBUG off; the times include URL routing,
middleware, queries and template rendering, but not a WSGI server or the
network.
"""

import argparse
import datetime
import hashlib
import math
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fixtures" / "interviews"
LONG_TURNS = 1_100
HUGE_TURNS = 5_000
SHORT_TURNS = 20


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--interviews",
        type=int,
        default=200,
        help="ordinary interviews (20 to 300 turns each) before --scale; default 200",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply the ordinary interviews and the speakers; "
        "8 gives about 260,000 turns (default 1)",
    )
    parser.add_argument(
        "--repeat", type=int, default=20, help="timed requests per URL (default 20)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    parser.add_argument(
        "--database-url",
        default="",
        help="benchmark on this database server instead of a fresh SQLite file "
        "(a throwaway database is created on it and dropped afterwards)",
    )
    args = parser.parse_args(argv)
    if args.interviews < 1 or args.scale <= 0 or args.repeat < 1:
        parser.error("--interviews, --scale and --repeat must be positive")
    return args


def configure(args: argparse.Namespace) -> Path:
    """Point the settings at a temporary data directory, then set Django up.

    Must run before anything imports ``archive.settings``: the data directory
    and the database are read from the environment at import time.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="archive-bench-"))
    os.environ["ARCHIVE_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "archive.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))

    import django
    from django.conf import settings

    django.setup()
    # The pages link the stylesheet through the manifest storage, which needs
    # collectstatic's manifest; collect into the temporary directory rather
    # than the checkout's staticfiles/.
    settings.STATIC_ROOT = data_dir / "static"
    return data_dir


def create_database(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    if args.database_url:
        connection.settings_dict["TEST"]["NAME"] = f"archive_bench_{os.getpid()}"
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False
        )
    else:
        call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def drop_database(args: argparse.Namespace) -> None:
    from django.db import connection

    if args.database_url:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], 0)


# Synthetic prose ----------------------------------------------------------

FIRST_NAMES = [
    "Adam",
    "Amara",
    "Ana",
    "Ben",
    "Camille",
    "Chen",
    "Dana",
    "Elena",
    "Farah",
    "Gabriel",
    "Hana",
    "Ian",
    "Ines",
    "James",
    "Jun",
    "Kamal",
    "Kate",
    "Lars",
    "Leila",
    "Marco",
    "Maria",
    "Mei",
    "Nadia",
    "Nikolai",
    "Omar",
    "Paul",
    "Priya",
    "Rafael",
    "Ruth",
    "Sam",
    "Sara",
    "Tim",
    "Tomas",
    "Yara",
    "Zoe",
]
LAST_NAMES = [
    "Abe",
    "Alvarez",
    "Baker",
    "Berg",
    "Chowdhury",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Hughes",
    "Ivanova",
    "Jensen",
    "Kaur",
    "Kim",
    "Laurent",
    "Li",
    "Maurer",
    "Mensah",
    "Moreau",
    "Nakamura",
    "Novak",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Wang",
    "Weber",
    "Yilmaz",
    "Zhang",
]
AFFILIATIONS = [
    "Carnegie Endowment for International Peace",
    "Council on Foreign Relations",
    "Tsinghua University",
    "European Union Institute for Security Studies",
    "Atlantic Council",
    "Oxford Internet Institute",
    "Ministry of Foreign Affairs",
    "National Security Council (former)",
    "Global Commission on the Stability of Cyberspace",
    "Citizen Lab",
    "",
]
TOPICS = [
    "Cyber norms",
    "Internet sovereignty",
    "Cyber espionage",
    "Data integrity",
    "Arms control",
    "U.S.–China relations",
    "Critical infrastructure",
    "Election security",
    "Encryption",
    "Ransomware",
    "Export controls",
    "Attribution",
    "Deterrence",
    "Supply-chain security",
    "Surveillance and privacy",
    "Internet governance",
    "Offensive cyber operations",
    "Cybercrime",
    "Content moderation",
    "Capacity building",
]
SERIES = [
    ("Beijing Conversations", "Center for Global Policy", "podcast"),
    ("Cyber Statecraft Hour", "Statecraft Radio", "radio"),
    ("Hearings on Digital Security", "Parliamentary Committee", "hearing"),
    ("The Sovereignty Podcast", "Sovereignty Media", "podcast"),
    ("Policy Desk Q&A", "The Policy Desk", "article"),
]
SUBJECTS = [
    "states",
    "governments",
    "the UN Group of Governmental Experts",
    "private companies",
    "critical infrastructure operators",
    "non-state actors",
    "intelligence agencies",
    "regional organisations",
    "the major powers",
    "smaller countries",
    "network operators",
    "civil society groups",
    "the United States and China",
    "the European Union",
    "military cyber commands",
]
VERBS = [
    "need to agree on",
    "have struggled to define",
    "should be more transparent about",
    "are still debating",
    "cannot simply ignore",
    "have very different views on",
    "keep coming back to",
    "underestimated",
    "were surprised by",
    "will have to invest in",
    "signed a statement on",
    "quietly walked away from",
]
OBJECTS = [
    "norms of responsible state behaviour",
    "the attribution of cyber operations",
    "confidence-building measures",
    "the protection of election infrastructure",
    "data localisation rules",
    "the theft of intellectual property",
    "vulnerability disclosure",
    "the integrity of financial data",
    "the laws of armed conflict in cyberspace",
    "sovereignty over the internet",
    "export controls on surveillance tools",
    "the stability of the international system",
    "ransomware against hospitals",
    "the security of the software supply chain",
]
TAILS = [
    "",
    "",
    " in peacetime",
    " before the next crisis",
    ", and that is the hard part",
    " under international law",
    " after the 2015 agreement",
    " in practice rather than on paper",
    " at the working level",
    ", whatever the communiqués say",
]
OPENERS = [
    "",
    "",
    "",
    "I think ",
    "Frankly, ",
    "Look, ",
    "What we saw in 2015 was that ",
    "The point I would make is that ",
    "In my experience ",
    "It is fair to say that ",
    "Historically, ",
]
QUESTIONS = [
    "What do you make of {obj}?",
    "How should {subj} respond to {obj}?",
    "Is there any real progress on {obj}?",
    "Why have {subj} found {obj} so difficult?",
    "Where does that leave {obj}?",
    "Can you say more about {obj}?",
]
ASIDES = ["[laughter]", "[crosstalk]", "[inaudible]"]


def sentence(rng: random.Random) -> str:
    opener = rng.choice(OPENERS)
    text = (
        f"{opener}{rng.choice(SUBJECTS)} {rng.choice(VERBS)} "
        f"{rng.choice(OBJECTS)}{rng.choice(TAILS)}."
    )
    return text[0].upper() + text[1:]


def answer(rng: random.Random) -> str:
    """A guest's answer: mostly one paragraph, sometimes long, a little Markdown."""
    paragraphs = []
    for _ in range(1 if rng.random() < 0.75 else rng.randint(2, 4)):
        count = min(int(rng.expovariate(1 / 4)) + 1, 14)
        words = [sentence(rng) for _ in range(count)]
        if rng.random() < 0.06:
            words.insert(rng.randrange(len(words) + 1), rng.choice(ASIDES))
        paragraphs.append(" ".join(words))
    body = "\n\n".join(paragraphs)
    if rng.random() < 0.05:
        body = body.replace(" norms ", " *norms* ", 1)
    if rng.random() < 0.03:
        body = f"**{rng.choice(['Yes.', 'No.', 'Absolutely.', 'Not quite.'])}** {body}"
    return body


def question(rng: random.Random) -> str:
    asked = rng.choice(QUESTIONS).format(
        subj=rng.choice(SUBJECTS), obj=rng.choice(OBJECTS)
    )
    if rng.random() < 0.4:
        return f"{sentence(rng)} {asked}"
    return asked


def script(rng: random.Random, hosts: list, guests: list, count: int) -> list:
    """(speaker, kind, body) for ``count`` turns of a conversation."""
    turns = []
    while len(turns) < count:
        turns.append((rng.choice(hosts), "question", question(rng)))
        for guest in rng.sample(guests, k=min(len(guests), rng.randint(1, 2))):
            if len(turns) < count:
                turns.append((guest, "answer", answer(rng)))
        if rng.random() < 0.05 and len(turns) < count:
            turns.append((rng.choice(hosts), "remark", "Thank you."))
    return turns


def partial_date(rng: random.Random) -> tuple:
    day = datetime.date(2010, 1, 1) + datetime.timedelta(days=rng.randrange(5400))
    roll = rng.random()
    if roll < 0.03:
        return None, "day"
    if roll < 0.10:
        return day.replace(month=1, day=1), "year"
    if roll < 0.20:
        return day.replace(day=1), "month"
    return day, "day"


# Building the archive -----------------------------------------------------


def build_archive(args: argparse.Namespace) -> dict:
    """Write the synthetic archive; return the slugs the timed URLs need."""
    from django.db import transaction
    from django.utils.text import slugify

    from archive.models import (
        Interview,
        InterviewSource,
        Participant,
        Series,
        Speaker,
        Topic,
        Turn,
    )

    rng = random.Random(args.seed)
    ordinary = max(1, round(args.interviews * args.scale))
    speaker_count = max(8, round(60 * args.scale))

    with transaction.atomic():
        topics = [
            Topic.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0]
            for name in TOPICS
        ]
        names = sorted({f"{f} {last}" for f in FIRST_NAMES for last in LAST_NAMES})
        speakers = []
        for i, name in enumerate(rng.sample(names, speaker_count)):
            speakers.append(
                Speaker(
                    name=name,
                    slug=f"{slugify(name)}-{i}",
                    affiliation=rng.choice(AFFILIATIONS),
                    bio=f"Works on *{rng.choice(TOPICS).lower()}*."
                    if rng.random() < 0.5
                    else "",
                )
            )
        for speaker in speakers:
            speaker.save()
        # (series, its host, its medium); hosts are among the busiest people.
        shows = [
            (
                Series.objects.create(name=name, slug=slugify(name), outlet=outlet),
                rng.sample(speakers[:10], 2)[0],
                medium,
            )
            for name, outlet, medium in SERIES
        ]

        # A few people are in many interviews, most in a few (as in a real
        # archive), so that there is a busy speaker whose page is long.
        weights = [1 / (i + 1) for i in range(len(speakers))]
        plans = [(rng.randint(20, 300), f"interview-{i:05d}") for i in range(ordinary)]
        plans += [
            (LONG_TURNS, "long-podcast-1100-turns"),
            (HUGE_TURNS, "hearing-day-5000-turns"),
            (SHORT_TURNS, "short-qa-20-turns"),
        ]
        for number, (count, slug) in enumerate(plans):
            show, host, medium = (
                rng.choice(shows)
                if rng.random() < 0.7
                else (
                    None,
                    rng.choice(speakers),
                    rng.choice(["event", "video", "other"]),
                )
            )
            hosts = [host]
            guests = []
            while len(guests) < (6 if count == HUGE_TURNS else rng.randint(1, 3)):
                guest = rng.choices(speakers, weights)[0]
                if guest not in hosts and guest not in guests:
                    guests.append(guest)
            date, precision = partial_date(rng)
            interview = Interview.objects.create(
                title=f"{rng.choice(OBJECTS).capitalize()}: a conversation, "
                f"part {number + 1}",
                slug=slug,
                series=show,
                outlet=show.outlet if show else "",
                episode=str(number + 1) if show else "",
                date=date,
                date_precision=precision,
                medium=medium,
                lede=" ".join(sentence(rng) for _ in range(2)),
                attribution="Synthetic transcript for benchmarking.",
                # Drafts are in the database but filtered out of every page.
                published=number >= ordinary or rng.random() >= 0.05,
            )
            interview.topics.set(_pick_topics(rng, topics))
            Participant.objects.bulk_create(
                Participant(
                    interview=interview,
                    speaker=speaker,
                    role=role,
                    position=position,
                )
                for position, (speaker, role) in enumerate(
                    [(h, "host") for h in hosts]
                    + [
                        (g, "panelist" if count == HUGE_TURNS else "guest")
                        for g in guests
                    ]
                )
            )
            clock = 0.0
            turns = []
            for position, (speaker, kind, body) in enumerate(
                script(rng, hosts, guests, count), start=1
            ):
                timed = medium in ("podcast", "radio", "video")
                turns.append(
                    Turn(
                        interview=interview,
                        position=position,
                        speaker=speaker,
                        label=speaker.name.split()[-1],
                        body=body,
                        kind=kind,
                        start=clock if timed else None,
                    )
                )
                clock += len(body) / 15
            Turn.objects.bulk_create(turns, batch_size=500)
            interview.refresh_turn_count()
            # The importer keeps each interview's source text (in its own
            # table); the benchmark stores it too, so sizes are realistic.
            source = "\n\n".join(f"{t.label}: {t.body}" for t in turns)
            Interview.objects.filter(pk=interview.pk).update(source_name=f"{slug}.txt")
            InterviewSource.objects.create(
                interview=interview,
                text=source,
                sha256=hashlib.sha256(source.encode()).hexdigest(),
                import_hash="bench",
            )
    return {"long": plans[-3][1], "huge": plans[-2][1], "short": plans[-1][1]}


def _pick_topics(rng: random.Random, topics: list) -> list:
    # The first topics are the common ones, so one of them has several pages.
    weights = [1 / (i + 1) ** 0.7 for i in range(len(topics))]
    chosen = []
    for _ in range(rng.randint(1, 4)):
        topic = rng.choices(topics, weights)[0]
        if topic not in chosen:
            chosen.append(topic)
    return chosen


# Timing -------------------------------------------------------------------


def percentile(values: list, fraction: float) -> float:
    """Nearest-rank percentile: a time that was actually measured."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def time_seed_imports(repeat: int) -> list:
    """Import each seed file into the fresh database, then again after deleting.

    The first round is a fresh database in a fresh process; later rounds
    find the speakers, series and topics already there, as a new import into
    a running archive does.
    """
    from archive.importer import import_file, transcript_files
    from archive.models import Interview

    files = transcript_files(SEEDS)
    times = {path: [] for path in files}
    turns = {}
    for round_ in range(min(repeat, 5)):
        if round_:
            Interview.objects.filter(source_name__in=[p.name for p in files]).delete()
        for path in files:
            start = time.perf_counter()
            outcome = import_file(path)
            times[path].append(time.perf_counter() - start)
            if outcome.status != "created":
                raise SystemExit(f"{path.name}: {outcome.status} {outcome.message}")
            turns[path] = outcome.interview.turn_count
    return [(path.name, turns[path], times[path]) for path in files]


def parsed_interview(rng: random.Random, count: int):
    """A ParsedInterview as a parser would hand it over, built directly."""
    from archive.parsing import ParsedInterview, ParsedSpeaker, ParsedTurn

    host, guest = "Bench Host Person", "Bench Guest Person"
    turns = [
        ParsedTurn(
            speaker=host if kind == "question" else guest,
            label=(host if kind == "question" else guest).split()[-1],
            paragraphs=body.split("\n\n"),
            kind=kind,
        )
        for _, kind, body in script(rng, ["host"], ["guest"], count)
    ]
    return ParsedInterview(
        turns=turns,
        participants=[
            ParsedSpeaker(name=host, role="host"),
            ParsedSpeaker(name=guest, role="guest", affiliation="Bench Institute"),
        ],
        title="A long bench conversation",
        date="2019-05",
        series="Bench Series",
        medium="podcast",
        topics=["Cyber norms", "Deterrence"],
    )


def time_bulk_import(rng: random.Random, repeat: int) -> dict:
    """save_parsed for a new 1,100-turn interview, and a re-import of it."""
    import copy

    from archive.importer import save_parsed
    from archive.models import Interview

    parsed = parsed_interview(rng, LONG_TURNS)
    source = "\n\n".join(f"{t.label}: {t.body}" for t in parsed.turns)
    created, updated = [], []
    for i in range(min(repeat, 3)):
        start = time.perf_counter()
        outcome = save_parsed(
            parsed,
            source_name=f"bench-{i}.txt",
            source_text=source,
            import_hash=f"bench-{i}",
        )
        created.append(time.perf_counter() - start)
        if outcome.status != "created":
            raise SystemExit(f"bench import: {outcome.status} {outcome.message}")
    # A corrected re-import: one turn edited, every other anchor kept.
    for i in range(min(repeat, 3)):
        edited = copy.deepcopy(parsed)
        edited.turns[LONG_TURNS // 2].paragraphs = [f"Corrected answer, version {i}."]
        start = time.perf_counter()
        outcome = save_parsed(
            edited,
            source_name="bench-0.txt",
            source_text=source,
            import_hash=f"bench-edit-{i}",
        )
        updated.append(time.perf_counter() - start)
        if outcome.status != "updated":
            raise SystemExit(f"bench re-import: {outcome.status} {outcome.message}")
    Interview.objects.filter(source_name__startswith="bench-").delete()
    return {"turns": LONG_TURNS, "created": created, "updated": updated}


def time_pages(urls: list, repeat: int) -> list:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    rows = []
    for url, what in urls:
        response = client.get(url)  # warm-up: templates, URL resolver, caches
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        size = len(response.content)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        # Read now: the next request's request_started signal empties the log.
        query_count = len(queries.captured_queries)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - start)
        rows.append((url, what, times, size, query_count))
    return rows


def page_urls(slugs: dict) -> list:
    """(URL, what it shows) for each timed request."""
    from django.conf import settings
    from django.db.models import Count, Q

    from archive.models import Interview, Speaker, Topic, Turn

    published = Interview.objects.published().count()
    # A quote deep in the longest interview: its question is a lookup back.
    quote = (
        Turn.objects.filter(interview__slug=slugs["huge"])
        .order_by("-position")
        .values_list("pk", flat=True)
        .first()
    )
    topic = (
        Topic.objects.annotate(n=Count("interviews", filter=Q(interviews__published=1)))
        .order_by("-n", "name")
        .first()
    )
    page = 2 if topic.n > settings.ARCHIVE_PAGE_SIZE else 1
    busy = (
        Speaker.objects.annotate(
            n=Count("turns", filter=Q(turns__interview__published=1))
        )
        .order_by("-n", "name")
        .first()
    )
    busy_interviews = (
        Interview.objects.published().filter(turns__speaker=busy).distinct().count()
    )
    speakers = Speaker.objects.public().count()
    return [
        ("/", "home"),
        ("/interviews/", f"page 1 of {published:,} interviews"),
        (
            f"/interviews/?topic={topic.slug}&page={page}",
            f"page {page}, topic of {topic.n} interviews",
        ),
        (f"/interviews/{slugs['short']}/", f"{SHORT_TURNS} turns"),
        (f"/interviews/{slugs['long']}/", f"{LONG_TURNS:,} turns"),
        (f"/interviews/{slugs['huge']}/", f"{HUGE_TURNS:,} turns"),
        (f"/q/{quote}", f"quote page, last of {HUGE_TURNS:,} turns"),
        (f"/interviews/{slugs['huge']}/cite.ris", "citation as RIS"),
        ("/speakers/", f"page 1 of {speakers} speakers"),
        (
            f"/speakers/{busy.slug}/",
            f"busiest: {busy.n:,} turns, {busy_interviews} interviews",
        ),
        (f"/topics/{topic.slug}/", f"{topic.n} interviews"),
        ("/api/interviews", f"all {published:,} interviews"),
        (f"/api/interviews/{slugs['long']}", f"{LONG_TURNS:,} turns"),
    ]


# Report -------------------------------------------------------------------


def machine_facts() -> list:
    import django
    from django.db import connection

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    database = f"{connection.vendor} ({connection.settings_dict['ENGINE']})"
    if connection.vendor == "postgresql":
        version = connection.pg_version
        database += f", server {version // 10000}.{version % 10000}"
    return [
        ("CPUs", f"{os.cpu_count()}{f' × {cpu}' if cpu else ''}"),
        ("Platform", platform.platform()),
        ("Python", platform.python_version()),
        ("Django", django.get_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("Database", database),
    ]


def archive_facts(build_seconds: float, data_dir: Path) -> list:
    from django.db.models import Avg
    from django.db.models.functions import Length

    from archive.models import Interview, Series, Speaker, Topic, Turn

    turns = Turn.objects.count()
    drafts = Interview.objects.filter(published=False).count()
    facts = [
        (
            "Interviews",
            f"{Interview.objects.published().count():,} published, "
            f"{drafts} draft{'s' if drafts != 1 else ''}",
        ),
        (
            "Turns",
            f"{turns:,}, "
            f"{Turn.objects.aggregate(n=Avg(Length('body')))['n']:.0f} characters "
            "of Markdown on average",
        ),
        (
            "Speakers, topics, series",
            f"{Speaker.objects.count()}, {Topic.objects.count()}, "
            f"{Series.objects.count()}",
        ),
        (
            "Built in",
            f"{build_seconds:.1f} s ({turns / build_seconds:,.0f} turns/s, "
            "mostly Turn.objects.bulk_create)",
        ),
    ]
    database = data_dir / "archive.sqlite3"
    if database.exists():
        facts.append(("SQLite file", f"{database.stat().st_size / 2**20:.0f} MB"))
    return facts


def table(headers: list, rows: list) -> str:
    """A plain-text table: numbers right-aligned, words left-aligned."""
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(row[i].replace(",", "").replace(".", "").isdigit() for row in cells[1:])
        for i in range(len(headers))
    ]
    lines = []
    for row in cells:
        parts = [
            c.rjust(w) if right else c.ljust(w)
            for c, w, right in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
        if len(lines) == 1:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def report(args, facts, pages, seeds, bulk) -> str:
    out = [
        "Reading pages: benchmark (bench/pages.py)",
        "",
        *(f"{name + ':':<26}{value}" for name, value in facts),
        "",
        f"Pages: {args.repeat} timed requests each after one warm-up, in-process "
        "(django.test.Client, DEBUG off); ms per request.",
        "",
        table(
            ["URL", "median", "p95", "max", "KB", "queries", "what"],
            [
                (
                    url,
                    ms(statistics.median(times)),
                    ms(percentile(times, 0.95)),
                    ms(max(times)),
                    f"{size / 1024:,.0f}",
                    queries,
                    what,
                )
                for url, what, times, size, queries in pages
            ],
        ),
        "",
        "Import of the seed interviews (archive.importer.import_file), ms per file:",
        "",
        table(
            ["file", "turns", "fresh DB", "median", "rounds"],
            [
                (name, turns, ms(times[0]), ms(statistics.median(times)), len(times))
                for name, turns, times in seeds
            ],
        ),
        "",
        f"Bulk import (archive.importer.save_parsed), {bulk['turns']:,} turns "
        "into the full archive:",
        "",
        table(
            ["", "median ms", "turns/s"],
            [
                (
                    f"new interview (x{len(bulk[key])})"
                    if key == "created"
                    else f"re-import, one turn edited (x{len(bulk[key])})",
                    ms(statistics.median(bulk[key])),
                    f"{bulk['turns'] / statistics.median(bulk[key]):,.0f}",
                )
                for key in ("created", "updated")
            ],
        ),
    ]
    return "\n".join(out)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv=None) -> None:
    args = parse_args(argv)
    data_dir = configure(args)
    try:
        create_database(args)
        try:
            progress("Importing the seed interviews into a fresh database…")
            seeds = time_seed_imports(args.repeat)
            progress("Building the synthetic archive…")
            start = time.perf_counter()
            slugs = build_archive(args)
            build_seconds = time.perf_counter() - start
            facts = machine_facts() + archive_facts(build_seconds, data_dir)
            progress("Timing the pages…")
            pages = time_pages(page_urls(slugs), args.repeat)
            progress("Timing a bulk import…")
            bulk = time_bulk_import(random.Random(args.seed + 1), args.repeat)
        finally:
            drop_database(args)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(report(args, facts, pages, seeds, bulk))


if __name__ == "__main__":
    main()
