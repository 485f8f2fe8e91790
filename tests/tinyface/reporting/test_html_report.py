"""tinyface.reporting.html_report on a real TFMA evaluation (the exported untrained model against
itself as baseline): every slice, every value as TFMA stored it, the verdict and the failures."""

import datetime
import html.parser

import pytest
import tensorflow_model_analysis as tfma

from tinyface.evaluation import face_metrics, summary
from tinyface.reporting import html_report

STARTED = datetime.datetime(2026, 11, 21, 22, 23, 56, tzinfo=datetime.timezone.utc)


class _Cells(html.parser.HTMLParser):
    """Collects the metric cells: {(slice, model, metric): (data-value, text, css class)}."""

    def __init__(self):
        super().__init__()
        self.cells, self.text = {}, []
        self._slice, self._cell = None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-slice" in attrs:
            self._slice = attrs["data-slice"]
        if tag == "td" and "data-metric" in attrs:
            self._cell = (self._slice, attrs["data-model"], attrs["data-metric"], attrs["data-value"], attrs["class"])

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            slice_name, model, metric, value, css = self._cell
            self.cells[(slice_name, model, metric)] = (value, data, css)
            self._cell = None


def _parse(page):
    parser = _Cells()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def evaluation(tfma_eval_output):
    return summary.load_evaluation(tfma_eval_output)


def _content(evaluation, **changes):
    values = dict(run_id="2026-11-21T22:23:56.448596", run_started=STARTED,
                  node_states=[("Trainer", "COMPLETE"), ("Evaluator", "COMPLETE")],
                  model_dir="/models/candidate", baseline_model_dir="/models/baseline",
                  training_config={"training_config": {"model": "jasrnet", "model_size": "small"}},
                  train_steps=1000, evaluation=evaluation, blessed=False, samples_png="samples.png")
    values.update(changes)
    return html_report.ReportContent(**values)


def test_every_slice_and_value_is_tfmas(evaluation, tfma_eval_output):
    cells = _parse(html_report.render_html(_content(evaluation))).cells
    for model in (tfma.CANDIDATE_KEY, tfma.BASELINE_KEY):
        # Straight from TFMA, not through summary: the page must hold what the Evaluator wrote.
        result = tfma.load_eval_result(tfma_eval_output, model_name=model)
        assert result.slicing_metrics
        page_model = html_report.CANDIDATE if model == tfma.CANDIDATE_KEY else html_report.BASELINE
        columns = [c for c in html_report.CANDIDATE_COLUMNS + html_report.BASELINE_COLUMNS if c.model == page_model]
        for slice_key, by_output in result.slicing_metrics:
            stored = by_output[""][""]
            for column in columns:
                value, text, _ = cells[(summary.slice_name(slice_key), page_model, column.metric)]
                # repr: exact, and NaN (which TFMA stores as "NaN") compares equal to itself.
                assert value == repr(float(stored[column.metric]["doubleValue"]))
                assert text == f"{float(value):.4f}"
    slices = {key[0] for key in cells}
    assert summary.OVERALL in slices and any(name.startswith("pose_bucket=") for name in slices)
    assert len(cells) == len(slices) * (len(html_report.CANDIDATE_COLUMNS) + len(html_report.BASELINE_COLUMNS))


def test_failed_checks_are_marked_and_listed(evaluation):
    assert evaluation.failed_checks and not evaluation.validation_ok   # the untrained model fails the floors
    page = html_report.render_html(_content(evaluation))
    cells = _parse(page).cells
    failed = {(check.slice_name, check.metric) for check in evaluation.failed_checks}
    assert (summary.OVERALL, face_metrics.PSNR_Y_GAIN_OVER_BICUBIC) in failed
    for (slice_name, model, metric), (_, _, css) in cells.items():
        assert ("fail" in css.split()) == (model == html_report.CANDIDATE and (slice_name, metric) in failed)
    assert "Failed blessing checks" in page


def test_verdict_push_and_model_facts():
    text = "".join(_parse(html_report.render_html(_content(None, blessed=False))).text)
    assert "NOT BLESSED" in text and "not pushed" in text
    text = "".join(_parse(html_report.render_html(_content(None, blessed=True, pushed_to="/serving/tinyface/7"))).text)
    assert "BLESSED" in text and "NOT BLESSED" not in text and "pushed to /serving/tinyface/7" in text
    assert "/models/candidate" in text and "/models/baseline" in text and "training_config.model" in text
    assert "jasrnet" in text and "Evaluator" in text


def test_page_links_the_picture_by_its_relative_path(evaluation):
    page = html_report.render_html(_content(evaluation, samples_png="2026-11-21T22-23-56/samples.png"))
    assert '<img class="samples" src="2026-11-21T22-23-56/samples.png"' in page
    assert "<img" not in html_report.render_html(_content(evaluation, samples_png=None))


def test_a_run_without_evaluation_says_so():
    page = html_report.render_html(_content(None, blessed=None, model_dir=None, samples_png=None,
                                            node_states=[("DataGate", "FAILED")]))
    text = "".join(_parse(page).text)
    assert "produced no model evaluation" in text and "no verdict" in text
    assert "DataGate" in text and "FAILED" in text and "<td class=\"number" not in page


def test_text_is_escaped():
    page = html_report.render_html(_content(None, run_id="<run&1>", node_states=[("<node>", "COMPLETE")]))
    assert "<run&1>" not in page and "&lt;run&amp;1&gt;" in page and "&lt;node&gt;" in page
