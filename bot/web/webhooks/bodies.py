"""Reading a webhook's body: the declared kind, and never more than a set size."""

from __future__ import annotations

from fastapi import Request


async def read_body(request: Request, kind: str, limit: int) -> bytes | int:
    """The body, or the 4xx to answer: 415 for another content type, 413 past ``limit``
    (read in chunks, so a huge body is refused before it is all in memory)."""
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given != kind:
        return 415
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return 413
    return body
