"""Input resolution for drift: the statistics of the span before the one being ingested.

TFX's LatestArtifactStrategy would hand back whichever statistics were made last; after a
run that stopped on drift, a retry of the same span would then be compared with itself and
pass. This strategy compares a span only with an older span.
"""

from tfx import v1 as tfx

EXAMPLES = "examples"
STATISTICS = "statistics"


class PreviousSpanStatisticsStrategy(tfx.dsl.experimental.ResolverStrategy):
    """{examples: [current], statistics: [...all]} -> the newest statistics of the newest
    span older than the current examples' span (none for the first span)."""

    def resolve_artifacts(self, store, input_dict):
        del store  # everything needed is in the artifacts' span properties
        current = max(input_dict[EXAMPLES], key=lambda a: a.id)
        older = [s for s in input_dict[STATISTICS] if s.span < current.span]
        baseline = max(older, key=lambda a: (a.span, a.id)) if older else None
        return {EXAMPLES: [current], STATISTICS: [baseline] if baseline else []}
