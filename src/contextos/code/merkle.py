"""A Merkle tree of content hashes over files and directories.

A directory's hash covers the sorted names and hashes of its children, so comparing two trees
finds the changed subtrees without looking inside unchanged ones. The indexer stores the tree in
the ``dirs`` table and reports which directories changed; the root hash says in one comparison
whether anything did. File hashes are BLAKE2b of the bytes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

__all__ = ["changed_dirs", "dir_hashes", "file_hash"]


def file_hash(data: bytes) -> str:
    """Hash of a file's content."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def dir_hashes(files: dict[str, str]) -> dict[str, str]:
    """Hashes of every directory (``""`` is the root) given ``{posix path: file hash}``."""
    children: dict[str, list[tuple[str, str]]] = defaultdict(list)
    dirs: set[str] = {""}
    for path, digest in files.items():
        parent, _, name = path.rpartition("/")
        children[parent].append((name, "f" + digest))
        while parent:
            dirs.add(parent)
            parent = parent.rpartition("/")[0]
    out: dict[str, str] = {}
    for d in sorted(dirs, key=lambda p: p.count("/") + (1 if p else 0), reverse=True):
        h = hashlib.blake2b(digest_size=16)
        for name, digest in sorted(children[d]):
            h.update(name.encode() + b"\0" + digest.encode() + b"\n")
        out[d] = h.hexdigest()
        if d:
            parent, _, name = d.rpartition("/")
            children[parent].append((name + "/", "d" + out[d]))
    return out


def changed_dirs(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Directories whose hash differs (added, removed or changed), sorted."""
    return sorted(d for d in old.keys() | new.keys() if old.get(d) != new.get(d))
