"""Face data: ingestion/ (dataset readers, crops, face examples), synthesis/ (synthetic faces),
degradation/ (LR inputs, occluders, LR/HR pairs) over shared basics (landmarks, files, image
I/O, the tf.Example codec, heatmaps)."""
