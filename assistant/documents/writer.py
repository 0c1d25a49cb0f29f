"""Writing an exported file without destroying anything, and text that every format can carry.

An export writes only to a new file, or to a file an export wrote before and nobody changed since;
never inside the product's own data (the case folders, the index), never onto a folder, a symbolic
link or a special file (device, pipe, socket); always through a temporary file in the same folder
renamed over the target, so that a reader sees the old file or the new one, never half of one.
Each odd target gets a plain message saying what to do, and nothing is written.

The text going into a file is made safe first (`clean`, `clean_model`): the characters XML cannot
hold (control characters, U+FFFE, U+FFFF, lone surrogates) are removed, and the bidirectional
controls (RLO, LRI, …) that can make a text read differently from what it holds are dropped.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from assistant.errors import ServiceError

INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CORE_PROPERTY_LIMIT = 255  # characters: what python-docx (and Word) accept in a core property

M = TypeVar("M", bound=BaseModel)


class ExportTargetError(ServiceError):
    """The place asked for cannot receive an export; nothing was written."""


def clean(text: str) -> str:
    """`text` without the characters XML cannot hold and without bidirectional controls."""
    return BIDI_CONTROLS.sub("", INVALID_XML.sub("", text))


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    return value


def clean_model(model: M) -> M:
    """A copy of a case or a draft whose every text is `clean`."""
    return type(model).model_validate(_clean(model.model_dump()))


def clip(text: str, limit: int = CORE_PROPERTY_LIMIT) -> str:
    """A document property within its limit (a longer name is cut with an ellipsis)."""
    text = " ".join(clean(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _oserror(out: Path, exc: OSError) -> ExportTargetError:
    if exc.errno == errno.ENAMETOOLONG:
        return ExportTargetError(f"cannot export to {out}: the file name is too long; choose a shorter one")
    if exc.errno == errno.ELOOP:
        return ExportTargetError(f"cannot export to {out}: its path goes round in a loop of symbolic links")
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return ExportTargetError(f"cannot export to {out}: a part of its path is a file, not a folder")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ExportTargetError(f"cannot export to {out}: permission denied; choose a folder you can write to")
    if exc.errno == errno.ENOSPC:
        return ExportTargetError(f"cannot export to {out}: the disk is full")
    return ExportTargetError(f"cannot export to {out}: {exc.strerror or exc}")


def check_target(out: Path, protected: Iterable[Path], written_before: Callable[[Path], bool]) -> Path:
    """The absolute path an export may write `out` to, its folder created; ExportTargetError says why not."""
    out = Path(out).expanduser()
    if out.name in ("", ".", ".."):
        raise ExportTargetError(f"cannot export to {out}: give a file name, e.g. {out / 'request.docx'}")
    try:
        folder = out.parent.resolve()
        target = folder / out.name
        for root in protected:
            if _inside(target, root.resolve()):
                raise ExportTargetError(f"cannot export to {out}: it is inside the product's own data ({root}), "
                                        "where a file would damage the cases; choose another folder")
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            st = None
    except RuntimeError:  # Path.resolve on a symlink loop (Python < 3.13)
        raise ExportTargetError(f"cannot export to {out}: its path goes round in a loop of symbolic links") from None
    except OSError as exc:
        raise _oserror(out, exc) from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise ExportTargetError(f"cannot export to {out}: it is a symbolic link; give a new file name "
                                    "(an export never writes through a link)")
        if stat.S_ISDIR(st.st_mode):
            raise ExportTargetError(f"cannot export to {out}: it is a folder; give a file name inside it, "
                                    f"e.g. {out / 'request.docx'}")
        if not stat.S_ISREG(st.st_mode):
            raise ExportTargetError(f"cannot export to {out}: it is a special file (a device, a pipe or a socket); "
                                    "give a new file name")
        if not written_before(target):
            raise ExportTargetError(f"cannot export to {out}: the file exists and was not written by an export "
                                    "(or was changed since); choose a new file name, or move that file away first")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _oserror(out, exc) from None
    if not folder.is_dir():
        raise ExportTargetError(f"cannot export to {out}: a part of its path is a file, not a folder")
    return target


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` into a temporary file beside `target`, then rename it over `target` (never half a file)."""
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:40]}.", suffix=".tmp")
    except OSError as exc:
        raise _oserror(target, exc) from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
