"""plain(): user text shown inside Markdown stays text (no links, images, HTML, emphasis or headings)."""

import html
import re

import pytest
from markdown_it import MarkdownIt

from workbench.app.render import plain

ATTACKS = [
    "[Download](https://phish.invalid)",
    "![i](https://tracker.invalid/p.png)",
    "<img src=https://tracker.invalid/p.png onerror=alert(1)>",
    "<a href='https://phish.invalid'>x</a>",
    "**bold** _it_ `code` ~~gone~~",
    "# heading",
    "line one\n# heading on line two\n- item",
    "&lt;script&gt; &amp;",
    "$x^2$ and :red[alarm]",
    "<https://phish.invalid>",
    "C1=CC=C[N+](=O)[O-]1 \\ back\\slash",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_plain_text_renders_as_itself_and_nothing_else(text):
    rendered = MarkdownIt("commonmark", {"html": True}).render(plain(text))
    assert not re.search(r"<(a|img|em|strong|code|h\d|ul|li|script|del|s)\b", rendered)
    inner = re.fullmatch(r"<p>(.*)</p>\n", rendered, flags=re.S)
    assert inner is not None  # one paragraph
    assert html.unescape(inner.group(1)) == text.replace("\n", " ")


def test_plain_leaves_ordinary_words_alone():
    assert plain("Aspirin 100 mg") == "Aspirin 100 mg"
