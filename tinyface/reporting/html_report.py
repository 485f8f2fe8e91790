"""The run report as one self-contained HTML page (inline CSS, no scripts, nothing fetched).

It shows, for one pipeline run: where and why it stopped (when a node failed), the verdict and
where the model was pushed (or the version already serving it), the evaluated model and the
training settings it uses, its training curves, the evaluation by slice as a chart and as a
table (the candidate's metrics next to the floors it must beat and, when there was one, the
baseline model's), the blessing checks that failed, the worst and best eval faces of each slice
(pictures linked by relative paths, so the report folder can be moved or served as a whole) and
the state of every node of the run.

Every metric cell carries its exact value and origin in data-* attributes (data-model,
data-metric, data-value), so the page can be checked, or scraped, without parsing the
rounded text.
"""

import dataclasses
import datetime
import html
import math
from typing import Mapping, Optional, Sequence, Tuple

from tinyface.evaluation import face_metrics as fm
from tinyface.evaluation import summary

CANDIDATE = "candidate"
BASELINE = "baseline"


@dataclasses.dataclass(frozen=True)
class Column:
    group: str       # the header cell spanning the group's columns
    title: str
    metric: str      # a face_metrics metric name
    model: str       # CANDIDATE or BASELINE: whose slice rows the value comes from


# The candidate next to its floors: each group puts the model's figure beside the floor's.
CANDIDATE_COLUMNS = (
    Column("PSNR-Y (dB)", "model", fm.PSNR_Y, CANDIDATE),
    Column("PSNR-Y (dB)", "bicubic", fm.BICUBIC_PSNR_Y, CANDIDATE),
    Column("PSNR-Y (dB)", "gain", fm.PSNR_Y_GAIN_OVER_BICUBIC, CANDIDATE),
    Column("SSIM-Y", "model", fm.SSIM_Y, CANDIDATE),
    Column("SSIM-Y", "bicubic", fm.BICUBIC_SSIM_Y, CANDIDATE),
    Column("NME", "model", fm.NME, CANDIDATE),
    Column("NME", "mean shape", fm.MEAN_SHAPE_NME, CANDIDATE),
    Column("NME", "ratio", fm.NME_RATIO_TO_MEAN_SHAPE, CANDIDATE),
    Column("failure rate", "@0.08", fm.FAILURE_RATE_008, CANDIDATE),
    Column("failure rate", "@0.10", fm.FAILURE_RATE_010, CANDIDATE),
    Column("AUC", "@0.08", fm.AUC_008, CANDIDATE),
)
# The figures the change thresholds compare, for the model the candidate had to match.
BASELINE_COLUMNS = (
    Column("baseline (last blessed model)", "PSNR-Y", fm.PSNR_Y, BASELINE),
    Column("baseline (last blessed model)", "SSIM-Y", fm.SSIM_Y, BASELINE),
    Column("baseline (last blessed model)", "NME", fm.NME, BASELINE),
)

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.fail { background: #fbd5d5; }
.verdict { font-size: 1.3em; font-weight: bold; padding: 0.4em 0.8em; display: inline-block; }
.blessed { background: #d4f4d4; } .not-blessed { background: #fbd5d5; } .no-verdict { background: #eee; }
.note { color: #555; max-width: 60em; }
img.samples { image-rendering: pixelated; width: 100%; max-width: 1064px; }
img.chart { max-width: 100%; }
.stopped { background: #fbd5d5; padding: 0.6em 1em; max-width: 60em; }
.stopped pre { white-space: pre-wrap; margin: 0.4em 0 0; }
"""
# The ReportContent fields that hold a picture's path relative to the page.
PICTURE_FIELDS = ("curves_png", "slices_png", "samples_png")


@dataclasses.dataclass(frozen=True)
class ReportContent:
    """What one report shows; None/empty where the run had no such thing."""

    run_id: str                                   # the pipeline run's id
    run_started: Optional[datetime.datetime]
    node_states: Sequence[Tuple[str, str]] = ()   # (node id, execution state)
    stopped_at: Optional[str] = None              # the node whose failure stopped the run
    stop_reason: Optional[str] = None             # its error, as the run reported it
    model_dir: Optional[str] = None               # the evaluated SavedModel
    baseline_model_dir: Optional[str] = None
    training_config: Mapping = dataclasses.field(default_factory=dict)  # the settings the model uses
    train_steps: Optional[int] = None
    evaluation: Optional[summary.Evaluation] = None
    blessed: Optional[bool] = None
    pushed_to: Optional[str] = None
    already_served: Optional[Tuple[int, str]] = None  # (version, folder) serving it: not pushed again
    curves_png: Optional[str] = None              # pictures: paths relative to the page
    slices_png: Optional[str] = None
    samples_png: Optional[str] = None
    samples_note: str = ""                        # what the grid shows
    generated: Optional[datetime.datetime] = None


def render_html(content):
    """The report page for `content`, as a string."""
    title = f"tinyface run {content.run_id}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_text(title)}</h1>",
        _run_facts(content),
        _stopped(content),
        _verdict(content),
        _model(content),
        _picture("Training curves", content.curves_png, "chart", "training curves of every loss term",
                 "Every loss term over the training steps: the training running mean (since the "
                 "last checkpoint) as a line, the validation figure at each checkpoint as dots."),
        _evaluation(content),
        _samples(content),
        _node_states(content.node_states),
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part)


def _run_facts(content):
    facts = [("pipeline run", content.run_id)]
    if content.run_started is not None:
        facts.append(("started", _time(content.run_started)))
    if content.generated is not None:
        facts.append(("report written", _time(content.generated)))
    return _key_value_table(facts)


def _stopped(content):
    if not content.stopped_at:
        return ""
    reason = f"<pre>{_text(content.stop_reason)}</pre>" if content.stop_reason else ""
    return (f'<div class="stopped"><strong>The run stopped at {_text(content.stopped_at)}</strong>: that '
            f"node failed and nothing after it ran.{reason}</div>")


def _verdict(content):
    if content.blessed is None:
        verdict = '<p class="verdict no-verdict">no verdict: this run did not evaluate a model</p>'
    elif content.blessed:
        verdict = '<p class="verdict blessed">BLESSED</p>'
    else:
        verdict = ('<p class="verdict not-blessed">NOT BLESSED</p><p class="note">A model is blessed only '
                   "if on every slice it beats bicubic by the configured PSNR-Y margin and the mean "
                   "shape's NME, and does not fall behind the last blessed model by more than the "
                   "configured margins; the checks it failed are listed under the table.</p>")
    if content.pushed_to:
        pushed = f"<p>pushed to <code>{_text(content.pushed_to)}</code></p>"
    elif content.blessed and content.already_served:
        version, folder = content.already_served
        pushed = (f"<p>not pushed: the model is already served as version {version} "
                  f"(<code>{_text(folder)}</code>)</p>")
    elif content.blessed is not None:
        pushed = "<p>not pushed (only a blessed model is pushed)</p>"
    else:
        pushed = ""
    return "<h2>Verdict</h2>" + verdict + pushed


def _model(content):
    if content.model_dir is None:
        return ""
    facts = [("SavedModel", content.model_dir)]
    if content.baseline_model_dir:
        facts.append(("baseline SavedModel", content.baseline_model_dir))
    if content.train_steps is not None:
        facts.append(("training steps", str(content.train_steps)))
    facts.extend(_flatten(content.training_config))
    return ('<h2>Model</h2><p class="note">The training settings this model uses.</p>'
            + _key_value_table(facts))


def _flatten(mapping, prefix=""):
    """(dotted key, value text) of a nested settings mapping, in its own order."""
    items = []
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            items.extend(_flatten(value, f"{prefix}{key}."))
        else:
            items.append((f"{prefix}{key}", str(value)))
    return items


def _evaluation(content):
    evaluation = content.evaluation
    if evaluation is None:
        return "<h2>Evaluation</h2><p>This run produced no model evaluation (see the node states below).</p>"
    chart = _picture(None, content.slices_png, "chart", "PSNR-Y gain and NME by slice against the floors",
                     "By slice, the model's PSNR-Y gain over bicubic and its NME (bars; red: failed a "
                     "blessing check) against the floors (the minimum gain; the mean shape's NME) and, "
                     "when there was one, the last blessed model (diamonds).")
    columns = CANDIDATE_COLUMNS + (BASELINE_COLUMNS if evaluation.baseline is not None else ())
    rows = {CANDIDATE: {row.key: row for row in evaluation.candidate},
            BASELINE: {row.key: row for row in evaluation.baseline or ()}}
    failed = {}
    for check in evaluation.failed_checks:
        # A change threshold on psnr_y or nme fails the candidate's own figure: mark that cell.
        failed.setdefault((check.slice_key, check.metric), []).append(_check_text(check))

    groups = []
    for column in columns:
        if groups and groups[-1][0] == column.group:
            groups[-1][1] += 1
        else:
            groups.append([column.group, 1])
    header = ('<tr><th rowspan="2">slice</th>'
              + "".join(f'<th colspan="{span}">{_text(group)}</th>' for group, span in groups) + "</tr>"
              + "<tr>" + "".join(f"<th>{_text(column.title)}</th>" for column in columns) + "</tr>")
    body = []
    for row in evaluation.candidate:
        cells = []
        for column in columns:
            source = rows[column.model].get(row.key)
            value = source.value(column.metric) if source is not None else math.nan
            failures = failed.get((row.key, column.metric)) if column.model == CANDIDATE else None
            css = "number fail" if failures else "number"
            tooltip = f' title="{_text("; ".join(failures))}"' if failures else ""
            cells.append(f'<td class="{css}" data-model="{column.model}" data-metric="{_text(column.metric)}" '
                         f'data-value="{value!r}"{tooltip}>{_number(value)}</td>')
        body.append(f'<tr data-slice="{_text(row.name)}"><th>{_text(row.name)}</th>{"".join(cells)}</tr>')
    note = ('<p class="note">On the eval split, per slice: PSNR and SSIM on the Y channel with '
            "the upscaling factor's pixels shaved from each border, averaged over the images; NME "
            "normalised by the outer eye corners. The floors are computed on the same examples: "
            "bicubic upsampling of the LR input, and the slice's mean shape predicted for every face. "
            "Red cells failed a blessing check (hover for the requirement).</p>")
    return ("<h2>Evaluation</h2>" + chart + note + "<table>" + header + "".join(body) + "</table>"
            + _failed_checks(evaluation))


def _failed_checks(evaluation):
    if not evaluation.failed_checks:
        return "<p>Every blessing check passed.</p>" if evaluation.validation_ok else ""
    rows = "".join(
        f'<tr><td>{_text(check.slice_name)}</td><td>{_text(check.metric)}</td>'
        f'<td>{"change vs baseline" if check.against_baseline else "value"}</td>'
        f'<td class="number">{_number(check.value)}</td><td>{_text(check.requirement)}</td></tr>'
        for check in evaluation.failed_checks)
    return ("<h3>Failed blessing checks</h3><table><tr><th>slice</th><th>metric</th><th>checked</th>"
            f"<th>value</th><th>required</th></tr>{rows}</table>")


def _check_text(check):
    kind = "change vs baseline" if check.against_baseline else check.metric
    return f"{kind} {_number(check.value)}, required {check.requirement}"


def _samples(content):
    return _picture("Eval faces", content.samples_png, "samples", "eval faces: LR, bicubic, SR, HR",
                    content.samples_note)


def _picture(title, path, css_class, alt, note):
    """A picture (linked to itself, full size) under an optional heading, with its note."""
    if not path:
        return ""
    heading = f"<h2>{_text(title)}</h2>" if title else ""
    note = f'<p class="note">{_text(note)}</p>' if note else ""
    return (f'{heading}{note}<a href="{_text(path)}">'
            f'<img class="{css_class}" src="{_text(path)}" alt="{_text(alt)}"></a>')


def _node_states(node_states):
    if not node_states:
        return ""
    return "<h2>Pipeline run</h2>" + _key_value_table([(node or "?", state) for node, state in node_states])


def _key_value_table(pairs):
    rows = "".join(f"<tr><th>{_text(key)}</th><td>{_text(value)}</td></tr>" for key, value in pairs)
    return f"<table>{rows}</table>"


def _number(value):
    return f"{value:.4f}" if math.isfinite(value) else str(value)


def _time(moment):
    return moment.astimezone().isoformat(timespec="seconds")


def _text(value):
    return html.escape(str(value), quote=True)
