"""How policy text becomes index terms.

Whoosh's default analysis loses what this archive's readers search for: it
stems "U.S." to "u.", reads "S&ED" as "ed", keeps only "20" of "G-20", and
cannot tell the country "US" from the pronoun "us". This tokenizer decides
on case before lowercasing and treats compounds explicitly:

- "U.S.", "US" (in mixed-case text), "USA" and "United States" all give the
  term ``unitedstates``; the pronoun "us" stays ``us``;
- dotted and ampersand acronyms (U.N., S&ED, AT&T) and all-caps words in
  mixed-case text (OPM, NSA, GGE) are kept whole and never stemmed;
- hyphenated words give the joined word ("cyber-security" → cybersecurity,
  "G-20" → g20, "non-state" → nonstate), and, when indexing, their word
  parts at the same position, so "security" still finds "cyber-security";
- "cyber" followed by a word is also indexed joined ("cyber security" →
  cybersecurity), and "United States" likewise;
- curly and straight apostrophes are the same; a possessive also indexes
  its base word ("Maurer’s" → maurer).

At query time (``mode="query"``) only the joined form of a compound is
produced, so a phrase like "cyber security policy" lines up with every
spelling. Character offsets are kept exact so that highlighting can use the
positions stored in the index without analysing the text again.
"""

import re
from collections.abc import Iterator
from functools import lru_cache

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter import stem as _porter

# One-for-one replacements only, so character offsets stay true.
_FOLD = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "‐": "-", "‑": "-"})
_CHUNK = re.compile(r"\w+(?:[.&'\-]\w+)*\.?")
_DOTTED = re.compile(r"^(?:[^\W\d_]\.){2,}$|^[^\W\d_](?:\.[^\W\d_])+$")
_COUNTRY = {"us", "usa"}
# Words that, followed by another word, are also indexed as one word.
_JOINING_PREFIXES = {"cyber"}
# First words of the compounds read across two words ("United States").
_JOIN_STARTS = frozenset({"united"} | _JOINING_PREFIXES)
_CONTEXT = 40


# Words the stemmer would turn into another word: "news" is not "new".
_UNSTEMMED = frozenset({"news", "physics", "series", "always", "analysis"})
# Porter cuts short words to letters that mean something else ("DNS" and
# "dns" would become "dn", "was" "wa"): a word this short is searched as
# written, and indexed both as written and stemmed (so "ads" still finds "ad").
SHORT = 3


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    if len(word) <= SHORT or word in _UNSTEMMED:
        return word
    return _porter_stem(word)


@lru_cache(maxsize=50_000)
def _porter_stem(word: str) -> str:
    stemmed = _porter(word)
    # Porter stems "use", "used" and "using" to "us", which would make the
    # pronoun find every use of the verb.
    if stemmed == "us" and word != "us":
        return "use"
    return stemmed


def _short_extras(term: str) -> list[str]:
    """The stemmed form of a short word, indexed beside it."""
    if len(term) <= SHORT and term.isalpha():
        stemmed = _porter(term)
        if stemmed != term and stemmed != "us":
            return [stemmed]
    return []


def _in_capitals(text: str, start: int, end: int) -> bool:
    """Whether the text around a word is set in capitals (a shouted header)."""
    window = text[max(0, start - _CONTEXT) : end + _CONTEXT]
    return window == window.upper()


def _word_terms(chunk: str, capitals: bool) -> tuple[str, list[str]]:
    """(main term, extra index-only terms) for one chunk of text.

    ``capitals`` (whether the text around is set in capitals) only matters
    for a word in capitals: callers may pass False for any other.
    """
    if chunk.isalpha():  # most words: none of the cases below applies
        if chunk in ("US", "USA") and not capitals:
            return "unitedstates", []
        main = _plain(chunk, capitals)
        return main, _short_extras(main) if not chunk.isupper() else []
    if _DOTTED.match(chunk) or _DOTTED.match(chunk.rstrip(".")):
        letters = chunk.replace(".", "").lower()
        return ("unitedstates" if letters in _COUNTRY else letters), []
    if "&" in chunk:
        return chunk.lower(), []
    if "'" in chunk:
        lowered = chunk.lower()
        base = lowered.split("'", 1)[0]
        extras = [stem(base)] if lowered.endswith("'s") and base.isalpha() else []
        return lowered, extras
    if "-" in chunk:
        parts = [p for p in chunk.split("-") if p]
        joined = "".join(parts)
        main = _plain(joined, capitals and not joined.isupper())
        extras = [stem(p.lower()) for p in parts if p.isalpha() and len(p) >= 2]
        return main, [e for e in extras if e != main]
    if chunk in ("US", "USA") and not capitals:
        return "unitedstates", []
    main = _plain(chunk, capitals)
    return main, _short_extras(main) if not chunk.isupper() else []


def _plain(word: str, capitals: bool) -> str:
    if len(word) >= 2 and word.isupper() and not capitals:
        return word.lower()  # an acronym: OPM, NSA, GGE
    lowered = word.lower()
    return stem(lowered) if lowered.isalpha() else lowered


_last: list = [None, None]  # (text, mode, stemming), its spans


class PolicyTokenizer(Tokenizer):
    """Tokenizer and filters in one pass (see the module docstring)."""

    def __init__(self, stemming: bool = True):
        self.stemming = stemming

    def __eq__(self, other):
        return type(other) is type(self) and other.stemming == self.stemming

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        **kwargs,
    ) -> Iterator[Token]:
        for term, pos, term_start, term_end, _ in self.spans(value, mode=mode):
            token = Token(
                positions=positions, chars=chars, removestops=removestops, mode=mode
            )
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[term_start:term_end]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + term_start
                token.endchar = start_char + term_end
            yield token

    def spans(
        self, value: str, mode: str = ""
    ) -> list[tuple[str, int, int, int, tuple[str, ...]]]:
        """(term, position, start, end, parts) for each term of ``value``.

        ``parts`` are the stemmed parts of a hyphenated word ("two-factor"
        gives "twofactor" with parts two, factor), so that a query can look
        for the compound written either way.
        """
        # Indexing analyses each text twice in a row (Whoosh's field, then
        # the segment arrays): the second time is the first's result.
        key = (value, mode, self.stemming)
        if _last[0] == key:
            return _last[1]
        result = list(self._spans(value, mode))
        _last[0], _last[1] = key, result
        return result

    def _spans(self, value: str, mode: str, starts: tuple[str, ...] | None = None):
        """``spans`` without the cache. With ``starts``, a plain word whose
        lower case begins with none of them is passed over unanalysed (see
        ``marking_spans``); positions are counted all the same."""
        indexing = mode != "query"
        text = value.translate(_FOLD)
        chunks = []
        for m in _CHUNK.finditer(text):
            chunk, start, end = m.group(), m.start(), m.end()
            if chunk.endswith(".") and not _DOTTED.match(chunk):
                chunk, end = chunk[:-1], end - 1
            chunks.append((chunk, start, end))

        if not self.stemming:
            for pos, (chunk, start, end) in enumerate(chunks):
                yield self._unstemmed(chunk), pos, start, end, ()
            return
        pos = 0
        i = 0
        while i < len(chunks):
            chunk, start, end = chunks[i]
            if (
                starts is not None
                and chunk.isalpha()
                and chunk not in ("US", "USA")
                and (lower := chunk.lower()) not in _JOIN_STARTS
                and not lower.startswith(starts)
            ):
                i += 1
                pos += 1
                continue
            # Only a word in capitals needs to know whether the text around
            # it is too; in a query, "US" is the country even when typed alone.
            capitals = (
                chunk.isupper()
                and _in_capitals(text, start, end)
                and not (not indexing and chunk in ("US", "USA"))
            )
            main, extras = _word_terms(chunk, capitals)
            parts: tuple[str, ...] = ()
            if "-" in chunk and extras:
                parts = tuple(stem(p.lower()) for p in chunk.split("-") if p.isalpha())
            joined = self._joined_with_next(text, chunks, i)
            if joined is not None:
                next_chunk, next_start, next_end = chunks[i + 1]
                next_capitals = next_chunk.isupper() and _in_capitals(
                    text, next_start, next_end
                )
                next_main, _ = _word_terms(next_chunk, next_capitals)
                # Each word keeps its own characters, so that "policy" marks
                # "Policy" in "Cyber Policy", not both words.
                yield joined, pos, start, next_end, ()
                if indexing:
                    yield main, pos, start, end, ()
                    if next_main not in (joined, main):
                        yield next_main, pos, next_start, next_end, ()
                i += 2
            else:
                yield main, pos, start, end, parts
                if indexing:
                    seen = {main}
                    for term in extras:
                        if term not in seen:
                            seen.add(term)
                            yield term, pos, start, end, ()
                i += 1
            pos += 1

    @staticmethod
    def _unstemmed(chunk: str) -> str:
        return chunk.lower().replace(".", "")

    @staticmethod
    def _joined_with_next(text: str, chunks: list, i: int) -> str | None:
        """The joined term when chunk i and the next form a known compound."""
        if i + 1 >= len(chunks):
            return None
        word, _, end = chunks[i]
        following, start, _ = chunks[i + 1]
        if text[end:start].strip(" \u00a0") or not following.isalpha():
            return None
        first = word.lower()
        if first == "united" and following.lower() == "states":
            return "unitedstates"
        if first in _JOINING_PREFIXES:
            return stem(first + following.lower())
        return None


def term_span(text: str, start: int, end: int, term: str) -> tuple[int, int]:
    """Where ``term``, indexed at the word position whose characters are
    ``text[start:end]``, lies within them: a position is one word, or two
    read as one ("cyber security", "United States"), whose joined term
    spans both and whose other terms each mark their own word (as
    ``_spans`` gives them)."""
    region = text[start:end].translate(_FOLD)
    words = _CHUNK.findall(region)
    if len(words) != 2:
        return start, end
    first, second = words[0].lower(), words[1].lower()
    joined = "unitedstates" if first == "united" else stem(first + second)
    if term == joined:
        return start, end
    if term in (first, stem(first)):
        return start, start + len(words[0])
    return end - len(words[1]), end


def policy_analyzer() -> PolicyTokenizer:
    return PolicyTokenizer(stemming=True)


def spelling_analyzer() -> PolicyTokenizer:
    """Whole words as written (lowercased), for "did you mean" suggestions."""
    return PolicyTokenizer(stemming=False)


_POLICY = PolicyTokenizer(stemming=True)


def terms(text: str, *, query: bool = True) -> list[str]:
    """The index terms for ``text``: what a query word or phrase becomes."""
    mode = "query" if query else "index"
    return [span[0] for span in _POLICY.spans(text, mode=mode)]


def query_terms(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(term, parts of a hyphenated word) for each word of a query."""
    return [(term, parts) for term, _, _, _, parts in _POLICY.spans(text, "query")]


def index_spans(text: str) -> list[tuple[str, int, int, int]]:
    """(term, position, start, end) of every term indexed for ``text``."""
    return [span[:4] for span in _POLICY.spans(text)]


# Porter rewrites at most the last four letters of what it keeps ("ational"
# becomes "ate", "biliti" "ble", a final "y" "i"): a word stemmed to a term
# begins with all of the term but its last four letters.
STEM_ENDING = 4


def marking_spans(text: str, terms) -> list[tuple[str, int, int, int]]:
    """``index_spans`` restricted to ``terms``, for marking a search's hits
    without analysing every word of a long text: a plain word that cannot
    stem to any of them is skipped (hyphenated, dotted, possessive and
    compound words are always analysed)."""
    wanted = set(terms)
    if not wanted:
        return []
    starts = tuple({t[: max(len(t) - STEM_ENDING, 1)] for t in wanted})
    return [span[:4] for span in _POLICY._spans(text, "", starts) if span[0] in wanted]
