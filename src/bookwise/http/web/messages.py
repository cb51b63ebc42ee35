"""Post/redirect/get for the pages: what a form did travels to the page it redirects to.

A form that changes something answers with a 303 to a page that only reads; the message
("Deactivated Gil Ruiz (gil@example.com).") and the operation to undo travel in a one-time
cookie signed with the session's CSRF token, so another site cannot plant a message, and
a refresh shows the page without it (nothing is submitted again). Messages follow one style:
sentence case, ending with a full stop (``sentence``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from bookwise.http.context import current_caller
from bookwise.http.web.common import local_path

FLASH_COOKIE = "bookwise_flash"
ENDINGS = (".", "!", "?", "…", ":")


def sentence(text: str) -> str:
    """``text`` in the pages' one style: a capital first letter and a closing full stop.

    A first word that is an email, a code or a name in quotes keeps its case
    ("ana@example.com is inactive.").
    """
    text = " ".join(text.split())
    if not text:
        return text
    first = text.split(" ", 1)[0]
    if first[0].islower() and not any(mark in first for mark in "@_/`.#=\"'"):
        text = text[0].upper() + text[1:]
    return text if text.endswith(ENDINGS) else f"{text}."


@dataclass(frozen=True)
class Flash:
    """What the last form did, as the next page says it (with the operation to undo)."""

    message: str
    operation_id: int | None = None
    undoable: bool = True


def redirect(
    request: Request,
    target: str,
    message: str = "",
    *,
    operation_id: int | None = None,
    undoable: bool = True,
) -> Response:
    """A 303 to ``target`` (a path on this site), carrying ``message`` to the page there
    (with the operation it made, and whether the page offers to undo it)."""
    response = RedirectResponse(local_path(target, "/"), status_code=303)
    token = current_caller(request).csrf_token
    if message and token:
        fields = {"m": sentence(message), "o": operation_id, "u": undoable}
        payload = json.dumps(fields, separators=(",", ":"))
        encoded = base64.urlsafe_b64encode(payload.encode()).decode()
        response.set_cookie(
            FLASH_COOKIE,
            f"{encoded}.{_signature(token, encoded)}",
            max_age=60,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


def take_flash(request: Request) -> Flash | None:
    """The message a redirect left for this page, if it is this session's."""
    cookie = request.cookies.get(FLASH_COOKIE, "")
    token = current_caller(request).csrf_token
    encoded, _, signature = cookie.partition(".")
    if not (encoded and token and hmac.compare_digest(signature, _signature(token, encoded))):
        return None
    try:
        payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(encoded))
        operation = payload.get("o")
        return Flash(
            message=str(payload["m"]),
            operation_id=operation if isinstance(operation, int) else None,
            undoable=payload.get("u") is not False,
        )
    except (ValueError, KeyError, TypeError):
        return None


def forget_flash(request: Request, response: Response) -> None:
    """Delete the message once a page showed it: a refresh shows the page alone."""
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/")


def _signature(token: str, encoded: str) -> str:
    digest = hmac.new(token.encode(), f"flash:{encoded}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
