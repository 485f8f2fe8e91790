"""Guessing a dataset root's annotation format from the files it holds."""

from tinyface.data import files
from tinyface.data.ingestion.readers import READERS
from tinyface.data.ingestion.readers.base import walk_files

_EXAMPLES_SHOWN = 2


def detect_format(root):
    """The registry name of the one format whose annotation files are under `root`.

    Each reader judges the files by name and first line (see its `matches`). ValueError naming
    the root when no format matches, or when several do (then the caller must choose).
    """
    if not files.is_dir(root):
        raise ValueError(f"cannot detect the annotation format: {root} is not a directory")
    files_by_format = {name: [] for name in READERS}
    for path in walk_files(root):
        for name, reader in READERS.items():
            if reader.matches(path):
                files_by_format[name].append(path)
    found = {name: paths for name, paths in files_by_format.items() if paths}
    if not found:
        raise ValueError(
            f"no known annotation format under {root} "
            f"(looked for .pts, dlib XML, WFLW, CelebA and LFW 5-point lists)"
        )
    if len(found) > 1:
        listing = "; ".join(
            f"{name}: {', '.join(paths[:_EXAMPLES_SHOWN])}" + (" ..." if len(paths) > _EXAMPLES_SHOWN else "")
            for name, paths in sorted(found.items())
        )
        raise ValueError(f"several annotation formats under {root} ({listing}); name the format explicitly")
    return next(iter(found))

