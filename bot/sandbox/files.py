"""File storage: fabricates user media, keeps bot uploads, answers getFile lookups."""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from bot.sandbox.errors import bad_request
from bot.sandbox.models import FileRecord, Upload

_FOLDERS = {"photo": "photos", "voice": "voice", "document": "documents", "sticker": "stickers"}
_EXTENSIONS = {"photo": "jpg", "voice": "oga", "document": "bin", "sticker": "webp"}
# (width, height) of the sizes Telegram generates for a photo, smallest first.
_PHOTO_SIZES = ((90, 67), (320, 240), (1280, 960))


class FileStore:
    def __init__(self) -> None:
        self._files: dict[str, FileRecord] = {}
        self._by_path: dict[str, FileRecord] = {}
        self._counter = itertools.count(1)

    def get(self, file_id: str) -> FileRecord | None:
        return self._files.get(file_id)

    def by_path(self, file_path: str) -> FileRecord | None:
        return self._by_path.get(file_path)

    def _add(self, kind: str, data: bytes, ext: str | None = None) -> FileRecord:
        n = next(self._counter)
        # Random tails keep ids unguessable-looking and distinct across sandboxes.
        record = FileRecord(
            file_id=f"{kind[:2].upper()}{n:06d}{secrets.token_hex(8)}",
            file_unique_id=f"U{n:06d}{secrets.token_hex(4)}",
            kind=kind,
            data=data,
            file_path=f"{_FOLDERS.get(kind, 'files')}/file_{n}.{ext or _EXTENSIONS.get(kind, 'bin')}",
        )
        self._files[record.file_id] = record
        self._by_path[record.file_path] = record
        return record

    @staticmethod
    def _ref(record: FileRecord) -> dict[str, Any]:
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": len(record.data),
        }

    def photo(self, data: bytes | None = None) -> list[dict[str, Any]]:
        """A PhotoSize list; every size is its own downloadable file."""
        sizes: list[dict[str, Any]] = []
        records: list[FileRecord] = []
        for width, height in _PHOTO_SIZES:
            body = data if data is not None else _fake_bytes("photo", width)
            record = self._add("photo", body)
            records.append(record)
            sizes.append({**self._ref(record), "width": width, "height": height})
        for record in records:
            record.meta = sizes
        return sizes

    def voice(self, duration: int, data: bytes | None = None) -> dict[str, Any]:
        record = self._add("voice", data if data is not None else _fake_bytes("voice", duration))
        record.meta = {**self._ref(record), "duration": duration, "mime_type": "audio/ogg"}
        return dict(record.meta)

    def document(self, file_name: str, mime_type: str, data: bytes | None = None) -> dict[str, Any]:
        ext = file_name.rsplit(".", 1)[-1] if "." in file_name else None
        record = self._add("document", data if data is not None else _fake_bytes(file_name), ext)
        record.meta = {**self._ref(record), "file_name": file_name, "mime_type": mime_type}
        return dict(record.meta)

    def sticker(self) -> dict[str, Any]:
        record = self._add("sticker", _fake_bytes("sticker"))
        record.meta = {
            **self._ref(record),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return dict(record.meta)

    def for_bot_send(self, kind: str, value: Upload | str, **extra: Any) -> Any:
        """The media object for a bot's send*: an upload, a known file_id or an HTTP URL."""
        if isinstance(value, Upload):
            return self._create(kind, value.data, value.filename, value.content_type, extra)
        if value.startswith(("http://", "https://")):
            name = value.rsplit("/", 1)[-1] or "file"
            return self._create(kind, _fake_bytes(value), name, "application/octet-stream", extra)
        record = self._files.get(value)
        if record is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if record.kind != kind:
            raise bad_request(f"can't use file of type {record.kind} as {kind}")
        if kind == "photo":
            return record.meta
        return {**record.meta, **{k: v for k, v in extra.items() if v is not None}}

    def _create(self, kind: str, data: bytes, filename: str, content_type: str, extra: dict[str, Any]) -> Any:
        if kind == "photo":
            return self.photo(data)
        if kind == "voice":
            return self.voice(int(extra.get("duration") or 0), data)
        if kind == "document":
            return self.document(filename or "file", content_type or "application/octet-stream", data)
        raise bad_request(f"unsupported file kind {kind}")


def _fake_bytes(*seed: object) -> bytes:
    """Deterministic-looking placeholder content; only its identity matters to tests."""
    return ("sandbox-file:" + ":".join(map(str, seed)) + ":" + secrets.token_hex(8)).encode()
