"""Splitting a long HTML text into messages within Telegram's limit, never cutting a tag in two.

Telegram counts the limit on the visible text (after entities are parsed), in UTF-16 code units. A cut
prefers a line break; tags open at the cut are closed at the end of one part and reopened in the next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[\s\S]")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][\w-]*)")


@dataclass(frozen=True)
class _Token:
    raw: str
    kind: str  # "open", "close" or "text"
    name: str = ""
    width: int = 0  # visible UTF-16 code units


def visible_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _tokenize(html: str) -> list[_Token]:
    tokens = []
    for raw in _TOKEN.findall(html):
        if raw.startswith("<") and raw.endswith(">") and (match := _TAG_NAME.match(raw)):
            kind = "close" if raw.startswith("</") else "open"
            tokens.append(_Token(raw, kind, match.group(1).lower()))
        elif raw.startswith("&"):
            tokens.append(_Token(raw, "text", width=1))
        else:
            tokens.append(_Token(raw, "text", width=visible_length(raw)))
    return tokens


def split_html(html: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    if visible_length(html) <= limit:  # tags and entities only ever shorten what is seen
        return [html]
    tokens = _tokenize(html)
    parts: list[str] = []
    start = 0
    carried: list[_Token] = []  # tags still open where the previous part was cut
    while start < len(tokens):
        stack = list(carried)
        length = 0
        best_cut: tuple[int, list[_Token]] | None = None
        index = start
        while index < len(tokens):
            token = tokens[index]
            if token.kind == "text":
                if length + token.width > limit:
                    break
                length += token.width
                if token.raw == "\n":
                    best_cut = (index + 1, list(stack))
            elif token.kind == "open":
                stack.append(token)
            elif stack:
                stack.pop()
            index += 1
        end, open_at_end = (index, stack)
        # Cut at the last line break unless that leaves a part of less than half the limit.
        if index < len(tokens) and best_cut and best_cut[0] - start > 0:
            cut_length = sum(t.width for t in tokens[start : best_cut[0]])
            if cut_length >= limit // 2:
                end, open_at_end = best_cut
        body = "".join(t.raw for t in carried) + "".join(t.raw for t in tokens[start:end])
        body += "".join(f"</{t.name}>" for t in reversed(open_at_end))
        if body.strip():
            parts.append(body)
        start, carried = end, open_at_end
    return parts or [html]
