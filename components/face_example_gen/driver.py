"""Driver that fingerprints a span by every file under it, not just its top-level entries.

TFX's FileBasedDriver fingerprints the files its split pattern globs. Face datasets are
folder trees (images beside annotations, in sub-folders), so a changed image deep in the
tree would not change that fingerprint and the cached examples would be reused wrongly.
"""

import hashlib
import os

from tfx.components.example_gen import driver as example_gen_driver
from tfx.components.example_gen import utils
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs
from tfx.utils import proto_utils


def tree_fingerprint(root):
    """A digest of every file's relative path, size and mtime under `root`."""
    digest = hashlib.sha256()
    count = 0
    for directory, _, files in sorted(fileio.walk(root)):
        for name in sorted(files):
            path = os.path.join(directory, name)
            stat = fileio.stat(path)
            rel = os.path.relpath(path, root)
            digest.update(f"{rel}\0{stat.length}\0{stat.mtime_nsec}\n".encode())
            count += 1
    return f"files:{count},sha256:{digest.hexdigest()}"


class FaceDataDriver(example_gen_driver.FileBasedDriver):

    def resolve_exec_properties(self, exec_properties, pipeline_info, component_info):
        exec_properties = super().resolve_exec_properties(exec_properties, pipeline_info, component_info)
        input_config = example_gen_pb2.Input()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config)
        input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        exec_properties[utils.FINGERPRINT_PROPERTY_NAME] = "\n".join(
            f"split:{split.name},{tree_fingerprint(os.path.join(input_base, split.pattern))}"
            for split in input_config.splits)
        return exec_properties
