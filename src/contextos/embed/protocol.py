"""The ``Embedder`` protocol: texts in, L2-normalised float32 rows out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["Embedder", "Vectors"]

Vectors = NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors.

    Contract: ``embed_batch(texts)`` returns an array of shape ``(len(texts), dim)``, dtype
    float32, each row L2-normalised (so a dot product is cosine similarity). ``name`` is a stable
    identifier of the model *and* its weights, used as the key of the embedding cache; two
    embedders with the same name must produce the same vectors.
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_batch(self, texts: Sequence[str]) -> Vectors: ...
