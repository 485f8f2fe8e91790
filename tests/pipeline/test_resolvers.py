from tfx.types import standard_artifacts

from tinyface.pipeline.resolvers import EXAMPLES, STATISTICS, PreviousSpanStatisticsStrategy


def _artifact(cls, artifact_id, span):
    artifact = cls()
    artifact.id = artifact_id
    artifact.span = span
    return artifact


def test_baseline_is_newest_statistics_of_the_newest_older_span():
    examples = _artifact(standard_artifacts.Examples, 10, span=3)
    stats = [
        _artifact(standard_artifacts.ExampleStatistics, 1, span=1),
        _artifact(standard_artifacts.ExampleStatistics, 2, span=2),
        _artifact(standard_artifacts.ExampleStatistics, 5, span=2),   # a re-run of span 2
        _artifact(standard_artifacts.ExampleStatistics, 7, span=3),   # the same span: never its own baseline
    ]
    resolved = PreviousSpanStatisticsStrategy().resolve_artifacts(None, {EXAMPLES: [examples], STATISTICS: stats})
    assert [a.id for a in resolved[STATISTICS]] == [5]
    assert resolved[EXAMPLES] == [examples]


def test_first_span_has_no_baseline():
    examples = _artifact(standard_artifacts.Examples, 10, span=0)
    stats = [_artifact(standard_artifacts.ExampleStatistics, 7, span=0)]
    resolved = PreviousSpanStatisticsStrategy().resolve_artifacts(None, {EXAMPLES: [examples], STATISTICS: stats})
    assert resolved[STATISTICS] == []
