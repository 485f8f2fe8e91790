"""One line per pipeline node while LocalDagRunner works: which node, cached or run, how long.

LocalDagRunner reports its progress only as absl INFO records ("Component X is running.",
"A cached execution N is used.", "Component X is finished."), mixed with hundreds of other
INFO records of the executors. show_progress() turns exactly those three into lines such as

    [ 9/12] Trainer ............ ran in 4 min 02 s
    [10/12] latest_blessed_model resolved

and lets every warning and error through to the usual handlers, so nothing a user must see is
lost and the INFO chatter stays hidden.
"""

import contextlib
import logging
import re
import time

from tinyface import console

_RUNNING = re.compile(r"Component (?P<node>\S+) is running\.")
_FINISHED = re.compile(r"Component (?P<node>\S+) is finished\.")
_CACHED = re.compile(r"A cached execution \d+ is used\.")


class ProgressHandler(logging.Handler):
    """Writes a line per finished node to `stream` (default: the user's channel, tinyface.console);
    warnings and above go on to `forward`."""

    def __init__(self, node_ids, resolver_ids=(), stream=None, forward=None, clock=time.monotonic):
        super().__init__(level=logging.DEBUG)
        self.node_ids = list(node_ids)
        self.resolver_ids = set(resolver_ids)
        self.stream = stream
        self.forward = forward
        self.clock = clock
        self._node, self._started, self._cached = None, None, False
        self._width = max((len(n) for n in self.node_ids), default=0)

    def emit(self, record):
        if record.levelno >= logging.WARNING:
            if self.forward is not None:
                self.forward(record)
            return
        message = record.getMessage()
        running = _RUNNING.fullmatch(message)
        if running:
            self._node, self._started, self._cached = running.group("node"), self.clock(), False
        elif _CACHED.fullmatch(message):
            self._cached = True
        elif _FINISHED.fullmatch(message) and self._node is not None:
            self._write_line(self.clock() - self._started)
            self._node = None

    def _write_line(self, elapsed):
        node = self._node
        position = self.node_ids.index(node) + 1 if node in self.node_ids else 0
        if node in self.resolver_ids:
            what = "resolved"
        elif self._cached:
            what = "cached"
        else:
            what = f"ran in {console.duration_text(elapsed)}"
        count = len(self.node_ids)
        digits = len(str(count))
        line = f"[{position:>{digits}}/{count}] {node + ' ':.<{self._width + 4}} {what}"
        if self.stream is None:
            console.say(line)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()


@contextlib.contextmanager
def show_progress(tfx_pipeline, stream=None):
    """While the block runs, LocalDagRunner's progress on `tfx_pipeline` is printed to `stream`."""
    from tfx.dsl.components.common import resolver

    node_ids = [node.id for node in tfx_pipeline.components]
    resolver_ids = [node.id for node in tfx_pipeline.components if isinstance(node, resolver.Resolver)]
    from absl import logging as absl_logging

    absl_logger = logging.getLogger("absl")
    root = logging.getLogger()
    handler = ProgressHandler(node_ids, resolver_ids, stream=stream, forward=root.handle)
    saved_verbosity, saved_propagate = absl_logging.get_verbosity(), absl_logger.propagate
    # Through absl's verbosity flag, not the logger's level: TensorFlow's checkpointing sets the
    # flag to FATAL and back to its previous value, which would undo a plain setLevel mid-run.
    absl_logging.set_verbosity(absl_logging.INFO)
    absl_logger.propagate = False   # INFO chatter stops here; warnings are forwarded to root
    absl_logger.addHandler(handler)
    try:
        yield handler
    finally:
        absl_logger.removeHandler(handler)
        absl_logging.set_verbosity(saved_verbosity)
        absl_logger.propagate = saved_propagate
