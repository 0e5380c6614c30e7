"""Formatted text: Telegram's HTML dialect, UTF-16 lengths and entity bookkeeping.

Telegram measures text and entity offsets in UTF-16 code units, so every length here does too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import ApiError, bad_request

# Telegram strips these from both ends of a message before measuring it.
_STRIP_CHARS = " \t\r\n"

_ENTITY_RE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")

# Tag name -> entity type; the tags with attributes are special-cased in _entity_for.
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SUPPORTED_TAGS = {*_SIMPLE_TAGS, "span", "a", "blockquote", "tg-emoji", "tg-time"}

PARSE_MODES = {"HTML", "MarkdownV2", "Markdown"}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (astral characters count twice)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class FormattedText:
    """Visible text plus the MessageEntity dicts describing its formatting."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the visible text where the tag opened
    byte_offset: int


def _html_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


class _HtmlParser:
    """A strict tokenizer for the HTML subset the Bot API accepts."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.out_len = 0  # UTF-16 length of the visible text so far
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, pos: int) -> int:
        return len(self.src[:pos].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.out_len += utf16_len(text)

    def parse(self) -> FormattedText:
        src = self.src
        while self.pos < len(src):
            ch = src[self.pos]
            if ch == "&":
                self.parse_entity()
            elif ch == "<":
                if src.startswith("</", self.pos):
                    self.parse_end_tag()
                else:
                    self.parse_start_tag()
            else:
                nxt = min(
                    (i for i in (src.find("&", self.pos), src.find("<", self.pos)) if i != -1),
                    default=len(src),
                )
                self.emit(src[self.pos : nxt])
                self.pos = nxt
        if self.stack:
            name = self.stack[-1].name
            raise _html_error(f'Can\'t find end tag corresponding to start tag "{name}"')
        return FormattedText("".join(self.out), self.entities)

    def parse_entity(self) -> None:
        match = _ENTITY_RE.match(self.src, self.pos)
        if match is None:
            # A lone ampersand is plain text for Telegram.
            self.emit("&")
            self.pos += 1
            return
        body = match.group(1)
        if body.startswith("#"):
            try:
                code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
                char = chr(code)
            except (ValueError, OverflowError):
                raise _html_error(
                    f'Invalid HTML entity "{match.group(0)}" at byte offset {self.byte_offset(self.pos)}'
                ) from None
        elif body in _NAMED_ENTITIES:
            char = _NAMED_ENTITIES[body]
        else:
            raise _html_error(
                f'Unsupported HTML entity "{match.group(0)}" at byte offset {self.byte_offset(self.pos)}'
            )
        self.emit(char)
        self.pos = match.end()

    def parse_start_tag(self) -> None:
        begin = self.pos
        match = _TAG_NAME_RE.match(self.src, begin + 1)
        if match is None:
            if begin + 1 >= len(self.src):
                raise _html_error(f"Unexpected end of name token at byte offset {self.byte_offset(begin)}")
            raise _html_error(f'Unsupported start tag "" at byte offset {self.byte_offset(begin)}')
        name = match.group(0).lower()
        if name not in _SUPPORTED_TAGS:
            raise _html_error(f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}')
        self.pos = match.end()
        attrs = self.parse_attributes(begin)
        tag = _OpenTag(name, attrs, self.out_len, self.byte_offset(begin))
        self.check_start_tag(tag)
        self.stack.append(tag)

    def parse_attributes(self, begin: int) -> dict[str, str]:
        src = self.src
        attrs: dict[str, str] = {}
        while True:
            while self.pos < len(src) and src[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos >= len(src):
                raise _html_error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            if src[self.pos] == ">":
                self.pos += 1
                return attrs
            match = _ATTR_NAME_RE.match(src, self.pos)
            if match is None:
                raise _html_error(
                    f"Unexpected character in start tag at byte offset {self.byte_offset(self.pos)}"
                )
            attr = match.group(0).lower()
            self.pos = match.end()
            value = ""
            if self.pos < len(src) and src[self.pos] == "=":
                self.pos += 1
                value = self.parse_attribute_value(begin)
            attrs[attr] = value

    def parse_attribute_value(self, begin: int) -> str:
        src = self.src
        if self.pos < len(src) and src[self.pos] in "\"'":
            quote = src[self.pos]
            end = src.find(quote, self.pos + 1)
            if end == -1:
                raise _html_error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            raw = src[self.pos + 1 : end]
            self.pos = end + 1
        else:
            end = self.pos
            while end < len(src) and src[end] not in " \t\r\n>":
                end += 1
            raw = src[self.pos : end]
            self.pos = end
        # Attribute values may carry entities too (e.g. &amp; inside href).
        return _ENTITY_RE.sub(
            lambda m: _NAMED_ENTITIES.get(m.group(1), m.group(0)),
            raw,
        )

    def check_start_tag(self, tag: _OpenTag) -> None:
        where = f"at byte offset {tag.byte_offset}"
        if tag.name == "span" and tag.attrs.get("class") != "tg-spoiler":
            raise _html_error(f'Tag "span" must have class "tg-spoiler" {where}')
        if tag.name == "tg-emoji" and not tag.attrs.get("emoji-id"):
            raise _html_error(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
        if tag.name == "tg-time" and not tag.attrs.get("unix", "").isdigit():
            raise _html_error(f'Tag "tg-time" must have attribute "unix" {where}')

    def parse_end_tag(self) -> None:
        begin = self.pos
        match = _TAG_NAME_RE.match(self.src, begin + 2)
        end = self.src.find(">", begin)
        if match is None or end == -1 or self.src[match.end() : end].strip():
            raise _html_error(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        name = match.group(0).lower()
        if not self.stack:
            raise _html_error(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        open_tag = self.stack[-1]
        if name != open_tag.name:
            raise _html_error(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{open_tag.name}>", found "</{name}>"'
            )
        self.stack.pop()
        self.pos = end + 1
        self.close(open_tag)

    def close(self, tag: _OpenTag) -> None:
        length = self.out_len - tag.start
        entity = self.entity_for(tag)
        if entity is None or length == 0:
            return
        entity.update(offset=tag.start, length=length)
        self.entities.append(entity)

    def entity_for(self, tag: _OpenTag) -> dict[str, Any] | None:
        attrs = tag.attrs
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            # <pre><code class="language-x"> sets the language of the enclosing pre.
            language = attrs.get("class", "")
            if language.startswith("language-"):
                self.stack[-1].attrs["_language"] = language.removeprefix("language-")
            return None
        if tag.name == "pre" and attrs.get("_language"):
            return {"type": "pre", "language": attrs["_language"]}
        if tag.name in _SIMPLE_TAGS:
            return {"type": _SIMPLE_TAGS[tag.name]}
        if tag.name == "span":
            return {"type": "spoiler"}
        if tag.name == "a":
            href = attrs.get("href", "")
            return {"type": "text_link", "url": href} if href else None
        if tag.name == "blockquote":
            kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
            return {"type": kind}
        if tag.name == "tg-emoji":
            return {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
        entity: dict[str, Any] = {"type": "date_time", "unix_time": int(attrs["unix"])}
        if attrs.get("format"):
            entity["date_time_format"] = attrs["format"]
        return entity


def parse_html(source: str) -> FormattedText:
    """Parse Telegram HTML into visible text and entities, or raise the API's 400."""
    parsed = _HtmlParser(source).parse()
    parsed.entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return parsed


def _strip(formatted: FormattedText) -> FormattedText:
    """Trim surrounding whitespace like Telegram does, keeping entity offsets valid."""
    text = formatted.text
    stripped = text.strip(_STRIP_CHARS)
    if stripped == text:
        return formatted
    lead = utf16_len(text[: len(text) - len(text.lstrip(_STRIP_CHARS))])
    new_len = utf16_len(stripped)
    entities: list[dict[str, Any]] = []
    for entity in formatted.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, new_len)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(stripped, entities)


def format_text(text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None) -> FormattedText:
    """What the recipient sees for ``text`` sent with ``parse_mode`` or explicit ``entities``."""
    if parse_mode is not None and parse_mode != "":
        if parse_mode not in PARSE_MODES:
            raise bad_request("unsupported parse_mode")
        if parse_mode == "HTML":
            return _strip(parse_html(text))
        # Markdown dialects are accepted as-is; the bot only uses HTML.
        return _strip(FormattedText(text))
    return _strip(FormattedText(text, list(entities or [])))
