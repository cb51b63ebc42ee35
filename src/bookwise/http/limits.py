"""Request bodies: the caller is checked before the body is read, and the body is limited.

FastAPI reads and parses a route's body before it runs the route's dependencies, so the
``authorize`` dependency alone would let anyone make the server read (and parse, or spool to
disk) a body of any size. ``BodyLimit`` gates the body instead: the first time anything asks
for a byte of it, the caller and the route's role are checked from the headers
(``context.authenticate``), and only then is the body let through, up to its limit:
``max_upload_mib`` for the upload routes (``routing.UPLOADS``), ``max_body_mib`` for every other.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bookwise.config import get_settings
from bookwise.errors import BookwiseError, RequestTooLarge
from bookwise.http.context import AUTHENTICATED, authenticate, close_kept_session
from bookwise.http.problems import bookwise_error
from bookwise.http.routing import UPLOADS

MIB = 1024 * 1024


class BodyLimit:
    """Check the caller before the body is read; stop reading a body at its limit.

    A plain ASGI middleware, like ``SecurityHeaders`` (which sits outside it, so that its
    answers get the same headers). An anonymous or unauthorized request is answered (401, 403)
    without a byte of its body read. A body announced larger than its limit (Content-Length)
    is a 413 before it is read; one that is larger than announced, or chunked, is counted as
    it arrives and stopped at the limit. Whatever the route made of a body it was refused
    (FastAPI answers 400 when reading fails), the answer is the refusal.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a gated receive; answer a refused body with its error."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        gate = _Gate(scope, receive)
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if gate.refusal is not None and not started:
                return  # the route's answer to a body it could not read: the refusal instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, gate.receive, guarded_send)
        except Exception:
            if gate.refusal is None or started:
                raise
        finally:
            await close_kept_session(scope)
        if gate.refusal is not None and not started:
            request = Request(scope)
            response = await bookwise_error(request, gate.refusal)
            await response(scope, _nothing_more, send)


class _Gate:
    """The request's ``receive``, opened on the first read once the caller is allowed."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self._receive = receive
        self.limit: int | None = None
        self.setting = ""
        self.received = 0
        self.refusal: BookwiseError | None = None

    async def receive(self) -> Message:
        """The next message of the body, once allowed and as long as it is within its limit."""
        if self.refusal is not None:
            raise self.refusal
        if self.limit is None:
            try:
                await self._open()
            except BookwiseError as exc:
                self.refusal = exc
                raise
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.limit is not None and self.received > self.limit:
                self.refusal = self._too_large()
                raise self.refusal
        return message

    async def _open(self) -> None:
        """Authenticate (unless done for this route), then the limit and the announced size."""
        route: Any = self.scope.get("route")
        path: str | None = getattr(route, "path", None)
        upload = False
        if path is not None:
            checked = self.scope.get(AUTHENTICATED)
            if checked is None or checked[0] != path:
                await authenticate(Request(self.scope), path)
            upload = (self.scope["method"], path) in UPLOADS
        settings = get_settings()
        if upload:
            self.limit, self.setting = settings.max_upload_mib * MIB, "BOOKWISE_MAX_UPLOAD_MIB"
        else:
            self.limit, self.setting = settings.max_body_mib * MIB, "BOOKWISE_MAX_BODY_MIB"
        announced = _content_length(self.scope)
        if announced is not None and announced > self.limit:
            raise self._too_large()

    def _too_large(self) -> RequestTooLarge:
        return RequestTooLarge(
            f"the request body is larger than {(self.limit or 0) // MIB} MiB, the limit of this "
            f"installation ({self.setting}); send less at a time"
        )


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length", "").strip()
    return int(value) if value.isdigit() else None


async def _nothing_more() -> Message:
    return {"type": "http.disconnect"}
