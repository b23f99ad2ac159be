"""A photo or scan of a digit -> a 28x28 image that looks like an MNIST digit.

MNIST was made from black-and-white scans: each digit was size-normalised to
fit a 20x20 box keeping its aspect ratio (anti-aliasing gives the grey
edges), then placed in a 28x28 field so that its centre of mass sits at the
centre. Measured on the 60,000 training images: the longer side of the ink's
bounding box is 20 px in all but 13, and the mean centre of mass is
(14.00, 14.01) in pixel indices. `to_mnist_style` repeats those steps on any
grey image, after making the ink white on black and removing the background.
"""

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import UserError

BOX = 20       # the longer side of the digit's bounding box, in pixels
FIELD = 28     # the image's side
CENTRE = 14.0  # where the centre of mass goes (row and column index)
# Photos are first reduced to this longer side: far more than the 20 px the
# digit ends up with, and it keeps the work small for a 12-megapixel photo.
WORKING_SIZE = 560
# Less contrast than this (in [0, 1] grey levels, ~8 of 255) is no ink at all.
MIN_CONTRAST = 8 / 255
BACKGROUNDS = ("auto", "light", "dark")


class ImageError(UserError):
    """An image that cannot be classified; the message names the file and why."""


def load_digit_image(path, background="auto"):
    """Read a digit photo or scan -> uint8 [28, 28], white ink on black, MNIST style.

    background: "auto" (decided from the border), "light" (dark ink on light
    paper) or "dark" (light ink on a dark background).
    Raises ImageError for a missing or unreadable file, or one with no ink.
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"background must be one of {BACKGROUNDS}, got {background!r}.")
    gray = read_gray(path)
    try:
        return to_mnist_style(gray, background)
    except ImageError as err:
        raise ImageError(f"{path}: {err}") from None


def read_gray(path):
    """Any image Pillow reads -> float64 [H, W] grey levels in [0, 1], 1 = white.

    EXIF orientation is applied and transparency composited on white, as a
    viewer would show the image; large photos are reduced to WORKING_SIZE.
    """
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.load()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file; check the path.") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a folder, not an image file.") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image Pillow can read (PNG, JPEG, ...).") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        problem = " ".join(str(err).split())
        raise ImageError(f"{path}: the image cannot be decoded ({problem}); "
                         "is it damaged or cut short?") from None
    image, scale = _to_gray(image)
    if max(image.size) > WORKING_SIZE:
        image.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.BOX)
    return np.asarray(image, dtype=np.float64) / scale


def _to_gray(image):
    """A Pillow image -> (grey image of mode "L" or "F", the value that means white)."""
    if image.mode == "F":
        return image, 1.0
    if image.mode == "I" or image.mode.startswith("I;16"):
        # 16-bit greys (the usual content of "I"): keep every level.
        return image.convert("I").convert("F"), 65535.0
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("L"), 255.0


def to_mnist_style(gray, background="auto"):
    """Grey image [H, W] (larger = lighter, e.g. in [0, 1]) -> uint8 [28, 28] in MNIST's form.

    An image whose levels span less than MIN_CONTRAST times its brightest
    level (at least 1) has no ink.

    1. ink white on black: the background level is the median of the border;
       if it lies nearer the lightest pixel than the darkest, the background
       is light and the image is inverted (or as `background` says);
    2. the background level is subtracted, and values below Otsu's threshold
       (between background noise and ink) set to 0;
    3. the ink's bounding box is scaled, aspect kept, anti-aliased, so that
       its longer side is 20 px;
    4. it is placed in 28x28 with its centre of mass at (14, 14), as near as
       whole-pixel shifts and the frame allow, and scaled so its maximum is 255.
    Raises ImageError (without a file name) if there is no ink.
    """
    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2 or gray.size == 0:
        raise ValueError(f"gray must be a non-empty [H, W] array, got shape {gray.shape}.")
    if not np.all(np.isfinite(gray)):
        raise ValueError("gray holds NaN or infinite values.")
    ink = ink_white_on_black(gray, background)
    rows, cols = np.nonzero(ink)
    digit = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    return centre_in_field(scale_to_box(digit))


def ink_white_on_black(gray, background="auto"):
    """Ink above the background, in the image's units; 0 where there is none."""
    lo, hi = float(gray.min()), float(gray.max())
    span = hi - lo
    if span < MIN_CONTRAST * max(abs(hi), 1.0):
        raise ImageError(f"no ink: the image is uniform (grey levels {lo:.3g} to {hi:.3g}); "
                         "photograph a digit on a plain background")
    level = float(np.median(border(gray)))
    light = (hi - level) < (level - lo) if background == "auto" else background == "light"
    ink = level - gray if light else gray - level
    np.maximum(ink, 0, out=ink)
    ink[ink < otsu_threshold(ink)] = 0
    if not ink.any():
        raise ImageError("no ink: nothing stands out from the background; try --background light or dark")
    return ink


def border(gray):
    """The pixels of the outer ring, 5% of the shorter side wide (at least 1)."""
    width = max(1, min(gray.shape) // 20)
    mask = np.ones(gray.shape, dtype=bool)
    mask[width:-width, width:-width] = False
    return gray[mask]


def otsu_threshold(values, bins=256):
    """Otsu's threshold: the level that best splits `values` into two classes.

    It maximises the between-class variance w0 w1 (mu0 - mu1)^2 over a
    histogram of `bins` levels; returns a value between the two classes.
    """
    hist, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)[:-1].astype(np.float64)      # pixels at or below each cut
    w1 = hist.sum() - w0
    s0 = np.cumsum(hist * centres)[:-1]
    s1 = (hist * centres).sum() - s0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = w0 * w1 * (s0 / w0 - s1 / w1) ** 2
    between[(w0 == 0) | (w1 == 0)] = -1
    return float(edges[1:-1][np.argmax(between)])


def scale_to_box(digit, box=BOX):
    """Scale [h, w] (aspect kept, anti-aliased) so its longer side is `box` pixels."""
    h, w = digit.shape
    factor = box / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))  # Pillow: (width, height)
    scaled = Image.fromarray(digit.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    # Lanczos rings slightly below zero next to strong edges; ink is never negative.
    return np.maximum(np.asarray(scaled, dtype=np.float64), 0)


def centre_in_field(digit, field=FIELD, centre=CENTRE):
    """Place [h, w] (h, w <= field) in a field x field image, centre of mass at `centre`.

    The shift is the rounded difference between `centre` and the digit's
    centre of mass, clipped so the whole digit stays in the frame. The
    result is scaled so that its maximum is 255.
    """
    h, w = digit.shape
    mass = digit.sum()
    com_row = (digit.sum(axis=1) @ np.arange(h)) / mass
    com_col = (digit.sum(axis=0) @ np.arange(w)) / mass
    top = int(np.clip(round(centre - com_row), 0, field - h))
    left = int(np.clip(round(centre - com_col), 0, field - w))
    out = np.zeros((field, field))
    out[top:top + h, left:left + w] = digit
    if not out.max() > 0:
        raise ImageError("no ink: nothing is left of the digit at 20x20 pixels")
    return np.rint(out * (255 / out.max())).astype(np.uint8)
