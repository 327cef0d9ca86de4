"""Parsing what people type into a search: the same query for FTS5 and websearch_to_tsquery, never an error."""

import re

import pytest

from pipeline.services.search import MAX_QUERY_LENGTH, MAX_TERMS, Term, highlighted, parse_query

# What a translated FTS5 query may contain: quoted words, FTS5's own operators and brackets.
SAFE_FTS5 = re.compile(r'^(?:\(|\)|"[^\W_]+(?: [^\W_]+)*"| AND | NOT | OR )*$')


@pytest.mark.parametrize(
    ("typed", "fts5", "websearch"),
    [
        ("bins", '("bins")', "bins"),
        ("Bulky Waste", '("bulky" AND "waste")', "bulky waste"),
        ('"bulky waste" collection', '("bulky waste" AND "collection")', '"bulky waste" collection'),
        ("parking -visitor", '("parking" NOT "visitor")', "parking -visitor"),
        ('waste -"garden waste"', '("waste" NOT "garden waste")', 'waste -"garden waste"'),
        ("parking or repairs", '("parking") OR ("repairs")', "parking or repairs"),
        ("the bins of the council", '("bins" AND "council")', "bins council"),
        ('"the collection of bins"', '("collection of bins")', '"collection of bins"'),
        ("e-mail", '("e mail")', '"e mail"'),
        ("council's bins", '("council" AND "bins")', "council bins"),
        ('"unclosed phrase', '("unclosed phrase")', '"unclosed phrase"'),
        ("NEAR(bins, 3)", '("near" AND "bins" AND "3")', "near bins 3"),
        ("1=1 bins", '("1" AND "bins")', "1 bins"),
        ("bin*", '("bin")', "bin"),
        ("bins bins", '("bins")', "bins"),
    ],
)
def test_queries_translate_the_same_way_for_both_databases(typed, fts5, websearch):
    query = parse_query(typed)
    assert query.fts5() == fts5
    assert query.websearch() == websearch
    assert not query.notices


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "*",
        "***",
        "AND OR",
        "or",
        "NOT",
        "()",
        '"',
        '""',
        "-",
        "- -",
        "&&||!",
        "the and of",
    ],
)
def test_nothing_to_search_for_shows_the_list(typed):
    query = parse_query(typed)
    assert query.empty
    if typed.strip():
        assert query.notices == (
            "Your search had no words to look for (search ignores symbols and common words like ‘the’ and ‘or’), "
            "so all projects are shown.",
        )


def test_only_words_to_leave_out_asks_for_a_word():
    query = parse_query("-parking -bins")
    assert query.empty
    assert query.notices == ("Add a word to search for: a minus sign only leaves out projects with the word after it.",)


@pytest.mark.parametrize(
    "typed",
    [
        "'; DROP TABLE projects; --",
        "1' OR '1'='1",
        'bins" OR 1=1 --',
        "search_index MATCH 'x'",
        "title:bins",
        "{title} : bins",
        "bins^2 +waste ~parking",
        '"bins" AND NOT (waste OR',
        "NEAR(",
        "\x00bins\x1f",
        "<script>alert(1)</script>",
        "bins\u0301 café ² ª",
        "𝒷𝒾𝓃𝓈 🗑️",
        "a" * 5000,
        "bins " * 500,
    ],
)
def test_hostile_input_becomes_quoted_words_only(typed):
    query = parse_query(typed)
    assert SAFE_FTS5.match(query.fts5()), query.fts5()
    assert set(query.websearch()) <= set(query.websearch().lower()) | {'"', "-", " "}
    assert "'" not in query.websearch() and ";" not in query.websearch()
    assert len(query.text) <= MAX_QUERY_LENGTH


def test_a_long_query_is_cut_with_a_message():
    query = parse_query("bulky waste " * 40)
    assert len(query.text) <= MAX_QUERY_LENGTH
    assert query.text.startswith("bulky waste bulky")
    assert f"only its first {MAX_QUERY_LENGTH} characters were used" in query.notices[0]


def test_many_words_are_cut_with_a_message():
    words = [f"word{number}" for number in range(30)]
    query = parse_query(" ".join(words))
    assert sum(len(clause) for clause in query.clauses) == MAX_TERMS
    assert query.clauses[0][0] == Term(("word0",))
    assert f"only the first {MAX_TERMS} were used" in query.notices[0]


def test_ranking_and_highlighting_ignore_the_words_left_out():
    query = parse_query("parking -visitor or repairs")
    assert query.wanted().websearch() == "parking or repairs"
    assert query.words() == ["parking", "repairs"]


def test_highlights_escape_everything_but_the_marks():
    text = '\ue000bins\ue001 & <script>alert("x")</script>'
    assert str(highlighted(text)) == "<mark>bins</mark> &amp; &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
