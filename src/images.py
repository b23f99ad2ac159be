"""A photo or scan of a digit -> a 28x28 image that looks like an MNIST digit.

MNIST was made from black-and-white scans: each digit was size-normalised to
fit a 20x20 box keeping its aspect ratio (anti-aliasing gives the grey
edges), then placed in a 28x28 field so that its centre of mass sits at the
centre. Measured on the 60,000 training images: the longer side of the ink's
bounding box is 20 px in all but 13, and the mean centre of mass is
(14.00, 14.01) in pixel indices. `to_mnist_style` repeats those steps on any
grey image, after making the ink white on black and removing the background.

Fashion-MNIST was made another way (its README): each product photo was
trimmed to the object (edges within 5% of the corner colour cut off), its
longer side resized to 28, centred in the 28x28 frame and negated. A model
trained on it gets `to_fashion_style`. RECIPES names both; the model file
says which one its model needs.
"""

import warnings

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
# Strokes thinner than this at the 20-px size are widened to it: MNIST's strokes are 2-3 px
# wide at that size, a 1-px pen in a 300-px drawing would be 0.07 px.
MIN_STROKE = 2.0
# Fashion-MNIST's trimming: rows and columns within 5% of full intensity of the background go.
TRIM = 0.05
# Larger images are refused before they are decoded: a 12000 x 12000 PNG would need
# 2.4 GB. 50 megapixels is more than any phone's PNG; JPEGs are decoded reduced first.
MAX_PIXELS = 50_000_000


class ImageError(UserError):
    """An image that cannot be classified; the message names the file and why."""


def load_digit_image(source, background="auto", recipe="mnist", name=None):
    """Read a photo or scan -> uint8 [28, 28], white on black, made as `recipe`'s dataset was.

    source: a path or a binary file object. background: "auto" (decided from
    the image), "light" (dark ink on light paper) or "dark" (light ink on a
    dark background). recipe: one of RECIPES. name: how messages call the
    image (default: the path, or the file object's name, else "the image").
    Raises ImageError for a missing or unreadable file, or one with no ink.
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"background must be one of {BACKGROUNDS}, got {background!r}.")
    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {recipe!r}.")
    name = display_name(source) if name is None else name
    gray = read_gray(source, name)
    try:
        return RECIPES[recipe](gray, background)
    except ImageError as err:
        raise ImageError(f"{name}: {err}") from None


def display_name(source):
    """A path as given; a file object's name if it has a textual one; else "the image"."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        return str(source if not isinstance(source, bytes) else source.decode(errors="replace"))
    name = getattr(source, "name", None)
    return name if isinstance(name, str) and name else "the image"


def read_gray(source, name=None):
    """Any image Pillow reads (a path or a binary file object) -> float64 [H, W] in [0, 1], 1 = white.

    EXIF orientation is applied and transparency composited as a viewer
    would show the image (see _to_gray); large photos are reduced to
    WORKING_SIZE. Images of more than one frame, or more than MAX_PIXELS
    pixels, are refused before they are decoded.
    """
    path = display_name(source) if name is None else name
    too_large = f"more than this reads ({MAX_PIXELS // 1_000_000} megapixels); save a smaller copy"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # MAX_PIXELS decides, below
            with Image.open(source) as image:
                frames = getattr(image, "n_frames", 1)
                if frames > 1:
                    raise ImageError(f"{path}: holds {frames} frames (an animated GIF or a multi-page "
                                     "TIFF?); save the one frame to classify as an image of its own")
                # JPEG decodes at 1/2, 1/4 or 1/8 of the size on request: a large photo costs little.
                image.draft(None, (WORKING_SIZE, WORKING_SIZE))
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ImageError(f"{path}: {width} x {height} pixels is {too_large}")
                image = ImageOps.exif_transpose(image)
                image.load()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file; check the path.") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a folder, not an image file.") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image Pillow can read (PNG, JPEG, ...).") from None
    except Image.DecompressionBombError:
        raise ImageError(f"{path}: the image is {too_large}") from None
    except (OSError, ValueError, SyntaxError) as err:
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
        # Where it is drawn is what the alpha channel says; the colour drawn with decides the
        # paper behind it: dark ink on white, and light ink (a drawing page's white pen on a
        # transparent canvas) on black, so that it shows.
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64)
        luma = np.asarray(rgba.convert("L"), dtype=np.float64)
        light_ink = alpha.sum() > 0 and (luma * alpha).sum() / alpha.sum() > 127.5
        paper = Image.new("RGBA", rgba.size, (0, 0, 0, 255) if light_ink else (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
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
    gray = _checked_gray(gray)
    ink = ink_white_on_black(gray, background)
    ink = largest_blob(ink)
    rows, cols = np.nonzero(ink)
    digit = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    return centre_in_field(scale_to_box(thickened(digit)))


def to_fashion_style(gray, background="auto"):
    """Grey image [H, W] in [0, 1] (1 = white) -> uint8 [28, 28] made as Fashion-MNIST was.

    1. object light on dark: the background level is the median of the
       border (the product photos' plain backdrop), inverted if it is light
       (or as `background` says); the object's levels are kept, as a fraction
       of the way from the background to full contrast (no threshold:
       clothing has texture and grey parts, unlike ink);
    2. trimmed to the rows and columns that differ from the background by
       more than TRIM;
    3. the longer side resized to 28 (aspect kept, anti-aliased);
    4. centred (by its bounding box) in the 28x28 frame.
    Raises ImageError (without a file name) if nothing differs from the background.
    """
    gray = _checked_gray(gray)
    level = float(np.median(border(gray)))
    lo, hi = float(gray.min()), float(gray.max())
    light = (hi - level) < (level - lo) if background == "auto" else background == "light"
    if light:
        thing = (level - gray) / max(level, MIN_CONTRAST)
    else:
        thing = (gray - level) / max(1 - level, MIN_CONTRAST)
    thing = np.clip(thing, 0, 1)
    rows, cols = np.nonzero(thing > TRIM)
    if rows.size == 0:
        raise ImageError("no ink: no part of the image differs from its background by more than "
                         f"{TRIM:.0%}; photograph it on a plain, contrasting background")
    thing = thing[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    thing = scale_to_box(thing, FIELD)
    h, w = thing.shape
    out = np.zeros((FIELD, FIELD))
    # An odd margin puts its extra pixel before the object, as in Fashion-MNIST's images
    # (measured on its training set: height 21 -> 4 rows above, 3 below).
    top, left = (FIELD - h + 1) // 2, (FIELD - w + 1) // 2
    out[top:top + h, left:left + w] = np.minimum(thing, 1)
    return np.rint(out * 255).astype(np.uint8)


def _checked_gray(gray):
    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2 or gray.size == 0:
        raise ValueError(f"gray must be a non-empty [H, W] array, got shape {gray.shape}.")
    if not np.all(np.isfinite(gray)):
        raise ValueError("gray holds NaN or infinite values.")
    return gray


def ink_white_on_black(gray, background="auto"):
    """Ink against the paper, as a fraction of the paper's light in [0, 1]; 0 where there is none.

    The paper is estimated (`paper_level`) and the image divided by it, so a
    lighting gradient or a shadow leaves the paper at 1 and ink below it.
    "auto": dark ink on light paper or light on dark, whichever finds ink that
    covers less than MAX_INK of the image and stands out more.
    """
    lo, hi = float(gray.min()), float(gray.max())
    span = hi - lo
    if span < MIN_CONTRAST * max(abs(hi), 1.0):
        raise ImageError(f"no ink: the image is uniform (grey levels {lo:.3g} to {hi:.3g}); "
                         "photograph a digit on a plain background")
    unit = (gray - lo) / span  # [0, 1]
    window = paper_window(unit.shape)
    if background == "auto":
        # Each way round, ink is what is left after flattening. The right way round, the
        # paper is light (the wrong way round of a page, it is near 0, and dividing by it
        # makes ink of the noise), the ink a minority of the pixels (the wrong way round of
        # a clean page, it is the paper), and it stands out more (the wrong way round of a
        # shadowed page finds the shadow's edge).
        found = [_ink(unit if light else 1 - unit, window) for light in (True, False)]
        plausible = [ink[ink > 0].mean()
                     if paper >= MIN_PAPER and 0 < np.count_nonzero(ink) < MAX_INK * ink.size else -1.0
                     for ink, paper in found]
        if plausible[0] != plausible[1]:
            return found[int(plausible[1] > plausible[0])][0]
        level = float(np.median(border(unit)))  # neither is plausible: the border decides
        background = "light" if level >= 0.5 else "dark"
    ink, paper = _ink(unit if background == "light" else 1 - unit, window)
    if paper < MIN_PAPER:
        other = "light" if background == "dark" else "dark"
        raise ImageError(f"no ink: told the background is {background}, but it is {other}; "
                         f"try --background {other} or auto")
    if not ink.any():
        raise ImageError("no ink: nothing stands out from the paper's grain and the camera's noise; "
                         "try --background light or dark")
    return ink


def _ink(reflectance, window):
    """reflectance [H, W] in [0, 1], paper light and ink dark -> (ink in [0, 1] above its
    threshold, else 0; the paper's median level)."""
    # Smoothed over 3 x 3 pixels: the closing would otherwise follow the brightest grain, and
    # the ink is measured against the paper on the same smoothed image, so that the edge
    # between a dark desk and the page, which the closing keeps, is no ink.
    reflectance = box_mean(reflectance, 3)
    paper = paper_level(reflectance, window)
    ink = 1 - reflectance / np.maximum(paper, MIN_CONTRAST)
    # The paper (most of the image) sits at the median, a little above 0 (the closing follows
    # the brighter grain); the camera's noise and the paper's grain around it, as a robust sigma.
    paper_ink = float(np.median(ink))
    noise = 1.4826 * float(np.median(np.abs(ink - paper_ink)))
    np.clip(ink, 0, 1, out=ink)
    ink[ink < max(otsu_threshold(ink), paper_ink + NOISE_SIGMAS * noise)] = 0
    return ink, float(np.median(paper))


# Ink covers less than this fraction of a photo of a digit.
MAX_INK = 0.5
# The paper is at least this light, between the darkest (0) and lightest (1) pixels.
MIN_PAPER = 0.25
# Ink is darker than the paper by more than this many times the paper's noise (a robust
# sigma): on blank paper the darkest of 300,000 pixels of Gaussian noise is about 5 sigma.
NOISE_SIGMAS = 6.0
# Blobs of ink are found on a copy at most this many pixels on its longer side.
BLOB_SIZE = 128


def paper_window(shape):
    """The side of a square wider than any stroke, in pixels of an image of `shape`: 1/6 of its
    shorter side (a digit's strokes are about a tenth of its height, and it fits in the image)."""
    return max(3, int(min(shape) / 6) | 1)


def _small(image, size=BLOB_SIZE):
    """image [H, W] reduced (by area) to at most `size` pixels on its longer side."""
    h, w = image.shape
    scale = min(1.0, size / max(h, w))
    out = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image.astype(np.float32)).resize(out, Image.Resampling.BOX),
                      dtype=np.float64)


def _running(image, size, ufunc):
    """ufunc (np.maximum or np.minimum) over `size` consecutive values along the last axis, centred,
    edges repeated. Van Herk and Gil-Werman's method: a running extreme forward and backward
    through blocks of `size`, so each pixel costs three operations whatever the window."""
    half = size // 2
    n = image.shape[-1]
    blocks = -(-(n + 2 * half) // size)
    padded = np.pad(image, [(0, 0)] * (image.ndim - 1) + [(half, blocks * size - n - half)], mode="edge")
    cells = padded.reshape(*image.shape[:-1], blocks, size)
    prefix = ufunc.accumulate(cells, axis=-1).reshape(padded.shape)
    suffix = ufunc.accumulate(cells[..., ::-1], axis=-1)[..., ::-1].reshape(padded.shape)
    return ufunc(suffix[..., :n], prefix[..., size - 1:size - 1 + n])


def _rank(image, size, ufunc):
    """ufunc (np.maximum or np.minimum) over the size x size square around each pixel."""
    return _running(_running(image, size, ufunc).T, size, ufunc).T


def box_mean(image, size):
    """The mean over the size x size square around each pixel, edges repeated."""
    half = size // 2
    padded = np.pad(image, half, mode="edge")
    sums = np.pad(padded.cumsum(axis=0).cumsum(axis=1), ((1, 0), (1, 0)))
    h, w = image.shape
    return (sums[size:size + h, size:size + w] - sums[:h, size:size + w]
            - sums[size:size + h, :w] + sums[:h, :w]) / size**2


def closing(image, size):
    """Grey closing: the largest, then the smallest value in a size x size square; it fills
    every dark feature narrower than the square and keeps larger ones and their edges."""
    return _rank(_rank(image, size, np.maximum), size, np.minimum)


def paper_level(reflectance, window):
    """The paper's light at every pixel [H, W]: a grey closing wider than any stroke, with the
    edge pixels repeated a window further: a dark band along the edge (a desk, the shadow of a
    phone) is background, however narrow, not a stroke to fill."""
    h, w = reflectance.shape
    wide = np.pad(reflectance, window, mode="edge")
    return closing(wide, window)[window:window + h, window:window + w]


def largest_blob(ink):
    """ink [H, W] with only the blob of ink that holds its densest part: specks of noise, a page's
    edge or a shadow's, far from the digit, would otherwise widen the crop.

    On a BLOB_SIZE copy, ink within paper_window/2 of other ink counts as joined (a digit's strokes
    are, across small breaks); the blob grows from the centre of the densest window of ink.
    """
    small = _small(ink)
    window = paper_window(small.shape)
    joined = _rank((small > 0).astype(np.float64), max(3, window // 2 | 1), np.maximum) > 0
    density = box_mean(small, window)
    region = np.zeros_like(joined)
    region[np.unravel_index(np.argmax(density), density.shape)] = True
    region = connected_component(region & joined, joined)
    keep = np.asarray(Image.fromarray(region).resize(ink.shape[::-1], Image.Resampling.NEAREST))
    kept = np.where(keep, ink, 0)
    return kept if kept.any() else ink


def connected_component(seed, joined):
    """The pixels of `joined` [H, W] (bool) 8-connected to `seed` (bool, within joined)."""
    region = seed
    while True:
        # One 8-neighbour step, then whole runs of joined pixels along rows and columns at once:
        # the same fixed point as single steps, in as many rounds as the blob has turns rather
        # than pixels across (see() on a drawing: 96 -> 40 ms, benchmarks/bench_draw.py).
        grown = (_rank(region.astype(np.float64), 3, np.maximum) > 0) & joined
        grown = _fill_runs(_fill_runs(grown, joined).T, joined.T).T
        if np.array_equal(grown, region):
            return region
        region = grown


def _fill_runs(region, joined):
    """region [H, W] grown to every run of `joined` along a row that holds a pixel of it."""
    starts = joined.copy()
    starts[:, 1:] &= ~joined[:, :-1]  # a run starts where joined begins, or at a row's first pixel
    runs = np.cumsum(starts.ravel()).reshape(joined.shape)  # each run's own number along its row
    return joined & np.isin(runs, runs[region & joined])


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


def stroke_width(ink):
    """The mean width of the strokes in ink [h, w], in pixels: 2 x area / outline length
    (a stroke of width s and length L has area s L and an outline of about 2 L)."""
    mask = ink > 0
    padded = np.pad(mask, 1)
    outline = np.count_nonzero(padded[1:] != padded[:-1]) + np.count_nonzero(padded[:, 1:] != padded[:, :-1])
    return 2 * np.count_nonzero(mask) / max(outline, 1)


def thickened(digit, box=BOX):
    """digit [h, w] with its strokes widened, if they are thinner than MIN_STROKE at the size of
    `box`, to that width (a 1-px pen in a large drawing would become a faint, broken hairline)."""
    factor = box / max(digit.shape)
    width = stroke_width(digit)
    target = MIN_STROKE / factor
    if width >= target:
        return digit
    size = int(round(target - width)) | 1  # a maximum over `size` pixels widens a stroke by size - 1
    padded = np.pad(digit, size // 2)
    return _rank(padded, size, np.maximum)


def scale_to_box(digit, box=BOX):
    """Scale [h, w] (aspect kept, anti-aliased) so its longer side is `box` pixels."""
    h, w = digit.shape
    if max(h, w) == box:
        return np.asarray(digit, dtype=np.float64)  # already the size: leave it untouched
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


# How a picture becomes a model's 28x28 input, per dataset (the model file names one).
RECIPES = {"mnist": to_mnist_style, "fashion-mnist": to_fashion_style}
