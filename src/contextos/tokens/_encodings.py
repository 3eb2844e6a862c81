"""The two OpenAI BPE encodings contextos counts exactly, loaded offline from package data.

Each encoding is the triple tiktoken needs: the split regex (``pat_str``), the special tokens,
and the mergeable ranks. The regexes and special tokens are those of
``tiktoken_ext/openai_public.py`` (tiktoken 0.14.0), character for character; a test checks them
against tiktoken's own definitions. The ranks ship in ``data/`` because tiktoken's default
download from openaipublic.blob.core.windows.net is not reachable everywhere contextos runs.

Provenance of ``data/*.tiktoken.gz`` (OpenAI's public BPE ranks, MIT-licensed with tiktoken):

- Source: the npm package ``tiktoken@1.0.22`` (MIT), files ``encoders/o200k_base.json`` and
  ``encoders/cl100k_base.json``. Their ``bpe_ranks`` field is js-tiktoken's compact form: one
  line per run, ``<prefix> <first rank> <base64 token> <base64 token> ...``.
- Conversion: expanded to the standard ``.tiktoken`` form (``<base64 token> <rank>\\n`` in rank
  order, the form ``tiktoken.load.load_tiktoken_bpe`` reads), then ``gzip -9`` with mtime 0.
- sha256 of the uncompressed ``.tiktoken`` text, identical to the ``expected_hash`` tiktoken's
  loader checks for the official files:

  - o200k_base  ``446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d``
    (199,998 ranks; 3,613,922 bytes; 1,692,528 gzipped,
    gz sha256 ``d6e1076513d1ebd773d00f4595efb2751aa27573d5e42adf4c9d7b603d2792db``)
  - cl100k_base ``223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7``
    (100,256 ranks; 1,681,126 bytes; 775,396 gzipped,
    gz sha256 ``cf6144481f5670eaeccd8e3664165323fd3bb99d40ceb850789ea6e7b7c63af3``)

The loader re-checks the uncompressed sha256 before use, so a damaged install fails loudly
instead of counting wrong. Nothing is read at import: ``load_encoding`` reads, verifies and
builds an encoding on first use and caches it for the life of the process.

Left out: r50k/p50k (no current model uses them) and o200k_harmony (gpt-oss; its ordinary text
encodes exactly as o200k_base, it only adds special tokens).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING

from contextos.errors import ContextosError, UserInputError

if TYPE_CHECKING:
    import tiktoken

__all__ = ["ENCODINGS", "EncodingSpec", "load_encoding", "load_ranks"]


@dataclass(frozen=True)
class EncodingSpec:
    """Everything needed to build one encoding, minus the ranks themselves."""

    name: str
    """tiktoken's name for the encoding."""
    pat_str: str
    """The regex that splits text into pieces before BPE; no token crosses a piece boundary."""
    special_tokens: Mapping[str, int]
    """Control tokens; contextos never emits them for text (see ``ExactCounter``)."""
    data_file: str
    """Gzipped ``.tiktoken`` file under ``contextos/tokens/data/``."""
    sha256: str
    """sha256 of the uncompressed ranks, equal to tiktoken's ``expected_hash``."""


_O200K_PAT_STR = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

_CL100K_PAT_STR = "|".join(
    [
        r"""'(?i:[sdmt]|ll|ve|re)""",
        r"""[^\r\n\p{L}\p{N}]?+\p{L}++""",
        r"""\p{N}{1,3}+""",
        r""" ?[^\s\p{L}\p{N}]++[\r\n]*+""",
        r"""\s++$""",
        r"""\s*[\r\n]""",
        r"""\s+(?!\S)""",
        r"""\s""",
    ]
)

ENCODINGS: Mapping[str, EncodingSpec] = MappingProxyType(
    {
        "o200k_base": EncodingSpec(
            name="o200k_base",
            pat_str=_O200K_PAT_STR,
            special_tokens=MappingProxyType({"<|endoftext|>": 199999, "<|endofprompt|>": 200018}),
            data_file="o200k_base.tiktoken.gz",
            sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        ),
        "cl100k_base": EncodingSpec(
            name="cl100k_base",
            pat_str=_CL100K_PAT_STR,
            special_tokens=MappingProxyType(
                {
                    "<|endoftext|>": 100257,
                    "<|fim_prefix|>": 100258,
                    "<|fim_middle|>": 100259,
                    "<|fim_suffix|>": 100260,
                    "<|endofprompt|>": 100276,
                }
            ),
            data_file="cl100k_base.tiktoken.gz",
            sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        ),
    }
)
"""The encodings contextos counts exactly, by name."""

_lock = threading.Lock()
_loaded: dict[str, tiktoken.Encoding] = {}


def _spec(name: str) -> EncodingSpec:
    try:
        return ENCODINGS[name]
    except KeyError:
        known = ", ".join(sorted(ENCODINGS))
        raise UserInputError(f"unknown encoding {name!r}: use one of {known}") from None


def load_ranks(name: str) -> dict[bytes, int]:
    """Read, verify and parse the bundled ranks of encoding ``name`` (not cached)."""
    spec = _spec(name)
    packed = (resources.files("contextos.tokens") / "data" / spec.data_file).read_bytes()
    raw = gzip.decompress(packed)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec.sha256:
        raise ContextosError(
            f"bundled BPE ranks for {name} are damaged (sha256 {digest}, expected "
            f"{spec.sha256}): reinstall contextos"
        )
    ranks: dict[bytes, int] = {}
    for line in raw.splitlines():
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    return ranks


def load_encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken ``Encoding`` for ``name``, built from bundled ranks on first use, then cached.

    No network: the ranks come from package data, never from tiktoken's download cache.
    """
    encoding = _loaded.get(name)
    if encoding is not None:
        return encoding
    with _lock:
        if name not in _loaded:
            import tiktoken

            spec = _spec(name)
            _loaded[name] = tiktoken.Encoding(
                name=spec.name,
                pat_str=spec.pat_str,
                mergeable_ranks=load_ranks(name),
                special_tokens=dict(spec.special_tokens),
            )
        return _loaded[name]
