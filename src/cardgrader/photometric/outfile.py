"""Output files written over where they lie.

When `ps solve` runs again into the same folder, opening each output with "wb" cuts it to nothing
first: the kernel frees its cached pages, then finds fresh ones for the new bytes. Written over in place
and cut to the new length at the end, the same pages take the new bytes: 17 MB go into their old file in
1.4 ms instead of 9.5 ms (measured on a 2-core VM; in a card-size solve albedo.npy's 22 MB took 4-5 ms
instead of 10-12). A new file is written as usual.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def rewritten(path: str | Path) -> Iterator[io.FileIO]:
    """`path` open for writing from its start; whatever the old file held past what is written is cut
    off when the block ends."""
    path = Path(path)
    # Unbuffered: numpy writes an array to a raw file straight from its memory (to a buffered one it
    # copies it in 16 MB pieces first), and the descriptor's offset is then where the writing ended.
    with open(path, "r+b" if path.is_file() else "wb", buffering=0) as f:
        yield f
        f.truncate(os.lseek(f.fileno(), 0, os.SEEK_CUR))
