"""Download a file into the cache with a progress bar and a checksum."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from workbench.cache import atomic_write
from workbench.data.paths import cache_dir
from workbench.hashing import sha256_file

__all__ = ["DataUnavailableError", "download", "verify_sidecar"]

USER_AGENT = "workbench-downloader/1.0"
log = logging.getLogger("workbench.cache")


class DataUnavailableError(FileNotFoundError):
    """A data file is not on disk and could not be downloaded; the message says what to do."""


def download(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` to ``dest`` atomically, verifying ``sha256`` when given.

    A ``<dest>.sha256`` sidecar records the digest so later loads can detect a
    corrupted cache (:func:`verify_sidecar`).

    Raises:
        DataUnavailableError: offline, HTTP error or checksum mismatch; the message
            names the file, the URL and the folder to put the file in by hand.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    hint = (
        f"Download it by hand from {url} and save it as {dest} "
        f"(or set WORKBENCH_DATA_DIR to a folder that already holds it)."
    )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=timeout) as response, os.fdopen(fd, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar:
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise DataUnavailableError(f"Could not download {dest.name} from {url} ({reason}). {hint}") from exc
    digest = sha256_file(tmp)
    if sha256 is not None and digest != sha256.lower():
        tmp.unlink(missing_ok=True)
        raise DataUnavailableError(
            f"Checksum mismatch for {dest.name} from {url}: expected sha256 {sha256}, got {digest}. {hint}"
        )
    shutil.move(str(tmp), dest)
    atomic_write(dest.with_name(dest.name + ".sha256"), lambda p: p.write_text(digest + "\n"))
    return dest


def _in_cache(path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(cache_dir().resolve())
    except OSError:
        return False


def verify_sidecar(
    path: str | Path, *, url: str | None = None, sha256: str | None = None, progress: bool = False
) -> str:
    """Return the file's sha256, checking it against a ``.sha256`` sidecar when one exists.

    A file in the download cache (``WORKBENCH_CACHE_DIR``) that no longer matches is deleted and
    downloaded again from ``url`` (with a warning) when ``url`` is given; anywhere else it is refused.

    Raises:
        DataUnavailableError: the file changed since it was downloaded (and could not be downloaded again).
    """
    path = Path(path)
    digest = sha256_file(path)
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.exists():
        recorded = sidecar.read_text(errors="replace").split()
        expected = recorded[0] if recorded else ""
        if expected and expected != digest:
            if url is not None and _in_cache(path):
                log.warning(
                    "The downloaded file %s was modified or corrupted; it is deleted and downloaded again.", path
                )
                path.unlink(missing_ok=True)
                sidecar.unlink(missing_ok=True)
                return sha256_file(download(url, path, sha256=sha256, progress=progress))
            raise DataUnavailableError(
                f"{path} does not match the checksum recorded when it was downloaded "
                f"({expected[:12]}… vs {digest[:12]}…): delete it and its .sha256 file to download it again."
            )
    return digest
