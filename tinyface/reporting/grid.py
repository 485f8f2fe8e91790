"""The report's picture of the model at work: one row per eval face, columns LR | bicubic | SR | HR.

Pure numpy and PIL (no TensorFlow), so it is tested on its own. The SR tile carries the predicted
landmarks; the HR tile carries the true landmarks and, in the prediction's colour, the predicted
ones too, so each landmark's error is the gap between a dot of each colour. The LR input is
enlarged with nearest neighbour, so its pixels stay visible as blocks instead of being smoothed
into something that looks like another bicubic.
"""

import dataclasses

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tinyface import prediction

COLUMN_TITLES = ("LR", "bicubic", "SR", "HR")
LR_COLUMN, BICUBIC_COLUMN, SR_COLUMN, HR_COLUMN = range(len(COLUMN_TITLES))
PREDICTED_FILL = prediction.LANDMARK_FILL   # the same green as `tinyface predict`'s images
TRUE_FILL = (255, 0, 255)                   # magenta: far from that green and from skin tones
BACKGROUND = (255, 255, 255)
TEXT = (0, 0, 0)
GAP = 4                                     # pixels around and between tiles
CAPTION_LINES = 2                           # text lines under each tile (a caption may hold "\n")
_LEGEND_DOT = 3                             # radius of the colour dots in the header


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where everything goes, for tiles of `width` x `height` pixels and text lines of
    `line_height` pixels: a header line, then per face a row of tiles and its caption lines."""

    width: int
    height: int
    line_height: int

    @property
    def header_height(self):
        return self.line_height + 2 * GAP

    @property
    def row_height(self):
        return self.height + CAPTION_LINES * self.line_height + GAP

    def canvas_size(self, rows):
        return len(COLUMN_TITLES) * (self.width + GAP) + GAP, self.header_height + rows * self.row_height

    def tile_origin(self, row, column):
        """(x, y) of the top-left pixel of the tile of face `row` in `column`."""
        return GAP + column * (self.width + GAP), self.header_height + row * self.row_height


def layout_for(tile_size):
    """The Layout render_grid uses for HR tiles of tile_size = (width, height)."""
    width, height = tile_size
    return Layout(int(width), int(height), _line_height(ImageFont.load_default()))


def render_grid(lr, bicubic, sr, hr, predicted_landmarks, true_landmarks, captions=None):
    """The grid as an RGB PIL image.

    lr: uint8 (N, h, w, 3); bicubic, sr, hr: uint8 (N, H, W, 3), H and W multiples of h and w;
    predicted_landmarks, true_landmarks: (N, K, 2) in HR pixels (centres at integers); a face
    without true landmarks has NaN there, and none are drawn for it. captions: None or N
    sequences of one string per column (up to CAPTION_LINES lines each), drawn under the tiles.
    A header row names the columns and says which dot colour is which.
    """
    lr, bicubic, sr, hr = (np.asarray(images) for images in (lr, bicubic, sr, hr))
    predicted_landmarks = np.asarray(predicted_landmarks, dtype=np.float64)
    true_landmarks = np.asarray(true_landmarks, dtype=np.float64)
    _check_inputs(lr, bicubic, sr, hr, predicted_landmarks, true_landmarks, captions)
    count, height, width = hr.shape[:3]

    font = ImageFont.load_default()
    layout = layout_for((width, height))
    canvas = Image.new("RGB", layout.canvas_size(count), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    legends = {SR_COLUMN: [(PREDICTED_FILL, "predicted")],
               HR_COLUMN: [(TRUE_FILL, "true"), (PREDICTED_FILL, "predicted")]}
    for column, title in enumerate(COLUMN_TITLES):
        left, _ = layout.tile_origin(0, column)
        _draw_header(draw, font, (left, GAP), title, legends.get(column, []), layout.line_height)

    for index in range(count):
        enlarged_lr = np.asarray(Image.fromarray(lr[index]).resize((width, height), Image.NEAREST))
        sr_tile = prediction.draw_landmarks(sr[index], predicted_landmarks[index], PREDICTED_FILL)
        # Prediction first, truth on top: where they coincide the truth stays visible, and every
        # green dot still showing is a prediction away from its true point.
        hr_tile = prediction.draw_landmarks(
            prediction.draw_landmarks(hr[index], predicted_landmarks[index], PREDICTED_FILL),
            true_landmarks[index], TRUE_FILL)
        for column, tile in enumerate((enlarged_lr, bicubic[index], sr_tile, hr_tile)):
            left, top = layout.tile_origin(index, column)
            canvas.paste(Image.fromarray(tile), (left, top))
            caption = captions[index][column] if captions is not None else ""
            for line_number, line in enumerate(caption.splitlines()[:CAPTION_LINES]):
                draw.text((left, top + height + 1 + line_number * layout.line_height), line,
                          fill=TEXT, font=font)
    return canvas


def write_grid(path, lr, bicubic, sr, hr, predicted_landmarks, true_landmarks, captions=None):
    """render_grid(...) saved as a PNG at `path`; returns `path`."""
    render_grid(lr, bicubic, sr, hr, predicted_landmarks, true_landmarks, captions).save(path, format="PNG")
    return path


def _draw_header(draw, font, origin, title, legend, line_height):
    """The column title, then for each (colour, label) of `legend` a dot of that colour and
    the label: a legend drawn with the dots themselves cannot disagree with the tiles."""
    x, y = origin
    draw.text((x, y), title, fill=TEXT, font=font)
    x += draw.textlength(title + "  ", font=font)
    centre_y = y + line_height // 2 - 1
    for fill, label in legend:
        draw.ellipse([x, centre_y - _LEGEND_DOT, x + 2 * _LEGEND_DOT, centre_y + _LEGEND_DOT],
                     fill=fill, outline=prediction.LANDMARK_OUTLINE)
        x += 2 * _LEGEND_DOT + 3
        draw.text((x, y), label, fill=TEXT, font=font)
        x += draw.textlength(label + "  ", font=font)


def _line_height(font):
    _, _, _, bottom = font.getbbox("Ag")   # bottom of the descender: the text's height from y
    return bottom + 3


def _check_inputs(lr, bicubic, sr, hr, predicted, true, captions):
    if hr.ndim != 4 or hr.shape[3] != 3 or hr.dtype != np.uint8:
        raise ValueError(f"hr must be uint8 (N, H, W, 3), got {hr.dtype} {hr.shape}")
    count = hr.shape[0]
    if count == 0:
        raise ValueError("no faces to draw")
    for name, images in (("bicubic", bicubic), ("sr", sr)):
        if images.shape != hr.shape or images.dtype != np.uint8:
            raise ValueError(f"{name} must be uint8 {hr.shape} like hr, got {images.dtype} {images.shape}")
    if lr.ndim != 4 or lr.shape[0] != count or lr.shape[3] != 3 or lr.dtype != np.uint8:
        raise ValueError(f"lr must be uint8 ({count}, h, w, 3), got {lr.dtype} {lr.shape}")
    if hr.shape[1] % lr.shape[1] or hr.shape[2] % lr.shape[2]:
        raise ValueError(f"HR size {hr.shape[2]}x{hr.shape[1]} is not a multiple of the LR size "
                         f"{lr.shape[2]}x{lr.shape[1]}")
    for name, points in (("predicted_landmarks", predicted), ("true_landmarks", true)):
        if points.ndim != 3 or points.shape[0] != count or points.shape[2] != 2:
            raise ValueError(f"{name} must be ({count}, K, 2), got {points.shape}")
    if captions is not None:
        if len(captions) != count or any(len(row) != len(COLUMN_TITLES) for row in captions):
            raise ValueError(f"captions must be {count} rows of {len(COLUMN_TITLES)} strings")
