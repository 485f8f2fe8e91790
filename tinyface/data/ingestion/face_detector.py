"""Finding the faces of a whole photo, for `tinyface predict`: OpenCV's frontal-face Haar cascade.

Why this detector: the cascade file ships inside the opencv-python-headless wheel
(cv2.data.haarcascades), so nothing is downloaded at run time and no weights need a licence of
their own; it runs on a CPU in milliseconds per photo and needs no TensorFlow graph of its own.
Its weakness: it was trained on upright frontal faces, so profile faces, strongly tilted heads
and faces below about 24 px are missed (give them with --box or an annotation file instead).

The cascade's square box is not the box the pipeline crops around: the 300-W training data
(iBUG .pts, tinyface.data.ingestion.crop.face_box) takes the 68 landmarks' bounding box. HAAR_TO_LANDMARK_BOX
maps one to the other so a detected face is cropped as its annotated twin would have been; it
was measured by benchmarks/detector_box_fit.py (see the constants' comment).
"""

import numpy as np

CASCADE_FILE = "haarcascade_frontalface_default.xml"
# detectMultiScale settings: 10% steps between scales, a face needs 5 overlapping hits (fewer
# gives false faces in textured backgrounds), and the cascade's own 24 px window is the minimum.
SCALE_STEP = 1.1
MIN_NEIGHBORS = 5
MIN_FACE_PX = 24

# Landmark bounding box relative to the cascade's box (x, y, side): centre offset as a share of
# the side, and width and height as a share of the side. Medians over the LFPW trainset faces
# the cascade found: on the first 400, 391 matched (98%); dx 0.004 (quartiles -0.05..0.06), so 0
# (the cascade is left-right symmetric); dy 0.159 (0.137..0.184: the square sits high, from the
# brows, and the jaw reaches below it); width 0.841 (0.795..0.896), height 0.835 (0.792..0.887).
# On the other 405 faces (held out): 394 matched, dy 0.160, width 0.856, height 0.849, and the IoU
# with the landmark box is median 0.787 (10th percentile 0.615) mapped, 0.575 (0.487) raw.
HAAR_TO_LANDMARK_BOX = {"dx": 0.0, "dy": 0.159, "width": 0.841, "height": 0.835}

_cascade = None


def _load_cascade():
    global _cascade  # one classifier per process: loading the 0.9 MB XML costs ~50 ms
    if _cascade is None:
        import cv2

        path = cv2.data.haarcascades + CASCADE_FILE
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"{path}: OpenCV could not load its frontal-face cascade")
        _cascade = cascade
    return _cascade


def haar_boxes(image):
    """The cascade's face squares in a uint8 RGB (H, W, 3) image, as (x, y, side) integer rows
    (pixels x..x+side-1), largest first."""
    import cv2

    gray = cv2.equalizeHist(cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2GRAY))
    found = _load_cascade().detectMultiScale(gray, scaleFactor=SCALE_STEP, minNeighbors=MIN_NEIGHBORS,
                                             minSize=(MIN_FACE_PX, MIN_FACE_PX))
    boxes = [(int(x), int(y), int(w)) for x, y, w, _ in np.reshape(found, (-1, 4))]
    return sorted(boxes, key=lambda box: (-box[2], box[1], box[0]))


def landmark_box(haar_box):
    """(x_min, y_min, x_max, y_max) of the face as the pipeline's landmark box, for one cascade
    square (x, y, side); the square covers [x - 0.5, x + side - 0.5) in pixel-centre coordinates."""
    x, y, side = haar_box
    cx = x - 0.5 + side / 2 + HAAR_TO_LANDMARK_BOX["dx"] * side
    cy = y - 0.5 + side / 2 + HAAR_TO_LANDMARK_BOX["dy"] * side
    half_w, half_h = HAAR_TO_LANDMARK_BOX["width"] * side / 2, HAAR_TO_LANDMARK_BOX["height"] * side / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def detect_faces(image):
    """The face boxes (x_min, y_min, x_max, y_max) of a uint8 RGB photo, largest first, in the
    pipeline's face-box convention (ready for tinyface.data.ingestion.crop)."""
    return [landmark_box(box) for box in haar_boxes(image)]
