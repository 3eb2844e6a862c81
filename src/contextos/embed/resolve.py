"""Turn the ``embedder`` setting into an ``Embedder`` (or none, for lexical-only search).

``auto`` tries, in order, and never raises for an unavailable model:

1. a model already in ``models_dir()``: the hub model saved there earlier, else the local build;
2. the published static code model ``minishlab/potion-code-16M``: from the Hugging Face cache
   (even offline), else downloaded if the hub answers within 2 s; not downloaded when the
   ``offline`` setting (``CONTEXTOS_OFFLINE``) or ``HF_HUB_OFFLINE`` is set. It is then copied
   into ``models_dir()``;
3. a static model distilled once on this machine from all-MiniLM-L6-v2 (``distill.py``):
   ``build="wait"`` builds it (or joins the build that runs) and waits; ``"background"`` starts
   the build (unless the last one failed) and returns ``(None, [])`` at once, so nothing waits
   for a model (``model_pending`` and ``model_pending_note`` then say so); ``"no"`` only looks
   for a model already on disk (step 1);
4. nothing: ``(None, [warning])``, and search is lexical-only.

Explicit settings (``model2vec:<name-or-path>``, ``sentence-transformers:<name-or-path>``,
``openai:<model>``) load exactly what was asked for and raise ``EmbeddingError`` if they cannot;
``none`` is lexical-only without a warning; anything else is a ``ConfigError``.
``open_embedder`` is what the rest of contextos calls: the resolved model, behind the persistent
embedding cache (``CachedEmbedder``) unless it is a static model, which embeds a text faster
than the cache can store its vector.
"""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from contextos.embed.distill import (
    Progress,
    build_running,
    build_static_model,
    build_status,
    start_build,
)
from contextos.embed.protocol import Embedder
from contextos.embed.static import StaticEmbedder, is_model2vec_dir
from contextos.errors import ConfigError, EmbeddingError
from contextos.home import models_dir
from contextos.settings import Settings

__all__ = [
    "HUB_MODEL",
    "LOCAL_MODEL",
    "BuildMode",
    "Builder",
    "hub_unreachable_reason",
    "model_on_disk",
    "model_pending",
    "model_pending_note",
    "open_embedder",
    "resolve_embedder",
]

HUB_MODEL = "minishlab/potion-code-16M"
"""Published model2vec model trained for code retrieval, used by ``auto`` when reachable."""

LOCAL_MODEL = "all-MiniLM-L6-v2-static256"
"""Directory under ``models_dir()`` of the model distilled locally from all-MiniLM-L6-v2."""

HUB_TIMEOUT_S = 2.0

BuildMode = Literal["wait", "background", "no"]
"""What ``auto`` does when the local model has to be built: build and wait, start it in the
background and go on lexically, or only use a model already on disk."""

Builder = Callable[[Path, Progress | None], None]
"""Builds the local model into a directory (``distill.build_static_model``); raises
``EmbeddingError`` when it cannot."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_SCHEMES = ("model2vec", "sentence-transformers", "openai")
_LEXICAL_ONLY = (
    "no embedding model available: search is lexical-only; install contextos[distill] "
    "(pip install 'contextos[distill]') to build one locally, or set embedder = "
    "'openai:<model>' with embed_base_url pointing at an OpenAI-compatible server"
)


def _default_builder(dest: Path, progress: Progress | None) -> None:
    build_static_model(dest, progress=progress)


def resolve_embedder(
    settings: Settings,
    *,
    progress: Progress | None = None,
    build: BuildMode = "wait",
    _builder: Builder | None = None,
) -> tuple[Embedder | None, list[str]]:
    """Resolve ``settings.embedder``; return the embedder (None = lexical-only) and warnings.

    ``progress`` receives (stage, done, total) while a model is downloaded or built. ``build``
    applies to ``auto`` only (see the module docstring); ``model_pending`` then tells whether a
    None means "not yet". ``_builder`` replaces the local distillation step of ``build="wait"``
    (tests use it to simulate its absence).
    """
    spec = settings.embedder.strip()
    if spec == "none":
        return None, []
    if spec == "auto":
        return _resolve_auto(settings.offline, progress, build, _builder or _default_builder)
    scheme, sep, arg = spec.partition(":")
    if not sep or not arg or scheme not in _SCHEMES:
        raise ConfigError(
            f"unknown embedder {spec!r}: use 'auto', 'none', 'model2vec:<name-or-path>', "
            "'sentence-transformers:<name-or-path>' or 'openai:<model>'"
        )
    if scheme == "model2vec":
        return StaticEmbedder.load(_model2vec_dir(arg, progress, settings.offline)), []
    if scheme == "sentence-transformers":
        from contextos.embed.sentence import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(arg, batch_size=min(settings.embed_batch_size, 64)), []
    from contextos.embed.openai_server import OpenAIEmbedder

    embedder = OpenAIEmbedder(
        arg,
        base_url=settings.embed_base_url,
        api_key=settings.embed_api_key,
        batch_size=settings.embed_batch_size,
    )
    return embedder, []


def open_embedder(
    settings: Settings, *, progress: Progress | None = None, build: BuildMode = "wait"
) -> tuple[Embedder | None, list[str]]:
    """The one way contextos builds its embedder: ``resolve_embedder`` behind the embedding
    cache, so every caller (workspaces, the memory commands) shares vectors of equal text.

    A ``StaticEmbedder`` is returned bare: it tokenises and averages a chunk in about a tenth of
    a millisecond, less than hashing, looking up and storing its vector in the cache costs (on
    a fresh index the cache was a fifth of the embedding time), and its vectors are the same
    either way. Models that run a network or a transformer are cached."""
    from contextos.embed.cache import CachedEmbedder

    inner, warnings = resolve_embedder(settings, progress=progress, build=build)
    if inner is None or isinstance(inner, StaticEmbedder):
        return inner, warnings
    return CachedEmbedder(inner), warnings


def model_on_disk() -> bool:
    """True when ``auto`` finds a model in ``models_dir()`` without building or fetching."""
    return any(is_model2vec_dir(models_dir() / d) for d in (_slug(HUB_MODEL), LOCAL_MODEL))


def model_pending(settings: Settings) -> bool:
    """True when ``auto`` would find no model on disk but the local one is being built."""
    if settings.embedder.strip() != "auto" or model_on_disk():
        return False
    return build_running(models_dir() / LOCAL_MODEL)


def model_pending_note() -> str:
    """What searches say while the local model builds: they are lexical, and how far it got."""
    status = build_status(models_dir() / LOCAL_MODEL).describe()
    return (
        f"dense ranking is still being prepared (embedding model build: {status}); results are "
        "lexical until it is ready"
    )


def _resolve_auto(
    offline: bool, progress: Progress | None, build: BuildMode, builder: Builder
) -> tuple[Embedder | None, list[str]]:
    warnings: list[str] = []
    for dirname in (_slug(HUB_MODEL), LOCAL_MODEL):
        cached = models_dir() / dirname
        if is_model2vec_dir(cached):
            try:
                return StaticEmbedder.load(cached), warnings
            except EmbeddingError as exc:
                warnings.append(str(exc))
    if build == "no":
        return None, warnings
    if _offline_reason(offline) is None or _in_hf_cache(HUB_MODEL):
        try:
            return StaticEmbedder.load(_fetch_hub_model(HUB_MODEL, progress, offline)), warnings
        except EmbeddingError as exc:
            warnings.append(str(exc))
    local = models_dir() / LOCAL_MODEL
    if build == "background":
        last = build_status(local)
        try:
            if last.error and not last.running:
                raise EmbeddingError(
                    f"the last build of the local embedding model failed ({last.error}); "
                    "run `contextos index` to try again"
                )
            start_build(local)
            return None, warnings
        except EmbeddingError as exc:
            warnings.append(str(exc))
            warnings.append(_LEXICAL_ONLY)
            return None, warnings
    try:
        if progress is not None:
            progress("build embedding model", 0, 1)
        builder(local, progress)
        if progress is not None:
            progress("build embedding model", 1, 1)
        return StaticEmbedder.load(local), warnings
    except EmbeddingError as exc:
        warnings.append(str(exc))
    warnings.append(_LEXICAL_ONLY)
    return None, warnings


def _model2vec_dir(arg: str, progress: Progress | None, offline: bool) -> Path:
    """A local directory for ``model2vec:<arg>``: ``arg`` itself if it is a path, else the hub
    model copied into ``models_dir()`` (fetched once)."""
    path = Path(arg).expanduser()
    if path.exists() or arg.startswith((".", "/", "~")) or arg.count("/") != 1:
        if not path.is_dir():
            raise EmbeddingError(f"model2vec model directory {path} does not exist")
        return path
    cached = models_dir() / _slug(arg)
    return cached if is_model2vec_dir(cached) else _fetch_hub_model(arg, progress, offline)


def _slug(hub_name: str) -> str:
    return hub_name.replace("/", "--")


def _offline_reason(offline: bool) -> str | None:
    """Why not to ask the hub: the ``offline`` setting, or the Hugging Face libraries' own
    offline variables (which those libraries read themselves; we only honour them early)."""
    if offline:
        return "CONTEXTOS_OFFLINE is set"
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return f"{var} is set"
    return None


def _in_hf_cache(hub_name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    found = try_to_load_from_cache(hub_name, "model.safetensors")
    return isinstance(found, str)


def hub_unreachable_reason(hub_name: str, timeout: float = HUB_TIMEOUT_S) -> str | None:
    """None if the hub answers for ``hub_name`` within ``timeout`` seconds, else why not.

    The probe runs in a daemon thread so a hanging DNS lookup cannot hold the caller longer
    than ``timeout``. Honours ``HF_ENDPOINT`` and the usual proxy variables.
    """
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    request = urllib.request.Request(f"{endpoint}/api/models/{hub_name}", method="HEAD")
    silent = f"no answer from {endpoint} within {timeout:g} s"
    outcome: list[str | None] = []

    def probe() -> None:
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                outcome.append(None)
        except urllib.error.HTTPError as exc:
            outcome.append(f"{endpoint} answered HTTP {exc.code}")
        except urllib.error.URLError as exc:
            timed_out = isinstance(exc.reason, TimeoutError)
            outcome.append(silent if timed_out else f"cannot reach {endpoint}: {exc.reason}")
        except TimeoutError:
            outcome.append(silent)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            outcome.append(f"cannot reach {endpoint}: {exc}")

    worker = threading.Thread(target=probe, name="contextos-hub-probe", daemon=True)
    worker.start()
    worker.join(timeout + 0.25)
    return outcome[0] if outcome else silent


def _fetch_hub_model(hub_name: str, progress: Progress | None, offline: bool) -> Path:
    """Load ``hub_name`` from the HF cache or the hub and save it atomically under
    ``models_dir()``; return that directory. ``EmbeddingError`` when offline or unreachable."""
    dest = models_dir() / _slug(hub_name)
    if is_model2vec_dir(dest):
        return dest
    if not _in_hf_cache(hub_name):
        reason = _offline_reason(offline) or hub_unreachable_reason(hub_name)
        if reason is not None:
            raise EmbeddingError(f"not fetching {hub_name} from the Hugging Face hub: {reason}")
    stage = f"download {hub_name}"
    if progress is not None:
        progress(stage, 0, 1)
    scratch = Path(tempfile.mkdtemp(prefix=f".{dest.name}.fetching-", dir=dest.parent))
    try:
        from model2vec import StaticModel

        model = StaticModel.from_pretrained(hub_name, force_download=False)
        model.save_pretrained(scratch / "model")
        try:
            (scratch / "model").rename(dest)
        except OSError:
            if not is_model2vec_dir(dest):
                raise
    # The hub client raises its own HTTP, OS and value errors; all mean "could not fetch".
    except Exception as exc:
        raise EmbeddingError(f"cannot fetch {hub_name} from the Hugging Face hub: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if progress is not None:
        progress(stage, 1, 1)
    return dest
