"""Turning aiohttp requests into method names and raw parameters, and results into replies."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.errors import ApiError, bad_request
from bot.sandbox.models import Upload
from bot.sandbox.spec import METHODS

# Method names are case-insensitive in the real API.
CANONICAL = {name.lower(): name for name in METHODS}


def reply_ok(result: Any) -> web.Response:
    return _json_response({"ok": True, "result": result}, 200)


def reply_error(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.error_code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return _json_response(body, error.error_code)


def _json_response(body: dict[str, Any], status: int) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
    )


async def read_params(request: web.Request) -> dict[str, Any]:
    """Raw parameters from query string and body; file parts become Upload objects."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "GET" or not request.can_read_body:
        return params
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON body must be an object")
        params.update(body)
        return params
    if ctype == "multipart/form-data":
        files = await _read_multipart(request, params)
        return _attach(params, files)
    form = await request.post()
    params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


async def _read_multipart(request: web.Request, params: dict[str, Any]) -> dict[str, Upload]:
    files: dict[str, Upload] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        data = await part.read(decode=True)
        if part.filename is not None:
            ctype = part.headers.get("Content-Type", "application/octet-stream")
            files[part.name] = Upload(part.filename, ctype, bytes(data))
        else:
            params[part.name] = data.decode(part.get_charset("utf-8"))
    return files


def _attach(params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
    """Resolve "attach://name" values; other file parts are fields in their own right."""
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.pop(value.removeprefix("attach://"), None)
            if upload is None:
                raise bad_request(f"file for {key} not found in the request")
            params[key] = upload
    params.update(files)
    return params
