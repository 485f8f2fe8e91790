"""tinyface's trainer (tinyface.trainer): run_fn.py, the Trainer's thin module file, over
training/ (config, input pipeline, fit loops, export), losses/ and models/ (JASRNet, DIC,
DICGAN, Pro-UIGAN, their contracts and the registry).

TFX packs (and fingerprints for caching) only the top-level .py files of the module file's
folder (trainer/run_fn.py); the Trainer's cache key also holds the fingerprint of every module of
ours run_fn imports, here or in tinyface/ (pipeline/code_fingerprint.py), so any change to the
code it runs invalidates its cache, as it must.
"""
