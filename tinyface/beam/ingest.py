"""Beam: a face dataset on disk -> serialized tf.Examples (one per face) + the bad records.

Work is spread in two stages so both parallelise: annotation files are parsed in parallel
(one WFLW list may hold thousands of faces), then faces are grouped by image and landmarks
(which drops duplicate faces and spreads image decoding and cropping over workers too).
Every bad record becomes a `BadInput` on a side output; nothing bad is written silently, and
the caller decides whether bad records are fatal.
"""

import os

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from tinyface.data.ingestion import face_example
from tinyface.data.ingestion.duplicates import duplicate_key, split_duplicates
from tinyface.data.errors import BadInput
from tinyface.data.ingestion.readers import get_reader
from tinyface.data.ingestion.ingestion_summary import IngestionSummary

BAD = "bad"


class _ParseAnnotationFile(beam.DoFn):
    def __init__(self, reader_name, root, dataset):
        self._reader_name = reader_name
        self._root = root
        self._dataset = dataset

    def setup(self):
        self._reader = get_reader(self._reader_name)

    def process(self, unit):
        # Units travel as bytes: a file name that is not UTF-8 must not fail Beam's str coder.
        for item in self._reader.parse_unit(self._root, os.fsdecode(unit), self._dataset):
            if isinstance(item, BadInput):
                beam.metrics.Metrics.counter("tinyface", "bad_annotations").inc()
                yield beam.pvalue.TaggedOutput(BAD, item)
            else:
                yield item


class _DropDuplicates(beam.DoFn):
    def process(self, keyed_group):
        _, annotations = keyed_group
        kept, repeats = split_duplicates(list(annotations))
        for bad in repeats:
            beam.metrics.Metrics.counter("tinyface", "duplicate_faces").inc()
            yield beam.pvalue.TaggedOutput(BAD, bad)
        yield kept


class _FaceToExample(beam.DoFn):
    def __init__(self, hr_size, margin):
        self._hr_size = hr_size
        self._margin = margin

    def process(self, annotation):
        try:
            example = face_example.face_example(annotation, hr_size=self._hr_size, margin=self._margin)
        except BadInput as bad:
            beam.metrics.Metrics.counter("tinyface", "bad_faces").inc()
            yield beam.pvalue.TaggedOutput(BAD, bad)
            return
        beam.metrics.Metrics.counter("tinyface", "faces").inc()
        # Kept a tf.train.Example (not bytes): ExampleGen's split-by-feature reads its fields.
        yield example


@beam.ptransform_fn
def ReadFaces(pipeline, root, data_format, dataset=None, hr_size=128, margin=0.25):  # pylint: disable=invalid-name
    """Returns {"examples": tf.train.Example protos, "bad": BadInput records}.

    `root` is the folder of one span; `data_format` a key of tinyface.data.ingestion.readers.READERS.
    Listing the annotation files happens at construction time, so an empty or missing
    folder fails before any worker starts (with a BadInput naming the folder).
    """
    reader = get_reader(data_format)
    units = reader.list_units(root)
    dataset = dataset or reader.default_dataset
    parsed = (
        pipeline
        | "ListAnnotationFiles" >> beam.Create([os.fsencode(unit) for unit in units])
        | "ParseAnnotations" >> beam.ParDo(_ParseAnnotationFile(data_format, root, dataset)).with_outputs(
            BAD, main="faces")
    )
    unique = (
        parsed.faces
        | "KeyByImageAndLandmarks" >> beam.Map(lambda annotation: (duplicate_key(annotation), annotation))
        | "GroupDuplicates" >> beam.GroupByKey()
        | "DropDuplicates" >> beam.ParDo(_DropDuplicates()).with_outputs(BAD, main="faces")
    )
    converted = (
        unique.faces
        | "CropAndEncode" >> beam.ParDo(_FaceToExample(hr_size, margin)).with_outputs(BAD, main="examples")
    )
    bad = (parsed.bad, unique.bad, converted.bad) | "AllBadRecords" >> beam.Flatten()
    return {"examples": converted.examples, "bad": bad}


@beam.ptransform_fn
def SummarizeIngestion(outputs, report_path):  # pylint: disable=invalid-name
    """Writes the IngestionSummary of ReadFaces' outputs as JSON to `report_path`."""
    num_faces = outputs["examples"] | "CountFaces" >> beam.combiners.Count.Globally()
    bad_messages = (
        outputs["bad"]
        | "BadToMessage" >> beam.Map(str)
        | "CollectBad" >> beam.combiners.ToList()
    )
    return (
        num_faces
        | "Summarize" >> beam.Map(
            lambda n, bad: IngestionSummary.from_messages(n, bad).to_json(),
            bad=beam.pvalue.AsSingleton(bad_messages))
        | "WriteSummary" >> beam.io.WriteToText(report_path, shard_name_template="")
    )


def run_ingestion(root, data_format, output_dir, dataset=None, hr_size=128, margin=0.25, beam_args=None):
    """Runs ReadFaces in its own Beam pipeline (outside TFX, e.g. for `tinyface validate`).

    Writes output_dir/faces-*.tfrecord.gz and the summary JSON; returns
    (examples file pattern, IngestionSummary).
    """
    summary_path = os.path.join(output_dir, "ingestion_summary.json")
    prefix = os.path.join(output_dir, "faces")
    options = PipelineOptions(beam_args or ["--direct_running_mode=in_memory"])
    with beam.Pipeline(options=options) as pipeline:
        outputs = pipeline | "ReadFaces" >> ReadFaces(root, data_format, dataset, hr_size, margin)
        _ = (outputs["examples"]
             | "Serialize" >> beam.Map(lambda example: example.SerializeToString(deterministic=True))
             | "Write" >> beam.io.WriteToTFRecord(prefix, file_name_suffix=".tfrecord.gz"))
        _ = outputs | "SummarizeIngestion" >> SummarizeIngestion(summary_path)
    with open(summary_path) as f:
        return prefix + "*.tfrecord.gz", IngestionSummary.from_json(f.read())
