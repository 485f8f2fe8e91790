"""The feature contract: every tf.Example key, defined once and imported everywhere.

Coordinate convention for every landmark feature: (x, y) pairs flattened as
[x0, y0, x1, y1, ...], in pixels of the HR crop, 0-based, pixel centres at integers
(the pixel in column 0 covers x in [-0.5, 0.5)). `schemas/faces/schema.pbtxt` and
`schemas/pairs/schema.pbtxt` check these keys; the README lists them.
"""

# ---- Faces: written by the FaceExampleGen component (one example per face). ----
FACE_ID = "face_id"                  # bytes: stable id "<dataset>/<relative image path>#<face index>"
HR_IMAGE = "hr_image"                # bytes: PNG (lossless), RGB uint8, HR_SIZE x HR_SIZE
LANDMARKS = "landmarks"              # float[2K]: landmarks in the source scheme (see LANDMARK_SCHEME)
LANDMARK_SCHEME = "landmark_scheme"  # bytes: one of tinyface.data.landmarks.SCHEMES
LANDMARKS_68 = "landmarks68"         # float[136]: iBUG-68 landmarks where derivable (68 or 98 points)
HAS_LANDMARKS_68 = "has_landmarks68"  # int 0/1: whether LANDMARKS_68 holds real values
DATASET = "dataset"                  # bytes: source dataset name (e.g. "300w", "wflw", "synthetic")
SUBSET = "subset"                    # bytes: subset inside the dataset (folder or list name)
SOURCE_PATH = "source_path"          # bytes: image path relative to the data root
# Attributes for slicing and drift.
YAW = "yaw_deg"                      # float: yaw estimate from the landmarks, degrees (+ = face turned to its left)
POSE_BUCKET = "pose_bucket"          # bytes: frontal | semi_profile | profile
FACE_SIZE = "face_size"              # float: side of the square face box in source pixels
FACE_SIZE_BUCKET = "face_size_bucket"  # bytes: tiny | small | medium | large
BRIGHTNESS = "brightness"            # float: mean luma (BT.601) of the HR crop, 0..255
SHARPNESS = "sharpness"              # float: variance of the Laplacian of the HR crop luma
# WFLW's six attribute flags (int 0/1), written only where the source knows them.
WFLW_ATTRIBUTES = (
    "attr_pose", "attr_expression", "attr_illumination", "attr_makeup", "attr_occlusion", "attr_blur",
)

# ---- Pairs: written by the PairGen component (one example per face and scale). ----
LR_IMAGE = "lr_image"                # bytes: PNG, RGB uint8, (HR_SIZE/scale)^2
SCALE = "scale"                      # int: upscaling factor between LR_IMAGE and HR_IMAGE
HEATMAPS = "heatmaps"                # float[H*W*C]: materialized heatmaps (only when configured)
HR_PIXELS = "hr_pixels"              # int[HR*HR*3]: raw HR pixels (only when configured, for TFMA labels)
BLUR_SIGMA = "blur_sigma"            # float: Gaussian blur sigma applied before downscaling (HR pixels)
NOISE_SIGMA = "noise_sigma"          # float: Gaussian noise sigma added to the LR image (0..255 scale)
JPEG_QUALITY = "jpeg_quality"        # int: JPEG quality the LR image went through, 0 = none
OCCLUDER = "occluder"                # bytes: none | rectangle | hand | sunglasses
OCCLUDED = "occluded"                # int 0/1
DEGRADATION_SEED = "degradation_seed"  # int: seed that reproduces this example's degradation

# Features every slice spec and drift check may use (defined here so nobody re-lists them).
CATEGORICAL_SLICE_FEATURES = (DATASET, SUBSET, POSE_BUCKET, FACE_SIZE_BUCKET) + WFLW_ATTRIBUTES
DRIFT_FEATURES = (BRIGHTNESS, YAW, FACE_SIZE, SHARPNESS, POSE_BUCKET, FACE_SIZE_BUCKET)
# Slices every pair example has, whatever its dataset (WFLW's flags exist only for WFLW).
PAIR_SLICE_FEATURES = (DATASET, POSE_BUCKET, FACE_SIZE_BUCKET, OCCLUDED, SCALE)
