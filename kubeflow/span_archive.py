"""An archive of each span's statistics on remote storage: the drift baseline on Kubeflow.

Locally, the previous span's statistics are found in ML Metadata (pipeline/resolvers.py). On
Kubeflow no component can query the orchestrator's metadata, and output folders are named by
run, not by span, so each run copies its span's statistics to a folder named by span:

    <root>/<key of the data root>/span-<N>/Split-train/FeatureStats.pb ...
                                          archived.json   (written last: the entry is complete)

Keyed by data root, so pipelines reading other data never compare with each other. A re-run of
a span replaces its entry (the newest statistics of a span win, as in the local resolver).
"""

import dataclasses
import hashlib
import json
import os
import re
from typing import List, Optional

from tfx.dsl.io import fileio
from tfx.utils import io_utils

MANIFEST = "archived.json"
_SPAN_FOLDER = re.compile(r"span-([0-9]+)")


@dataclasses.dataclass(frozen=True)
class ArchivedStatistics:
    span: int
    uri: str              # the folder holding Split-<name>/ like a statistics artifact
    split_names: str      # the artifact's split_names property, e.g. '["train", "eval"]'
    source_uri: str       # the statistics artifact it was copied from


class SpanArchive:

    def __init__(self, root: str, data_root: str):
        if not data_root:
            raise ValueError("the span archive needs the data root the statistics were computed on")
        self.data_root = data_root
        self.folder = os.path.join(root, hashlib.sha256(data_root.encode()).hexdigest()[:16])

    def put(self, span: int, statistics_uri: str, split_names: str) -> ArchivedStatistics:
        """Archives the statistics artifact at `statistics_uri` as span `span`."""
        target = os.path.join(self.folder, f"span-{span}")
        io_utils.copy_dir(statistics_uri, target)   # replaces an earlier entry of this span
        entry = ArchivedStatistics(span, target, split_names, statistics_uri)
        manifest = dict(dataclasses.asdict(entry), data_root=self.data_root)
        io_utils.write_string_file(os.path.join(target, MANIFEST), json.dumps(manifest, sort_keys=True))
        return entry

    def entries(self) -> List[ArchivedStatistics]:
        """Every complete entry, by span."""
        if not fileio.isdir(self.folder):
            return []
        found = []
        for name in fileio.listdir(self.folder):
            match = _SPAN_FOLDER.fullmatch(name.rstrip("/"))
            manifest = os.path.join(self.folder, name.rstrip("/"), MANIFEST)
            if match and fileio.exists(manifest):   # no manifest: a copy that never finished
                values = json.loads(io_utils.read_string_file(manifest))
                found.append(ArchivedStatistics(int(match.group(1)), os.path.dirname(manifest),
                                                values["split_names"], values["source_uri"]))
        return sorted(found, key=lambda entry: entry.span)

    def newest_before(self, span: int) -> Optional[ArchivedStatistics]:
        """The entry of the newest span older than `span`, None when there is none."""
        older = [entry for entry in self.entries() if entry.span < span]
        return older[-1] if older else None
