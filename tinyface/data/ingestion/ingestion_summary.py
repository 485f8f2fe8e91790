"""What one ingestion read and what it skipped, and why: part of every data report."""

import collections
import dataclasses
import json
from typing import Dict, List

from tinyface.data.errors import BadInput

FILE_NAME = "ingestion_summary.json"


@dataclasses.dataclass
class IngestionSummary:
    faces_read: int
    skipped: List[str]  # one-line "path:line: problem" messages, sorted

    @property
    def faces_skipped(self):
        return len(self.skipped)

    @property
    def skipped_by_reason(self) -> Dict[str, int]:
        """Counts of skipped faces grouped by problem (the message after 'path[:line]: ')."""
        reasons = collections.Counter()
        for message in self.skipped:
            reasons[_problem_of(message)] += 1
        return dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))

    def strict_failure(self):
        """The one-line reason a strict run stops (None when nothing was skipped): the first
        bad record, in sorted order so the same data always names the same record."""
        if not self.skipped:
            return None
        return f"{self.skipped[0]} (strict mode: the run stops on the first bad record)"

    @classmethod
    def from_messages(cls, faces_read, messages):
        return cls(faces_read=int(faces_read), skipped=sorted(messages))

    def to_json(self):
        return json.dumps({
            "faces_read": self.faces_read,
            "faces_skipped": self.faces_skipped,
            "skipped_by_reason": self.skipped_by_reason,
            "skipped": self.skipped,
        }, indent=2)

    @classmethod
    def from_json(cls, text):
        data = json.loads(text)
        return cls(faces_read=data["faces_read"], skipped=list(data["skipped"]))


def _problem_of(message):
    # Messages are "path: problem" or "path:line: problem"; group by the problem's kind,
    # i.e. its text before any detail after a colon ("expected 68 points, found 12").
    problem = message.split(": ", 1)[1] if ": " in message else message
    return BadInput("", problem).reason
