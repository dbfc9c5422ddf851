"""User text made safe to show: quoted in messages, literal in Markdown, inert in spreadsheets.

File, column and model names come from users and reach three places that interpret text:
one-sentence messages (`quote`), Streamlit Markdown (`md_escape`, for `st.markdown`, `st.error`,
`st.caption`, labels), CSV files opened in a spreadsheet (`csv_cell`, `safe_frame`) and comments
in exported code (`one_line`). No
Streamlit import here: the CLI and the page share these helpers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["WORD_JOINER", "csv_cell", "md_escape", "one_line", "quote", "safe_frame"]

# Invisible and unbreakable (U+2060): placed before the characters that Streamlit's text-node
# plugins look for, it stops them without changing what the reader sees.
WORD_JOINER = "\u2060"

# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the ones
# with a meaning in Streamlit's Markdown (GFM, math `$`, directives `:name[..]`, entities `&`,
# and `/`, since Streamlit rewrites `:material/` in the raw text before parsing).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=^&/])")
# Streamlit resolves escapes first and then rewrites text nodes: GFM autolink literals
# (`http://`, `www.`, `a@b.c`), emoji and icon shortcodes (`:smile:`, `:material/home:`) and
# typographic arrows (` -> `, ` <= `). A word joiner before `:`, `@` and the `.` of `www.`, and
# before `-<>~` after a space, leaves none of those patterns in the text.
_TRANSFORM_TRIGGERS = re.compile(r"(?i)(?<=www)(?=\.)|(?=[:@])|(?:^|(?<=\s))(?=[-<>~])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def quote(text: object, limit: int = 40) -> str:
    """Quote a name or a value for a one-line message, shortened and without line breaks."""
    s = " ".join(str(text).split())
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return f"'{s}'"


def one_line(text: object) -> str:
    """`text` on one line of printable characters: whitespace and control runs become one space.

    Safe inside a `#` comment of generated code, which only a line break can end.
    """
    return " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())


def md_escape(text: object) -> str:
    """`text` as Streamlit Markdown that renders literally: no link, image, HTML, math or emoji.

    Runs of whitespace (line breaks included) become one space, so user text cannot start a
    block (heading, list, table) of its own.
    """
    s = " ".join(str(text).split())
    s = _TRANSFORM_TRIGGERS.sub(WORD_JOINER, s)
    return _MD_SPECIAL.sub(r"\\\1", s)


def csv_cell(value: object) -> object:
    """`value` safe for a spreadsheet: text that starts a formula gets a leading `'` (OWASP).

    Text starting with `=`, `+`, `-`, `@`, tab or carriage return is prefixed unless it is a
    plain number such as ``-1.5e3``; numbers and other values are returned unchanged.
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def _safe_labels(index: pd.Index) -> pd.Index:
    import pandas as pd  # here, so that messages and Markdown need no pandas

    if isinstance(index, pd.MultiIndex):
        levels = [level.map(csv_cell) if _is_text(level.dtype) else level for level in index.levels]
        return index.set_levels(levels).set_names([csv_cell(n) for n in index.names])  # type: ignore[arg-type]
    labels = index.map(csv_cell) if _is_text(index.dtype) else index
    return labels.set_names([csv_cell(n) for n in index.names])


def _is_text(dtype: object) -> bool:
    import pandas as pd

    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)  # type: ignore[arg-type]


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with `csv_cell` applied to every text cell, column name and row label."""
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if _is_text(column.dtype):
            out.isetitem(i, column.map(csv_cell))  # type: ignore[arg-type]  # stubs lack Series
    out.columns = _safe_labels(out.columns)
    out.index = _safe_labels(out.index)
    return out
