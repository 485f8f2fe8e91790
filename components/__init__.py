"""tinyface's custom TFX components: each is spec.py / component.py / a thin executor.py
over a pure Beam or numpy module in `tinyface/` that is tested on its own."""
