"""FaceExampleGen's settings, validated once and carried to the executor in `custom_config`.

The component reuses TFX's FileBasedExampleGenSpec (so spans, versions, range configs and
Kubeflow's ExampleGen driver work unchanged); what is face-specific travels as a
google.protobuf.Struct packed into ExampleGen's CustomConfig.
"""

import dataclasses
from typing import Optional

from google.protobuf import any_pb2, json_format, struct_pb2
from tfx.proto import example_gen_pb2
from tfx.utils import proto_utils

from tinyface.data.ingestion.readers import READERS

AUTO_FORMAT = "auto"


@dataclasses.dataclass(frozen=True)
class FaceIngestOptions:
    hr_size: int                     # side of the square HR crop, pixels: the trained model's (its ModelContract)
    data_format: str = AUTO_FORMAT   # a key of tinyface.data.readers.READERS, or "auto" to detect
    dataset: Optional[str] = None    # dataset name written into every example; None: the reader's
    margin: float = 0.25             # crop margin around the face box (see tinyface.data.crop)
    strict: bool = False             # fail the run on the first bad record instead of skipping it

    def __post_init__(self):
        if self.data_format != AUTO_FORMAT and self.data_format not in READERS:
            raise ValueError(f"unknown data format {self.data_format!r}; "
                             f"expected one of {', '.join([AUTO_FORMAT, *READERS])}")
        if self.hr_size < 16:
            raise ValueError(f"hr_size must be at least 16, got {self.hr_size}")
        if not 0.0 <= self.margin <= 2.0:
            raise ValueError(f"margin must be within [0, 2], got {self.margin}")

    def to_custom_config(self) -> example_gen_pb2.CustomConfig:
        struct = struct_pb2.Struct()
        struct.update({k: v for k, v in dataclasses.asdict(self).items() if v is not None})
        packed = any_pb2.Any()
        packed.Pack(struct)
        return example_gen_pb2.CustomConfig(custom_config=packed)

    @classmethod
    def from_custom_config_json(cls, custom_config_json: str) -> "FaceIngestOptions":
        """Reads the options back from the executor's `custom_config` exec property."""
        config = example_gen_pb2.CustomConfig()
        proto_utils.json_to_proto(custom_config_json, config)
        struct = struct_pb2.Struct()
        config.custom_config.Unpack(struct)
        values = json_format.MessageToDict(struct)
        if "hr_size" in values:
            values["hr_size"] = int(values["hr_size"])
        return cls(**values)
