"""A reader's query tree compiled against an engine's vocabulary, for any engine.

``compile_plan`` turns the tree (``archive.search.query``) into a plan of
plain tuples naming index terms, the same for every engine:

- ``("term", t)`` and ``("phrase", (t1, t2, ...))``: analysed words;
- ``("filter", field, value)`` with field ``speaker_names``,
  ``interview_slug``, ``series``, ``topics``, ``role`` or ``kind``;
- ``("date", lo, hi)``: YYYYMMDD bounds, inclusive;
- ``("and", positives, negatives)``, ``("or", parts)`` and ``("none",)``.

Words are analysed by our own analyzer, compounds looked for both ways
("cyber security" and "cybersecurity"), speakers' names recognised and
wildcards expanded to at most ``PREFIX_CAP`` terms, all by asking the
engine's ``Vocabulary`` what its index holds. Repeated clauses merge (equal
tuples are one clause). The plan also lists the positive terms and phrases,
which engines rank and mark by.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from archive.search import analysis
from archive.search import query as q
from archive.search.engine import Budget
from archive.search.query import PREFIX_CAP

NONE = ("none",)
_NONE = NONE


class Vocabulary(Protocol):
    """What the compiler asks an engine's index."""

    def is_name_word(self, word: str) -> bool:
        """Whether some speaker's name or alias has ``word``."""

    def one_speaker(self, words: list[str], budget: Budget) -> bool:
        """Whether one speaker's names hold all of ``words``."""

    def has_term(self, term: str) -> bool:
        """Whether the index has ``term`` in the text."""

    def words_from(self, prefix: str) -> Iterator[str]:
        """Words as written (lower case) starting with ``prefix``, in order."""

    def terms_from(self, prefix: str) -> Iterator[str]:
        """Index terms starting with ``prefix``, in order."""


@dataclass
class Plan:
    node: tuple | None
    notices: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # positive words, for spelling
    terms: list[str] = field(default_factory=list)  # positive text terms, marked
    phrases: list[tuple[str, ...]] = field(default_factory=list)  # positive phrases


def _date_bound(value: str, *, end: bool) -> int | None:
    if not value:
        return None
    parts = value.split("-")
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else (12 if end else 1)
    day = int(parts[2]) if len(parts) > 2 else (31 if end else 1)
    return year * 10000 + month * 100 + day


def compile_plan(tree, vocabulary: Vocabulary, budget: Budget) -> Plan:
    plan = Plan(None)
    plan.node = _Compiler(vocabulary, budget, plan).compile(tree, negated=False)
    plan.terms = list(dict.fromkeys(plan.terms))
    plan.phrases = list(dict.fromkeys(plan.phrases))
    return plan


class _Compiler:
    def __init__(self, vocabulary: Vocabulary, budget: Budget, plan: Plan):
        self.vocabulary = vocabulary
        self.budget = budget
        self.plan = plan
        self.name_words: dict[str, bool] = {}
        # A word, phrase or wildcard repeated in a query is compiled once
        # (a wildcard's expansion asks the vocabulary for up to 64 terms).
        self.compiled: dict[tuple, tuple | None] = {}

    def compile(self, node, negated: bool):
        if node is None:
            return None
        if isinstance(node, q.Word):
            if not negated:
                self.plan.words.append(node.text)
            return self._text(node.text, negated)
        if isinstance(node, q.Phrase):
            if not negated:
                # A misspelt word in a phrase deserves a suggestion too.
                self.plan.words += node.text.split()
            return self._text(node.text, negated)
        if isinstance(node, q.Prefix):
            return self._prefix(node.text, negated)
        if isinstance(node, q.Filter):
            return _filter(node)
        if isinstance(node, q.DateRange):
            lo = _date_bound(node.start, end=False) or 1  # 0 means "date unknown"
            hi = _date_bound(node.end, end=True) or 99_991_231
            return ("date", lo, hi)
        if isinstance(node, q.Not):
            inner = self.compile(node.child, not negated)
            return ("and", (), (inner,)) if inner is not None else None
        if isinstance(node, q.Or):
            parts = [self.compile(c, negated) for c in node.children]
            return _or(parts)
        if isinstance(node, q.And):
            return self._and(node.children, negated)
        raise TypeError(f"unknown query node {node!r}")

    def _and(self, children, negated: bool):
        positives, negatives = [], []
        children = list(children)
        i = 0
        while i < len(children):
            child = children[i]
            following = children[i + 1] if i + 1 < len(children) else None
            named = 0 if negated else self._speaker_name(children[i:])
            if named:
                # "Tim Maurer norms": the words of a speaker's name also stand
                # for what that speaker said, as speaker:"tim maurer" would,
                # or for the words themselves; ranked by the words, never a
                # filter (a turn that says the name still counts).
                run = [c.text for c in children[i : i + named]]
                self.plan.words += run
                said = _and([self._text(w, negated) for w in run], [])
                speaker = _filter(q.Filter("speaker", " ".join(run)))
                positives.append(_or([said, speaker]))
                i += named
                continue
            if isinstance(child, q.Word) and isinstance(following, q.Word):
                compound = _compound(child.text, following.text)
                if compound is not None:
                    # "cyber security" also finds "cybersecurity", and "United
                    # States" finds "U.S.": the pair as one word, or both words.
                    if not negated:
                        self.plan.words += [child.text, following.text]
                        self.plan.terms.append(compound)
                    both = [
                        self._text(child.text, negated),
                        self._text(following.text, negated),
                    ]
                    positives.append(_or([("term", compound), _and(both, [])]))
                    i += 2
                    continue
            if isinstance(child, q.Not):
                inner = self.compile(child.child, not negated)
                if inner is not None:
                    negatives.append(inner)
            else:
                compiled = self.compile(child, negated)
                if compiled is not None:
                    positives.append(compiled)
            i += 1
        return _and(positives, negatives)

    def _speaker_name(self, children) -> int:
        """How many of the leading words (two to four) spell the name of a
        speaker in the index (name or alias words); 0 if none do."""
        words = []
        for child in children[:4]:
            if not isinstance(child, q.Word) or not child.text.isalpha():
                break
            words.append(child.text.lower())
        for size in range(len(words), 1, -1):
            named = all(self._name_word(w) for w in words[:size])
            if named and self._one_speaker(words[:size]):
                return size
        return 0

    def _name_word(self, word: str) -> bool:
        # A lookup in each segment's sorted filter keys: cheap, and asked
        # at most once per word of the query.
        known = self.name_words.get(word)
        if known is None:
            known = self.name_words[word] = self.vocabulary.is_name_word(word)
        return known

    def _one_speaker(self, words: list[str]) -> bool:
        """Whether one speaker's names hold all of ``words``."""
        return self.vocabulary.one_speaker(words, self.budget)

    def _text(self, text: str, negated: bool):
        key = ("text", text, negated)
        if key not in self.compiled:
            self.compiled[key] = self._compile_text(text, negated)
        return self.compiled[key]

    def _compile_text(self, text: str, negated: bool):
        """A word or phrase: its terms in a row, written either way.

        A hyphenated word is also its parts in a row ("two-factor" finds
        "two factor"), and two words are also the word they make when the
        index has it ("two factor" finds "twofactor" and "two-factor").
        """
        words = analysis.query_terms(text)
        if not words:
            return None
        terms = tuple(term for term, _ in words)
        variants = [terms]
        if any(len(parts) > 1 for _, parts in words):
            variants.append(
                tuple(t for term, parts in words for t in (parts or (term,)))
            )
        joined = self._joined(words)
        if joined != terms:
            variants.append(joined)
        nodes = []
        for variant in dict.fromkeys(variants):
            node = ("term", variant[0]) if len(variant) == 1 else ("phrase", variant)
            nodes.append(node)
            if not negated:
                if node[0] == "term":
                    self.plan.terms.append(variant[0])
                else:
                    self.plan.phrases.append(variant)
        return _or(nodes)

    def _joined(self, words) -> tuple[str, ...]:
        out: list[str] = []
        i = 0
        while i < len(words):
            term, parts = words[i]
            if i + 1 < len(words) and not parts and not words[i + 1][1]:
                joined = analysis.stem(term + words[i + 1][0])
                if term.isalpha() and words[i + 1][0].isalpha():
                    self.budget.charge(1)
                    if self.vocabulary.has_term(joined):
                        out.append(joined)
                        i += 2
                        continue
            out.append(term)
            i += 1
        return tuple(out)

    def _prefix(self, text: str, negated: bool):
        key = ("prefix", text, negated)
        if key not in self.compiled:
            self.compiled[key] = self._compile_prefix(text, negated)
        return self.compiled[key]

    def _compile_prefix(self, text: str, negated: bool):
        """``text*`` as the index terms it stands for, at most PREFIX_CAP of them.

        The words as written are expanded first, then stemmed: the stemmed
        terms alone would miss every word whose stem is shorter than the
        prefix ("securit*" must find "security", indexed as "secur"). Stemmed
        terms that start with the prefix follow, for what the words field
        lacks (acronyms kept whole, joined compounds).
        """
        prefix = text.lower().replace("’", "'")

        def candidates():
            for word in self.vocabulary.words_from(prefix):
                self.budget.charge(1)
                yield from analysis.terms(word)
            for term in self.vocabulary.terms_from(prefix):
                self.budget.charge(1)
                yield term

        expanded: list[str] = []
        for term in candidates():
            if term in expanded:
                continue
            if len(expanded) == PREFIX_CAP:
                self.plan.notices.append(
                    f"“{text}*” matches more than {PREFIX_CAP} words; "
                    f"only the first {PREFIX_CAP} were searched."
                )
                break
            expanded.append(term)
        if not expanded:
            return _NONE
        if not negated:
            self.plan.terms += expanded
        return _or([("term", t) for t in expanded])


def _compound(first: str, second: str) -> str | None:
    joined = analysis.terms(f"{first} {second}")
    separate = analysis.terms(first) + analysis.terms(second)
    if len(joined) == 1 and len(separate) == 2:
        return joined[0]
    return None


def _or(parts):
    """Either of ``parts``, repeated ones merged (None when none is left)."""
    flat: list[tuple] = []
    for part in parts:
        if part is None or part == _NONE:
            continue
        flat += part[1] if part[0] == "or" else [part]
    flat = list(dict.fromkeys(flat))
    if not flat:
        return _NONE if any(p == _NONE for p in parts) else None
    return flat[0] if len(flat) == 1 else ("or", tuple(flat))


def _and(positives, negatives):
    positives = [p for p in positives if p is not None]
    negatives = [n for n in negatives if n is not None and n != _NONE]
    if _NONE in positives:
        return _NONE
    flat: list[tuple] = []
    for part in positives:
        if part[0] == "and" and not part[2]:
            flat += part[1]
        else:
            flat.append(part)
    flat = list(dict.fromkeys(flat))
    negatives = list(dict.fromkeys(negatives))
    if not flat and not negatives:
        return None
    if len(flat) == 1 and not negatives:
        return flat[0]
    return ("and", tuple(flat), tuple(negatives))


def _filter(node: q.Filter):
    value = node.value.strip().lower()
    if node.field == "speaker":
        words = [w.strip(".") for w in value.replace(",", " ").split() if w.strip(".")]
        if not words:
            return None
        return _and([("filter", "speaker_names", w) for w in words], [])
    target = {
        "interview": "interview_slug",
        "series": "series",
        "topic": "topics",
        "role": "role",
        "kind": "kind",
    }[node.field]
    return ("filter", target, value)
