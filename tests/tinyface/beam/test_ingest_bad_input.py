"""The bad-input corpus through Beam ingestion (ReadFaces + SummarizeIngestion, DirectRunner).

One pipeline reads the whole corpus (a ReadFaces per format, over the folder of all its
cases); messages and faces are then told apart by case folder. Each bad record must be counted under its reason and skipped, the good face
beside it must become an example, the summary must be written (a bad record never stops the
run), and strict mode must stop with that record's line.
"""

import json
import shutil

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from tinyface import features
from tinyface.beam.ingest import ReadFaces, SummarizeIngestion, run_ingestion
from tinyface.data.errors import display_path
from tinyface.data.ingestion.ingestion_summary import IngestionSummary


@pytest.fixture(scope="module")
def summaries(bad_input_corpus, tmp_path_factory):
    """{case name: IngestionSummary} from one pipeline with one ReadFaces per format, over the
    folder holding every case of that format (a branch per case would take minutes to start)."""
    out = tmp_path_factory.mktemp("bad-input-summaries")
    options = PipelineOptions(["--direct_running_mode=in_memory"])
    with beam.Pipeline(options=options) as pipeline:
        for data_format in bad_input_corpus.formats():
            outputs = pipeline | f"{data_format}/ReadFaces" >> ReadFaces(
                str(bad_input_corpus.root / data_format), data_format)
            _ = outputs | f"{data_format}/Summarize" >> SummarizeIngestion(str(out / f"{data_format}.json"))
            _ = (outputs["examples"]
                 | f"{data_format}/CaseOfFace" >> beam.Map(_case_of_example)
                 | f"{data_format}/FacesPerCase" >> beam.combiners.Count.PerElement()
                 | f"{data_format}/ToJson" >> beam.Map(json.dumps)
                 | f"{data_format}/WriteCounts" >> beam.io.WriteToText(str(out / f"{data_format}-faces"),
                                                                        shard_name_template=""))
    result = {}
    for data_format in bad_input_corpus.formats():
        with open(out / f"{data_format}.json") as f:
            summary = IngestionSummary.from_json(f.read())
        with open(out / f"{data_format}-faces") as f:
            faces = dict(json.loads(line) for line in f)
        assert summary.faces_read == sum(faces.values())
        cases = bad_input_corpus.cases(data_format)
        for case in cases:
            prefix = display_path(bad_input_corpus.folder(case)) + "/"
            messages = [message for message in summary.skipped if message.startswith(prefix)]
            result[case.name] = IngestionSummary.from_messages(faces.get(case.name, 0), messages)
        assert sum(result[case.name].faces_skipped for case in cases) == summary.faces_skipped
    return result


def _case_of_example(example):
    # source_path is relative to the format's folder: "<case name>/<file>".
    return example.features.feature[features.SOURCE_PATH].bytes_list.value[0].decode().split("/")[0]


def test_each_case_is_counted_under_its_reason_and_the_good_faces_are_kept(bad_case, bad_input_corpus, summaries):
    summary = summaries[bad_case.name]
    assert summary.skipped == [bad_input_corpus.expected[bad_case.name]]
    assert summary.skipped_by_reason == {bad_case.reason: 1}
    assert summary.faces_read == bad_case.good_faces


def test_strict_mode_stops_on_that_line(bad_case, bad_input_corpus, summaries, bad_input):
    expected = bad_input_corpus.expected[bad_case.name]
    assert summaries[bad_case.name].strict_failure() == expected + bad_input.STRICT_SUFFIX


def test_good_data_has_no_strict_failure():
    assert IngestionSummary(faces_read=3, skipped=[]).strict_failure() is None


def test_names_that_are_not_utf8_survive_a_runner_that_encodes_every_element(bad_input_corpus, tmp_path):
    # The in-memory runner passes Python objects; a multi-process one encodes each element
    # with its coder (as Dataflow does), where a file name of lone surrogates would fail.
    names = ("non_utf8_pts_name", "non_utf8_image_name")
    for name in names:
        shutil.copytree(bad_input_corpus.root / "300w" / name, tmp_path / "data" / name)
    _, summary = run_ingestion(str(tmp_path / "data"), "300w", str(tmp_path / "out"),
                               beam_args=["--direct_running_mode=multi_processing", "--direct_num_workers=1"])
    expected = [bad_input_corpus.expected[name].replace(str(bad_input_corpus.root / "300w"), str(tmp_path / "data"))
                for name in names]
    assert summary.skipped == sorted(expected)
    assert summary.faces_read == 2
