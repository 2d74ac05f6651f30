"""Helpers shared by the parsers: paragraphs, page breaks, dates, names, kinds."""

import calendar
import datetime
import re

from archive.parsing.document import ParsedInterview, ParsedTurn, ParseError

# Only these count as whitespace at the ends of lines and paragraphs: a
# non-breaking space is part of the text and must survive.
_BLANKS = " \t\r\n\f\v"
# A paragraph that ends in one of these was not cut mid-sentence.
SENTENCE_END = tuple('.!?:;…"”’)]*_—–-')


def decode(data: bytes) -> str:
    """Bytes of a text file to str, or a ParseError saying why not."""
    return decode_bytes(data)[0]


# Bytes 0x80-0x9F: control characters in Latin-1, printable in Windows-1252
# except these five, which Windows-1252 leaves undefined.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Bytes of a text file to (text, encoding), or a ParseError saying why not.

    UTF-8 (with or without a byte-order mark) is tried first and strictly:
    any other file fails to decode as UTF-8 within a few bytes of its first
    accented letter. UTF-16 is recognised by its byte-order mark. Anything
    else is single-byte: Windows-1252 when it uses the 0x80-0x9F range for
    curly quotes and dashes, Latin-1 when it uses only the range both share
    (the two agree there, so the text is the same either way). U+FFFD already
    in a UTF-8 file is kept as it is.
    """
    if not data.strip():
        raise ParseError("the file is empty")
    if data.startswith(_UTF16_BOMS):
        try:
            return normalize_newlines(data.decode("utf-16")), "utf-16"
        except UnicodeDecodeError:
            raise ParseError("the file claims UTF-16 but is not") from None
    if b"\x00" in data[:8192]:
        raise ParseError("this is a binary file, not a text transcript")
    try:
        return normalize_newlines(data.decode("utf-8-sig")), "utf-8"
    except UnicodeDecodeError:
        pass
    high = {b for b in data if 0x80 <= b <= 0x9F}
    if high & _CP1252_UNDEFINED:
        raise ParseError(
            "the file is neither UTF-8 nor Windows-1252/Latin-1 text; "
            "save it as UTF-8 and import it again"
        )
    encoding = "cp1252" if high else "latin-1"
    return normalize_newlines(data.decode(encoding)), encoding


# C0 controls but tab and newline, DEL, and the two non-characters: XML (so
# feeds and sitemaps) cannot carry them and they mean nothing in a transcript.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` without control characters; a form feed (a PDF's page
    break) becomes a line break."""
    return _CONTROLS.sub("", text.replace("\x0c", "\n"))


def normalize_newlines(text: str) -> str:
    """Unix newlines, no byte-order mark, no control characters but the
    form feeds that mark a PDF's pages (``parse`` removes those last)."""
    text = _CONTROLS.sub("", text.removeprefix("\ufeff"))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def trim(text: str) -> str:
    return text.strip(_BLANKS)


def paragraphs(text: str) -> list[list[str]]:
    """Blank-line separated blocks, each a list of its trimmed lines."""
    blocks, current = [], []
    for line in normalize_newlines(text).split("\n"):
        line = trim(line)
        if line:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


# What transcription services append to an export: not anyone's words.
SERVICE_FOOTER = re.compile(
    r"^(?:transcribed by\b|transcription by\b|this transcript was (?:exported|"
    r"generated|created)\b|trial transcript\b|powered by\b)",
    re.IGNORECASE,
)

# Where a line broke after a hyphen inside a word; ``resolve_line_hyphens``
# decides, once the whole text is known, whether the hyphen stays.
LINE_HYPHEN = "\ue000"
# A dash attached to the word before it ("assets--"), not a spaced one
# ("Look —"), which keeps its space.
_ENDS_IN_DASH = re.compile(r"(?<=\w)(?:--|[\u2013\u2014])$")
_ENDS_IN_HYPHEN = re.compile(r"\w-$")


def join_lines(lines: list[str]) -> str:
    """A hard-wrapped paragraph back into one line.

    A line that ends in a dash joins the next without a space
    ("assets--" + "innovation"); one that ends in a hyphen after a letter
    joins it with the hyphen marked (``LINE_HYPHEN``): "hard-nosed" keeps
    it, a PDF's "integ-" + "rity" will not.
    """
    out = ""
    for line in lines:
        if not out:
            out = line
        elif _ENDS_IN_DASH.search(out) and line[:1].isalnum():
            out += line
        elif _ENDS_IN_HYPHEN.search(out) and line[:1].isalpha():
            out = out[:-1] + LINE_HYPHEN + line
        else:
            out += " " + line
    return out


_MARKED_WORD = re.compile(rf"[\w{LINE_HYPHEN}]*{LINE_HYPHEN}[\w{LINE_HYPHEN}]*")


def resolve_line_hyphens(texts: list[str]) -> list[str]:
    """Each marked line-break hyphen dropped where the word it splits is
    written whole elsewhere in ``texts`` (a PDF's soft hyphenation: "integ-
    rity" beside "integrity"), kept otherwise ("hard-nosed", "al-Qaeda")."""
    if not any(LINE_HYPHEN in text for text in texts):
        return texts
    words = {
        w.casefold()
        for text in texts
        for w in re.findall(r"\w+", text.replace(LINE_HYPHEN, "-"))
    }

    def resolve(match: re.Match) -> str:
        marked = match[0]
        whole = marked.replace(LINE_HYPHEN, "")
        return whole if whole.casefold() in words else marked.replace(LINE_HYPHEN, "-")

    return [_MARKED_WORD.sub(resolve, text) for text in texts]


def is_cut_mid_sentence(previous: str, following: str) -> bool:
    """Whether two paragraphs are one, split by a page break.

    A PDF extraction leaves a blank line at each page break; the paragraph
    before it ends without punctuation and the next goes on in lower case.
    """
    previous, following = trim(previous), trim(following)
    if not previous or not following:
        return False
    return not previous.endswith(SENTENCE_END) and following[0].islower()


def append_paragraph(paragraphs: list[str], text: str) -> None:
    """Add ``text`` as a new paragraph, or rejoin it to a cut one."""
    if paragraphs and is_cut_mid_sentence(paragraphs[-1], text):
        paragraphs[-1] = f"{paragraphs[-1]} {text}"
    else:
        paragraphs.append(text)


_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_WRITTEN_DATE = re.compile(
    r"^(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
    r"(?P<month>[A-Za-z]{3,9})\.?\s+(?:(?P<day>\d{1,2}),?\s+)?(?P<year>\d{4})$",
    re.IGNORECASE,
)
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_date(text: str) -> str:
    """A written or ISO date to "YYYY[-MM[-DD]]"; "" when it is not a date.

    Only what is written is kept: "June 2016" stays at month precision.
    """
    text = trim(text).rstrip(".")
    if m := _ISO_DATE.match(text):
        year, month, day = m.groups()
        return _checked(int(year), month and int(month), day and int(day))
    if m := _WRITTEN_DATE.match(text):
        month = _MONTHS.get(m["month"].lower())
        if month is None:
            return ""
        return _checked(int(m["year"]), month, m["day"] and int(m["day"]))
    return ""


def _checked(year: int, month: int | None, day: int | None) -> str:
    try:
        datetime.date(year, month or 1, day or 1)
    except ValueError:
        return ""
    if day:
        return f"{year:04d}-{month:02d}-{day:02d}"
    if month:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}"


def name_key(name: str) -> str:
    return " ".join(name.replace("\u00a0", " ").replace("*", " ").split()).casefold()


# Words that address a person rather than name them: "Dr. Maurer", "Senator
# Warner", "Fr. Robert" are Maurer, Warner and Robert.
TITLES = {
    "dr", "mr", "mrs", "ms", "miss", "prof", "professor", "sen", "senator", "rep",
    "representative", "gen", "general", "adm", "admiral", "amb", "ambassador",
    "fr", "father", "rev", "sister", "rabbi", "sir", "dame", "lord", "lady",
    "judge", "justice", "chief", "secretary", "director", "commissioner",
    "governor", "mayor", "chairman", "chairwoman", "chair", "madam", "the",
}  # fmt: skip
# Stand-ins, not names ("Guest 2", "SPEAKER_01", "Unknown speaker"): never
# matched to a speaker of another interview.
_PLACEHOLDER = re.compile(
    r"(?:(?:unknown|unidentified|male|female|other)[ _]?)?"
    r"(?:speaker|guest|voice|host|interviewer|interviewee|participant|caller"
    r"|audience member|audience|narrator|announcer|moderator|panelist"
    r"|questioner|respondent|man|woman)"
    r"(?:[ _#-]*\d+|[ _#-]+[a-z])?"
    r"|unknown|unidentified|crosstalk|unknown[ _]\d+|unidentified[ _]\d+"
    r"|(?:a[ _])?member[ _]of[ _](?:the[ _])?(?:audience|public|press)",
    re.IGNORECASE,
)


# Labels that describe a speaker by role rather than name, in lower case
# after the first word: "Announcer offscreen", "Unidentified speaker",
# "Member of the audience". Their first word is one of these.
ROLE_NOUNS = frozenset(
    {
        "announcer", "narrator", "unidentified", "unknown", "member", "audience",
        "voice", "questioner", "reporter", "caller", "participant", "speaker",
        "interpreter", "translator", "moderator", "host", "guest", "male",
        "female", "off-camera", "offscreen",
    }
)  # fmt: skip


def is_role_description(label: str) -> bool:
    """ "Announcer offscreen", "Member of the audience": a speaker named by
    role, words in lower case after the first (up to five words)."""
    words = label.split()
    return 1 < len(words) <= 5 and words[0].casefold() in ROLE_NOUNS


def is_placeholder_name(name: str) -> bool:
    """Whether ``name`` stands in for someone ("Guest 2") rather than names them."""
    return bool(_PLACEHOLDER.fullmatch(name_key(name)))


def display_name(label: str) -> str:
    """ "STEVE GIBSON" reads as "Steve Gibson"; mixed case is kept, and so are
    initialisms ("BBC", "GS")."""
    if not label.isupper():
        return label
    return " ".join(
        _capitalize(word)
        if word.endswith(".") or set(word.casefold()) & set("aeiouy")
        else word
        for word in label.split()
    )


def _capitalize(word: str) -> str:
    # "GRAHAM-CUMMING" → "Graham-Cumming", "O'NEIL" → "O'Neil"
    return re.sub(r"[^\W\d_]+", lambda m: m[0].capitalize(), word.casefold())


def resolve_labels(parsed: ParsedInterview) -> None:
    """Map each turn's label to a full name declared in the same file.

    "Maurer" becomes "Tim Maurer" when the file declares Tim Maurer and no
    other declared person shares that name part; "STEVE" and "Steve Gibson"
    become one person. Anything ambiguous stays as written, with a warning.
    """
    declared = [p.name for p in parsed.participants]
    labels = {t.label for t in parsed.turns if t.label}
    # Longer labels that other labels abbreviate ("Steve Gibson" for "STEVE")
    # count as declared names too.
    full_names = declared + sorted(
        (lbl for lbl in labels if len(lbl.split()) > 1), key=len, reverse=True
    )
    resolved: dict[str, str] = {}
    for label in labels:
        key = name_key(label)
        exact = [n for n in declared if name_key(n) == key]
        if exact:
            resolved[label] = _canonical_case(exact[0], declared)
            continue
        parts = _name_parts(key)
        # "Guest" and "Guest 2" are two people, whatever their words share.
        candidates = {
            n
            for n in full_names
            if name_key(n) != key
            and parts
            and set(parts) <= set(_name_parts(n))
            and not is_placeholder_name(label)
            and not is_placeholder_name(n)
        }
        # "Fr. Robert Ballecer" and "FATHER ROBERT BALLECER" are one person.
        distinct = {tuple(_name_parts(n)) for n in candidates}
        if len(distinct) == 1:
            best = sorted(candidates, key=lambda n: (n in declared, len(n)))[-1]
            resolved[label] = _canonical_case(best, declared)
        else:
            if len(distinct) > 1:
                parsed.warnings.append(
                    f"label “{label}” could be any of {', '.join(sorted(candidates))}; "
                    "kept as written"
                )
            resolved[label] = display_name(label)
    for turn in parsed.turns:
        if turn.label and turn.speaker == turn.label:
            turn.speaker = resolved[turn.label]


def _name_parts(name: str) -> list[str]:
    words = [w.strip(".,").casefold() for w in name_key(name).split()]
    return [w for w in words if w and w not in TITLES]


def _canonical_case(name: str, declared: list[str]) -> str:
    for d in declared:
        if name_key(d) == name_key(name):
            return display_name(d)
    return display_name(name)


QUESTIONING_ROLES = {"host", "interviewer", "moderator"}
# A host's turn can ask without a question mark: "I wanted to ask you if you
# would just define cybersecurity for our listeners."
# Asking someone else to speak; "I want to talk about …" asks nothing.
_REQUEST = re.compile(
    r"\b(?:ask(?:ing)? you|tell us|could you|can you|would you (?!like)"
    r"|if you would|walk us through)\b",
    re.IGNORECASE,
)
ANSWERING_ROLES = {"guest", "interviewee", "panelist", "witness"}
# What may follow a question in the same turn and still leave it asked:
# "What do you make of it? Briefly."
_AFTER_QUESTION_WORDS = 12


def asks(paragraphs: list[str]) -> bool:
    """Whether a turn ends by asking: a "?" in its last paragraph with at
    most a few words after it, or a request ("can you talk about …") in its
    last sentence."""
    if not paragraphs:
        return False
    last = paragraphs[-1].strip()
    if "?" in last:
        after = last.rsplit("?", 1)[1]
        if len(after.split()) <= _AFTER_QUESTION_WORDS:
            return True
    sentences = re.split(r"(?<=[.!?])\s+", last)
    return bool(_REQUEST.search(sentences[-1]))


def classify_kinds(parsed: ParsedInterview) -> None:
    """Question, answer or remark for each turn the parser left unclassified.

    A turn is a question only when it ends by asking one (its last sentence
    asks, or asks the other to talk about something): an opening statement
    or a host's long introduction with a question somewhere inside is a
    remark. A reply to a question by someone else is an answer, whoever
    gives it; everything else is a remark.
    """
    previous: ParsedTurn | None = None
    for turn in parsed.turns:
        if turn.kind:
            previous = turn
            continue
        if asks(turn.paragraphs):
            turn.kind = "question"
        elif (
            previous
            and previous.kind == "question"
            and name_key(previous.speaker) != name_key(turn.speaker)
        ):
            turn.kind = "answer"
        else:
            turn.kind = "remark"
        previous = turn
