"""Small helpers shared by the HTTP clients (embeddings server, chat models): reading a
server's ``Retry-After`` and quoting a bit of a reply in an error message."""

from __future__ import annotations

from typing import Any

__all__ = ["excerpt", "retry_after"]


def retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or a numeric ``Retry-After`` header, if present."""
    for key, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(key) if headers is not None else None
        try:
            return max(0.0, float(raw) * scale) if raw is not None else None
        except ValueError:
            continue
    return None


def excerpt(body: bytes | str, limit: int = 200) -> str:
    """``body`` on one line, cut to ``limit`` characters, for an error message."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
