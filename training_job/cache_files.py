"""Files of mlwf's caches (the model cache, the SAM transform's, the image URIs), written
whole: to a temporary file beside the target, then renamed over it, so that a concurrent
reader (another command, a pytest-xdist worker) never sees half a file. A cache that
cannot be written only costs time, so a failure is answered, not raised."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_whole(path: Path, data: bytes) -> bool:
    """`data` at `path`, made whole or not at all (with its folder); False if it could not
    be written, and then no temporary file is left."""
    written: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            written = Path(handle.name)
            handle.write(data)
        os.replace(written, path)
    except OSError:
        if written is not None:
            written.unlink(missing_ok=True)
        return False
    return True
