"""Names of the exported SavedModel's signatures and their inputs/outputs, defined once for
the trainer's export, the evaluator, `tinyface predict` and the TF Serving client."""

SERVING_DEFAULT = "serving_default"          # batch of uint8 LR images -> SR, landmarks, heatmaps
TF_EXAMPLE_SIGNATURE = "serve_tf_examples"   # serialized tf.Example (pairs) -> the same outputs

LR_IMAGES_INPUT = "lr_images"                # uint8 (N, lr, lr, 3)
EXAMPLES_INPUT = "examples"                  # string (N,)

SR_IMAGE_OUTPUT = "sr_image"                 # uint8 (N, hr, hr, 3)
LANDMARKS_OUTPUT = "landmarks"               # float32 (N, 68, 2), HR pixels, 0-based
HEATMAPS_OUTPUT = "heatmaps"                 # float32 (N, h, w, C)
