"""Measures how OpenCV's Haar face square relates to the 68-landmark bounding box the pipeline
crops around (tinyface.data.ingestion.face_detector.HAAR_TO_LANDMARK_BOX), on real annotated faces.

    PYTHONPATH=. .venv/bin/python benchmarks/detector_box_fit.py /work/shared/data/lfpw_trainset [--start 0] [--limit 400]

For every .pts face, the cascade square that overlaps its landmark box best (IoU >= 0.3) is
matched; prints the medians (and quartiles) of the landmark box's centre offset and size in
units of the square's side, the share of faces matched, and the IoU with the landmark box of
the square mapped by the current constants and of the raw square. Training-set faces only (never 300-W tests).
"""

import argparse
import glob
import os

import numpy as np

from tinyface.data.ingestion import face_detector
from tinyface.data.image_io import load_rgb
from tinyface.data.ingestion.readers.ibug_pts import parse_pts


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--start", type=int, default=0, help="skip this many faces (e.g. to check held-out ones)")
    parser.add_argument("--limit", type=int, default=400)
    args = parser.parse_args()
    rows, faces, mapped_iou, raw_iou = [], 0, [], []
    for pts in sorted(glob.glob(os.path.join(args.folder, "*.pts")))[args.start:args.start + args.limit]:
        stem = os.path.splitext(pts)[0]
        image_path = next((stem + ext for ext in (".jpg", ".png") if os.path.exists(stem + ext)), None)
        if image_path is None:
            continue
        faces += 1
        points = parse_pts(pts) - 1.0
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        truth = (x0, y0, x1, y1)
        best = max(((_iou(truth, (x - 0.5, y - 0.5, x + s - 0.5, y + s - 0.5)), (x, y, s))
                    for x, y, s in face_detector.haar_boxes(load_rgb(image_path))), default=(0.0, None))
        if best[0] < 0.3:
            continue
        x, y, s = best[1]
        cx, cy = x - 0.5 + s / 2, y - 0.5 + s / 2
        rows.append(((x0 + x1) / 2 - cx, (y0 + y1) / 2 - cy, x1 - x0, y1 - y0) / np.float64(s))
        mapped_iou.append(_iou(truth, face_detector.landmark_box(best[1])))
        raw_iou.append(best[0])
    rows = np.array(rows)
    print(f"faces: {faces}, matched by the cascade: {len(rows)} ({len(rows) / max(faces, 1):.0%})")
    for name, column in zip(("dx", "dy", "width", "height"), rows.T):
        q1, median, q3 = np.percentile(column, [25, 50, 75])
        print(f"{name:>6s}: median {median:.3f} (quartiles {q1:.3f} .. {q3:.3f})")
    print(f"IoU of the mapped square with the landmark box (current constants): "
          f"median {np.median(mapped_iou):.3f}, 10th percentile {np.percentile(mapped_iou, 10):.3f}; "
          f"of the raw square: median {np.median(raw_iou):.3f}, 10th percentile {np.percentile(raw_iou, 10):.3f}")


if __name__ == "__main__":
    main()
