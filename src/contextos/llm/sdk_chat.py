"""``SdkChat``: what the OpenAI and Anthropic adapters share, on their official SDKs.

The SDK carries transport and auth; this module owns the policy around it: a bounded number of
retries on 408/409/425/429/5xx, timeouts and lost connections with exponential backoff (a
server's ``Retry-After`` is honoured up to a cap), SDK errors translated into ``ModelError`` at
this one seam (an auth failure names the env var to set), endpoint and key resolution, and a
per-instance ``log`` of every ``complete`` and ``chat`` call. An adapter only builds one request
and reads one reply (``_request`` for ``complete``, ``_chat_request`` for ``chat``), sending it
through ``_send``. Leaves out streaming and async.
"""

from __future__ import annotations

import importlib
import ipaddress
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel

from contextos._http import excerpt, retry_after
from contextos.errors import ConfigError, ModelError
from contextos.llm.protocol import ChatMessage, Completion, Message, ToolSpec, Turn, Usage
from contextos.llm.structured import RawCall, complete_structured

__all__ = [
    "CallRecord",
    "RetryPolicy",
    "SdkChat",
    "endpoint",
    "import_sdk",
    "is_local_url",
    "schema_name",
]

T = TypeVar("T")
_RETRY_STATUS = frozenset({408, 409, 425, 429})


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One ``complete`` or ``chat`` call as an adapter saw it. ``attempts`` counts model
    replies received (re-asks included); ``usage`` sums over them; ``error`` is set when the
    call raised."""

    model: str
    usage: Usage
    attempts: int
    error: str | None = None


def schema_name(schema: type[BaseModel]) -> str:
    """The name providers see: a ``__schema_name__`` ClassVar if defined, else the class
    name, reduced to the ``[A-Za-z0-9_-]{1,64}`` both OpenAI and Anthropic accept."""
    raw = getattr(schema, "__schema_name__", None) or schema.__name__
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(raw))[:64] or "reply"


def is_local_url(url: str) -> bool:
    """True for loopback and private-network hosts, where servers usually need no API key."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_unspecified


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry transient failures: ``max_retries`` extra attempts, waiting ``backoff_s * 2**n``
    or the server's ``Retry-After``, never more than ``max_wait_s`` at a time."""

    max_retries: int = 3
    backoff_s: float = 0.5
    max_wait_s: float = 30.0

    def call(self, send: Callable[[], T], sdk: ModuleType, *, target: str, key_env: str) -> T:
        """Run ``send`` (an SDK request); ``sdk`` is the ``openai`` or ``anthropic`` module,
        whose exception classes share names and shapes. Raises ``ModelError``."""
        attempts = self.max_retries + 1
        last = "no attempt made"
        for attempt in range(1, attempts + 1):
            wait = self.backoff_s * 2 ** (attempt - 1)
            try:
                return send()
            except sdk.APIStatusError as exc:
                status = int(exc.status_code)
                last = f"HTTP {status}: {excerpt(exc.response.text)}"
                if status not in _RETRY_STATUS and status < 500:
                    raise _refused(status, last, target, key_env) from exc
                after = retry_after(exc.response.headers)
                wait = wait if after is None else after
            except sdk.APITimeoutError:
                last = "no answer before the timeout"
            except sdk.APIConnectionError as exc:
                last = f"cannot connect: {exc.__cause__ or exc}"
            except sdk.APIError as exc:
                raise ModelError(f"{target} answered unusable data: {exc}") from exc
            if attempt < attempts:
                time.sleep(max(0.0, min(wait, self.max_wait_s)))
        raise ModelError(f"{target} failed {attempts} times; last error: {last}")


_REFUSALS = {
    401: "rejected the API key ({detail}): set {key_env}",
    403: "denied access ({detail}): check the key in {key_env}",
    404: "does not know this model or endpoint ({detail}): check CONTEXTOS_MODEL and "
    "CONTEXTOS_MODEL_BASE_URL",
}


def _refused(status: int, detail: str, target: str, key_env: str) -> ModelError:
    what = _REFUSALS.get(status, "refused the request ({detail})")
    return ModelError(f"{target} " + what.format(detail=detail, key_env=key_env))


def logged_complete(
    raw_call: RawCall,
    messages: list[Message],
    schema: type[BaseModel] | None,
    *,
    model: str,
    max_reasks: int,
    log: list[CallRecord],
) -> Completion:
    """Run one ``complete`` (plain or structured) and append its ``CallRecord`` to ``log``,
    also when it raises."""
    usages: list[Usage] = []

    def counted(convo: list[Message]) -> tuple[str, Usage]:
        text, usage = raw_call(convo)
        usages.append(usage)
        return text, usage

    try:
        if schema is None:
            text, usage = counted(messages)
            result = Completion(text=text, usage=usage, model=model)
        else:
            result = complete_structured(
                counted, messages, schema, model=model, max_reasks=max_reasks
            )
    except ModelError as exc:
        total = Usage(
            sum(u.input_tokens for u in usages),
            sum(u.output_tokens for u in usages),
            sum(u.latency_ms for u in usages),
        )
        log.append(CallRecord(model, total, len(usages), error=str(exc)))
        raise
    log.append(CallRecord(model, result.usage, result.attempts))
    return result


class SdkChat:
    """What the SDK adapters share: the endpoint and key, the retry policy, the re-ask bound,
    the call ``log``, ``complete`` through ``logged_complete``, ``chat``, and closing the
    client. A subclass sends one request in ``_request`` (and ``_chat_request``) and calls
    ``_send`` to run it under the retry policy."""

    _client: Any

    def __init__(
        self,
        model: str,
        name: str,
        url: str,
        sdk: ModuleType,
        *,
        key_env: str,
        retry: RetryPolicy,
        max_reasks: int,
    ) -> None:
        self._model, self._name, self._url, self._sdk = model, name, url, sdk
        self._key_env = key_env
        self._retry = retry
        self._max_reasks = max_reasks
        self.log: list[CallRecord] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def base_url(self) -> str:
        return self._url

    def complete(
        self,
        messages: list[Message],
        *,
        schema: type[BaseModel] | None = None,
        temperature: float = 0.0,
    ) -> Completion:
        def raw(convo: list[Message]) -> tuple[str, Usage]:
            return self._request(convo, schema, temperature)

        return logged_complete(
            raw, messages, schema, model=self._name, max_reasks=self._max_reasks, log=self.log
        )

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec],
        temperature: float = 0.0,
    ) -> Turn:
        """One turn of a tool-using conversation (see ``ToolLLM``), logged like ``complete``."""
        try:
            turn = self._chat_request(messages, tools, temperature)
        except ModelError as exc:
            self.log.append(CallRecord(self._name, Usage(), 0, error=str(exc)))
            raise
        self.log.append(CallRecord(self._name, turn.usage, 1))
        return turn

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(
        self, convo: list[Message], schema: type[BaseModel] | None, temperature: float
    ) -> tuple[str, Usage]:
        raise NotImplementedError

    def _chat_request(
        self, messages: list[ChatMessage], tools: list[ToolSpec], temperature: float
    ) -> Turn:
        raise NotImplementedError

    def _send(self, create: Callable[[], T]) -> tuple[T, float]:
        """``create()`` (one SDK request) under the retry policy, and its latency in ms."""
        started = time.perf_counter()
        response = self._retry.call(
            create, self._sdk, target=f"{self._name} at {self._url}", key_env=self._key_env
        )
        return response, (time.perf_counter() - started) * 1000


def endpoint(
    label: str,
    base_url: str | None,
    api_key: str | None,
    *,
    url_env: str,
    key_env: str,
    default_url: str,
    key_hint: str,
) -> tuple[str, str]:
    """The URL (argument, else ``url_env``, else ``default_url``) and the API key (argument,
    else ``key_env``; a placeholder for a local server). No key for a remote URL is a
    ``ConfigError`` that names ``key_env`` and ``key_hint`` (``{url}`` in it is the URL)."""
    url = base_url or os.environ.get(url_env) or default_url
    key = api_key or os.environ.get(key_env)
    if not key and not is_local_url(url):
        hint = key_hint.format(url=url)
        raise ConfigError(f"{label} needs an API key: set {key_env} ({hint})")
    return url, key or "not-needed"


def import_sdk(package: str) -> ModuleType:
    """The official SDK module ``package``, or a ``ModelError`` saying how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError as exc:
        raise ModelError(f"the {package} package is missing: pip install {package}") from exc
