"""What a dataset reader yields: one annotated face in its source image, before cropping."""

import dataclasses
from typing import Dict, Optional, Tuple

import numpy as np


@dataclasses.dataclass
class FaceAnnotation:
    image_path: str        # absolute path of the source image
    relative_path: str     # image path relative to the data root ('/' separated): part of the id
    face_index: int        # index of this face among the faces of that image
    landmarks: np.ndarray  # (K, 2) float64, source-image pixels, 0-based
    scheme: str            # tinyface.data.landmarks.SCHEMES
    dataset: str           # source dataset name
    subset: str = "all"    # subset within the dataset
    # x_min, y_min, x_max, y_max in the landmarks' frame (pixel centres at integers): a box given as
    # first pixel + width (dlib, CelebA) covers [first - 0.5, first + width - 0.5].
    box: Optional[Tuple[float, float, float, float]] = None
    attributes: Dict[str, int] = dataclasses.field(default_factory=dict)  # e.g. WFLW flags
    origin: str = ""       # "annotation_file:line" this face came from, for error messages

    @property
    def face_id(self):
        return f"{self.dataset}/{self.relative_path}#{self.face_index}"

    def origin_file_and_line(self):
        """(annotation file, line or None) from the "file:line" origin the reader recorded."""
        if not self.origin:
            return self.image_path, None
        head, _, tail = self.origin.rpartition(":")
        if head and tail.isdigit():
            return head, int(tail)
        return self.origin, None
