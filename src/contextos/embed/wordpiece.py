"""Token ids of a BERT WordPiece tokenizer, computed in Python: the same ids, several times faster.

Tokenising is most of what a static embedder costs: Hugging Face ``tokenizers`` builds a full
``Encoding`` (offsets, masks, overflow) per text, about 0.5 µs per character. Code is almost all
ASCII, and for ASCII text the BERT pipeline (``BertNormalizer`` with clean-text and lowercasing,
``BertPreTokenizer``, greedy longest-match ``WordPiece``) reduces to: drop control characters,
lowercase, split into runs of letters and digits and single punctuation characters, and look each
word up; words repeat, so their pieces are memoised.

``FastWordPiece.for_tokenizer`` accepts only that exact pipeline (checked in the tokenizer's own
JSON) and returns None for anything else. Texts it cannot answer exactly (non-ASCII text, whose
normalisation needs Unicode tables, or text holding an added token such as ``[UNK]``, which the
reference matches before normalising) go to the reference tokenizer, so every text gets the ids
the reference gives it. Left out: offsets, special tokens, pairs, padding; truncation is the
caller's (cut the id list).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = ["FastWordPiece"]

_ASCII_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127])
"""ASCII characters ``BertNormalizer(clean_text=True)`` deletes (Unicode category Cc, except tab,
newline and carriage return, which become spaces)."""

_WORDS = re.compile(r"[0-9a-z]+|[^0-9a-z\s]")
"""After cleaning and lowercasing an ASCII text, ``BertPreTokenizer``'s split: whitespace
separates, and every other non-alphanumeric ASCII character is punctuation, isolated."""

_MEMO_WORDS = 200_000
"""Words whose pieces are remembered; past that the memo starts over (bounded memory)."""

_BERT_NORMALIZER = {
    "type": "BertNormalizer",
    "clean_text": True,
    "handle_chinese_chars": True,
    "strip_accents": None,
    "lowercase": True,
}


class _Memo(dict[str, list[int]]):
    """Pieces of the words seen so far; a missing word is split once (``compute``)."""

    def __init__(self, compute: Callable[[str], list[int]]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, word: str) -> list[int]:
        pieces = self[word] = self._compute(word)
        return pieces


class FastWordPiece:
    """Ids of texts under one BERT WordPiece tokenizer; see the module docstring."""

    def __init__(
        self,
        reference: Tokenizer,
        vocab: dict[str, int],
        *,
        unk_id: int,
        prefix: str,
        max_word_chars: int,
        added: Sequence[str],
    ) -> None:
        self._reference = reference
        self._vocab = vocab
        self._longest = max(map(len, vocab), default=0)
        self._unk = [unk_id]
        self._prefix = prefix
        self._max_word_chars = max_word_chars
        self._added = [a.lower() for a in added]
        self._pieces = _Memo(self._word_ids)

    @classmethod
    def for_tokenizer(cls, tokenizer: Tokenizer) -> FastWordPiece | None:
        """A fast tokenizer equal to ``tokenizer`` without truncation, or None if its pipeline
        is not plain BERT WordPiece (lowercasing ``BertNormalizer``, ``BertPreTokenizer``,
        ``WordPiece``, no padding). Texts it hands over go to a copy of ``tokenizer``, so the
        caller's tokenizer settings are never touched."""
        from tokenizers import Tokenizer

        padding = tokenizer.padding
        if padding is not None and padding.get("length") != 0:
            return None
        spec: dict[str, Any] = json.loads(tokenizer.to_str())
        model = spec.get("model") or {}
        normalizer = spec.get("normalizer") or {}
        if (
            model.get("type") != "WordPiece"
            or {k: normalizer.get(k) for k in _BERT_NORMALIZER} != _BERT_NORMALIZER
            or (spec.get("pre_tokenizer") or {}).get("type") != "BertPreTokenizer"
        ):
            return None
        vocab: dict[str, int] = model["vocab"]
        unk = model.get("unk_token")
        if unk not in vocab:
            return None
        added = [t["content"] for t in spec.get("added_tokens") or []]
        reference = Tokenizer.from_str(tokenizer.to_str())
        reference.no_truncation()
        return cls(
            reference,
            vocab,
            unk_id=vocab[unk],
            prefix=model.get("continuing_subword_prefix") or "",
            max_word_chars=int(model.get("max_input_chars_per_word") or 100),
            added=added,
        )

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The reference's ``encode(text, add_special_tokens=False).ids`` of every text, not
        truncated."""
        out: list[list[int] | None] = [self._ascii_ids(t) for t in texts]
        rest = [i for i, ids in enumerate(out) if ids is None]
        if rest:
            encodings = self._reference.encode_batch_fast(
                [texts[i] for i in rest], add_special_tokens=False
            )
            for i, encoding in zip(rest, encodings, strict=True):
                out[i] = list(encoding.ids)
        return [ids if ids is not None else [] for ids in out]

    def _ascii_ids(self, text: str) -> list[int] | None:
        if not text.isascii():
            return None
        lowered = text.translate(_ASCII_CONTROL).lower()
        if any(a in lowered for a in self._added):
            return None
        if len(self._pieces) >= _MEMO_WORDS:
            self._pieces.clear()
        return list(chain.from_iterable(map(self._pieces.__getitem__, _WORDS.findall(lowered))))

    def _word_ids(self, word: str) -> list[int]:
        """Greedy longest-match-first WordPiece of one word; the unknown id if any part fails."""
        if len(word) > self._max_word_chars:
            return self._unk
        vocab, out, start = self._vocab, [], 0
        while start < len(word):
            end = min(len(word), start + self._longest)
            while end > start:
                piece = word[start:end] if start == 0 else self._prefix + word[start:end]
                if piece in vocab:
                    out.append(vocab[piece])
                    break
                end -= 1
            else:
                return self._unk
            start = end
        return out
