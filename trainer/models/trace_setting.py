"""A per-thread setting that holds while a graph is traced: layers read it in call().

Some layers trace into a different, equivalent graph inside a context their module offers
(avx2_conv: half-image or GEMM-gradient convolutions; constant_slope_prelu: LeakyRelu). The
setting is thread-local so that a graph traced in one thread never sees another's context, and
contexts nest: leaving one restores the outer value.
"""

import contextlib
import threading


class TraceSetting:
    def __init__(self, default=None):
        self._local = threading.local()
        self._default = default

    @property
    def value(self):
        return getattr(self._local, "value", self._default)

    @contextlib.contextmanager
    def set_to(self, value):
        outer = self.value
        self._local.value = value
        try:
            yield
        finally:
            self._local.value = outer
