"""佐证材料 kept as files under DUBAN_VAR_DIR (DUBAN_FILE_STORAGE=local): content-addressed blobs.

A blob is named by the SHA-256 of its bytes, `files/<first two hex digits>/<sha256>`: the same scan
uploaded twice is kept once, and a name never holds other bytes. A write is atomic (a temporary file
in the same folder, fsync, os.replace, fsync of the folder): after a crash the blob is whole or absent.

The processes of one machine share the folder. A blob is removed only when no committed row of
`stored_files` names it. To know that, removing takes `files/.lock` exclusively, and a writer holds
it shared from writing the blob until the row naming it is committed or rolled back: a removal
never finds "unreferenced" a blob whose row is about to commit.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

_TEMP = ".incoming-"
_HEX = set("0123456789abcdef")


class LocalBlobs:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not set(sha256) <= _HEX:
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Held from writing a blob until the row that names it is committed or rolled back."""
        with self._lock(fcntl.LOCK_SH):
            yield

    @contextmanager
    def removing(self) -> Iterator[None]:
        """Held while deciding which blobs no row names, and removing them."""
        with self._lock(fcntl.LOCK_EX):
            yield

    def put(self, data: bytes, sha256: str) -> None:
        """Keep `data` (whose SHA-256 is `sha256`) unless an intact copy is there already."""
        target = self.path(sha256)
        with suppress(FileNotFoundError):
            if target.read_bytes() == data:
                return
        folder = target.parent
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=_TEMP)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_folder(folder)

    def get(self, sha256: str) -> bytes:
        """The blob's bytes; OSError if it is missing, ValueError if they are not what its name says."""
        data = self.path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"blob {sha256} is damaged: its bytes have another SHA-256")
        return data

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def remove(self, names: Iterable[str]) -> list[str]:
        """Remove these blobs (inside `removing`, after checking no row names them); the names removed."""
        removed = []
        for name in names:
            with suppress(FileNotFoundError):
                self.path(name).unlink()
                removed.append(name)
        return removed

    def sweep(self, referenced: set[str]) -> list[str]:
        """Remove every blob not in `referenced`, and temporary files a crash left (inside `removing`,
        where no write is under way); the blob names removed."""
        if not self.root.is_dir():
            return []
        orphans = []
        for folder in self.root.iterdir():
            if not folder.is_dir() or len(folder.name) != 2:
                continue
            for entry in folder.iterdir():
                if entry.name.startswith(_TEMP):
                    with suppress(FileNotFoundError):
                        entry.unlink()
                elif len(entry.name) == 64 and set(entry.name) <= _HEX and entry.name not in referenced:
                    orphans.append(entry.name)
        return self.remove(orphans)

    @contextmanager
    def _lock(self, mode: int) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        # A new open file each time: flock then also orders threads of one process.
        with open(self.root / ".lock", "a+b") as handle:
            fcntl.flock(handle, mode)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
