"""The progress lines of `tinyface run`, from LocalDagRunner's own log records."""

import io
import logging

from tinyface.pipeline.progress import ProgressHandler


def _record(message, level=logging.INFO):
    return logging.LogRecord("absl", level, __file__, 1, message, None, None)


class _Clock:
    def __init__(self, *times):
        self.times = list(times)

    def __call__(self):
        return self.times.pop(0)


def test_one_line_per_node_with_time_cache_and_resolver():
    stream, forwarded = io.StringIO(), []
    handler = ProgressHandler(["FaceExampleGen", "previous_span", "Trainer"], resolver_ids=["previous_span"],
                              stream=stream, forward=forwarded.append, clock=_Clock(0.0, 2.0, 10.0, 10.5, 20.0, 265.0))
    for message in ["Component FaceExampleGen is running.", "A cached execution 7 is used.",
                    "Component FaceExampleGen is finished.",
                    "Component previous_span is running.", "Component previous_span is finished.",
                    "Component Trainer is running.", "Going to run a new execution 9",
                    "Component Trainer is finished."]:
        handler.emit(_record(message))
    lines = stream.getvalue().splitlines()
    assert lines == ["[1/3] FaceExampleGen ... cached",
                     "[2/3] previous_span .... resolved",
                     "[3/3] Trainer .......... ran in 4 min 05 s"]
    assert forwarded == []


def test_warnings_are_forwarded_and_info_chatter_is_dropped():
    stream, forwarded = io.StringIO(), []
    handler = ProgressHandler(["Trainer"], stream=stream, forward=forwarded.append, clock=_Clock(0.0, 1.0))
    warning = _record("something a user must see", logging.WARNING)
    handler.emit(_record("Resolved inputs: ..."))
    handler.emit(warning)
    assert stream.getvalue() == ""
    assert forwarded == [warning]
