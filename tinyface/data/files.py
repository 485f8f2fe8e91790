"""Reading input files, shared by the image loader and the readers: the checks made before
opening one, and the file operations they use.

A path is a local path or a URI of any filesystem tf.io.gfile knows (gs:// and TF's in-memory
ram:// built in; s3:// and hdfs:// once tensorflow-io's plugins are installed), so a Kubeflow or
Dataflow worker reads a data root on remote storage directly, with nothing mounted. Local paths keep the os module's behaviour (symbolic links,
FIFOs, error numbers); only URIs go through tf.io.gfile, imported when one is first read.
"""

import collections
import io
import os
import posixpath
import re
import stat

from tinyface.data.errors import BadInput

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


_URI = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")

# What require_regular_file returns for a URI: the size is all callers read of os.stat().
RemoteStatus = collections.namedtuple("RemoteStatus", ["st_size"])


def is_uri(path):
    return bool(_URI.match(os.fsdecode(path)))


def _gfile():
    import tensorflow as tf   # only for URIs: local reading must not pay for importing TF
    return tf.io.gfile, tf.errors


def normalised(path):
    """os.path.normpath, keeping a URI's scheme ("ram://a/../b" -> "ram://b")."""
    match = _URI.match(path)
    if not match:
        return os.path.normpath(path)
    return match.group(0) + posixpath.normpath(path[match.end():])


def absolute(path):
    """os.path.abspath for local paths; a URI is already absolute (normalised only)."""
    return normalised(path) if is_uri(path) else os.path.abspath(path)


def relative(path, root):
    """`path` relative to `root` ('/'-separated for URIs)."""
    if is_uri(path):
        return posixpath.relpath(normalised(path)[len(_URI.match(path).group(0)):],
                                 normalised(root)[len(_URI.match(root).group(0)):])
    return os.path.relpath(path, root)


def is_dir(path):
    return _gfile()[0].isdir(path) if is_uri(path) else os.path.isdir(path)


def is_present(path):
    """Whether anything is at `path` (for local paths, a broken symbolic link counts)."""
    return _gfile()[0].exists(path) if is_uri(path) else os.path.lexists(path)


def list_dir(path):
    """The names in a folder; OSError if it cannot be listed."""
    if not is_uri(path):
        return os.listdir(path)
    gfile, errors = _gfile()
    try:
        return [name.rstrip("/") for name in gfile.listdir(path)]
    except errors.OpError as error:
        raise OSError(f"cannot list {path}: {error.message}") from None


def walk(root):
    """os.walk: (folder, sub-folder names, file names) for every folder under `root`."""
    if not is_uri(root):
        yield from os.walk(root)
        return
    for folder, folders, names in _gfile()[0].walk(root):
        yield folder.rstrip("/"), [name.rstrip("/") for name in folders], list(names)


def open_text(path):
    """The file as text (undecodable bytes become U+FFFD); OSError if it cannot be read."""
    if not is_uri(path):
        return open(path, encoding="utf-8", errors="replace")
    return io.TextIOWrapper(io.BytesIO(read_bytes(path)), encoding="utf-8", errors="replace")


def open_binary(path):
    """The file for reading bytes; OSError if it cannot be read."""
    return open(path, "rb") if not is_uri(path) else io.BytesIO(read_bytes(path))


def read_bytes(path):
    if not is_uri(path):
        with open(path, "rb") as f:
            return f.read()
    gfile, errors = _gfile()
    try:
        with gfile.GFile(path, "rb") as f:
            return f.read()
    except errors.NotFoundError:
        raise FileNotFoundError(f"{path} not found") from None
    except errors.OpError as error:
        raise OSError(f"cannot read {path}: {error.message}") from None


def _require_remote_file(path, what):
    gfile, errors = _gfile()
    try:
        status = gfile.stat(path)
    except errors.NotFoundError:
        raise BadInput(path, f"{what} not found") from None
    except errors.OpError as error:
        raise BadInput(path, f"cannot read {what}: {error.message}") from None
    if status.is_directory:
        raise BadInput(path, f"cannot read {what}: it is a directory, not a file")
    return RemoteStatus(status.length)


def require_regular_file(path, what):
    """The os.stat() of `path`; BadInput unless it is a regular file (symlinks followed).
    `what` names the file's role in the message ("image file", "annotation file").

    Opening is not enough: open() on a FIFO blocks until some other process writes to it, so
    one stray pipe in a dataset folder would hang ingestion (or format detection) forever.
    For a URI, its size (RemoteStatus); remote filesystems hold files and folders only.
    """
    if is_uri(path):
        return _require_remote_file(path, what)
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
    if is_uri(path):
        return _gfile()[0].exists(path) and not _gfile()[0].isdir(path)
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
