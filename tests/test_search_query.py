"""The search query parser: what a reader types, the tree searched, the notices."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.search.query import (
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_LENGTH,
    And,
    DateRange,
    Filter,
    Not,
    Or,
    Phrase,
    Prefix,
    Word,
    describe,
    parse_query,
)

LEAVES = (Word, Phrase, Prefix, Filter, DateRange)


def tree(text):
    return parse_query(text).tree


def notices(text):
    return " ".join(parse_query(text).notices)


# Words, AND, OR, NOT


def test_words_separated_by_spaces_are_all_required():
    assert tree("cyber security") == And((Word("cyber"), Word("security")))


def test_upper_case_and_means_the_same_as_a_space():
    assert tree("cyber AND security") == tree("cyber security")
    assert tree("AND cyber AND") == Word("cyber")


@pytest.mark.parametrize(
    "word", ["U.S.", "cyber-security", "there’s", "S&ED", "G-20", "10:30"]
)
def test_words_keep_case_and_inner_punctuation(word):
    assert tree(word) == Word(word)


def test_dash_before_a_word_excludes_it():
    assert tree("cyber -security") == And((Word("cyber"), Not(Word("security"))))


def test_dash_inside_or_at_the_end_of_a_word_is_part_of_it():
    assert tree("non-state cyber-") == And((Word("non-state"), Word("cyber-")))


def test_dash_standing_alone_is_punctuation():
    assert tree("cyber - security") == And((Word("cyber"), Word("security")))
    assert tree("-") is None
    assert tree("--") is None


def test_punctuation_on_its_own_is_not_searched():
    assert tree("cyber — security …") == And((Word("cyber"), Word("security")))


def test_upper_case_or_matches_either_side():
    assert tree("treaty OR norms OR law") == Or(
        (Word("treaty"), Word("norms"), Word("law"))
    )


def test_lower_case_operators_are_plain_words():
    assert tree("war or not peace") == And(
        (Word("war"), Word("or"), Word("not"), Word("peace"))
    )


def test_not_excludes_the_next_term():
    assert tree("cyber NOT security") == And((Word("cyber"), Not(Word("security"))))


def test_not_binds_tighter_than_and_which_binds_tighter_than_or():
    assert tree("a b OR NOT c d") == Or(
        (And((Word("a"), Word("b"))), And((Not(Word("c")), Word("d"))))
    )


def test_brackets_group():
    assert tree("(treaty OR norms) cyber") == And(
        (Or((Word("treaty"), Word("norms"))), Word("cyber"))
    )


def test_a_dash_or_not_before_brackets_excludes_the_group():
    expected = And((Not(Or((Word("a"), Word("b")))),))
    assert tree("-(a OR b)") == expected
    assert tree("NOT (a OR b)") == expected


def test_nested_and_and_nested_or_are_flattened():
    assert tree("a (b (c d))") == And((Word("a"), Word("b"), Word("c"), Word("d")))
    assert tree("a OR (b OR (c OR d))") == Or(
        (Word("a"), Word("b"), Word("c"), Word("d"))
    )


def test_a_group_of_one_is_the_term_itself():
    assert tree("((cyber))") == Word("cyber")


@pytest.mark.parametrize("query", ["NOT NOT x", "--x", "NOT -x", "-(-x)"])
def test_double_negation_cancels_out(query):
    assert tree(query) == Word("x")


@pytest.mark.parametrize("query", ["-security", "NOT security", "NOT NOT NOT security"])
def test_a_query_of_only_negations_stays_an_and_for_the_backend(query):
    assert tree(query) == And((Not(Word("security")),))


def test_several_negations_alone_are_one_and():
    assert tree("-a -b") == And((Not(Word("a")), Not(Word("b"))))


# Phrases


def test_straight_quotes_make_a_phrase():
    assert tree('cyber "voluntary norms"') == And(
        (Word("cyber"), Phrase("voluntary norms"))
    )


@pytest.mark.parametrize(
    "query",
    [
        "“voluntary norms”",
        "„voluntary norms“",
        "«voluntary norms»",
        "»voluntary norms«",
        "‟voluntary norms”",
    ],
)
def test_typographic_quotes_make_a_phrase(query):
    assert tree(query) == Phrase("voluntary norms")


def test_phrase_whitespace_is_collapsed():
    assert tree('"  voluntary \t\n norms "') == Phrase("voluntary norms")


def test_a_one_word_phrase_is_a_word():
    assert tree('"U.S."') == Word("U.S.")


def test_operators_and_other_quotes_inside_a_phrase_are_text():
    assert tree('"war OR -peace"') == Phrase("war OR -peace")
    assert tree('“the "cyber" question”') == Phrase('the "cyber" question')
    assert tree('"the “cyber” question"') == Phrase("the “cyber” question")


def test_a_phrase_can_be_excluded():
    assert tree('cyber -"voluntary norms"') == And(
        (Word("cyber"), Not(Phrase("voluntary norms")))
    )


def test_an_unclosed_quote_makes_the_rest_of_the_query_the_phrase():
    result = parse_query('cyber "voluntary norms (OR')
    assert result.tree == And((Word("cyber"), Phrase("voluntary norms (OR")))
    assert "not closed" in " ".join(result.notices)


def test_a_stray_quote_at_the_end_is_ignored_with_a_notice():
    assert tree('treaty "') == Word("treaty")
    assert "quotation mark" in notices('treaty "')


def test_empty_quotes_are_ignored_with_a_notice():
    assert tree('cyber ""') == Word("cyber")
    assert "Empty quotation marks" in notices('cyber ""')


# Prefixes


def test_a_star_at_the_end_searches_words_starting_so():
    assert tree("cyber* norms") == And((Prefix("cyber"), Word("norms")))
    assert tree("cy*") == Prefix("cy")


@pytest.mark.parametrize("query", ["*", "a*", "**", "-*"])
def test_a_star_with_fewer_than_two_letters_is_dropped_with_a_notice(query):
    result = parse_query(query)
    assert result.tree is None
    assert "at least two letters" in " ".join(result.notices)


def test_a_star_before_the_end_of_a_word_is_left_out_with_a_notice():
    assert tree("*cyber") == Word("cyber")
    assert "only at the end" in notices("*cyber")


# Filters


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("speaker:maurer", Filter("speaker", "maurer")),
        ("interview:cyber-norms-2016", Filter("interview", "cyber-norms-2016")),
        ("series:podcast", Filter("series", "podcast")),
        ("topic:norms", Filter("topic", "norms")),
        ("role:host", Filter("role", "host")),
        ("kind:answer", Filter("kind", "answer")),
    ],
)
def test_field_filters(query, expected):
    assert tree(query) == expected


def test_field_names_ignore_case_and_values_are_lowercased():
    assert tree("Speaker:Maurer") == Filter("speaker", "maurer")
    assert tree("ROLE:Guest") == Filter("role", "guest")


@pytest.mark.parametrize(
    "query", ['speaker:"Tim Maurer"', "speaker:“Tim  Maurer”", "speaker:«tim maurer»"]
)
def test_a_filter_value_may_be_quoted(query):
    assert tree(query) == Filter("speaker", "tim maurer")


def test_filters_combine_with_words():
    assert tree("speaker:maurer treaty") == And(
        (Filter("speaker", "maurer"), Word("treaty"))
    )


def test_filters_can_be_excluded():
    assert tree("-speaker:maurer") == And((Not(Filter("speaker", "maurer")),))
    assert tree("treaty NOT topic:x") == And(
        (Word("treaty"), Not(Filter("topic", "x")))
    )


def test_a_field_with_nothing_after_it_is_dropped_with_a_notice():
    result = parse_query("speaker: maurer")
    assert result.tree == Word("maurer")
    assert '"speaker:" needs a value' in " ".join(result.notices)


def test_an_unknown_field_is_not_searched_and_is_named_in_a_notice():
    result = parse_query("foo:bar treaty")
    assert result.tree == Word("treaty")
    assert result.notices == [
        'Unknown field "foo:" ignored; fields are speaker, interview, series, '
        "topic, role, kind, year and date."
    ]


def test_an_unknown_field_suggests_the_field_it_resembles():
    assert tree("spekaer:maurer") is None
    assert 'did you mean "speaker:"?' in notices("spekaer:maurer")


def test_an_excluded_unknown_field_does_not_exclude_the_next_word():
    assert tree("treaty -foo:bar security") == And((Word("treaty"), Word("security")))


def test_an_unknown_field_with_a_quoted_value_is_dropped_whole():
    assert tree('foo:"bar baz" treaty') == Word("treaty")


@pytest.mark.parametrize(
    "query", ["10:30", "http://x", "https://example.org/a:b", "Ghana:", "2:1"]
)
def test_something_that_only_looks_like_a_field_is_a_word(query):
    result = parse_query(query)
    assert result.tree == Word(query)
    assert result.notices == []


def test_an_unknown_role_is_dropped_with_a_notice_naming_the_roles():
    result = parse_query("role:king treaty")
    assert result.tree == Word("treaty")
    assert result.notices == [
        'Unknown role "king" ignored; roles are host, interviewer, guest, '
        "moderator, panelist, witness and speaker."
    ]


def test_an_unknown_kind_is_dropped_with_a_notice_naming_the_kinds():
    result = parse_query("kind:x")
    assert result.tree is None
    assert result.notices == [
        'Unknown kind "x" ignored; kinds are question, answer, remark and lede.'
    ]


def test_plural_roles_and_kinds_are_understood():
    assert tree("role:guests kind:answers") == And(
        (Filter("role", "guest"), Filter("kind", "answer"))
    )


# Dates


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("year:2016", DateRange("2016", "2016")),
        ("year:2015..2017", DateRange("2015", "2017")),
        ("year:2015..", DateRange("2015", "")),
        ("date:2015..2017", DateRange("2015", "2017")),
        ("date:2016-07..", DateRange("2016-07", "")),
        ("date:..2014", DateRange("", "2014")),
        ("date:2016-07-04", DateRange("2016-07-04", "2016-07-04")),
        ("date:2016-7-4", DateRange("2016-07-04", "2016-07-04")),
        ("date:2016-07-04..2016-07-10", DateRange("2016-07-04", "2016-07-10")),
        ("date:2016-07..2016", DateRange("2016-07", "2016")),
        ('date:"2016"', DateRange("2016", "2016")),
    ],
)
def test_year_and_date_filters_become_date_ranges(query, expected):
    result = parse_query(query)
    assert result.tree == expected
    assert result.notices == []


def test_a_reversed_date_range_is_swapped_with_a_notice():
    result = parse_query("date:2017..2015")
    assert result.tree == DateRange("2015", "2017")
    assert "wrong way round" in " ".join(result.notices)


@pytest.mark.parametrize(
    "query",
    [
        "year:abc",
        "year:16",
        "year:2016-07",
        "year:0000",
        "date:2016-13",
        "date:2016-02-30",
        "date:..",
        "date:2016/07/04",
        "date:2015...2017",
    ],
)
def test_an_invalid_date_is_dropped_with_a_notice(query):
    result = parse_query(f"treaty {query}")
    assert result.tree == Word("treaty")
    assert "It was ignored" in " ".join(result.notices)


# Queries that are broken or hostile: a tree or None, notices, never an error


def test_an_extra_closing_bracket_is_ignored_with_a_notice():
    result = parse_query("a) b")
    assert result.tree == And((Word("a"), Word("b")))
    assert result.notices == ['An unmatched ")" was ignored.']


def test_an_unclosed_bracket_is_closed_at_the_end_with_a_notice():
    result = parse_query("c (a OR b")
    assert result.tree == And((Word("c"), Or((Word("a"), Word("b")))))
    assert result.notices == ['An unclosed "(" was closed at the end of the query.']


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("NOT", None),
        ("cyber NOT", Word("cyber")),
        ("NOT OR treaty", Word("treaty")),
        ("(NOT) treaty", Word("treaty")),
    ],
)
def test_not_with_nothing_after_it_is_ignored_with_a_notice(query, expected):
    result = parse_query(query)
    assert result.tree == expected
    assert '"NOT" needs something after it' in " ".join(result.notices)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("OR treaty", Word("treaty")),
        ("treaty OR", Word("treaty")),
        ("OR", None),
        ("a OR OR b", Or((Word("a"), Word("b")))),
        ("(OR a) b", And((Word("a"), Word("b")))),
    ],
)
def test_or_without_two_sides_is_ignored_with_a_notice(query, expected):
    result = parse_query(query)
    assert result.tree == expected
    assert '"OR" needs something on both sides' in " ".join(result.notices)


def test_or_beside_a_dropped_filter_keeps_the_other_side_quietly():
    result = parse_query("foo:bar OR treaty")
    assert result.tree == Word("treaty")
    assert len(result.notices) == 1


@pytest.mark.parametrize(("query", "expected"), [("()", None), ("cyber ( )", "cyber")])
def test_empty_brackets_are_ignored_with_a_notice(query, expected):
    result = parse_query(query)
    assert result.tree == (Word(expected) if expected else None)
    assert result.notices == ['Empty brackets "()" were ignored.']


def test_an_empty_query_has_nothing_to_search():
    for query in ("", "   ", "\x00"):
        result = parse_query(query)
        assert (result.text, result.tree, result.notices) == ("", None, [])
        assert result.understood() == ""


def test_a_long_query_is_cut_between_words_with_a_notice_giving_the_length():
    result = parse_query("cybersecurity " * 1000)
    assert len(result.text) <= MAX_LENGTH
    assert result.text.endswith("cybersecurity")
    assert result.notices[0] == (
        f"The query was cut to its first {len(result.text)} characters "
        f"(the limit is {MAX_LENGTH}); the rest was ignored."
    )


def test_a_query_of_one_long_word_is_cut_at_the_limit():
    result = parse_query("x" * 5000)
    assert result.text == "x" * MAX_LENGTH
    assert result.tree == Word("x" * MAX_LENGTH)


def test_only_the_first_clauses_are_kept_with_a_notice():
    words = [f"w{i}" for i in range(MAX_CLAUSES + 10)]
    result = parse_query(" ".join(words))
    assert result.tree == And(tuple(Word(w) for w in words[:MAX_CLAUSES]))
    assert result.notices == [
        f"Only the first {MAX_CLAUSES} search terms were used; 10 more were ignored."
    ]


def test_thousands_of_open_brackets_do_not_exhaust_the_stack():
    result = parse_query("(" * 5000 + "x" + ")" * 5000)
    assert result.tree is None  # the x lies beyond the cut
    assert len(result.text) == MAX_LENGTH


def test_brackets_nested_too_deep_are_flattened_with_a_notice():
    result = parse_query("(" * 300 + "cyber OR norms")
    assert result.tree == Or((Word("cyber"), Word("norms")))
    assert f"deeper than {MAX_DEPTH} levels" in " ".join(result.notices)


def test_brackets_nested_to_the_limit_are_kept_quietly():
    query = "(" * MAX_DEPTH + "a OR b" + ")" * MAX_DEPTH + " c"
    result = parse_query(query)
    assert result.tree == And((Or((Word("a"), Word("b"))), Word("c")))
    assert result.notices == []


def test_control_characters_and_nul_are_removed():
    result = parse_query("cy\x00ber\x07 security\x1b\x7f")
    assert result.text == "cyber security"
    assert result.tree == And((Word("cyber"), Word("security")))


def test_tabs_and_newlines_separate_words():
    result = parse_query("cyber\tsecurity\r\nnorms")
    assert result.text == "cyber security norms"


def test_other_unicode_is_kept():
    assert tree("Übereinkommen 网络安全 кибербезопасность 🙂x") == And(
        (
            Word("Übereinkommen"),
            Word("网络安全"),
            Word("кибербезопасность"),
            Word("🙂x"),
        )
    )


# What understood() tells the reader


def test_understood_reads_the_whole_query_back():
    result = parse_query(
        'speaker:maurer (treaty OR "voluntary norms") -security year:2016'
    )
    assert result.understood() == (
        '(treaty or the phrase "voluntary norms"), not security, '
        'said by "maurer" and dated 2016'
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cyber security", "cyber and security"),
        ("cyber* OR “voluntary norms”", 'cyber… or the phrase "voluntary norms"'),
        ("-security", "not security"),
        ("-(a OR b) c", "not (a or b) and c"),
        ("(a b) OR c", "(a and b) or c"),
        ("date:2015..2017", "dated from 2015 to 2017"),
        ("date:2016-07..", "dated from July 2016"),
        ("date:..2014", "dated up to 2014"),
        ("date:2016-07-04", "dated 4 July 2016"),
        ("role:interviewer kind:question", "said by an interviewer and in questions"),
        ("-speaker:segal kind:lede", 'not said by "segal" and in the lede'),
        (
            "interview:x series:y topic:z",
            'in the interview "x", in the series "y" and on the topic "z"',
        ),
    ],
)
def test_understood_wording(query, expected):
    assert parse_query(query).understood() == expected


def test_describe_brackets_anything_compound_inside_something_else():
    node = Or((And((Word("a"), Or((Word("b"), Prefix("cy"))))), Not(Phrase("c d"))))
    assert describe(node) == '(a and (b or cy…)) or not the phrase "c d"'
    assert describe(None) == ""


# Whatever is typed


_TOKENS = st.sampled_from(
    [
        "cyber",
        "U.S.",
        "non-state",
        "there’s",
        "a",
        '"',
        "“",
        "”",
        "«",
        "(",
        ")",
        "((((((((((",
        ")))",
        "OR",
        "AND",
        "NOT",
        "-",
        "--",
        "*",
        "cy*",
        "speaker:",
        "role:",
        "kind:",
        "year:",
        "date:",
        "foo:",
        "2015..2017",
        "2016-07",
        "..",
        ":",
        "//",
        "\x00",
        "\t",
        "网络",
        "x " * 60,
    ]
)
_QUERY_LIKE = st.lists(
    st.tuples(_TOKENS | st.text(max_size=4), st.sampled_from(["", " "])),
    max_size=60,
).map(lambda parts: "".join(token + gap for token, gap in parts))


def _check(result):
    assert isinstance(result.text, str) and len(result.text) <= MAX_LENGTH
    assert all(isinstance(n, str) and n for n in result.notices)
    assert isinstance(result.understood(), str)
    leaves = 0
    stack = [(result.tree, True)] if result.tree is not None else []
    while stack:
        node, root = stack.pop()
        assert isinstance(node, (*LEAVES, And, Or, Not))
        if isinstance(node, LEAVES):
            leaves += 1
            assert all(isinstance(v, str) for v in vars(node).values())
        elif isinstance(node, Not):
            assert not isinstance(node.child, Not)
            stack.append((node.child, False))
        else:
            # Simplified: no one-child groups (bar a root of only negation),
            # no And directly inside And nor Or inside Or.
            one_negation = root and isinstance(node, And) and len(node.children) == 1
            assert len(node.children) >= 2 or (
                one_negation and isinstance(node.children[0], Not)
            )
            assert not any(isinstance(c, type(node)) for c in node.children)
            stack.extend((c, False) for c in node.children)
    assert leaves <= MAX_CLAUSES
    assert parse_query(result.text).tree == result.tree


@given(st.text())
def test_any_text_parses_to_a_well_formed_tree(text):
    _check(parse_query(text))


@settings(max_examples=500)
@given(_QUERY_LIKE)
def test_any_query_like_text_parses_to_a_well_formed_tree(text):
    _check(parse_query(text))
