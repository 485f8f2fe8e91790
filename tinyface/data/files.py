"""Checks made before opening any input file, shared by the image loader and the readers."""

import os
import stat

from tinyface.data.errors import BadInput

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def require_regular_file(path, what):
    """The os.stat() of `path`; BadInput unless it is a regular file (symlinks followed).
    `what` names the file's role in the message ("image file", "annotation file").

    Opening is not enough: open() on a FIFO blocks until some other process writes to it, so
    one stray pipe in a dataset folder would hang ingestion (or format detection) forever.
    """
    try:
        status = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise BadInput(path, f"{what} is a broken symbolic link (its target does not exist)") from None
        raise BadInput(path, f"{what} not found") from None
    except OSError as error:  # ELOOP (a symbolic link loop), EACCES on a parent folder, ...
        raise BadInput(path, f"cannot read {what}: {error.strerror or error}") from None
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _KINDS if test(status.st_mode)), "something else")
        raise BadInput(path, f"cannot read {what}: it is {kind}, not a file")
    return status


def is_regular_file(path):
    """Whether `path` is a regular file (for sniffing, where anything else simply does not match)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
