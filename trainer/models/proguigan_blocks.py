"""Pro-UIGAN building blocks in Keras 3: the landmark-prior estimator, the cross-modal attention
block, and the residual/upsampling blocks of the progressive SR branch.

As in trainer/models/blocks.py, a block that the model applies more than once with the same
weights (the prior estimator runs on every stage's estimate) is a plain Python object that
creates its Keras layers once and applies them on every call, so the functional model shares
those weights and saves/loads with stock machinery. The hourglass, its residual blocks and the
float32 step stacking are DIC's (trainer/models/blocks.py), reused rather than repeated.
"""

import keras

from tinyface.trainer.models import blocks as dic_blocks, layers

LRELU_SLOPE = 0.2
# The attention block's feed-forward width, as a multiple of its token width (ViT uses 4; the
# block only has to mix a few dozen channels here).
FFN_EXPANSION = 2


def _register(cls):
    # "tinyface>ProUigan<Class>": the serialisation registry is global; the prefix avoids clashes.
    return keras.saving.register_keras_serializable(package="tinyface",
                                                    name=f"ProUigan{cls.__name__}")(cls)


@_register
class LearnedPositions(keras.layers.Layer):
    """(B, N, D) tokens of an N-cell grid + a learned (N, D) embedding of each cell's position.

    Attention over flattened grids is blind to where a token is; adding the same embedding to a
    stage's queries (face features) and keys (landmark features) lets the attention learn that a
    face location should mostly consult the landmark evidence at and around the same location.
    """

    def __init__(self, num_tokens, dim, **kwargs):
        super().__init__(**kwargs)
        self.num_tokens, self.dim = int(num_tokens), int(dim)

    def build(self, input_shape):
        self.positions = self.add_weight(
            name="positions", shape=(self.num_tokens, self.dim),
            initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, tokens):
        return tokens + keras.ops.cast(self.positions, tokens.dtype)[None]

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "dim": self.dim}


def conv(filters, kernel_size, name, strides=1, kernel_initializer=dic_blocks.KERNEL_INIT, dtype=None):
    return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                               kernel_initializer=kernel_initializer, name=name, dtype=dtype)


def lrelu(name):
    return keras.layers.LeakyReLU(LRELU_SLOPE, name=name)


def resize_image(image, size, name, dtype="float32"):
    """A square image (B, r, r, C) resized to size x size by a power-of-two factor: bilinear up,
    box-filter (average) down, which is exact anti-aliasing for a factor of 2^k. Identity if r
    is already `size`."""
    current = image.shape[1]
    if current == size:
        return image
    if current < size:
        return keras.layers.UpSampling2D(size // current, interpolation="bilinear", dtype=dtype,
                                         name=name)(image)
    return keras.layers.AveragePooling2D(current // size, dtype=dtype, name=name)(image)


def residual_block(x, name):
    """conv3x3 -> LeakyReLU -> conv3x3 (zero-initialised), plus the input: starts as the identity."""
    channels = x.shape[-1]
    y = lrelu(f"{name}_lrelu")(conv(channels, 3, f"{name}_conv0")(x))
    y = conv(channels, 3, f"{name}_conv1", kernel_initializer="zeros")(y)
    return keras.layers.Add(name=f"{name}_add")([x, y])


def upsample_block(x, filters, name):
    """x2 upsampling of features: conv to 4 x filters, pixel shuffle, LeakyReLU."""
    x = conv(4 * filters, 3, f"{name}_conv")(x)
    return lrelu(f"{name}_lrelu")(layers.PixelShuffle(2, name=f"{name}_shuffle")(x))


class LandmarkPriorEstimator:
    """The current estimate (B, r, r, 3) at any power-of-two r -> landmark heatmaps (B, g, g, K).

    The image is resized to input_size (= 2g) first, so one estimator, with one set of weights,
    reads the 16-px thumbnail and the 32/64/128-px estimates alike: every heatmap step supervises
    the same weights, and the number of stages does not multiply its parameters. Structure:
    stride-2 stem conv to the g x g grid (GroupNorm, ReLU), a residual block, a normalised
    hourglass of `depth` levels (DIC's, trainer/models/blocks.py), then a residual block, 1x1 conv
    and a 1x1 head to K maps initialised near zero (DIC's heatmap-head init).
    """

    def __init__(self, channels, num_landmarks, depth, input_size, name):
        c = channels
        self.input_size = int(input_size)
        self.stem = dic_blocks.Sequence(
            dic_blocks.conv(c // 2, 3, f"{name}_stem_conv", strides=2),
            dic_blocks.group_norm(c // 2, f"{name}_stem_norm"),
            keras.layers.ReLU(name=f"{name}_stem_relu"),
            dic_blocks.ResidualBlock(c // 2, c, True, f"{name}_stem_res"))
        self.hourglass = dic_blocks.Hourglass(depth, c, True, f"{name}_hg")
        self.head = dic_blocks.Sequence(
            dic_blocks.ResidualBlock(c, c, True, f"{name}_head_res"),
            dic_blocks.conv(c, 1, f"{name}_head_conv"),
            dic_blocks.group_norm(c, f"{name}_head_norm"),
            keras.layers.ReLU(name=f"{name}_head_relu"),
            dic_blocks.conv(num_landmarks, 1, f"{name}_heatmaps",
                            kernel_initializer=keras.initializers.RandomNormal(
                                stddev=dic_blocks.HEATMAP_HEAD_STDDEV)))
        self.name = name
        self._calls = 0

    def __call__(self, image):
        tag = f"{self.name}_call{self._calls}"
        self._calls += 1
        resized = resize_image(image, self.input_size, f"{tag}_resize")
        return self.head(self.hourglass(self.stem(resized)))


class CrossModalAttention:
    """Guides face features with landmark priors: face features are the queries, features of the
    landmark heatmaps the keys and values (Pro-UIGAN's cross-modal transformer block).

    face features (B, r, r, C) and heatmaps (B, h, h, K) -> (B, r, r, C):
      keys/values: heatmaps -> conv3x3 -> LeakyReLU -> conv3x3 to D channels, average-pooled to
        the attention grid a = min(r, grid), flattened to a^2 tokens;
      queries: face features average-pooled to a x a, 1x1 conv to D, flattened;
      both + the same learned position embedding; pre-norm multi-head cross-attention and a
        feed-forward layer, each residual (a transformer decoder block without self-attention);
      the a x a result is upsampled (bilinear) to r x r, projected back to C by a 1x1 conv
        initialised at zero, and added to the face features (so at initialisation the block is
        the identity and the guidance is learned from there).
    Attention runs on the pooled a x a grid because its cost grows with the square of the
    token count: at r = 128 full-resolution attention would be a 16384 x 16384 score matrix
    per head and face (1 GB in float32), at a 32 x 32 grid it is 1024 x 1024 (4 MB). The
    heatmaps themselves live on a h = hr/4 grid, so a <= h loses no landmark resolution in the
    keys; the full-resolution detail of the face features stays in the residual path.
    """

    def __init__(self, channels, dim, heads, grid, feature_size, heatmap_size, name):
        self.grid = min(int(grid), int(feature_size))
        self.feature_size, self.heatmap_size = int(feature_size), int(heatmap_size)
        self.dim, self.name = int(dim), name
        tokens = self.grid * self.grid
        self.landmark_encoder = dic_blocks.Sequence(
            conv(dim, 3, f"{name}_landmark_conv0"), lrelu(f"{name}_landmark_lrelu"),
            conv(dim, 3, f"{name}_landmark_conv1"))
        self.query_projection = conv(dim, 1, f"{name}_query_conv")
        self.positions = LearnedPositions(tokens, dim, name=f"{name}_positions")
        self.query_norm = keras.layers.LayerNormalization(name=f"{name}_query_norm")
        self.key_norm = keras.layers.LayerNormalization(name=f"{name}_key_norm")
        self.attention = keras.layers.MultiHeadAttention(heads, dim // heads, name=f"{name}_mha")
        self.ffn = dic_blocks.Sequence(
            keras.layers.LayerNormalization(name=f"{name}_ffn_norm"),
            keras.layers.Dense(FFN_EXPANSION * dim, name=f"{name}_ffn_dense0"),
            lrelu(f"{name}_ffn_lrelu"),
            keras.layers.Dense(dim, name=f"{name}_ffn_dense1"))
        self.output_projection = conv(channels, 1, f"{name}_out_conv", kernel_initializer="zeros")

    def _tokens(self, grid_features, name):
        return keras.layers.Reshape((self.grid * self.grid, self.dim), name=name)(grid_features)

    def __call__(self, face_features, heatmaps):
        name, a = self.name, self.grid
        landmark = resize_image(self.landmark_encoder(heatmaps), a, f"{name}_landmark_pool", dtype=None)
        keys = self.positions(self._tokens(landmark, f"{name}_key_tokens"))
        pooled = resize_image(face_features, a, f"{name}_query_pool", dtype=None)
        queries = self.positions(self._tokens(self.query_projection(pooled), f"{name}_query_tokens"))
        normalised_keys = self.key_norm(keys)
        attended = self.attention(query=self.query_norm(queries), value=normalised_keys,
                                  key=normalised_keys)
        tokens = keras.layers.Add(name=f"{name}_attention_add")([queries, attended])
        tokens = keras.layers.Add(name=f"{name}_ffn_add")([tokens, self.ffn(tokens)])
        guidance = keras.layers.Reshape((a, a, self.dim), name=f"{name}_grid")(tokens)
        guidance = resize_image(guidance, self.feature_size, f"{name}_upsample", dtype=None)
        return keras.layers.Add(name=f"{name}_add")(
            [face_features, self.output_projection(guidance)])
