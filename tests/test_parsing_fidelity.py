"""Known turns, rendered the messy ways real sources are, parse back whole.

Interviews are generated from a seeded word list (sentences, questions,
numbers, colons inside sentences, names with initials and accents), rendered
by ``bench/messy.py`` (labels in two styles, shortened names, hard wrapping,
running headers, page numbers, form feeds, CRLF/CR, Windows-1252) and parsed
with ``archive.parsing.parse``; every turn must come back with its speaker
and its text (whitespace aside).
"""

import random

import pytest

from archive.parsing import parse
from bench import messy

# Each pair shares no name word with another, so a shortened label ("STEVE",
# "Maurer") names one person only, as it does in the sources.
CASTS = [
    ("Steve Gibson", "Leo Laporte"),
    ("Paul Haenle", "Tim Maurer"),
    ("J. Michael Daniel", "Anne-Marie Slaughter"),
    ("José Núñez", "Mary O'Neil"),
    ("Kevin McCarthy", "Dr. Ruth Ngozi Okafor"),
    ("Amit Varma", "Shruti Rajagopalan", "Nandan Nilekani"),
]
# fmt: off
WORDS = [
    "the", "a", "policy", "network", "security", "state", "attack", "norms", "we",
    "they", "it", "that", "this", "agreement", "government", "companies",
    "encryption", "password", "browser", "update", "certificate", "hospital",
    "election", "treaty", "law", "court", "data", "breach", "patch", "risk",
    "system", "people", "question", "answer", "process", "trust", "model", "cost",
    "year", "month", "really", "actually", "also", "still", "never", "often",
    "probably", "clearly", "simply",
]
VERBS = [
    "is", "was", "has", "had", "said", "thinks", "makes", "breaks", "shows",
    "needs", "uses", "sees",
]
# fmt: on
PROPER = [
    "Microsoft",
    "China",
    "the U.S.",
    "NATO",
    "Windows 10",
    "OpenSSL",
    "the E.U.",
    "GCHQ",
    "Cyber Command",
]
NUMBERS = ["2016", "3.5", "40 percent", "1,061", "$2 million", "No. 7", "9/11", "24"]
OPENERS = [
    "The problem: ",
    "Here is the thing: ",
    "And so, ",
    "Well, ",
    "In 2014, ",
    "Look — ",
    "",
    "",
    "",
]
SHORT_TURNS = ["Yes.", "Thank you.", "Right.", "Exactly, yes.", "Mm-hmm.", "Sure."]


def _sentence(rng: random.Random, question: bool) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(3, 16))]
    words.insert(rng.randint(1, len(words)), rng.choice(VERBS))
    if rng.random() < 0.4:
        words.insert(rng.randint(1, len(words)), rng.choice(PROPER))
    if rng.random() < 0.3:
        words.insert(rng.randint(1, len(words)), rng.choice(NUMBERS))
    if rng.random() < 0.2:
        words.insert(rng.randint(2, len(words)), "—")
    if rng.random() < 0.2:
        words[rng.randint(0, len(words) - 1)] += ","
    text = rng.choice(OPENERS) + " ".join(words).strip(",")
    text = text[0].upper() + text[1:]
    return text + ("?" if question else rng.choice(".....!"))


def _turn_text(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(SHORT_TURNS)
    paragraphs = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        sentences = [
            _sentence(rng, question=rng.random() < 0.15)
            for _ in range(rng.randint(1, 6))
        ]
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def interview(seed: int) -> list[tuple[str, str]]:
    """A generated interview of 30 to 90 turns: [(speaker, text)]."""
    rng = random.Random(seed)
    cast = rng.choice(CASTS)
    turns = []
    for _ in range(rng.randint(30, 90)):
        others = [p for p in cast if not turns or p != turns[-1][0]]
        turns.append((rng.choice(others), _turn_text(rng)))
    return turns


SEEDS = range(12)


def _parsed_turns(source) -> list[tuple[str, str]]:
    return [(turn.speaker, turn.body) for turn in parse(source).turns]


@pytest.mark.parametrize("seed", SEEDS)
def test_clean_labelled_text_gives_back_every_turn_exactly(seed):
    turns = interview(seed)
    result = messy.fidelity(turns, _parsed_turns(messy.render(turns, seed=seed)))
    assert result.mismatches == []


@pytest.mark.parametrize("name", sorted(messy.MESSY))
def test_messy_renderings_give_back_every_turn(name):
    style = messy.MESSY[name]
    expected = matched = 0
    mismatches = []
    for seed in SEEDS:
        turns = interview(seed)
        source = messy.render(turns, style, seed=seed)
        # Upper-case labels lose inner capitals: "KEVIN MCCARTHY" is read as
        # "Kevin Mccarthy" unless a header or sidecar declares the name.
        result = messy.fidelity(turns, _parsed_turns(source), fold_case=style.upper)
        expected += result.expected
        matched += result.matched
        mismatches += result.mismatches
    # Every turn comes back: page furniture is removed, the paragraph a
    # page break cut is whole again, and shortened labels resolve.
    assert (matched, mismatches[:3]) == (expected, [])


def test_wrapped_paragraphs_cut_by_a_page_break_come_back_as_one_paragraph():
    turns = interview(3)
    source = messy.render(turns, messy.STYLES["paged"], seed=3)
    parsed = parse(source)
    expected = [text.count("\n\n") + 1 for _, text in turns]
    assert [len(turn.paragraphs) for turn in parsed.turns] == expected


def test_shortened_upper_case_labels_resolve_to_the_full_name():
    turns = [
        ("Steve Gibson", "Hello."),
        ("Leo Laporte", "Hi, Steve."),
        ("Steve Gibson", "Good to be back."),
    ]
    source = messy.render(turns, messy.STYLES["upper"])
    assert source.startswith("STEVE GIBSON:  Hello.\n\nLEO LAPORTE:  Hi, Steve.")
    assert "\n\nSTEVE:  Good to be back." in source
    assert [t.speaker for t in parse(source).turns] == [s for s, _ in turns]
