"""One helper every embedder shares: turn a model's output into the protocol's row format.

Leaves out everything model-specific; it only casts, checks and L2-normalises.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from contextos.embed.protocol import Vectors
from contextos.errors import EmbeddingError

__all__ = ["unit_rows"]


def unit_rows(values: ArrayLike, *, source: str) -> Vectors:
    """Return ``values`` as a C-contiguous float32 matrix whose non-zero rows have unit L2 norm.

    All-zero rows (a text with no known token) stay zero rather than becoming NaN. A result that
    is not 2-D or holds NaN/inf raises ``EmbeddingError`` naming ``source``.
    """
    rows = np.array(values, dtype=np.float32, copy=True, order="C")
    if rows.ndim != 2:
        raise EmbeddingError(f"{source} returned an array of shape {rows.shape}, expected 2-D")
    if not np.isfinite(rows).all():
        raise EmbeddingError(f"{source} returned NaN or infinite values")
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    rows /= norms
    return rows
