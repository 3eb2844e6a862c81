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
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from contextos.embed._rows import unit_rows
from contextos.embed.protocol import Vectors
from contextos.embed.wordpiece import FastWordPiece
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

    When the model's tokenizer is plain BERT WordPiece and the model has no token weights or
    mapping (models distilled here), texts are tokenised by ``FastWordPiece`` and pooled as
    model2vec pools them: the same vectors, bit for bit, several times faster. Other models go
    through ``StaticModel.encode``.
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
        self._wordpiece = (
            FastWordPiece.for_tokenizer(model.tokenizer)
            if model.weights is None and model.token_mapping is None
            else None
        )

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
            if self._wordpiece is not None:
                raw = self._pooled(texts)
            else:
                raw = self._model.encode(
                    list(texts),
                    max_length=self._max_tokens,
                    normalize=False,
                    use_multiprocessing=False,
                    show_progress_bar=False,
                )
        return unit_rows(raw, source=self._name)

    def _pooled(self, texts: Sequence[str]) -> Vectors:
        """``StaticModel.encode(texts, max_length=max_tokens, normalize=False)`` with the
        tokenising done by ``FastWordPiece``: cut to ``max_tokens * median_token_length``
        characters, then to ``max_tokens`` ids, drop the unknown id, and average (``mean_rows``)."""
        assert self._wordpiece is not None
        model, limit = self._model, self._max_tokens
        chars = limit * model.median_token_length
        unk = model.unk_token_id
        rows: list[list[int]] = []
        for ids in self._wordpiece.ids([t[:chars] for t in texts]):
            if len(ids) > limit:
                ids = ids[:limit]
            if unk is not None and unk in ids:
                ids = [t for t in ids if t != unk]
            rows.append(ids)
        return mean_rows(model.embedding, rows)


def mean_rows(table: Vectors, rows: Sequence[Sequence[int]]) -> Vectors:
    """Per id list, the mean of its rows of ``table`` (zeros for an empty list), bit for bit what
    model2vec computes (``table[ids].mean(axis=0)``: float32 sums from the first row on, then
    one division in float64), without gathering every token's vector at once.

    Lists are ordered longest first; step ``j`` adds row ``j`` of every list longer than ``j``,
    so each step gathers one small block and the sums stay in cache."""
    n, dim = len(rows), table.shape[1]
    out = np.zeros((n, dim), dtype=np.float32)
    lengths = np.fromiter(map(len, rows), dtype=np.intp, count=n)
    if n == 0 or not lengths.any():
        return out
    order = np.argsort(-lengths, kind="stable")
    ranked = lengths[order]
    width = int(ranked[0])
    ids = np.zeros((n, width), dtype=np.intp)
    ids[np.arange(width) < ranked[:, None]] = np.fromiter(
        chain.from_iterable(rows[i] for i in order), dtype=np.intp, count=int(ranked.sum())
    )
    live = np.count_nonzero(ranked[None, :] > np.arange(width)[:, None], axis=1)
    sums = table[ids[: live[0], 0]]
    for j in range(1, width):
        k = int(live[j])
        sums[:k] += table[ids[:k, j]]
    used = int(live[0])
    out[order[:used]] = np.true_divide(sums, ranked[:used, None], casting="unsafe").astype(
        np.float32
    )
    return out
