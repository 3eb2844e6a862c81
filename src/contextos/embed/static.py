"""A model2vec static embedder: one vector per token, mean-pooled. No transformer runs at query or
index time, so it embeds over 1,000 forty-line code chunks per second on two CPU cores.

Implements the ``Embedder`` protocol over a model2vec model stored in a local directory. Leaves
out where the directory comes from (the hub, a local build: ``resolve.py``, ``distill.py``) and
caching (``cache.py``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from contextos.embed._rows import unit_rows
from contextos.embed.protocol import Vectors
from contextos.errors import EmbeddingError

if TYPE_CHECKING:
    from model2vec import StaticModel

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "StaticEmbedder",
    "file_sha256",
    "is_model2vec_dir",
    "weights_file",
]

DEFAULT_MAX_TOKENS = 512
"""Tokens kept per text. A mean of 512 token vectors is already stable, and tokenising is the
cost: longer chunks are cut (model2vec first cuts characters, then tokens)."""

_WEIGHT_FILES = ("model.safetensors", "0_StaticEmbedding/model.safetensors")


def weights_file(path: Path) -> Path | None:
    """The safetensors file of a model2vec directory (either layout), or None if there is none."""
    for rel in _WEIGHT_FILES:
        candidate = path / rel
        if candidate.is_file():
            return candidate
    return None


def is_model2vec_dir(path: Path) -> bool:
    """True if ``path`` looks like a complete model2vec model (weights and tokenizer present)."""
    weights = weights_file(path)
    return weights is not None and (weights.parent / "tokenizer.json").is_file()


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class StaticEmbedder:
    """``Embedder`` over a model2vec ``StaticModel``.

    ``name`` is ``"model2vec:<dir name>-<12 hex of the weights' sha256>"``, so two directories
    holding the same weights share cache entries and a rebuilt model with different weights does
    not. Calls are serialised with a lock: model2vec mutates its tokenizer while encoding.
    A float16 vector table is widened to float32 once (a few tens of MB): numpy averages float16
    in software, and pooling then costs more than tokenising.
    """

    def __init__(
        self, model: StaticModel, *, name: str, max_tokens: int = DEFAULT_MAX_TOKENS
    ) -> None:
        if model.embedding.dtype == np.float16:
            model.embedding = model.embedding.astype(np.float32)
        self._model = model
        self._name = name
        self._max_tokens = max_tokens
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path, *, max_tokens: int = DEFAULT_MAX_TOKENS) -> StaticEmbedder:
        """Load the model2vec model in directory ``path``; ``EmbeddingError`` if it is unusable."""
        weights = weights_file(path)
        if weights is None or not is_model2vec_dir(path):
            raise EmbeddingError(
                f"{path} is not a model2vec model directory (no model.safetensors/tokenizer.json)"
            )
        try:
            from model2vec import StaticModel

            model = StaticModel.from_pretrained(path, force_download=False)
            model_id = f"{path.name}-{file_sha256(weights)[:12]}"
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise EmbeddingError(
                f"cannot load the model2vec model in {path}: {exc}; delete that directory to "
                "rebuild or re-download it"
            ) from exc
        return cls(model, name=f"model2vec:{model_id}", max_tokens=max_tokens)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts``; rows of texts without any known token are zero."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            raw = self._model.encode(
                list(texts),
                max_length=self._max_tokens,
                normalize=False,
                use_multiprocessing=False,
                show_progress_bar=False,
            )
        return unit_rows(raw, source=self._name)
