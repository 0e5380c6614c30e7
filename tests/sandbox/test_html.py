"""The Telegram HTML parser in isolation."""

import pytest

from bot.sandbox.errors import ApiError
from bot.sandbox.textfmt import format_text, parse_html, utf16_len


def test_entities_and_offsets_use_utf16() -> None:
    parsed = parse_html("😀 <b>粗</b> <i>x</i>")
    assert parsed.text == "😀 粗 x"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 1},
        {"type": "italic", "offset": 5, "length": 1},
    ]
    assert utf16_len("😀") == 2


def test_all_supported_tags() -> None:
    parsed = parse_html(
        "<strong>a</strong><em>b</em><u>c</u><ins>d</ins><s>e</s><strike>f</strike>"
        '<del>g</del><span class="tg-spoiler">h</span><tg-spoiler>i</tg-spoiler>'
        '<a href="https://t.me">j</a><code>k</code><pre><code class="language-py">l</code></pre>'
        "<blockquote>m</blockquote><blockquote expandable>n</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert parsed.text == "abcdefghijklmn👍"
    types = [e["type"] for e in parsed.entities]
    assert types == [
        "bold",
        "italic",
        "underline",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
        "spoiler",
        "spoiler",
        "text_link",
        "code",
        "pre",
        "blockquote",
        "expandable_blockquote",
        "custom_emoji",
    ]
    assert parsed.entities[11]["language"] == "py"


def test_character_references() -> None:
    assert parse_html("&lt;&gt;&amp;&quot;&#20013;&#x6587; & ;").text == '<>&"中文 & ;'


@pytest.mark.parametrize(
    "source",
    ["<b>", "</b>", "<b></i>", "<x>", "a<", "a < b", "&copy;", "<a href='x'", "<tg-emoji>x</tg-emoji>"],
)
def test_rejects(source: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_html(source)
    assert info.value.error_code == 400
    assert info.value.description.startswith("Bad Request: can't parse entities: ")


def test_surrounding_whitespace_is_trimmed() -> None:
    formatted = format_text("\n  <b>hi</b> there \n", "HTML", None)
    assert formatted.text == "hi there"
    assert formatted.entities == [{"type": "bold", "offset": 0, "length": 2}]
