"""Training on a folder of the user's own images, with either architecture: the data, the
settings the DCGAN architecture fills in, colour pictures, resume, generate, and refusals."""

from __future__ import annotations

import dataclasses
import json
import shutil

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from gan_tf.cli import generate as generate_cli
from gan_tf.cli import train as train_cli
from gan_tf.config import PAPER_DEFAULTS, Config, make_config
from gan_tf.data import guess_dataset, load_data
from gan_tf.errors import ConfigError
from gan_tf.rundir import RunDir, layer_column
from gan_tf.training.loop import train

from conftest import refused, snapshot

SIDE = 40  # not a size the networks take: every image is resized


def write_folder(folder, n=24, colour=True, seed=0, stray=True):
    """n random images of SIDE x SIDE + 8 pixels (cropped to a square by the loader), and
    a stray text file unless `stray` is False."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        shape = (SIDE, SIDE + 8, 3) if colour else (SIDE, SIDE + 8)
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{i:03d}.png")
    if stray:
        (folder / "notes.txt").write_text("not an image")
    return folder


def tiny(folder, out_dir, **given) -> Config:
    values = dict(
        architecture="dcgan",
        image_size=32,
        gen_width=4,
        disc_width=4,
        epochs=1,
        batch_size=8,
        noise_dim=8,
        probe_size=8,
        max_steps_per_epoch=2,
        dataset="folder",
        data=str(folder),
        cache_dir=str(out_dir.parent / "cache"),
        out_dir=str(out_dir),
    )
    return make_config(**{**values, **given})


def test_the_dcgan_architecture_takes_the_papers_defaults():
    config = make_config(architecture="dcgan")
    assert {k: getattr(config, k) for k in PAPER_DEFAULTS} == PAPER_DEFAULTS
    assert config.image_shape == (64, 64, 1)  # MNIST unless the data says otherwise
    given = make_config(architecture="dcgan", batch_size=32, alpha=0.1)
    assert (given.batch_size, given.alpha, given.beta1) == (32, 0.1, 0.5)
    assert make_config() == Config()  # the tutorial's defaults stay the defaults


@pytest.mark.parametrize(
    "given, setting",
    [
        ({"image_size": 64}, "image_size"),  # the tutorial's networks draw 28 pixels
        ({"architecture": "dcgan", "image_size": 48}, "image_size"),
        ({"channels": 2}, "channels"),
        ({"crop": 0}, "crop"),
        ({"architecture": "dcgan", "gen_width": 0}, "gen_width"),
        ({"architecture": "dcgan", "fused_discriminator": True}, "fused_discriminator"),
    ],
)
def test_impossible_shapes_are_refused(given, setting):
    with pytest.raises(ConfigError) as error:
        make_config(**given)
    assert error.value.setting == setting


def test_a_folder_is_recognised_and_resized(tmp_path):
    folder = write_folder(tmp_path / "photos", n=5)
    assert guess_dataset(folder) == "folder"
    data = load_data("folder", folder, 32, cache_dir=tmp_path / "cache")
    assert data.x_train.shape == (5, 32, 32, 3) and data.y_train is None
    assert not (folder / "images").exists()  # the cache lives outside the folder


def test_mnist_shaped_data_is_resized_for_the_dcgan_networks(tmp_path, npz_path):
    data = load_data("mnist", npz_path, 32, channels=3)
    assert data.x_train.shape[1:] == (32, 32, 3) and data.x_train.dtype == np.uint8
    assert load_data("mnist", npz_path, 28).x_train.ndim == 3  # the tutorial's: unchanged


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    """A one-epoch DCGAN run on a colour folder, trained once for the tests that read it."""
    root = tmp_path_factory.mktemp("colour")
    out = root / "run"
    history = train(tiny(write_folder(root / "photos", stray=False), out), verbose=0)
    return out, history


def test_a_colour_run_trains_resumes_and_draws_in_colour(colour_run, tmp_path):
    trained, history = colour_run
    out = tmp_path / "run"
    shutil.copytree(trained, out)
    run = RunDir(out)
    assert iio.imread(run.frame(1)).shape[-1] == 3  # a colour progress grid
    saved = run.read_config()
    assert (saved.architecture, saved.beta1, saved.dropout) == ("dcgan", 0.5, 0.0)
    # Each of the three hidden layers of a 32-pixel discriminator is probed.
    assert all(layer_column("dead_channels", i) in history[0] for i in (1, 2, 3))
    # Resumed with only a longer run asked for, it continues where it stopped.
    first = run.read_metrics()[0]
    resumed = train(dataclasses.replace(saved, out_dir=str(out), epochs=2), verbose=0)
    assert [row["epoch"] for row in resumed] == [1, 2]
    assert resumed[0] == first
    assert generate_cli.main([str(out), "--n", "4", "--out", str(tmp_path / "g.png")]) == 0
    assert iio.imread(tmp_path / "g.png").shape[-1] == 3


def test_a_grey_folder_trains_the_tutorials_networks_and_stores_its_channels(tmp_path):
    folder = write_folder(tmp_path / "grey", colour=False)
    config = tiny(folder, tmp_path / "run", architecture="tutorial", image_size=28)
    train(config, verbose=0)
    saved = RunDir(tmp_path / "run").read_config()
    assert saved.channels == 1 and saved.image_shape == (28, 28, 1)


def test_the_command_line_guesses_a_folder_and_records_every_value(tmp_path, capsys):
    folder = write_folder(tmp_path / "photos")
    out = tmp_path / "run"
    argv = [
        "--architecture", "dcgan", "--image-size", "32", "--gen-width", "4",
        "--disc-width", "4", "--epochs", "1", "--max-steps-per-epoch", "1",
        "--batch-size", "8", "--probe-size", "8", "--noise-dim", "8",
        "--data", str(folder), "--cache-dir", str(tmp_path / "cache"),
        "--out-dir", str(out), "--quiet",
    ]  # fmt: skip
    assert train_cli.main(argv) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["dataset"] == "folder"
    assert (saved["gen_lr"], saved["beta1"], saved["alpha"]) == (2e-4, 0.5, 0.2)
    assert "skipped 1 file that is not an image" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["empty", "no images", "a file", "unreadable"])
def test_bad_folders_are_refused_in_one_line_with_nothing_written(tmp_path, capsys, case):
    folder = tmp_path / "photos"
    folder.mkdir()
    expected = {
        "empty": "empty folder",
        "no images": "no image files",
        "a file": "holds image files",
        "unreadable": "could not be read",
    }[case]
    if case == "no images":
        (folder / "notes.txt").write_text("x")
    elif case == "a file":  # an image folder given as MNIST
        write_folder(folder, n=2, stray=False)
    elif case == "unreadable":
        write_folder(folder, n=2, stray=False)
        (folder / "broken.png").write_bytes(b"not a png")
    dataset = "mnist" if case == "a file" else "folder"
    out = tmp_path / "run"
    argv = ["--data", str(folder), "--dataset", dataset, "--out-dir", str(out)]
    before = snapshot(tmp_path)
    refused(capsys, train_cli.main, argv, expected)
    if case == "empty":  # and without --dataset, where an empty folder could be MNIST's
        refused(capsys, train_cli.main, argv[:2] + argv[4:], expected)
    after = snapshot(tmp_path)
    assert after == before and not out.exists()


def test_images_the_classifier_cannot_judge_are_scored_on_inception_features(tmp_path):
    from gan_tf.evaluation.inception import MIN_INPUT_SIZE, inception_model
    from gan_tf.evaluation.quality import uses_classifier
    from gan_tf.evaluation.unlabelled import InceptionEvaluator

    data = load_data("folder", write_folder(tmp_path / "photos"), 32, cache_dir=tmp_path / "c")
    assert not uses_classifier("folder", data)
    model = inception_model(None, MIN_INPUT_SIZE)  # random weights: the same code, fast
    evaluator = InceptionEvaluator(model, data, n=100, seed=0)
    assert evaluator.n == 12  # a folder of 24: half to compare with, half for the reference
    noise = np.random.default_rng(1).uniform(-1, 1, (12, 32, 32, 3)).astype(np.float32)
    fake, real = evaluator.score(noise), evaluator.reference()
    for figures in (fake, real):
        assert {"fid", "kid", "kid_std", "precision", "recall", "density", "coverage"} <= set(
            figures
        )
        assert all(np.isfinite(v) for v in figures.values())
    assert fake["fid"] != real["fid"]


@pytest.mark.slow
def test_evaluate_scores_a_colour_run_with_local_inception_weights(colour_run, tmp_path, capsys):
    from gan_tf.cli import evaluate as evaluate_cli
    from gan_tf.evaluation.inception import inception_model

    out = tmp_path / "run"
    shutil.copytree(colour_run[0], out)
    weights = tmp_path / "inception.weights.h5"
    inception_model(None).save_weights(weights)  # random weights stand in for ImageNet's
    capsys.readouterr()
    argv = [str(out), "--n", "10", "--fid-weights", str(weights)]
    assert evaluate_cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "FID (lower is better)" in printed and "KID" in printed
    saved = json.loads((out / "evaluation.json").read_text())
    assert saved["n"] == 10 and saved["features"]["weights"] == str(weights)


def test_evaluate_offline_without_inception_weights_says_which_flag(
    colour_run, tmp_path, capsys, monkeypatch
):
    import keras

    from gan_tf.cli import evaluate as evaluate_cli

    out = colour_run[0]

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    line = refused(capsys, evaluate_cli.main, [str(out), "--n", "10"], "InceptionV3")
    assert "--fid-weights" in line


def test_the_classifier_takes_any_image_shape_and_class_count():
    """MNIST's classifier is the one cached classifiers hold (a change would retire them);
    a 64-pixel colour one pools three times before its 128 features (counted by hand)."""
    from gan_tf.evaluation.classifier import make_classifier_model

    # conv 3*3*1*32+32, conv 3*3*32*64+64, dense 7*7*64*128+128, dense 128*10+10
    assert make_classifier_model().count_params() == 320 + 18_496 + 401_536 + 1_290
    colour = make_classifier_model((64, 64, 3), num_classes=5)
    # conv 896, conv 18,496, conv 3*3*64*128+128, dense 8*8*128*128+128, dense 128*5+5
    assert colour.count_params() == 896 + 18_496 + 73_856 + 1_048_704 + 645
    assert colour.get_layer("features").input.shape[-1] == 8 * 8 * 128


def write_classes(folder, per_class=35):
    """Two class subfolders: dark images and bright ones, which a classifier tells apart."""
    rng = np.random.default_rng(3)
    for name, low in (("dark", 0), ("bright", 160)):
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(low, low + 96, (SIDE, SIDE, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / name / f"{i:03d}.png")
    return folder


def test_a_class_folder_is_judged_by_the_classifier_on_a_held_out_seventh(
    colour_run, tmp_path, capsys
):
    from gan_tf.cli import evaluate as evaluate_cli
    from gan_tf.evaluation.classifier import with_test_split
    from gan_tf.evaluation.quality import uses_classifier

    folder = write_classes(tmp_path / "classes")
    data = load_data("folder", folder, 32, cache_dir=tmp_path / "c")
    assert uses_classifier("folder", data)
    split = with_test_split(data)
    assert np.bincount(split.y_test).tolist() == [5, 5]  # 1/7 of each class's 35
    assert np.bincount(split.y_train).tolist() == [30, 30]
    assert np.array_equal(with_test_split(data).x_test, split.x_test)  # always the same
    # No test image is also a training image.
    flat = {image.tobytes() for image in split.x_train}
    assert not any(image.tobytes() in flat for image in split.x_test)

    out = tmp_path / "run"
    shutil.copytree(colour_run[0], out)
    argv = [str(out), "--n", "10", "--data", str(folder), "--dataset", "folder"]
    argv += ["--cache-dir", str(tmp_path / "c")]
    capsys.readouterr()
    assert evaluate_cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "classifier score (max 2)" in printed and "classes covered" in printed
    saved = json.loads((out / "evaluation.json").read_text())
    assert saved["classifier"]["test_accuracy"] == 1.0  # dark against bright
    assert len(saved["generator"]["histogram"]) == 2


def test_a_fake_cifar10_folder_trains_at_32_pixels_with_the_classifier_scoring(tmp_path, capsys):
    """The acceptance run on CIFAR-10's python folder, offline: the command line guesses
    the dataset, trains the paper's networks in colour, and the classifier (CIFAR-10 is
    labelled) scores each epoch."""
    from test_imagefolder import write_cifar

    folder = write_cifar(tmp_path / "cifar", per_batch=10)  # 50 training images, 11 test
    out = tmp_path / "run"
    argv = ["--architecture", "dcgan", "--image-size", "32", "--data", str(folder)]
    argv += ["--gen-width", "4", "--disc-width", "4", "--batch-size", "8", "--noise-dim", "8"]
    argv += ["--epochs", "1", "--max-steps-per-epoch", "2", "--eval-every", "1"]
    argv += ["--eval-n", "10", "--probe-size", "8", "--quiet"]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--out-dir", str(out)]
    assert train_cli.main(argv) == 0
    run = RunDir(out)
    saved = run.read_config()
    assert (saved.dataset, saved.image_shape) == ("cifar10", (32, 32, 3))
    row = run.read_metrics()[0]
    assert np.isfinite(row["fd"]) and 0 < row["score"] <= 10  # the classifier's columns
    assert iio.imread(run.frame(1)).shape[-1] == 3


def test_compare_puts_a_colour_run_beside_a_grey_one_at_the_same_size(
    colour_run, tiny_run, tmp_path
):
    """compare reads each run's grid at its own scale and keeps colour: the 32-pixel colour
    run and the tutorial's 28-pixel grey one come out in one colour sheet, cells alike."""
    from gan_tf.cli import compare as compare_cli
    from gan_tf.images import upscale
    from gan_tf.study.frames import cell_scale

    run = tmp_path / "colour"
    shutil.copytree(colour_run[0], run)
    # A tiny untrained generator draws mid-grey: its grid is replaced by a colourful one of
    # the same size (each pixel 4 x 4, as grids of 32-pixel images are saved).
    frame = iio.imread(RunDir(run).frame(1))
    pixels = np.random.default_rng(0).integers(0, 256, (frame.shape[0] // 4,) * 2 + (3,))
    iio.imwrite(RunDir(run).frame(1), upscale(pixels.astype(np.uint8), 4))
    out = tmp_path / "side"
    assert compare_cli.main([str(run), str(tiny_run["run"]), "--out-dir", str(out)]) == 0
    sheet = iio.imread(out / "side_by_side.png")
    assert sheet.ndim == 3 and (sheet[..., 0] != sheet[..., 1]).any()  # colour kept
    # Both cells drawn 4 times: the colour grid at its saved size, beside the grey one.
    assert any(
        np.array_equal(sheet[top : top + frame.shape[0], left : left + frame.shape[1], :3],
                       iio.imread(RunDir(run).frame(1)))
        for top in range(60) for left in range(30)
    )  # fmt: skip
    assert cell_scale(4, 28) == 4 and cell_scale(4, 32) == 4 and cell_scale(4, 64) == 2
    assert cell_scale(2, 64) == 1 and cell_scale(2, 128) == 1
    assert iio.imread(out / "side_by_side.gif", index=None).ndim == 4
    assert "## " in (out / "comparison.md").read_text()
