"""Synthetic annotated faces: the renderer, its 3-D geometry and the cached demo dataset."""
