"""An annotated dataset folder -> pair tf.Examples, in one process, as the pipeline makes them.

The same steps as FaceExampleGen then PairGen (tinyface/beam/ingest.py, tinyface/beam/pairs.py),
in their order and through their functions: the format's reader, face_example (load, check,
crop, measure), serialization, example_codec.from_example, pairs.make_pairs (degradation seeded
per face id), serialization. `tinyface evaluate` scores these examples, so they are the ones the
Evaluator would see for the same folder and settings; no Beam, so a few hundred faces take
seconds.
"""

from tinyface.data import example_codec
from tinyface.data.ingestion import face_example
from tinyface.data.degradation import pairs
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers import get_reader
from tinyface.data.ingestion.readers.detect import detect_format

AUTO_FORMAT = "auto"


def resolve_format(root, data_format=None):
    """The reader name for `root`: `data_format` unless None or "auto", else the detected one."""
    return detect_format(root) if data_format in (None, AUTO_FORMAT) else get_reader(data_format).name


def face_pairs(root, data_format=None, dataset=None, hr_size=128, margin=0.25, pair_config=pairs.PairConfig()):
    """Yields, per face of the folder, the list of its serialized pair examples (one per scale),
    and a BadInput per bad record (yielded, never raised, as the readers do)."""
    reader = get_reader(resolve_format(root, data_format))
    for item in reader.parse_root(root, dataset):
        if isinstance(item, BadInput):
            yield item
            continue
        try:
            face = face_example.face_example(item, hr_size=hr_size, margin=margin)
        except BadInput as bad:
            yield bad
            continue
        face = example_codec.from_example(face.SerializeToString(deterministic=True))
        yield [example_codec.to_example(pair).SerializeToString(deterministic=True)
               for pair in pairs.make_pairs(face, pair_config)]
