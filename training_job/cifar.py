"""The CIFAR-100 python tarball: download it once into a cache, verify it, read it.

Public API:

- `CIFAR100_URL`, `CIFAR100_MD5`, `FINE_LABELS` (CIFAR fine label -> our label 0/1; the
  class names are training_job.dataset.classes').
- `default_cache_dir() -> Path`: `$MLWF_CACHE_DIR`, else `~/.cache/mlwf`.
- `file_md5(path) -> str`.
- `ensure_tarball(cache_dir, url=CIFAR100_URL, md5=CIFAR100_MD5, opener=None,
  progress=None, log=print) -> Path`: the cached tarball, downloaded (to a temporary file
  renamed into place once its md5 is right) only when the cache has no good copy.
  `opener(url, timeout=seconds)` returns a file-like HTTP response; it defaults to
  `urllib.request.urlopen`, so tests pass `file://` URLs or a fake opener.
- `read_tarball(path) -> dict[str, CifarBatch]`: the `train` and `test` pickles.
- `select(batch) -> (images, labels, names, ids)`: the bicycles and motorcycles of a batch.

The pickles are read with an unpickler that only accepts the numpy and builtin types the
CIFAR format uses, so a tampered tarball (for example one staged with `--no-verify`) cannot
run code. Every bad input raises `MlwfError` with a one-line message.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from training_job.dataset.classes import CIFAR_FINE_LABELS
from training_job.errors import MlwfError

CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"
CIFAR100_FILENAME = "cifar-100-python.tar.gz"
FINE_LABELS = {fine: label for label, fine in enumerate(CIFAR_FINE_LABELS)}  # -> our label
MEMBERS = {"train": "cifar-100-python/train", "test": "cifar-100-python/test"}
REQUIRED_KEYS = ("data", "fine_labels", "filenames")
DOWNLOAD_TIMEOUT = 60  # seconds without data before a download fails
_CHUNK = 1 << 20

Opener = Callable[..., IO[bytes]]  # called as opener(url, timeout=seconds)


@dataclass(frozen=True)
class CifarBatch:
    """One CIFAR-100 pickle: images N x 32 x 32 x 3 uint8 (HWC), fine labels, file names."""

    images: np.ndarray
    fine_labels: np.ndarray
    filenames: list[str]


def default_cache_dir() -> Path:
    configured = os.environ.get("MLWF_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "mlwf"


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def cache_filename(url: str) -> str:
    """The official tarball keeps its name; any other URL gets a name unique to it."""
    if url == CIFAR100_URL:
        return CIFAR100_FILENAME
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", url.rstrip("/").rsplit("/", 1)[-1]) or "download"
    return f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{stem}"


def ensure_tarball(
    cache_dir: Path,
    url: str = CIFAR100_URL,
    md5: str | None = CIFAR100_MD5,
    opener: Opener | None = None,
    progress: bool | None = None,
    log: Callable[[str], Any] = print,
) -> Path:
    """The cached tarball of `url`, downloaded only if the cache has no copy with `md5`.

    With `md5=None` nothing can be verified, so any cached copy is reused. A cached copy
    with the wrong md5 (truncated, corrupted) is downloaded again. `progress=None` shows the
    progress bar only on a terminal.
    """
    cache_dir = Path(cache_dir).expanduser()
    target = cache_dir / cache_filename(url)
    if target.is_file():
        if md5 is None:
            log(f"using cached {target} (not verified)")
            return target
        actual = file_md5(target)
        if actual == md5:
            log(f"using cached {target} (md5 verified)")
            return target
        log(f"cached {target} has md5 {actual}, expected {md5}: downloading it again")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MlwfError(f"cannot create cache directory {cache_dir}: {exc.strerror}") from exc
    log(f"downloading {url} to {target}")
    _download(url, target, md5, opener, progress)
    return target


def _download(url: str, target: Path, md5: str | None, opener: Opener | None, progress) -> None:
    from tqdm import tqdm  # lazy: only a download needs it

    if opener is None:
        from urllib.request import urlopen

        opener = urlopen
    fd, temp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    temp = Path(temp_name)
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = opener(url, timeout=DOWNLOAD_TIMEOUT)
                with response:
                    length = _content_length(response)
                    with tqdm(
                        total=length,
                        unit="B",
                        unit_scale=True,
                        unit_divisor=1024,
                        desc=target.name,
                        disable=None if progress is None else not progress,
                        leave=False,
                    ) as bar:
                        while chunk := response.read(_CHUNK):
                            out.write(chunk)
                            digest.update(chunk)
                            bar.update(len(chunk))
            except (OSError, ValueError, EOFError) as exc:  # URLError, timeouts, bad URLs
                reason = getattr(exc, "reason", None) or exc
                raise MlwfError(
                    f"cannot download {url}: {reason}; offline, use --source synthetic "
                    "or --source path/to/cifar-100-python.tar.gz (with the offline "
                    "commands, --data)"
                ) from exc
            if length is not None and out.tell() != length:
                raise MlwfError(
                    f"download of {url} stopped after {out.tell()} of {length} bytes; "
                    "run the command again"
                )
        actual = digest.hexdigest()
        if md5 is not None and actual != md5:
            raise MlwfError(
                f"downloaded {url} has md5 {actual}, expected {md5}: the file is corrupt "
                "or not the CIFAR-100 python tarball"
            )
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def _content_length(response: Any) -> int | None:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def check_md5(path: Path, md5: str = CIFAR100_MD5) -> str:
    """`path`'s md5 when it is `md5`, else an MlwfError naming --no-verify."""
    actual = file_md5(path)
    if actual != md5:
        raise MlwfError(
            f"{path}: md5 {actual} does not match the official CIFAR-100 tarball ({md5}); "
            "pass --no-verify to stage a modified or home-made tarball"
        )
    return actual


def read_tarball(path: Path) -> dict[str, CifarBatch]:
    """The `train` and `test` batches of a CIFAR-100 python tarball (gzip or plain tar)."""
    found: dict[str, bytes] = {}
    wanted = {member: split for split, member in MEMBERS.items()}
    try:
        with open(path, "rb") as handle:
            gzipped = handle.read(2) == b"\x1f\x8b"
    except OSError as exc:
        raise MlwfError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        # gzip (the official format) by its magic bytes; anything else may be a plain tar.
        with tarfile.open(path, "r:gz" if gzipped else "r:") as archive:
            for member in archive:
                split = wanted.get(member.name.removeprefix("./"))
                if split is None or not member.isfile():
                    continue
                member_file = archive.extractfile(member)
                if member_file is None:
                    continue
                found[split] = member_file.read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise MlwfError(f"{path}: not a readable CIFAR-100 tarball ({_reason(exc)})") from exc
    missing = [MEMBERS[s] for s in MEMBERS if s not in found]
    if missing:
        raise MlwfError(
            f"{path}: no member {', '.join(missing)}; is it the CIFAR-100 python tarball?"
        )
    return {split: _parse_batch(found[split], f"{path}:{MEMBERS[split]}") for split in MEMBERS}


def _reason(exc: BaseException) -> str:
    """One line: tarfile's "r:*" failure lists every compression it tried on its own line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, EOFError):
        return f"truncated: {text}"
    return text


class _SafeUnpickler(pickle.Unpickler):
    """Only the globals a CIFAR pickle (Python 2 or 3, numpy 1 or 2) refers to."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
        ("codecs", "encode"),
        ("copy_reg", "_reconstructor"),
        ("copyreg", "_reconstructor"),
        ("__builtin__", "object"),
        ("builtins", "object"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if module.startswith("numpy.core."):  # numpy 1 pickles: avoid the deprecated alias
            module = "numpy._core." + module.removeprefix("numpy.core.")
        module = {"copy_reg": "copyreg", "__builtin__": "builtins"}.get(module, module)
        return super().find_class(module, name)


def _parse_batch(raw: bytes, where: str) -> CifarBatch:
    try:
        batch = _SafeUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except Exception as exc:  # unpickling raises almost anything on garbage
        raise MlwfError(f"{where}: not a readable pickle ({_reason(exc)})") from exc
    if not isinstance(batch, dict):
        raise MlwfError(f"{where}: expected a dict, found {type(batch).__name__}")
    batch = {_text(key): value for key, value in batch.items()}
    missing = [key for key in REQUIRED_KEYS if key not in batch]
    if missing:
        raise MlwfError(f"{where}: missing key(s) {', '.join(missing)}")
    try:
        data = np.asarray(batch["data"])
        fine = np.asarray(batch["fine_labels"], dtype=np.int64).reshape(-1)
        names = [_text(name) for name in batch["filenames"]]
    except (TypeError, ValueError) as exc:
        raise MlwfError(f"{where}: malformed data, fine_labels or filenames ({exc})") from exc
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise MlwfError(f"{where}: data has shape {data.shape}, expected (N, 3072)")
    if not (len(data) == len(fine) == len(names)):
        raise MlwfError(
            f"{where}: {len(data)} images but {len(fine)} fine_labels and {len(names)} filenames"
        )
    if data.dtype != np.uint8:
        in_range = data.size == 0 or (data.min() >= 0 and data.max() <= 255)
        if not np.issubdtype(data.dtype, np.integer) or not in_range:
            raise MlwfError(f"{where}: data is {data.dtype}, expected uint8 pixel values")
        data = data.astype(np.uint8)
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # channel-major -> HWC
    return CifarBatch(images=images, fine_labels=fine, filenames=names)


def _text(value: Any) -> str:
    return value.decode("latin1") if isinstance(value, bytes) else str(value)


def select(batch: CifarBatch) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """(images, labels 0/1, file names, indices in the batch) of the two classes."""
    keep = np.flatnonzero(np.isin(batch.fine_labels, list(FINE_LABELS)))
    labels = np.array([FINE_LABELS[int(f)] for f in batch.fine_labels[keep]], dtype=np.int64)
    images = np.ascontiguousarray(batch.images[keep])
    return images, labels, [batch.filenames[i] for i in keep], keep.astype(np.int64)
