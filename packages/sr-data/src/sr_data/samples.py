"""Photos bundled with scikit-image, split into a tiny train and test set, so demos need no download.

Train: astronaut, coffee, motorcycle_left, retina, hubble_deep_field, ihc. Test: chelsea, rocket and
camera (the grayscale cameraman, replicated to RGB by the image policy): three natural photos, none
of whose scenes is in training. Left out: synthetic charts (color, chessboard), textures, the RGBA
samples, and motorcycle_right (the other view of motorcycle_left). Needs
``pip install "sr-data[samples]"``.
"""

from __future__ import annotations

from pathlib import Path

from sr_data.pairs import ImagePair, PairedImages

SAMPLE_SPLITS: dict[str, tuple[str, ...]] = {
    "train": (
        "astronaut.png",
        "coffee.png",
        "motorcycle_left.png",
        "retina.jpg",
        "hubble_deep_field.jpg",
        "ihc.png",
    ),
    "test": ("chelsea.png", "rocket.jpg", "camera.png"),
}


def sample_image_folder() -> Path:
    """scikit-image's folder of bundled images."""
    try:
        import skimage.data
    except ImportError as error:
        raise ImportError('SampleImages needs scikit-image: pip install "sr-data[samples]"') from error
    return Path(skimage.data.__file__).parent


class SampleImages(PairedImages):
    """scikit-image's photos as an SR dataset (HR modcropped, LR bicubic), ``split`` "train" or "test"."""

    def __init__(self, split: str = "train", scale: int = 2):
        if split not in SAMPLE_SPLITS:
            raise ValueError(f"SampleImages: split must be one of {', '.join(SAMPLE_SPLITS)}, got {split!r}")
        folder = sample_image_folder()
        pairs = []
        for filename in SAMPLE_SPLITS[split]:
            path = folder / filename
            if not path.is_file():
                raise FileNotFoundError(f"SampleImages: {path} is missing from this scikit-image install")
            pairs.append(ImagePair(path.stem, path))
        super().__init__(pairs, scale)
        self.name = f"samples-{split}"
