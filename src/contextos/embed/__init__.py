"""Embedding models behind one small protocol (see ``protocol.py``).

``resolve_embedder(settings)`` picks the model (``resolve.py``); ``CachedEmbedder`` makes
re-embedding identical text free (``cache.py``). Importing this package loads no model library:
model2vec, sentence-transformers, torch and openai are imported when an embedder is created.
"""

from contextos.embed.cache import CachedEmbedder
from contextos.embed.distill import Progress, build_static_model
from contextos.embed.openai_server import OpenAIEmbedder
from contextos.embed.protocol import Embedder, Vectors
from contextos.embed.resolve import HUB_MODEL, LOCAL_MODEL, resolve_embedder
from contextos.embed.sentence import SentenceTransformerEmbedder
from contextos.embed.static import StaticEmbedder

__all__ = [
    "HUB_MODEL",
    "LOCAL_MODEL",
    "CachedEmbedder",
    "Embedder",
    "OpenAIEmbedder",
    "Progress",
    "SentenceTransformerEmbedder",
    "StaticEmbedder",
    "Vectors",
    "build_static_model",
    "resolve_embedder",
]
