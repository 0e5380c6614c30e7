from __future__ import annotations

import re

from bot.html_split import split_html, visible_length


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_short_text_is_one_part() -> None:
    assert split_html("<b>#1001</b> hello") == ["<b>#1001</b> hello"]


def test_long_text_is_split_within_the_limit_and_nothing_is_lost() -> None:
    html = "<b>header</b>\n" + "\n".join(f"line {n} " + "x" * 60 for n in range(150))
    parts = split_html(html, limit=4096)
    assert len(parts) > 1
    assert all(visible_length(_visible(part)) <= 4096 for part in parts)
    assert "".join(_visible(part) for part in parts) == _visible(html)
    # Cut at line breaks: every part but the last ends where a line ended.
    assert all(_visible(part).endswith("\n") for part in parts[:-1])


def test_a_tag_open_at_the_cut_is_closed_and_reopened() -> None:
    html = "<b>" + "字" * 30 + "</b>"
    parts = split_html(html, limit=10)
    assert len(parts) == 3
    assert all(part.startswith("<b>") and part.endswith("</b>") for part in parts)
    assert "".join(_visible(part) for part in parts) == "字" * 30


def test_an_entity_is_never_cut_and_counts_as_one_character() -> None:
    html = "&lt;" * 9
    parts = split_html(html, limit=4)
    assert parts == ["&lt;" * 4, "&lt;" * 4, "&lt;"]


def test_limit_counts_utf16_units() -> None:
    emoji = "😀" * 3  # two UTF-16 units each
    assert split_html(emoji, limit=4) == ["😀😀", "😀"]
