"""An embedder for any OpenAI-compatible ``/v1/embeddings`` server: OpenAI, Ollama, vLLM, llama.cpp,
LM Studio, text-embeddings-inference.

Uses the official ``openai`` SDK for transport and auth but owns the policy: batches of
``batch_size`` texts, a bounded number of attempts with exponential backoff on 408/429/5xx,
timeouts and connection errors (honouring ``Retry-After``), rows ordered by each item's
``index``, the dimension learnt from the first answer, and strict validation of the body (the
SDK does not validate). Every failure leaves as ``EmbeddingServerError``. Leaves out async,
token-based batching and the ``dimensions`` request parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from numpy.typing import NDArray

from contextos._http import excerpt, retry_after
from contextos.embed._rows import unit_rows
from contextos.embed.protocol import Vectors
from contextos.errors import ConfigError, EmbeddingError, EmbeddingServerError

if TYPE_CHECKING:
    from openai import OpenAI

__all__ = ["OpenAIEmbedder"]

_RETRY_STATUS = frozenset({408, 409, 425, 429})
_MAX_DELAY_S = 30.0


def _normalise_base_url(url: str) -> str:
    """``http://host:11434`` → ``http://host:11434/v1``; a URL with a path is kept as given."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        raise ConfigError(
            f"embed_base_url {url!r} is not an http(s) URL, e.g. http://localhost:11434/v1"
        )
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class OpenAIEmbedder:
    """``Embedder`` over an OpenAI-compatible embeddings endpoint.

    ``name`` is ``"openai:<model>@<base url>"``: the same model name on two servers may be two
    different models (quantisation, version), so they do not share cache entries. ``dim`` is
    unknown until the first answer; reading it before any ``embed_batch`` sends one probe
    request. Empty texts are sent as a single space (servers reject ""), texts longer than
    ``max_chars`` are cut. ``OPENAI_API_KEY`` is read only when no ``base_url`` is given, so a
    key is never sent to a server it was not meant for. Call ``close()`` (or use ``with``) to
    release connections.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        batch_size: int = 256,
        timeout: float = 60.0,
        max_attempts: int = 4,
        backoff: float = 0.5,
        max_chars: int = 16_000,
    ) -> None:
        if not model:
            raise ConfigError("openai embedder needs a model name: embedder = 'openai:<model>'")
        if batch_size < 1 or max_attempts < 1:
            raise ConfigError("embed_batch_size and max_attempts must be at least 1")
        url = _normalise_base_url(base_url) if base_url else "https://api.openai.com/v1"
        key = api_key or (None if base_url else os.environ.get("OPENAI_API_KEY"))
        if key is None and base_url is None:
            raise ConfigError(
                f"embedder 'openai:{model}' needs an API key: set CONTEXTOS_EMBED_API_KEY or "
                "OPENAI_API_KEY, or set embed_base_url to a local OpenAI-compatible server"
            )
        try:
            from openai import OpenAI
        except ImportError as exc:
            raise EmbeddingError("the openai package is missing: pip install openai") from exc
        self._client: OpenAI = OpenAI(
            api_key=key or "unused", base_url=url, timeout=timeout, max_retries=0
        )
        self._model = model
        self._url = url
        self._batch_size = batch_size
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_chars = max_chars
        self._dim: int | None = None

    @property
    def name(self) -> str:
        return f"openai:{self._model}@{self._url}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._request(["dimension probe"])
        assert self._dim is not None
        return self._dim

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` in requests of at most ``batch_size``; rows follow ``texts``' order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prepared = [text[: self._max_chars] or " " for text in texts]
        parts = [
            self._request(prepared[i : i + self._batch_size])
            for i in range(0, len(prepared), self._batch_size)
        ]
        return unit_rows(np.concatenate(parts, axis=0), source=self.name)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> OpenAIEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, batch: list[str]) -> NDArray[np.float32]:
        from openai import APIConnectionError, APIStatusError, APITimeoutError

        last = "no attempt made"
        for attempt in range(1, self._max_attempts + 1):
            delay = self._backoff * 2 ** (attempt - 1)
            try:
                raw = self._client.embeddings.with_raw_response.create(
                    model=self._model, input=batch, encoding_format="float"
                )
                return self._parse(raw.content, len(batch))
            except APIStatusError as exc:
                last = f"HTTP {exc.status_code}: {excerpt(exc.response.text)}"
                if exc.status_code not in _RETRY_STATUS and exc.status_code < 500:
                    raise EmbeddingServerError(
                        f"embeddings server {self._url} refused the request ({last})"
                    ) from exc
                delay = retry_after(exc.response.headers) or delay
            except APITimeoutError:
                last = f"no answer within {self._timeout:g} s"
            except APIConnectionError as exc:
                last = f"cannot connect: {exc.__cause__ or exc}"
            if attempt < self._max_attempts:
                time.sleep(min(delay, _MAX_DELAY_S))
        raise EmbeddingServerError(
            f"embeddings server {self._url} failed {self._max_attempts} times; last error: {last}"
        )

    def _parse(self, content: bytes, expected: int) -> NDArray[np.float32]:
        try:
            body = json.loads(content)
        except ValueError:
            raise self._malformed(f"the body is not JSON: {excerpt(content)}") from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise self._malformed(f"no 'data' list in {excerpt(content)}")
        if len(data) != expected:
            raise self._malformed(f"{len(data)} embeddings for {expected} inputs")
        rows: list[NDArray[np.float32] | None] = [None] * expected
        for item in data:
            index = item.get("index") if isinstance(item, dict) else None
            if type(index) is not int or not 0 <= index < expected or rows[index] is not None:
                raise self._malformed(f"missing, out-of-range or repeated 'index' in {item!r:.80}")
            rows[index] = self._vector(item.get("embedding"))
        dims = {len(row) for row in rows if row is not None}
        if len(dims) != 1:
            raise self._malformed(f"embeddings of different lengths {sorted(dims)}")
        dim = dims.pop()
        if self._dim is not None and dim != self._dim:
            raise self._malformed(f"dimension changed from {self._dim} to {dim}")
        self._dim = dim
        return np.stack([row for row in rows if row is not None])

    def _vector(self, value: object) -> NDArray[np.float32]:
        try:
            if isinstance(value, str):
                vec = np.frombuffer(base64.b64decode(value, validate=True), dtype="<f4")
            else:
                vec = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError, binascii.Error):
            raise self._malformed(f"an embedding is not a list of numbers: {value!r:.80}") from None
        if vec.ndim != 1 or vec.size == 0 or not np.isfinite(vec).all():
            raise self._malformed(f"an embedding is not a non-empty flat vector: {value!r:.80}")
        return vec.astype(np.float32)

    def _malformed(self, reason: str) -> EmbeddingServerError:
        return EmbeddingServerError(
            f"embeddings server {self._url} answered malformed data for model "
            f"{self._model!r}: {reason}"
        )
