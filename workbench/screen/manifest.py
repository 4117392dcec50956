"""The chunks folder of a screen and its manifest: which chunks are finished, from which input rows.

A run writes each chunk's result to ``<chunks folder>/<chunk_id>.parquet`` (a temporary file renamed into
place) and then records the chunk in ``manifest.json`` with the sha256 of its input rows (rewritten
atomically the same way). ``--resume`` skips a chunk whose recorded hash equals the hash of the rows read
now and whose file is still there; a chunk in flight when a run was killed is not recorded and is
computed again. The manifest also records the run's settings (models, descriptors, prompt, ...): chunks
made with other settings are never mixed into one output.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST_FILE", "MANIFEST_VERSION", "Manifest", "ResumeError", "chunks_folder", "write_atomic"]

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1


class ResumeError(ValueError):
    """A chunks folder that this run may not use (another run's, or made with other settings)."""


def chunks_folder(output: str | Path) -> Path:
    """Where the chunks of a screen writing ``output`` live: ``.<output name>.chunks/`` beside it."""
    out = Path(output)
    return out.with_name(f".{out.name}.chunks")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename it over ``path``."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _finished_chunks(folder: Path) -> int:
    """How many chunks the manifest in ``folder`` lists (1 when it cannot be read: assume there is work to keep)."""
    try:
        return len(json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8")).get("chunks") or {})
    except FileNotFoundError:
        return len(list(folder.glob("*.parquet")))
    except (OSError, ValueError, AttributeError):
        return 1


@dataclass
class Manifest:
    """Finished chunks of one run (chunk id -> their input hash and row count) and the run's settings."""

    folder: Path
    settings: dict[str, Any]
    chunks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.folder / MANIFEST_FILE

    def chunk_path(self, chunk_id: str) -> Path:
        """The result file of a chunk."""
        return self.folder / f"{chunk_id}.parquet"

    def is_done(self, chunk_id: str, digest: str) -> bool:
        """Whether the chunk was finished from the same input rows and its file is still there."""
        entry = self.chunks.get(chunk_id)
        return bool(entry) and entry.get("sha256") == digest and self.chunk_path(chunk_id).is_file()

    def record(self, chunk_id: str, digest: str, rows: int, errors: int = 0) -> None:
        """Note a finished chunk (its file already renamed into place) and save the manifest."""
        self.chunks[chunk_id] = {"sha256": digest, "rows": rows, "errors": errors}
        self.save()

    def save(self) -> None:
        """Write the manifest atomically."""
        body = {"version": MANIFEST_VERSION, "settings": self.settings, "chunks": self.chunks}
        write_atomic(self.path, json.dumps(body, indent=1, sort_keys=True).encode("utf-8"))

    @classmethod
    def open(cls, folder: Path, settings: dict[str, Any], *, resume: bool, overwrite: bool) -> Manifest:
        """The manifest of a new run, or of the run to resume.

        Without ``resume`` an existing chunks folder with finished chunks is refused (``overwrite`` deletes it
        instead; one without finished chunks is simply deleted); with ``resume`` its settings must equal
        ``settings``; a missing folder starts a new run either way.

        Raises:
            ResumeError: the folder exists and may not be used, saying what to do.
        """
        settings = json.loads(json.dumps(settings))  # the form it takes once saved, so the two compare equal
        if folder.exists() and not resume:
            if not overwrite and _finished_chunks(folder):
                raise ResumeError(
                    f"{folder} holds the chunks of an earlier, unfinished run; add --resume to continue it "
                    "or --overwrite to start again"
                )
            shutil.rmtree(folder)
        if resume and (folder / MANIFEST_FILE).is_file():
            try:
                body = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ResumeError(f"{folder / MANIFEST_FILE} cannot be read ({exc}); use --overwrite") from exc
            if body.get("version") != MANIFEST_VERSION:
                raise ResumeError(f"{folder} was written by another version of the screen; use --overwrite")
            if body.get("settings") != settings:
                changed = sorted(
                    k
                    for k in set(settings) | set(body.get("settings", {}))
                    if body["settings"].get(k) != settings.get(k)
                )
                raise ResumeError(
                    f"{folder} was made with other settings ({', '.join(changed)}); resume with the same "
                    "settings, or use --overwrite to start again"
                )
            return cls(folder, settings, dict(body.get("chunks", {})))
        folder.mkdir(parents=True, exist_ok=True)
        manifest = cls(folder, settings)
        manifest.save()
        return manifest

    def remove(self) -> None:
        """Delete the chunks folder (after a finished run)."""
        shutil.rmtree(self.folder, ignore_errors=True)
