"""Beam: face tf.Examples -> LR/HR pair tf.Examples (one per face and scale)."""

import apache_beam as beam

from tinyface.data import example_codec
from tinyface.data.degradation import pairs


class _MakePairs(beam.DoFn):
    def __init__(self, config: pairs.PairConfig):
        self._config = config

    def process(self, serialized_face):
        face = example_codec.from_example(serialized_face)
        for pair in pairs.make_pairs(face, self._config):
            beam.metrics.Metrics.counter("tinyface", "pairs").inc()
            yield example_codec.to_example(pair).SerializeToString(deterministic=True)


@beam.ptransform_fn
def MakePairs(faces, config: pairs.PairConfig):  # pylint: disable=invalid-name
    """Serialized face examples -> serialized pair examples, reproducible per face id."""
    return faces | "MakePairs" >> beam.ParDo(_MakePairs(config))
