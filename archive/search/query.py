"""The archive's search language: what a reader types, as a backend-neutral tree.

``parse_query(text)`` never raises. It returns a ``ParsedQuery`` holding the
text as kept, a tree of the node classes below (or ``None`` when nothing
searchable is left) and plain-English notices about anything it dropped or
repaired. The search backends compile the tree; ``understood()`` reads it back
to the reader in words so they can check what was searched.

The language::

    cyber security          both words (AND is implied; "AND" may be written)
    treaty OR norms         either (upper-case OR only)
    -security, NOT security without it
    "voluntary norms"       the exact phrase (straight or typographic quotes)
    cyber*                  words starting with "cyber"
    (a OR b) c              grouping; NOT binds tightest, then AND, then OR
    speaker:maurer          a filter; also interview:, series:, topic:, role:,
    speaker:"tim maurer"    kind:, year:2016, year:2015..2017, date:2016-07,
                            date:2015..2017, date:2016-07.., date:..2014

Whoosh's QueryParser is deliberately not used: it ignores ``-word``, loses
``date:2015..2017``, searches unknown fields as words and raises on inputs like
``NOT OR treaty`` or deeply nested brackets.
"""

from __future__ import annotations

import datetime
import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "FIELDS",
    "KINDS",
    "MAX_CLAUSES",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "PREFIX_CAP",
    "ROLES",
    "And",
    "DateRange",
    "Filter",
    "Node",
    "Not",
    "Or",
    "ParsedQuery",
    "Phrase",
    "Prefix",
    "Word",
    "describe",
    "parse_query",
]

MAX_LENGTH = 500
MAX_DEPTH = 8
MAX_CLAUSES = 64
PREFIX_CAP = 64  # index terms a wildcard may stand for, in every engine
FIELDS = ("speaker", "interview", "series", "topic", "role", "kind", "year", "date")
ROLES = ("host", "interviewer", "guest", "moderator", "panelist", "witness", "speaker")
KINDS = ("question", "answer", "remark", "lede")


@dataclass(frozen=True)
class Word:
    text: str  # as typed, case and punctuation kept: the backend's analyzer decides


@dataclass(frozen=True)
class Phrase:
    text: str  # two or more words, whitespace collapsed


@dataclass(frozen=True)
class Prefix:
    text: str  # "cyber" for cyber*


@dataclass(frozen=True)
class Filter:
    field: str  # one of FIELDS other than year and date
    value: str  # lower case; role and kind values are one of ROLES / KINDS


@dataclass(frozen=True)
class DateRange:
    start: str  # "YYYY", "YYYY-MM" or "YYYY-MM-DD"; "" when open
    end: str


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Word | Phrase | Prefix | Filter | DateRange | And | Or | Not


@dataclass
class ParsedQuery:
    text: str  # the query as kept, after cleaning and cutting
    tree: Node | None  # None when nothing searchable is left
    notices: list[str]  # sentences for the reader about what was dropped or repaired

    def understood(self) -> str:
        """The tree in words ("" when there is nothing to search)."""
        return describe(self.tree)


# Straight quotes pair only with each other, so a straight-quoted phrase may
# hold typographic quotes and the other way round.
_STRAIGHT_QUOTES = '"'
_TYPOGRAPHIC_QUOTES = "“”„‟«»"
_QUOTES = _STRAIGHT_QUOTES + _TYPOGRAPHIC_QUOTES
_BREAKS = frozenset("()" + _QUOTES)
_OPERATORS = ("OR", "AND", "NOT")
# A field name is letters only, so "10:30" is a word; a value starting with
# "/" is a URL ("http://x"), also a word.
_FIELD = re.compile(r"([A-Za-z]+):(.*)")
_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?")
_YEAR = re.compile(r"[0-9]{4}")
# Spelled out rather than taken from calendar.month_name, which follows the locale.
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def parse_query(text: str) -> ParsedQuery:
    """Parse what a reader typed; never raises, whatever the input."""
    notices: list[str] = []
    kept = _clean(text, notices)
    tokens = _balance_brackets(_Tokenizer(kept, notices).tokens(), notices)
    tree = _Parser(tokens, notices).parse()
    if isinstance(tree, Not):
        # A query of only negations stays an And so that the backend sees one
        # shape for "everything except", however it was written.
        tree = And((tree,))
    unique = list(dict.fromkeys(notices))
    return ParsedQuery(text=kept, tree=tree, notices=unique)


def _clean(text: str, notices: list[str]) -> str:
    # Control characters (NUL included) and lone surrogates cannot be indexed
    # or shown; whitespace controls (tab, newline) separate words like spaces.
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cs")
    )
    text = " ".join(text.split())
    if len(text) > MAX_LENGTH:
        cut = text[:MAX_LENGTH]
        # Cut between words rather than search a fragment of the last one.
        if text[MAX_LENGTH] != " " and " " in cut:
            cut = cut[: cut.rindex(" ")]
        text = cut.rstrip()
        notices.append(
            f"The query was cut to its first {len(text)} characters "
            f"(the limit is {MAX_LENGTH}); the rest was ignored."
        )
    return text


def _listed(items: Sequence[str]) -> str:
    """ "a, b and c"."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Tokens are tuples: ("(",), (")",), ("OR",), ("NOT", spelling) and
# ("LEAF", node or None). A dropped term stays as ("LEAF", None) so that
# "-foo:bar treaty" does not turn into "-treaty".
Token = tuple


class _Tokenizer:
    """Splits the cleaned query into tokens, building the leaves as it goes."""

    def __init__(self, text: str, notices: list[str]) -> None:
        self.text = text
        self.notices = notices
        self.pos = 0
        self.leaves = 0
        self.out: list[Token] = []

    def tokens(self) -> list[Token]:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == " ":
                self.pos += 1
            elif ch in "()":
                self.out.append((ch,))
                self.pos += 1
            elif ch in _QUOTES:
                phrase = self._quoted()
                self._leaf(self._phrase(phrase) if phrase is not None else None)
            else:
                self._bare()
        if self.leaves > MAX_CLAUSES:
            self.notices.append(
                f"Only the first {MAX_CLAUSES} search terms were used; "
                f"{self.leaves - MAX_CLAUSES} more were ignored."
            )
        return self.out

    def _leaf(self, node: Node | None) -> None:
        if node is not None:
            self.leaves += 1
            if self.leaves > MAX_CLAUSES:
                node = None
        self.out.append(("LEAF", node))

    def _quoted(self, field: str = "") -> str | None:
        """The text of the quoted part at pos, collapsed; None when empty."""
        text, opening = self.text, self.text[self.pos]
        closers = (
            _STRAIGHT_QUOTES if opening in _STRAIGHT_QUOTES else _TYPOGRAPHIC_QUOTES
        )
        start = self.pos + 1
        end = start
        while end < len(text) and text[end] not in closers:
            end += 1
        inner = " ".join(text[start:end].split())
        if end == len(text):
            self.pos = end
            if not inner:
                self.notices.append("A stray quotation mark was ignored.")
            elif field:
                self.notices.append(
                    "A quotation mark was not closed, so the rest of the query "
                    f'was taken as the value of "{field}:".'
                )
            else:
                self.notices.append(
                    "A quotation mark was not closed, so the rest of the query "
                    "was searched as one phrase."
                )
        else:
            self.pos = end + 1
            if not inner:
                self.notices.append("Empty quotation marks were ignored.")
        return inner or None

    def _phrase(self, text: str) -> Node | None:
        if not _searchable(text):
            return None
        return Word(text) if " " not in text else Phrase(text)

    def _bare(self) -> None:
        text, start = self.text, self.pos
        end = start
        while end < len(text) and text[end] != " " and text[end] not in _BREAKS:
            end += 1
        self.pos = end
        raw = text[start:end]
        following = text[end] if end < len(text) else ""
        term = raw.lstrip("-")
        dashes = len(raw) - len(term)
        if not term:
            # A dash negates what is attached to it; alone ("-", "--" between
            # words) it is punctuation.
            if following and following in "(" + _QUOTES:
                self.out.extend([("NOT", "-")] * dashes)
            return
        self.out.extend([("NOT", "-")] * dashes)
        if not dashes and term in _OPERATORS:
            if term != "AND":  # AND is what juxtaposition means anyway
                self.out.append((term, term))
            return
        field = _FIELD.fullmatch(term)
        if field and field[2].startswith("/"):
            field = None
        if field:
            name, value = field[1], field[2]
            if not value and following and following in _QUOTES:
                value = self._quoted(field=name) or ""
            elif not value and name.lower() not in FIELDS:
                # "Ghana:" is a word followed by punctuation, not a field.
                self._leaf(_word(term, self.notices))
                return
            self._leaf(_filter(name, value, self.notices))
            return
        self._leaf(_word(term, self.notices))


def _searchable(text: str) -> bool:
    # A dash or an ellipsis between words is punctuation, not a search term.
    return any(ch.isalnum() for ch in text)


def _word(term: str, notices: list[str]) -> Node | None:
    is_prefix = term.endswith("*")
    stem = term.rstrip("*")
    if "*" in stem:
        notices.append(
            '"*" works only at the end of a word, as in cyber*; '
            f'it was left out of "{_shorten(term)}".'
        )
        stem = stem.replace("*", "")
    if not is_prefix:
        return Word(stem) if _searchable(stem) else None
    # One letter would match a good part of the index.
    if len(stem) < 2 or not _searchable(stem):
        notices.append(
            '"*" needs at least two letters before it, as in cyber*; '
            f'"{_shorten(term)}" was ignored.'
        )
        return None
    return Prefix(stem)


_EXAMPLES = {
    "speaker": "maurer",
    "interview": "cyber-norms",
    "series": "podcast",
    "topic": "norms",
    "role": "guest",
    "kind": "answer",
    "year": "2016",
    "date": "2016-07",
}


def _filter(name: str, value: str, notices: list[str]) -> Node | None:
    field = name.lower()
    value = " ".join(value.split()).lower()
    if field not in FIELDS:
        guess = difflib.get_close_matches(field, FIELDS, n=1)
        hint = f' (did you mean "{guess[0]}:"?)' if guess else ""
        notices.append(
            f'Unknown field "{_shorten(name)}:" ignored{hint}; '
            f"fields are {_listed(FIELDS)}."
        )
        return None
    if not value:
        notices.append(
            f'"{field}:" needs a value right after the colon, as in '
            f"{field}:{_EXAMPLES[field]}; it was ignored."
        )
        return None
    if field in ("year", "date"):
        return _date_range(field, value, notices)
    if field in ("role", "kind"):
        allowed = ROLES if field == "role" else KINDS
        # "role:guests" and "kind:answers" mean the obvious thing.
        if value not in allowed and value.endswith("s") and value[:-1] in allowed:
            value = value[:-1]
        if value not in allowed:
            notices.append(
                f'Unknown {field} "{_shorten(value)}" ignored; '
                f"{field}s are {_listed(allowed)}."
            )
            return None
    return Filter(field, value)


def _date_range(field: str, value: str, notices: list[str]) -> DateRange | None:
    start, dots, end = value.partition("..")
    if not dots:
        end = start
    start, end = _date(field, start), _date(field, end)
    if start is None or end is None or not (start or end):
        if field == "year":
            notices.append(
                f'"year:{_shorten(value)}" is not a year; write it as year:2016 '
                "or year:2015..2017. It was ignored."
            )
        else:
            notices.append(
                f'"date:{_shorten(value)}" is not a date; write it as date:2016, '
                "date:2016-07, date:2016-07-04 or a range such as date:2015..2017. "
                "It was ignored."
            )
        return None
    # Compare the first day the start can mean with the last day the end can
    # mean, so that "2016-07..2016" is not taken for reversed.
    if start and end and _first_day(start) > _last_day(end):
        notices.append(
            f'The dates in "{field}:{_shorten(value)}" were the wrong way round, '
            "so they were swapped."
        )
        start, end = end, start
    return DateRange(start, end)


def _date(field: str, text: str) -> str | None:
    """``text`` normalized to YYYY[-MM[-DD]], "" for an open end, None if bad."""
    if not text:
        return ""
    if field == "year":
        return text if _YEAR.fullmatch(text) and int(text) > 0 else None
    match = _DATE.fullmatch(text)
    if not match:
        return None
    year, month, day = match.groups()
    try:
        datetime.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None
    parts = [year] + [f"{int(part):02d}" for part in (month, day) if part]
    return "-".join(parts)


def _first_day(date: str) -> str:
    return date + "-01-01"[len(date) - 4 :]


def _last_day(date: str) -> str:
    return date + "-12-31"[len(date) - 4 :]


def _balance_brackets(tokens: list[Token], notices: list[str]) -> list[Token]:
    """Drop stray ")", close open "(" at the end, flatten groups too deep.

    After this the parser can recurse once per bracket level without risk.
    """
    out: list[Token] = []
    kept: list[bool] = []  # for each open "(", whether its token was kept
    for token in tokens:
        if token[0] == "(":
            keep = len(kept) < MAX_DEPTH
            if not keep:
                notices.append(
                    f"Brackets nested deeper than {MAX_DEPTH} levels were ignored."
                )
            kept.append(keep)
            if keep:
                out.append(token)
        elif token[0] == ")":
            if not kept:
                notices.append('An unmatched ")" was ignored.')
            elif kept.pop():
                out.append(token)
        else:
            out.append(token)
    if any(kept):
        notices.append('An unclosed "(" was closed at the end of the query.')
        out.extend([(")",)] * sum(kept))
    return out


class _Parser:
    """Recursive descent over balanced tokens, at most MAX_DEPTH groups deep.

    Each ``_or``/``_and``/``_unary`` returns (node or None, consumed), where
    consumed says whether any token was read: an OR with nothing on one side
    deserves a notice, an OR next to a dropped term does not.
    """

    def __init__(self, tokens: list[Token], notices: list[str]) -> None:
        self.tokens = tokens
        self.notices = notices
        self.pos = 0

    def peek(self) -> str:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else ""

    def parse(self) -> Node | None:
        node, _ = self._or()
        return node

    def _or(self) -> tuple[Node | None, bool]:
        node, consumed = self._and()
        children, sides = [node], [consumed]
        while self.peek() == "OR":
            self.pos += 1
            node, consumed = self._and()
            children.append(node)
            sides.append(consumed)
        if len(sides) > 1 and not all(sides):
            self.notices.append(
                '"OR" needs something on both sides; the extra "OR" was ignored.'
            )
        return _combine(Or, children), len(sides) > 1 or sides[0]

    def _and(self) -> tuple[Node | None, bool]:
        children: list[Node | None] = []
        while self.peek() not in ("", "OR", ")"):
            children.append(self._unary())
        return _combine(And, children), bool(children)

    def _unary(self) -> Node | None:
        negations, spelling = 0, ""
        while self.peek() == "NOT":
            spelling = self.tokens[self.pos][1]
            negations += 1
            self.pos += 1
        if self.peek() not in ("LEAF", "("):
            self.notices.append(
                f'"{spelling}" needs something after it; it was ignored.'
            )
            return None
        node = self._primary()
        for _ in range(negations % 2):
            node = _negate(node)
        return node

    def _primary(self) -> Node | None:
        token = self.tokens[self.pos]
        self.pos += 1
        if token[0] == "LEAF":
            return token[1]
        node, consumed = self._or()
        self.pos += 1  # the ")" that _balance_brackets guarantees
        if not consumed:
            self.notices.append('Empty brackets "()" were ignored.')
        return node


def _combine(kind: type[And] | type[Or], children: list[Node | None]) -> Node | None:
    flat: list[Node] = []
    for child in children:
        if isinstance(child, kind):
            flat.extend(child.children)
        elif child is not None:
            flat.append(child)
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def _negate(node: Node | None) -> Node | None:
    if node is None:
        return None
    return node.child if isinstance(node, Not) else Not(node)


def describe(node: Node | None) -> str:
    """``node`` in plain English, for the reader to check ("" for None).

    "a, b and c" must all match, "a or b" either; "not" is written out and
    anything compound inside something else is bracketed, so the sentence
    cannot be read two ways. Search terms come before filters: "cyber and
    said by "maurer"".
    """
    if node is None:
        return ""
    return _describe(node, nested=False)


def _describe(node: Node, nested: bool = True) -> str:
    if isinstance(node, Word):
        return node.text
    if isinstance(node, Phrase):
        return f'the phrase "{node.text}"'
    if isinstance(node, Prefix):
        return f"{node.text}…"
    if isinstance(node, Filter):
        return _describe_filter(node)
    if isinstance(node, DateRange):
        return _describe_dates(node)
    if isinstance(node, Not):
        return f"not {_describe(node.child)}"
    if isinstance(node, And):
        parts = [_describe(c) for c in sorted(node.children, key=_is_filter)]
        words = _listed(parts)
    elif isinstance(node, Or):
        words = " or ".join(_describe(c) for c in node.children)
    else:
        return str(node)
    # The one-child And around a query of only negations is no group to show.
    if len(node.children) > 1 and nested:
        return f"({words})"
    return words


def _is_filter(node: Node) -> bool:
    if isinstance(node, Not):
        node = node.child
    return isinstance(node, Filter | DateRange)


def _describe_filter(node: Filter) -> str:
    value = node.value
    if node.field == "speaker":
        return f'said by "{value}"'
    if node.field == "role":
        article = "an" if value[:1] in "aeiou" else "a"
        return f"said by {article} {value}"
    if node.field == "kind":
        return "in the lede" if value == "lede" else f"in {value}s"
    if node.field == "interview":
        return f'in the interview "{value}"'
    if node.field == "series":
        return f'in the series "{value}"'
    if node.field == "topic":
        return f'on the topic "{value}"'
    return f'{node.field} "{value}"'


def _describe_dates(node: DateRange) -> str:
    start, end = _describe_date(node.start), _describe_date(node.end)
    if start and start == end:
        return f"dated {start}"
    if start and end:
        return f"dated from {start} to {end}"
    if start:
        return f"dated from {start}"
    if end:
        return f"dated up to {end}"
    return "of any date"


def _describe_date(date: str) -> str:
    parts = date.split("-")
    if len(parts) >= 2 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
        month = _MONTH_NAMES[int(parts[1]) - 1]
        if len(parts) == 3 and parts[2].isdigit():
            return f"{int(parts[2])} {month} {parts[0]}"
        return f"{month} {parts[0]}"
    return date
