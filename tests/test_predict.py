"""`python -m src.predict`: your own digit photos, classified by a saved model.

The end-to-end check (the issue's "done when"): a softmax model trained for
a moment on real MNIST, saved and loaded, classifies photos of 50 held-out
test digits - redrawn dark on grey paper, 3x larger, off-centre - as it
classifies the original 28x28 images, for at least 90% of them (measured:
50 of 50; 95.9% over the first 1,000 test digits, where the model's accuracy
on the 10,000 test images is 0.89).
"""

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from src.cli import run
from src.data import one_hot_encode, pre_process_images
from src.images import ImageError
from src.mnist import load_mnist
from src.modelfile import load_model, save_model
from src.models import BinaryModel, SoftmaxModel
from src.predict import main

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot")
AGREEMENT = 0.9


def train_softmax(images, labels, epochs=5, batch_size=50, learning_rate=0.05, seed=0):
    """Plain mini-batch SGD, 0.1 s: test accuracy 0.89 from 5,000 images."""
    X, Y = pre_process_images(images), one_hot_encode(labels)
    model, rng = SoftmaxModel(), np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            model.backward(X[batch], model.forward(X[batch]), Y[batch])
            model.w -= learning_rate * model.grad
    return model


def photograph(digit, path, paper=210, ink=30):
    """An MNIST digit as a photo: 3x larger, dark on grey paper, off-centre in 120x100."""
    big = np.asarray(Image.fromarray(digit).resize((84, 84), Image.Resampling.BICUBIC), dtype=np.float64)
    photo = np.full((100, 120), float(paper))
    photo[10:94, 25:109] -= big / 255 * (paper - ink)
    Image.fromarray(np.clip(np.rint(photo), 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def trained(mnist_dir, tmp_path_factory):
    train_images, train_labels, test_images, _ = load_mnist(mnist_dir)
    model = train_softmax(train_images[:5000], train_labels[:5000])
    path = tmp_path_factory.mktemp("model") / "model.npz"
    save_model(path, model, kind="softmax", dataset="mnist", class_names=[str(d) for d in range(10)],
               hyperparameters={"learning_rate": 0.05, "batch_size": 50, "epochs": 5}, metrics={})
    return path, model, test_images


def test_photos_of_held_out_digits_agree_with_the_model(trained, tmp_path, capsys):
    path, model, test_images = trained
    digits = test_images[:50]  # never trained on
    photos = [str(photograph(digit, tmp_path / f"{k}.png")) for k, digit in enumerate(digits)]
    assert main([str(path), *photos, "--json"]) == 0
    predicted = [int(result["prediction"]) for result in json.loads(capsys.readouterr().out)]
    on_originals = load_model(path).model.predict(pre_process_images(digits))
    np.testing.assert_array_equal(on_originals, model.predict(pre_process_images(digits)))
    agreement = np.mean(np.array(predicted) == on_originals)
    assert agreement >= AGREEMENT, f"photos agree with the 28x28 originals for {agreement:.0%}"


# --- the command line, with models that need no data -------------------------------------

def draw_digit(path, shape="seven", size=(90, 120)):
    image = Image.new("L", size, 220)
    points = [(20, 20), (70, 20), (35, 100)] if shape == "seven" else [(45, 15), (45, 105)]
    ImageDraw.Draw(image).line(points, fill=25, width=9)
    image.save(path)
    return str(path)


@pytest.fixture
def fashion_model(tmp_path):
    model = SoftmaxModel()
    model.w = np.random.default_rng(0).normal(0, 0.05, model.w.shape)
    return str(save_model(tmp_path / "fashion.npz", model, kind="softmax", dataset="fashion-mnist",
                          class_names=FASHION, hyperparameters={}, metrics={}))


@pytest.fixture
def photos(tmp_path):
    return [draw_digit(tmp_path / "seven.png"), draw_digit(tmp_path / "one.jpg", "one")]


def exit_code(argv):
    """Run the command as `python -m src.predict` would: through src.cli.run."""
    with pytest.raises(SystemExit) as info:
        run(lambda: main(argv))
    return info.value.code


LINE = re.compile(r"^(.+): (.+?) \((\d\.\d{3})\), (.+?) \((\d\.\d{3})\), (.+?) \((\d\.\d{3})\)$")


def test_one_line_per_image_three_likeliest_classes(fashion_model, photos, capsys):
    assert exit_code([fashion_model, *photos]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for line, photo in zip(lines, photos):
        match = LINE.match(line)
        assert match, line
        assert match[1] == photo
        names, probabilities = match.group(2, 4, 6), [float(p) for p in match.group(3, 5, 7)]
        assert set(names) <= set(FASHION) and len(set(names)) == 3
        assert probabilities == sorted(probabilities, reverse=True)


def test_binary_model_shows_both_classes(tmp_path, photos, capsys):
    model = BinaryModel()
    model.w = np.random.default_rng(3).normal(0, 0.05, model.w.shape)
    path = save_model(tmp_path / "b.npz", model, kind="binary", dataset="mnist", class_names=["3", "2"],
                      hyperparameters={}, metrics={})
    assert exit_code([str(path), photos[0]]) == 0
    line = capsys.readouterr().out.strip()
    match = re.fullmatch(rf"{re.escape(photos[0])}: ([23]) \((\d\.\d{{3}})\), ([23]) \((\d\.\d{{3}})\)", line)
    assert match and {match[1], match[3]} == {"2", "3"}, line
    assert abs(float(match[2]) + float(match[4]) - 1) <= 0.0015  # two rounded halves of 1


def test_show_for_binary_model_draws_its_one_weight_image(tmp_path, photos, capsys):
    model = BinaryModel()
    path = save_model(tmp_path / "b.npz", model, kind="binary", dataset="mnist", class_names=["3", "2"],
                      hyperparameters={}, metrics={})
    assert exit_code([str(path), photos[0], "--show", str(tmp_path / "seen")]) == 0
    assert [p.name for p in (tmp_path / "seen").iterdir()] == ["seven_predicted.png"]


def test_json_lists_every_probability(fashion_model, photos, capsys):
    assert exit_code([fashion_model, *photos, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in results] == photos
    for result in results:
        probabilities = result["probabilities"]
        assert list(probabilities) == list(FASHION)
        assert abs(sum(probabilities.values()) - 1) < 1e-9
        assert result["prediction"] == max(probabilities, key=probabilities.get)


def test_show_writes_a_png_per_image(fashion_model, photos, tmp_path, capsys):
    show = tmp_path / "seen"
    assert exit_code([fashion_model, *photos, "--show", str(show)]) == 0
    written = sorted(p.name for p in show.iterdir())
    assert written == ["one_predicted.png", "seven_predicted.png"]
    for name in written:
        with Image.open(show / name) as image:
            assert image.format == "PNG" and image.width > 200


def test_show_never_overwrites_an_input(fashion_model, tmp_path, capsys):
    inputs = [draw_digit(tmp_path / "a.png"), draw_digit(tmp_path / "a_predicted.png", "one")]
    before = Path(inputs[1]).read_bytes()
    assert exit_code([fashion_model, *inputs, "--show", str(tmp_path)]) == 0
    assert Path(inputs[1]).read_bytes() == before
    assert (tmp_path / "a_predicted-2.png").exists() and (tmp_path / "a_predicted_predicted.png").exists()


def test_bad_image_among_good_ones(fashion_model, photos, tmp_path, capsys):
    blank = tmp_path / "blank.png"
    Image.new("L", (50, 50), 128).save(blank)
    assert exit_code([fashion_model, photos[0], str(blank), photos[1]]) == 1
    out, err = capsys.readouterr()
    assert [line.split(":")[0] for line in out.splitlines()] == photos  # the others still classified
    assert err.count("\n") == 1 and err.startswith("error: ") and str(blank) in err and "no ink" in err


class MakesMarker:
    """Unpickling this object creates the file `marker`: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_pickled_model_is_one_line_and_nothing_is_classified(tmp_path, photos, capsys):
    marker = tmp_path / "marker"
    bad = tmp_path / "model.npz"
    bad.write_bytes(pickle.dumps(MakesMarker(marker)))
    assert exit_code([str(bad), *photos]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and str(bad) in err
    assert not marker.exists()


def test_corrupt_model_is_one_line_and_nothing_is_classified(tmp_path, fashion_model, photos, capsys):
    bad = tmp_path / "cut.npz"
    bad.write_bytes(Path(fashion_model).read_bytes()[:3000])
    assert exit_code([str(bad), *photos]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "python -m src.train" in err


def test_show_must_be_a_folder(fashion_model, photos, capsys):
    with pytest.raises(SystemExit) as info:
        main([fashion_model, *photos, "--show", photos[0]])
    assert info.value.code == 2 and "--show" in capsys.readouterr().err


def test_see_applies_what_the_model_file_says(tmp_path, photos):
    import io

    from src.data import deskew
    from src.images import load_digit_image
    from src.predict import see

    model = SoftmaxModel()
    plain = load_model(save_model(tmp_path / "plain.npz", model, kind="softmax", dataset="mnist",
                                  class_names=[str(d) for d in range(10)], hyperparameters={}, metrics={}))
    skewed = load_model(save_model(tmp_path / "deskew.npz", model, kind="softmax", dataset="mnist",
                                   class_names=[str(d) for d in range(10)], hyperparameters={}, metrics={},
                                   deskew=True))
    seven = photos[0]
    as_digit = load_digit_image(seven)
    np.testing.assert_array_equal(see(plain, seven), as_digit)
    np.testing.assert_array_equal(see(skewed, seven), deskew(as_digit))
    assert np.abs(see(skewed, seven).astype(int) - as_digit).sum() > 0  # the 7's stem leans: it moved
    with open(seven, "rb") as f:
        np.testing.assert_array_equal(see(skewed, io.BytesIO(f.read())), see(skewed, seven))
    fashion = load_model(save_model(tmp_path / "fashion.npz", model, kind="softmax", dataset="fashion-mnist",
                                    class_names=FASHION, hyperparameters={}, metrics={}))
    np.testing.assert_array_equal(see(fashion, seven), load_digit_image(seven, recipe="fashion-mnist"))
    with pytest.raises(ImageError, match=r"^drawing\.png: not an image"):
        see(plain, io.BytesIO(b"<svg/>"), name="drawing.png")


def photograph_on_a_bad_day(digit, path, seed):
    """An MNIST digit as a phone photo: 4x larger, blue ballpoint on cream paper with grain, a lighting
    gradient down to 40% and a shadow over a third of the page, saved as JPEG (quality 80)."""
    rng = np.random.default_rng(seed)
    big = Image.fromarray(digit).resize((112, 112), Image.Resampling.BICUBIC)
    cover = np.asarray(big, dtype=np.float64) / 255
    h, w = 180, 240
    page = np.empty((h, w, 3))
    page[...] = (236, 228, 205)
    page += rng.normal(0, 4, (h, w, 1))
    top, left = int(rng.integers(10, 60)), int(rng.integers(10, 120))
    ink = np.zeros((h, w))
    ink[top:top + 112, left:left + 112] = cover
    photo = page * (1 - ink[..., None]) + np.array((40, 60, 170)) * ink[..., None]
    rows, cols = np.mgrid[0:h, 0:w]
    light = (1 - 0.6 * cols / w) * np.where(rows + cols < 140, 0.5, 1.0)
    Image.fromarray(np.clip(np.rint(photo * light[..., None]), 0, 255).astype(np.uint8)).save(path, quality=80)
    return path


def test_phone_photos_of_held_out_digits_agree_with_a_deskewed_model(mnist_dir, tmp_path, capsys):
    from src.data import deskew

    train_images, train_labels, test_images, _ = load_mnist(mnist_dir)
    model = train_softmax(deskew(train_images[:5000]), train_labels[:5000])
    path = save_model(tmp_path / "model.npz", model, kind="softmax", dataset="mnist",
                      class_names=[str(d) for d in range(10)], hyperparameters={}, metrics={}, deskew=True)
    digits = test_images[:25]
    photos = [str(photograph_on_a_bad_day(d, tmp_path / f"{k}.jpg", k)) for k, d in enumerate(digits)]
    assert main([str(path), *photos, "--json"]) == 0
    predicted = [int(result["prediction"]) for result in json.loads(capsys.readouterr().out)]
    on_originals = model.predict(pre_process_images(deskew(digits)))
    agreement = np.mean(np.array(predicted) == on_originals)
    # Measured: 25 of 25 (with the pipeline before the paper was divided out: 4 of 25).
    assert agreement >= AGREEMENT, f"photos agree with the 28x28 originals for {agreement:.0%}"


def test_fashion_mnist_images_as_png_are_what_the_model_saw(fashion_mnist_dir, tmp_path):
    from src.predict import classify, see

    train_images, train_labels, test_images, _ = load_mnist(fashion_mnist_dir, dataset="fashion-mnist")
    model = train_softmax(train_images[:5000], train_labels[:5000])
    saved = load_model(save_model(tmp_path / "fashion.npz", model, kind="softmax", dataset="fashion-mnist",
                                  class_names=FASHION, hyperparameters={}, metrics={}))
    same = 0
    for k, image in enumerate(test_images[:200]):
        Image.fromarray(image).save(tmp_path / "item.png")
        same += classify(saved, see(saved, tmp_path / "item.png"))[0] == model.predict(
            pre_process_images(image[None]))[0]
    # Measured: 199 of 200 (with the digits' recipe, 20x20 box and centre of mass: 87 of 200).
    assert same >= 0.97 * 200, same
