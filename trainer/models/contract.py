"""What a model takes and gives, stated once: HR and LR sizes, scale, and its heatmap codec.

Each model preset has one contract (tinyface.trainer.models.registry.model_contract); pair generation's
heatmaps, the input pipeline's targets, the losses, the export and its landmark decoding, the
ingest crop size and the run config's checks all read it from there, so no second copy of
these numbers can drift from the model that is trained.

The heatmap codec is a pair of inverse functions (as MMPose's codecs): encode renders landmarks
(HR pixels) as the model's target heatmaps (tinyface.data.heatmaps), decode turns heatmaps of
that grid back into landmarks in HR pixels (tinyface.trainer.models.landmark_decoding).
"""

import dataclasses

from tinyface.data.heatmaps import HeatmapSpec, render_heatmaps
from tinyface.trainer.models.landmark_decoding import REFINED_ARGMAX, decode_landmarks


@dataclasses.dataclass(frozen=True)
class ModelContract:
    hr_size: int             # side of the HR face (SR output, ingest crop), pixels
    scale: int               # upscaling factor: the LR input side is hr_size / scale
    heatmaps: HeatmapSpec    # the grid, sigma and background channel of its heatmaps
    num_landmarks: int = 68

    def __post_init__(self):
        for name in ("hr_size", "scale", "num_landmarks"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.hr_size % self.scale:
            raise ValueError(f"hr_size {self.hr_size} is not a multiple of scale {self.scale}")

    @property
    def lr_size(self):
        return self.hr_size // self.scale

    def encode(self, landmarks):
        """(..., K, 2) landmarks in HR pixels -> (..., size, size, channels) target heatmaps."""
        return render_heatmaps(landmarks, self.hr_size, self.heatmaps)

    def decode(self, heatmaps, method=REFINED_ARGMAX, beta=1.0):
        """(B, size, size, channels) heatmaps -> (B, num_landmarks, 2) landmarks in HR pixels
        (tinyface.trainer.models.landmark_decoding.decode_landmarks; a background channel is dropped)."""
        return decode_landmarks(heatmaps, self.hr_size, self.num_landmarks, method=method, beta=beta)
