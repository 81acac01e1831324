"""Dataset fingerprints: a short hash that changes when any file or setting that shapes a dataset does."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable


def fingerprint(files: Iterable[Path], settings: dict[str, Any] | None = None, root: Path | None = None) -> str:
    """sha256 over each file's path (relative to `root` when given), size and modification time, plus settings.

    Content is not read, so fingerprinting thousands of images costs one `stat` each.
    """
    digest = hashlib.sha256()
    entries = []
    for file in files:
        name = os.path.relpath(file, root) if root else str(Path(file).resolve())
        try:
            st = os.stat(file)
        except OSError:  # gone since it was listed: that too is a change
            entries.append(f"{name}\0missing")
            continue
        entries.append(f"{name}\0{st.st_size}\0{st.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode("utf-8", "surrogateescape"))
        digest.update(b"\n")
    digest.update(json.dumps(settings or {}, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:20]
