"""Zero-shot CIFAR-10 accuracy of ImageNet EfficientNet-Lite0, read offline from its PyTorch file.

Usage: python scripts/zero_shot_lite0.py [--n 2000] [--normalisation lite|torchvision] [--out F]
       python scripts/zero_shot_lite0.py --run RUN_DIR... [--judge zero-shot|probe]

A check that the Keras port of the weights is right (replication.zero_shot): far above the
10 % of chance when padding, channel order, normalisation and BatchNorm match the source.
With --run, an independent judge of conditional GAN samples: Lite0 zero-shot, or a linear
probe on its features fitted on real CIFAR-10 training images (--judge probe).
"""
import sys

from replication.zero_shot import main

if __name__ == "__main__":
    sys.exit(main())
