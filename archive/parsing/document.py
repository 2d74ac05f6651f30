"""What a parser returns: a transcript as plain data, before any database."""

from dataclasses import dataclass, field


class ParseError(ValueError):
    """The input is not a transcript we can read; the message says why."""


class NotATranscript(ParseError):
    """The file is something else that lives beside transcripts (a case's
    metadata, an episode list): a folder import skips it instead of failing."""


@dataclass
class ParsedSpeaker:
    """A person the source declares (header, sidebar or sidecar)."""

    name: str
    role: str = ""
    affiliation: str = ""
    bio: str = ""
    aliases: list[str] = field(default_factory=list)
    # "Guest 2", "Unknown", "Interviewer": a stand-in, not a name. The
    # importer never matches it to a speaker of another interview.
    placeholder: bool = False


@dataclass
class ParsedTurn:
    speaker: str  # the resolved full name
    label: str  # the label as written ("Maurer"), empty when not labelled
    paragraphs: list[str]
    kind: str = ""  # question, answer or remark; "" until classified
    start: float | None = None

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass
class ParsedInterview:
    turns: list[ParsedTurn] = field(default_factory=list)
    participants: list[ParsedSpeaker] = field(default_factory=list)
    title: str = ""
    slug: str = ""  # wanted, when the source names one (our own JSON export)
    date: str = ""  # "YYYY", "YYYY-MM" or "YYYY-MM-DD"
    date_note: str = ""
    series: str = ""
    outlet: str = ""
    episode: str = ""
    medium: str = ""
    source_url: str = ""
    lede: str = ""
    attribution: str = ""
    rights: str = ""
    topics: list[str] = field(default_factory=list)
    markup: str = "markdown"  # of the turn bodies: "markdown" or "plain"
    format: str = ""  # which parser read it
    encoding: str = ""  # how the file's bytes were read ("utf-8", "cp1252", …)
    source_text: str = ""  # the text the parser read, for the archive to keep
    warnings: list[str] = field(default_factory=list)

    def participant(self, name: str) -> ParsedSpeaker | None:
        key = name.casefold()
        for p in self.participants:
            if p.name.casefold() == key:
                return p
        return None
