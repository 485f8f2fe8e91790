"""What a storage resolver found, recorded on the artifact it outputs.

Under LocalDagRunner a Resolver that finds nothing (the first span, no model served yet) hands
its consumer an empty input, and TFX's executors skip the comparison. On Kubeflow every task
output is one artifact, so the resolvers here always output one, marked unresolved when there
was nothing to find; consumers drop such artifacts before calling TFX's executors, which then
behave exactly as with an empty input.
"""

from typing import Dict, List

from tfx import types

RESOLVED_PROPERTY = "tinyface_resolved"


def mark(artifact: types.Artifact, resolved: bool) -> None:
    artifact.set_int_custom_property(RESOLVED_PROPERTY, int(resolved))


def is_resolved(artifact: types.Artifact) -> bool:
    """False only for an artifact a storage resolver marked unresolved; others are real inputs."""
    if not artifact.has_custom_property(RESOLVED_PROPERTY):
        return True
    # Through KFP's artifact metadata the int comes back as a JSON number; TFX reads it either way.
    return artifact.get_int_custom_property(RESOLVED_PROPERTY) == 1


def without_unresolved(input_dict: Dict[str, List[types.Artifact]], key: str) -> Dict[str, List[types.Artifact]]:
    """A copy of `input_dict` whose `key` holds only resolved artifacts (possibly none)."""
    result = dict(input_dict)
    result[key] = [artifact for artifact in input_dict.get(key) or [] if is_resolved(artifact)]
    return result
