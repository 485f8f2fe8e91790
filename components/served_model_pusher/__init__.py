"""Pusher: TFX's Pusher that pushes a blessed model only when TF Serving does not serve it already."""
