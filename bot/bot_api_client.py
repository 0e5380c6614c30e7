"""The bot's HTTP client for the Bot API: aiohttp under python-telegram-bot.

python-telegram-bot sends through httpx unless given another transport (telegram.request.BaseRequest).
Under load (`guanjia bench --profile`), httpx with its httpcore, h11 and anyio layers took more of the
bot's time than everything the bot decided; aiohttp, here already for the webhook and the sandbox,
does the same exchange with its HTTP parser in C, in a fraction of the time. A request's parameters
go as one JSON object (which the Bot API takes for every method) rather than form fields, each
JSON-encoded and then URL-quoted character by character. PTB's own methods still build every request
and read every answer; the outbox's texts and copies skip that (`call`, `post_json`), and a refusal
then raises what PTB would have raised (`refusal`).

Timeouts keep PTB's meaning (read, write, connect, and waiting for a free connection), and failures
its classes: a timeout is TimedOut, anything else on the way NetworkError. An error's text never
carries the request's URL, which holds the bot's token.
"""

from __future__ import annotations

import json
import warnings
from http import HTTPStatus
from typing import Any

import aiohttp
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBUserWarning

JSON_BODY = {"Content-Type": "application/json"}
DefaultTimeout = Any  # PTB's DEFAULT_NONE marker, or a number of seconds, or None for no limit


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        *,
        connections: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
                # The Bot API sets no cookies; the default jar still looked through itself for every
                # request, which cost a third of what the rest of a send does.
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
        write_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        files = request_data.multipart_data if request_data else None
        body, headers = _body(request_data, files)
        timeout = self._timeout(
            read_timeout, write_timeout, connect_timeout, pool_timeout, with_files=bool(files)
        )
        return await self._exchange(method, url, body, headers, timeout)

    async def post_json(
        self,
        url: str,
        parameters: dict[str, Any],
        read_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
        write_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
    ) -> Any:
        """`post` for parameters already in JSON's terms: no PTB objects built on the way out or in.
        The result as Telegram sent it; a refusal raised as PTB raises it (see `refusal`)."""
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout, with_files=False)
        status, payload = await self._exchange(
            "POST", url, json.dumps(parameters).encode(), JSON_BODY, timeout
        )
        if 200 <= status <= 299:
            return self.parse_json_payload(payload)["result"]
        raise refusal(status, payload)

    def _timeout(
        self,
        read: DefaultTimeout,
        write: DefaultTimeout,
        connect: DefaultTimeout,
        pool: DefaultTimeout,
        *,
        with_files: bool,
    ) -> aiohttp.ClientTimeout:
        return _timeout(
            read=_given(read, self._read_timeout),
            write=_given(write, self._media_write_timeout if with_files else self._write_timeout),
            connect=_given(connect, self._connect_timeout),
            pool=_given(pool, self._pool_timeout),
        )

    async def _exchange(
        self, method: str, url: str, body: Any, headers: dict[str, str] | None, timeout: aiohttp.ClientTimeout
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            # The type and what went wrong, as PTB's own client says it; never the URL (the token).
            said = str(error).replace(url, "the Bot API")
            raise NetworkError(f"aiohttp.{type(error).__name__}: {said}") from error


def refusal(status: int, payload: bytes) -> TelegramError:
    """The Bot API's answer to a request it did not carry out, as the exception PTB raises for it: the
    description Telegram gave, or the HTTP status; RetryAfter and ChatMigrated when its parameters say
    so; then by status (Bot API, "Making requests": 400, 401, 403, 404, 409, 429)."""
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return NetworkError(f"HTTP {status}, and an answer that is not the Bot API's")
    description = str(answer.get("description") or f"HTTP {status}")
    parameters = answer.get("parameters") or {}
    if parameters.get("migrate_to_chat_id"):
        return ChatMigrated(int(parameters["migrate_to_chat_id"]))
    if parameters.get("retry_after"):
        return RetryAfter(int(parameters["retry_after"]))
    if status == HTTPStatus.FORBIDDEN:
        return Forbidden(description)
    if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND):  # the token is unknown, or malformed
        return InvalidToken(description)
    if status == HTTPStatus.BAD_REQUEST:
        return BadRequest(description)
    if status == HTTPStatus.CONFLICT:
        return Conflict(description)
    return NetworkError(description)


def _given(value: DefaultTimeout, default: float | None) -> float | None:
    if isinstance(value, type(BaseRequest.DEFAULT_NONE)):
        return default
    return None if value is None else float(value)


def _timeout(
    *, read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp has no write timeout of its own: the whole request is bounded by all four together,
    the wait for the answer by the read timeout, and getting a connection by the pool and connect ones."""
    parts = (read, write, connect, pool)
    total = None if any(part is None for part in parts) else sum(p for p in parts if p is not None)
    getting = None if connect is None or pool is None else connect + pool
    return aiohttp.ClientTimeout(total=total, connect=getting, sock_connect=connect, sock_read=read)


def _body(request_data: RequestData | None, files: Any) -> tuple[Any, dict[str, str] | None]:
    """The parameters as one JSON object, which the Bot API takes for every method; with files, a
    multipart form of the parameters (each JSON-encoded, as PTB does) and the files."""
    if request_data is None:
        return None, None
    if not files:
        return json.dumps(request_data.parameters).encode(), JSON_BODY
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form, None


async def call(bot: Bot, method: str, parameters: dict[str, Any], **timeouts: Any) -> Any:
    """A Bot API method called with plain JSON parameters; its result as Telegram sent it.

    For the hot paths: PTB's own methods wrap every parameter in an object and read every answer into
    one (a sent Message takes about 0.2 ms to build), where the outbox needs only a message id and the
    intake the raw updates. Errors are PTB's, as from its own methods. With this module's client, the
    JSON goes straight to it; getUpdates, which PTB sends on a connection of its own, goes through PTB.
    """
    request = bot.request
    if isinstance(request, AiohttpRequest) and method != "getUpdates":
        return await request.post_json(f"{bot.base_url}/{method}", parameters, **timeouts)
    with warnings.catch_warnings():  # PTB's advice to use its own method for this endpoint, silenced
        warnings.simplefilter("ignore", PTBUserWarning)
        try:
            return await bot.do_api_request(method, api_kwargs=parameters, **timeouts)
        except EndPointNotFound as error:
            # do_api_request's name for a 404 once the bot is up; for a method that exists, the
            # token is what Telegram did not find, as PTB's own methods say.
            raise InvalidToken(error.message) from error
