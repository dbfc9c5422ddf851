"""lstm_app.text: user text stays literal in Markdown and inert in spreadsheets."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_app.text import WORD_JOINER, csv_cell, md_escape, quote, safe_frame

# CommonMark lets a backslash escape any ASCII punctuation character.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# The text-node rewrites of Streamlit's Markdown (streamlit/static StreamlitMarkdown bundle,
# remark-gfm's autolink literals, remark-emoji and Streamlit's own icon, logo and arrow plugins),
# which run after escapes are resolved and so cannot be stopped by a backslash.
_REWRITES = [
    re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE),
    re.compile(r"(?:^|(?<=[\s\W]))([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)"),
    re.compile(r":[+\w-]+:"),  # emoji shortcodes, :material_icon:, :streamlit:
    re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
]
_SOURCE_REWRITE = ":material/"  # replaced in the raw source, before escapes are resolved
# Characters that open Markdown syntax (emphasis, code, links, images, HTML, math, directives,
# headings, lists, tables, strikethrough, entities) when they are not escaped.
_SYNTAX = set("\\`*_{}[]()<>#+-.!|~$:=^&/")


def rendered_text(markdown: str) -> str:
    """What the reader sees: escapes resolved, word joiners invisible."""
    return _ESCAPE.sub(r"\1", markdown).replace(WORD_JOINER, "")


def unescaped_syntax(markdown: str) -> list[str]:
    """Syntax characters in `markdown` that are not preceded by a backslash."""
    out, i = [], 0
    while i < len(markdown):
        if markdown[i] == "\\" and i + 1 < len(markdown):
            i += 2
            continue
        if markdown[i] in _SYNTAX:
            out.append(markdown[i])
        i += 1
    return out


ATTACKS = [
    "![pixel](http://tracker.example/p.png)",
    "[click](javascript:alert(1))",
    "see http://evil.example/x and https://a.b/c_d",
    "www.example.com",
    "mail admin@example.com",
    "<https://auto.link>",
    "<img src=x onerror=alert(1)>",
    "**bold** _it_ `code` ~~gone~~",
    "$x^2$ and $$y$$",
    ":red[alert] :material/home: :smile: :streamlit:",
    "a -> b <= c -- d",
    "# heading",
    "- item",
    "1. item",
    "> quote",
    "| a | b |",
    "&amp; &#60;",
    "line one\n\n# line two",
    "=cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_md_escape_neutralises_markdown_links_images_html_and_rewrites(text: str) -> None:
    out = md_escape(text)
    assert unescaped_syntax(out) == []
    visible = rendered_text(out)
    assert visible == " ".join(text.split())
    seen = out.replace("\\", "")  # what the rewrites match against, word joiners kept
    for rewrite in _REWRITES:
        assert not rewrite.search(seen), (rewrite.pattern, out)
    assert _SOURCE_REWRITE not in out and "\n" not in out


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_md_escape_is_literal_for_any_text(text: str) -> None:
    out = md_escape(text)
    assert unescaped_syntax(out) == []
    assert rendered_text(out) == " ".join(text.split())
    seen = out.replace("\\", "")
    assert not any(rewrite.search(seen) for rewrite in _REWRITES)
    assert _SOURCE_REWRITE not in out


def test_md_escape_leaves_plain_words_alone() -> None:
    assert md_escape("Température °C") == "Température °C"
    assert md_escape(12) == "12"


@pytest.mark.parametrize(("value", "expected"), [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+SUM(A1:A2)", "'+SUM(A1:A2)"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("-1.5 ± 0.2", "'-1.5 ± 0.2"),
    ("-1.5", "-1.5"),
    ("+3", "+3"),
    ("-2e-3", "-2e-3"),
    ("tanh", "tanh"),
    ("", ""),
    ("a=b", "a=b"),
])
def test_csv_cell_prefixes_formulas_and_keeps_numbers(value: str, expected: str) -> None:
    assert csv_cell(value) == expected


@pytest.mark.parametrize("value", [-1, 2.5, None, float("nan"), True])
def test_csv_cell_returns_non_text_unchanged(value: object) -> None:
    assert csv_cell(value) is value


def test_safe_frame_covers_cells_columns_and_row_labels() -> None:
    frame = pd.DataFrame(
        {"=model": ["=cmd", "-0.5 ± 0.1", None], "rmse": [-1.0, 2.0, 3.0]},
        index=pd.Index(["@a", "b", "+c"], name="=Model"),
    )
    safe = safe_frame(frame)
    assert list(safe.columns) == ["'=model", "rmse"]
    assert list(safe.index) == ["'@a", "b", "'+c"] and safe.index.name == "'=Model"
    assert safe["'=model"].tolist()[:2] == ["'=cmd", "'-0.5 ± 0.1"] and pd.isna(safe["'=model"].iloc[2])
    assert safe["rmse"].tolist() == [-1.0, 2.0, 3.0]
    assert list(frame.columns) == ["=model", "rmse"]  # the original is untouched
    written = safe.to_csv()
    assert not any(line.startswith(("=", "+", "-", "@")) for line in written.splitlines())


def test_quote_shortens_and_keeps_one_line() -> None:
    assert quote("a\nb   c") == "'a b c'"
    assert quote("x" * 100, 10) == "'" + "x" * 9 + "…'"


def test_one_line_leaves_no_line_break_or_control_character() -> None:
    from lstm_app.text import one_line

    assert one_line('a\nb\r\nc\x00d\u2028e\x0bf  g') == "a b c d e f g"
    assert one_line("Température °C") == "Température °C"
