"""Heatmaps -> landmark coordinates in HR pixels (0-based, pixel centres at integers), sub-pixel.

The inverse of tinyface.data.heatmaps.render_heatmaps: a peak at grid position u (cell centres
at integers) is the HR coordinate x = (u + 0.5) * hr_size / size - 0.5.

Two decoders, both per channel:

* "refined_argmax" (evaluation): the argmax cell, refined by fitting a parabola to the *log*
  of the heatmap through three cells along x (in the argmax row) and three along y (in the
  argmax column). The renderer's maps are separable Gaussians, whose log is exactly quadratic,
  so the vertex of that parabola is the true centre for any sigma and any peak height. (The
  HRNet/DIC quarter-cell shift is off by up to a quarter cell, i.e. 1 HR px on DIC's 32x32
  grid and 2 px on JASRNet's 16x16 one; a parabola on the raw values is biased too.) At the
  grid border the three cells are shifted inwards, which stays exact for a Gaussian, so
  landmarks on the face-crop edge decode as well as central ones. Not differentiable in the
  peak position (argmax picks the cells).

* "soft_argmax" (training, differentiable): the expected cell position under
  softmax(beta * log h) over the whole map, i.e. weights proportional to h ** beta. The
  softmax runs on log h rather than on h because the renderer's maps are 0 away from the peak:
  softmax(beta * h) puts weight exp(0) on each of the 1024 background cells of a 32x32 map
  against exp(beta) on the few peak cells, and no beta both suppresses that background and
  keeps DIC's sigma-1 peak wider than a cell (needed for an unbiased expectation on a grid).
  With log h, h ** beta of a Gaussian with sigma s is again a Gaussian with sigma
  s / sqrt(beta) and zero background; soft_argmax_beta() picks beta for a chosen width.
  The expectation is biased towards the grid interior when that Gaussian is cut by the grid
  border (landmarks within ~2 widths of the border), which is the price of differentiability.

Inputs may be bfloat16 (mixed precision); all arithmetic is float32. Graph-mode safe.
"""

import tensorflow as tf

REFINED_ARGMAX = "refined_argmax"
SOFT_ARGMAX = "soft_argmax"
METHODS = (REFINED_ARGMAX, SOFT_ARGMAX)

# Floor before taking logs: rendered maps underflow to 0 far from the peak and predicted maps
# can be <= 0. log(1e-12) = -27.6 is far below any real peak neighbourhood.
_LOG_FLOOR = 1e-12

# The refinement may move a landmark at most this many cells from its argmax cell. Interior
# fits cannot leave +-0.5 cell (the centre cell is the maximum); only border fits of a landmark
# outside the grid can go further, and a flat, noisy map must not throw them arbitrarily far.
# 1.5 cells still decodes points up to 1 cell outside the grid (4 px DIC, 8 px JASRNet) exactly.
_MAX_REFINEMENT_CELLS = 1.5


def soft_argmax_beta(sigma, width=1.0):
    """The beta that turns a Gaussian heatmap of `sigma` cells into softmax weights that are a
    Gaussian of `width` cells: (sigma / width) ** 2 (DIC sigma 1 -> 1, JASRNet sigma 4 -> 16).

    A width of about one cell keeps the expectation unbiased on the grid (narrower peaks are
    sampled too coarsely, wider ones are cut by the border for more landmarks).
    """
    if not sigma > 0 or not width > 0:
        raise ValueError(f"sigma and width must be positive, got {sigma!r}, {width!r}")
    return (float(sigma) / float(width)) ** 2


def grid_to_hr(grid, hr_size, height, width):
    """(..., 2) (u, v) heatmap-grid coordinates -> (x, y) HR pixels, inverting the renderer."""
    hr_size = tf.cast(hr_size, tf.float32)
    cells = tf.stack([tf.cast(width, tf.float32), tf.cast(height, tf.float32)])
    return (grid + 0.5) * hr_size / cells - 0.5


def decode_landmarks(heatmaps, hr_size, num_landmarks=68, method=REFINED_ARGMAX, beta=1.0):
    """Decodes (B, h, w, C) heatmaps into (B, num_landmarks, 2) float32 (x, y) HR pixels.

    The first `num_landmarks` channels are landmarks; any further channel (JASRNet's
    background) is dropped. `hr_size` is the HR side (Python number or scalar tensor). `beta`
    is only used by "soft_argmax" (see soft_argmax_beta).
    """
    if method not in METHODS:
        raise ValueError(f"unknown decoding method {method!r}; expected one of {METHODS}")
    heatmaps = tf.convert_to_tensor(heatmaps)
    if heatmaps.shape.rank != 4:
        raise ValueError(f"heatmaps must be (B, h, w, C), got shape {heatmaps.shape}")
    channels = heatmaps.shape[-1]
    if channels is not None and channels < num_landmarks:
        raise ValueError(f"heatmaps have {channels} channels, fewer than {num_landmarks} landmarks")
    heatmaps = tf.cast(heatmaps[..., :num_landmarks], tf.float32)
    # (B, K, h, w): one map per landmark, so argmax and softmax run over the last two axes.
    maps = tf.transpose(heatmaps, [0, 3, 1, 2])
    height, width = tf.shape(maps)[2], tf.shape(maps)[3]
    if method == REFINED_ARGMAX:
        grid = _refined_argmax(maps, height, width)
    else:
        grid = _soft_argmax(maps, height, width, beta)
    return grid_to_hr(grid, hr_size, height, width)


def _refined_argmax(maps, height, width):
    """(B, K, h, w) -> (B, K, 2) grid coordinates: argmax + log-parabola vertex per axis."""
    for side in (maps.shape[2], maps.shape[3]):
        if side is not None and side < 3:
            raise ValueError("refined_argmax needs heatmaps of at least 3x3 cells")
    flat = tf.reshape(maps, tf.concat([tf.shape(maps)[:2], [-1]], 0))      # (B, K, h*w)
    peak = tf.argmax(flat, axis=-1, output_type=tf.int32)                   # (B, K)
    row, col = peak // width, peak % width
    logs = tf.math.log(tf.maximum(flat, _LOG_FLOOR))

    def vertex(centre, index_at):
        # Parabola through the log values at centre-1, centre, centre+1; the window is moved
        # inwards at the border (still exact for a Gaussian), hence `centre` may differ from
        # the argmax.
        values = [tf.gather(logs, index_at(centre + d), batch_dims=2) for d in (-1, 0, 1)]
        before, middle, after = values
        curvature = before - 2.0 * middle + after
        concave = curvature < 0.0
        # Non-concave windows (flat or noisy maps) have no maximum: keep the argmax cell.
        offset = tf.where(concave, 0.5 * (before - after) / tf.where(concave, curvature, -1.0), 0.0)
        return tf.cast(centre, tf.float32) + offset

    col_centre = tf.clip_by_value(col, 1, width - 2)
    row_centre = tf.clip_by_value(row, 1, height - 2)
    u = vertex(col_centre, lambda c: row * width + c)
    v = vertex(row_centre, lambda r: r * width + col)
    u = tf.where(tf.equal(col_centre, col), u, tf.cast(col, tf.float32) + _clip_cells(u - tf.cast(col, tf.float32)))
    v = tf.where(tf.equal(row_centre, row), v, tf.cast(row, tf.float32) + _clip_cells(v - tf.cast(row, tf.float32)))
    return tf.stack([u, v], axis=-1)


def _clip_cells(shift):
    return tf.clip_by_value(shift, -_MAX_REFINEMENT_CELLS, _MAX_REFINEMENT_CELLS)


def _soft_argmax(maps, height, width, beta):
    """(B, K, h, w) -> (B, K, 2): expectation of the cell coordinates under softmax(beta log h)."""
    logits = tf.cast(beta, tf.float32) * tf.math.log(tf.maximum(maps, _LOG_FLOOR))
    flat = tf.reshape(logits, tf.concat([tf.shape(maps)[:2], [-1]], 0))
    weights = tf.reshape(tf.nn.softmax(flat, axis=-1), tf.shape(maps))     # (B, K, h, w)
    cols = tf.range(width, dtype=tf.float32)
    rows = tf.range(height, dtype=tf.float32)
    u = tf.reduce_sum(tf.reduce_sum(weights, axis=2) * cols, axis=-1)       # marginal over rows
    v = tf.reduce_sum(tf.reduce_sum(weights, axis=3) * rows, axis=-1)       # marginal over cols
    return tf.stack([u, v], axis=-1)
