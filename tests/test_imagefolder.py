"""gan_tf.datasets: a folder of a user's images, and CIFAR-10's python batches, as `Data`.

Every image is synthetic and written to tmp_path with Pillow, a few pixels each; one test
reads the shared emoji folder when it is there.
"""

from __future__ import annotations

import os
import pickle
import tarfile
import warnings

import numpy as np
import pytest
from PIL import Image

from gan_tf.data import Data
from gan_tf.datasets.cifar import load_cifar10
from gan_tf.datasets.folder import IGNORED_NAMES, IMAGE_SUFFIXES, load_image_folder
from gan_tf.datasets.prepare import prepare_images
from gan_tf.errors import ConfigError, DataError

from conftest import REPO

EMOJI = REPO.parent / "shared" / "data" / "emoji64"
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def save(path, image, **options):
    """Writes a Pillow image or a uint8 array to `path`, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image.save(path, **options)
    return path


def solid(size, colour, mode="RGB") -> Image.Image:
    return Image.new(mode, size, colour)


def refusal(error_type, call, *args, **kwargs) -> str:
    """The message of the error `call` raises, checked to be one line."""
    with pytest.raises(error_type) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def no_warnings(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call(*args, **kwargs)


# ---------------------------------------------------------------------------- shapes


def test_shapes_dtype_and_source(tmp_path):
    folder = tmp_path / "pictures"
    for i, size in enumerate([(40, 30), (30, 50), (64, 64)]):
        save(folder / f"{i}.png", solid(size, (10 * i, 20, 30)))
    data = no_warnings(load_image_folder, folder, 16)
    assert isinstance(data, Data)
    assert data.x_train.shape == (3, 16, 16, 3) and data.x_train.dtype == np.uint8
    assert data.y_train is None and data.x_test is None and data.y_test is None
    assert data.source == str(folder)
    # Sorted order, and a flat colour survives crop and resize exactly.
    assert [tuple(x[8, 8]) for x in data.x_train] == [(0, 20, 30), (10, 20, 30), (20, 20, 30)]


def test_public_constants():
    assert IMAGE_SUFFIXES == (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
    assert {".DS_Store", "Thumbs.db", "desktop.ini"} <= set(IGNORED_NAMES)


# ---------------------------------------------------------------------------- crop, resize


def test_centre_crop_picks_the_centre(tmp_path):
    # 41 wide, 20 high: the square is columns 10-29 (the odd pixel left over goes right);
    # only those are green.
    wide = np.zeros((20, 41, 3), np.uint8)
    wide[:, 10:30] = GREEN
    tall = np.zeros((41, 20, 3), np.uint8)
    tall[10:30] = GREEN
    save(tmp_path / "a" / "wide.png", wide)
    save(tmp_path / "a" / "tall.png", tall)
    x = load_image_folder(tmp_path / "a", 20).x_train
    assert (x == GREEN).all()


def test_centre_crop_then_downscale_keeps_the_centre(tmp_path):
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, 20:60] = GREEN
    save(tmp_path / "a" / "wide.png", image)
    x = load_image_folder(tmp_path / "a", 10).x_train[0]
    # LANCZOS reaches a few pixels past the square: its edges may take in some black.
    assert (x[:, 3:7] == GREEN).all()
    assert x[..., 1].mean() > 200


def test_crop_then_resize(tmp_path):
    image = np.full((64, 64, 3), BLUE, np.uint8)
    image[16:48, 16:48] = RED
    save(tmp_path / "a" / "target.png", image)
    cropped = load_image_folder(tmp_path / "a", 8, crop=16).x_train[0]
    assert (cropped == RED).all()
    whole = load_image_folder(tmp_path / "a", 8).x_train[0]
    assert tuple(whole[0, 0]) == BLUE and tuple(whole[4, 4]) == RED


def test_small_images_are_enlarged(tmp_path):
    save(tmp_path / "a" / "tiny.png", solid((4, 6), (5, 6, 7)))
    x = load_image_folder(tmp_path / "a", 12).x_train
    assert x.shape == (1, 12, 12, 3) and (x == (5, 6, 7)).all()


def test_large_jpeg_decoded_smaller_keeps_its_crop(tmp_path):
    # A JPEG much larger than image_size is decoded at a fraction of its size; the crop
    # must still land where it does on the full picture.
    yy, xx = np.mgrid[:768, :1024]
    image = np.stack([xx // 4, yy // 3, (xx + yy) // 7], axis=-1).astype(np.uint8)
    image[300:420, 400:520] = RED
    save(tmp_path / "a" / "big.jpg", image, quality=95)
    for crop in (None, 400):
        x = load_image_folder(tmp_path / "a", 16, crop=crop).x_train[0].astype(int)
        full = prepare_images([np.asarray(Image.open(tmp_path / "a" / "big.jpg"))], 16, crop=crop)
        assert np.abs(x - full[0]).mean() < 1.5, crop


def test_exif_rotation_is_applied(tmp_path):
    # Stored 40 x 20, left half red; orientation 6 shows it turned a quarter clockwise,
    # 20 x 40 with the red half on top.
    image = np.zeros((20, 40, 3), np.uint8)
    image[:, :20] = RED
    image[:, 20:] = BLUE
    exif = Image.Exif()
    exif[0x0112] = 6
    save(tmp_path / "a" / "photo.jpg", image, exif=exif, quality=95)
    x = load_image_folder(tmp_path / "a", 20).x_train[0].astype(int)
    assert np.abs(x[0, 10] - RED).max() < 20 and np.abs(x[-1, 10] - BLUE).max() < 20


# ---------------------------------------------------------------------------- decoding


def _rgba(path):
    image = np.zeros((4, 4, 4), np.uint8)
    image[:2] = (0, 0, 255, 255)  # opaque blue
    image[2:, :2] = (255, 0, 0, 0)  # transparent: white shows through
    image[2:, 2:] = (255, 0, 0, 128)  # half red on white
    save(path / "rgba.png", image)
    return {(0, 0): BLUE, (3, 0): WHITE, (3, 3): (255, 127, 127)}


def _palette(path):
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
    image.paste(2, (0, 0, 2, 4))
    save(path / "palette.png", image, transparency=0)  # index 0 unused: nothing clear
    return {(0, 0): GREEN, (0, 3): RED}


def _palette_transparent(path):
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(0, (0, 0, 4, 2))
    save(path / "clear.png", image, transparency=0)
    return {(0, 0): WHITE, (3, 3): RED}


def _gif(path):
    frames = [solid((4, 4), RED), solid((4, 4), BLUE)]
    save(path / "anim.gif", frames[0], save_all=True, append_images=frames[1:])
    return {(0, 0): RED, (3, 3): RED}


def _png16(path):
    image = np.array([[0, 257, 32896, 65535]] * 4, np.uint16)
    save(path / "deep.png", Image.fromarray(image))
    return {(0, 0): (0,) * 3, (0, 1): (1,) * 3, (0, 2): (128,) * 3, (0, 3): (255,) * 3}


def _grey(path):
    save(path / "grey.png", solid((4, 4), 100, "L"))
    return {(1, 1): (100,) * 3}


def _grey_alpha(path):
    image = np.zeros((4, 4, 2), np.uint8)
    image[:2] = (0, 255)  # opaque black
    image[2:] = (0, 0)  # transparent
    save(path / "la.png", Image.fromarray(image, "LA"))
    return {(0, 0): (0,) * 3, (3, 3): WHITE}


def _webp(path):
    image = np.zeros((4, 4, 4), np.uint8)
    image[:2] = (0, 255, 0, 255)
    image[2:] = (0, 0, 0, 0)
    save(path / "pic.webp", image, lossless=True)
    return {(0, 0): GREEN, (3, 3): WHITE}


def _jpeg(path):
    save(path / "photo.JPG", solid((8, 8), (200, 100, 50)), quality=95)
    return {(4, 4): (200, 100, 50)}


def _cmyk_jpeg(path):
    save(path / "print.jpeg", solid((8, 8), (0, 255, 255, 0), "CMYK"), quality=95)
    return {(4, 4): RED}


def _bmp(path):
    save(path / "old.bmp", solid((4, 4), (1, 2, 3)))
    return {(2, 2): (1, 2, 3)}


DECODE_CASES = {
    "rgba": _rgba,
    "palette": _palette,
    "palette_transparent": _palette_transparent,
    "gif_first_frame": _gif,
    "png_16_bit": _png16,
    "grey": _grey,
    "grey_alpha": _grey_alpha,
    "webp": _webp,
    "jpeg": _jpeg,
    "cmyk_jpeg": _cmyk_jpeg,
    "bmp": _bmp,
}


@pytest.mark.parametrize("case", DECODE_CASES)
def test_decodes_each_format(tmp_path, case):
    folder = tmp_path / "images"
    expected = DECODE_CASES[case](folder)
    with Image.open(next(folder.iterdir())) as image:
        size = image.size[0]
    x = no_warnings(load_image_folder, folder, size, channels=3).x_train
    assert x.shape == (1, size, size, 3)
    lossy = case.endswith("jpeg")
    for (row, col), colour in expected.items():
        difference = np.abs(x[0, row, col].astype(int) - colour).max()
        assert difference <= (6 if lossy else 1), (case, row, col, x[0, row, col], colour)


# ---------------------------------------------------------------------------- channels


def test_channels_follow_the_data(tmp_path):
    grey = tmp_path / "grey"
    save(grey / "a.png", solid((8, 8), 90, "L"))
    save(grey / "b.png", solid((8, 8), (70, 70, 70)))  # RGB file, but no colour in it
    x = load_image_folder(grey, 8).x_train
    assert x.shape == (2, 8, 8, 1)
    assert (x[0] == 90).all() and (x[1] == 70).all()

    mixed = tmp_path / "mixed"
    save(mixed / "a.png", solid((8, 8), 90, "L"))
    save(mixed / "b.png", solid((8, 8), RED))
    x = load_image_folder(mixed, 8).x_train
    assert x.shape == (2, 8, 8, 3)
    assert (x[0] == 90).all() and (x[1] == RED).all()


def test_channels_convert(tmp_path):
    save(tmp_path / "a" / "red.png", solid((8, 8), RED))
    save(tmp_path / "a" / "grey.png", solid((8, 8), 90, "L"))
    x = load_image_folder(tmp_path / "a", 8, channels=1).x_train
    assert x.shape == (2, 8, 8, 1)
    # Sorted: grey.png, red.png. Pillow's L of pure red is 255 * 0.299, rounded: 76.
    assert (x[0] == 90).all() and (x[1] == 76).all()
    x = load_image_folder(tmp_path / "a", 8, channels=3).x_train
    assert x.shape == (2, 8, 8, 3) and (x[0] == 90).all() and (x[1] == RED).all()


# ---------------------------------------------------------------------------- folders


def test_class_subfolders_give_labels(tmp_path):
    folder = tmp_path / "animals"
    save(folder / "cats" / "a.png", solid((8, 8), RED))
    save(folder / "cats" / "b.png", solid((8, 8), RED))
    save(folder / "dogs" / "c.png", solid((8, 8), BLUE))
    save(folder / "dogs" / "puppies" / "d.png", solid((8, 8), BLUE))
    save(folder / "zebras" / ".ipynb_checkpoints" / "e.png", solid((8, 8), GREEN))
    (folder / "empty").mkdir()
    data = no_warnings(load_image_folder, folder, 4)
    assert data.y_train.dtype == np.int64
    assert data.y_train.tolist() == [0, 0, 1, 1]
    assert (data.x_train[:2] == RED).all() and (data.x_train[2:] == BLUE).all()


def test_images_beside_subfolders_are_unlabelled(tmp_path):
    folder = tmp_path / "mixed"
    save(folder / "top.png", solid((8, 8), RED))
    save(folder / "sub" / "inner.png", solid((8, 8), BLUE))
    data = load_image_folder(folder, 4)
    assert data.y_train is None and len(data.x_train) == 2


def test_symlinked_folders_are_followed_once(tmp_path):
    folder = tmp_path / "a"
    save(tmp_path / "elsewhere" / "y.png", solid((8, 8), BLUE))
    save(folder / "cats" / "x.png", solid((8, 8), RED))
    (folder / "dogs").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (folder / "cats" / "loop").symlink_to(folder, target_is_directory=True)
    data = load_image_folder(folder, 4)
    assert data.y_train.tolist() == [0, 1]


def test_stray_files_are_skipped_with_one_warning(tmp_path):
    folder = tmp_path / "a"
    save(folder / "x.png", solid((8, 8), RED))
    for name in (".DS_Store", "Thumbs.db", "notes.txt", "._x.png"):
        (folder / name).write_bytes(b"not an image")
    with pytest.warns(UserWarning) as record:
        data = load_image_folder(folder, 4)
    assert len(data.x_train) == 1
    assert len(record) == 1
    message = str(record[0].message)
    assert "skipped 4 files that are not images" in message and "notes.txt" in message
    assert "\n" not in message


def test_system_clutter_alone_is_silent(tmp_path):
    folder = tmp_path / "a"
    save(folder / "x.png", solid((8, 8), RED))
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (folder / "desktop.ini").write_text("[.ShellClassInfo]")
    assert len(no_warnings(load_image_folder, folder, 4).x_train) == 1


def test_small_folders_show_no_progress(tmp_path, capfd):
    save(tmp_path / "a" / "x.png", solid((8, 8), RED))
    load_image_folder(tmp_path / "a", 4)
    assert capfd.readouterr().err == ""


def test_many_images_show_progress(capfd):
    prepare_images([np.zeros((2, 2), np.uint8)] * 2000, 2)
    assert capfd.readouterr().err == ""
    prepare_images([np.zeros((2, 2), np.uint8)] * 2001, 2)
    assert "2001" in capfd.readouterr().err


# ---------------------------------------------------------------------------- errors


def test_missing_folder(tmp_path):
    message = refusal(DataError, load_image_folder, tmp_path / "nowhere", 8)
    assert str(tmp_path / "nowhere") in message and "no such folder" in message


def test_file_instead_of_folder(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    path.write_bytes(b"\x1f\x8b")
    message = refusal(DataError, load_image_folder, path, 8)
    assert str(path) in message and "a file, not a folder" in message


def test_empty_folder(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    message = refusal(DataError, load_image_folder, tmp_path / "empty", 8)
    assert "empty folder" in message and str(tmp_path / "empty") in message


def test_folder_without_images_counts_what_it_skipped(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    (folder / "scan.tiff").write_bytes(b"II*\0")
    message = refusal(DataError, load_image_folder, folder, 8)
    assert "no image files" in message and "skipped 2 files" in message
    assert "notes.txt" in message


def _with_broken_files(folder, good: int, bad: int):
    for i in range(good):
        save(folder / f"good{i:03d}.png", solid((8, 8), RED))
    for i in range(bad):
        (folder / f"bad{i}.png").write_bytes(b"<html>not found</html>")


def test_unreadable_files_are_refused_and_named(tmp_path):
    folder = tmp_path / "a"
    _with_broken_files(folder, good=40, bad=3)
    truncated = save(folder / "cut.png", solid((64, 64), RED)).read_bytes()
    (folder / "cut.png").write_bytes(truncated[: len(truncated) // 2])
    message = refusal(DataError, load_image_folder, folder, 8)
    assert message.startswith(f"{folder}: 4 of 44 image files could not be read: ")
    assert "bad0.png (cannot identify image file), bad1.png (cannot identify image file), " in (
        message
    )
    assert "and 1 more" in message and "remove or fix them" in message


def test_skip_unreadable_leaves_a_few_out_with_a_warning(tmp_path):
    folder = tmp_path / "a"
    save(folder / "cats" / "c.png", solid((8, 8), RED))
    _with_broken_files(folder / "dogs", good=19, bad=1)
    left_out = r"left out 1 of 21 image files, which could not be read: dogs/bad0\.png"
    with pytest.warns(UserWarning, match=left_out):
        data = load_image_folder(folder, 4, skip_unreadable=True)
    assert len(data.x_train) == 20
    assert data.y_train.tolist() == [0] + [1] * 19


def test_skip_unreadable_refuses_many(tmp_path):
    folder = tmp_path / "a"
    _with_broken_files(folder, good=18, bad=2)
    message = refusal(DataError, load_image_folder, folder, 4, skip_unreadable=True)
    assert "2 of 20 image files could not be read" in message and "too many" in message


def test_image_smaller_than_crop(tmp_path):
    folder = tmp_path / "a"
    save(folder / "big.png", solid((20, 20), RED))
    save(folder / "small.png", solid((10, 12), RED))
    message = refusal(DataError, load_image_folder, folder, 8, crop=11)
    assert "small.png (10x12)" in message and "crop=11" in message and "big.png" not in message


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("image_size", 0),
        ("image_size", -4),
        ("image_size", 2.5),
        ("image_size", "64"),
        ("image_size", True),
        ("crop", 0),
        ("crop", 3.0),
        ("channels", 2),
        ("channels", 4),
        ("channels", "3"),
    ],
)
def test_bad_options(tmp_path, setting, value):
    save(tmp_path / "a" / "x.png", solid((8, 8), RED))
    options = {"image_size": 8, setting: value}
    with pytest.raises(ConfigError) as info:
        load_image_folder(tmp_path / "a", **options)
    assert info.value.setting == setting
    assert str(info.value).startswith(f"{setting} must be ") and repr(value) in str(info.value)
    with pytest.raises(ConfigError):
        prepare_images([np.zeros((8, 8), np.uint8)], **options)


def test_numpy_integers_are_valid_sizes(tmp_path):
    save(tmp_path / "a" / "x.png", solid((8, 8), RED))
    x = load_image_folder(tmp_path / "a", np.int64(4), crop=np.int32(6), channels=np.int8(1))
    assert x.x_train.shape == (1, 4, 4, 1)


def test_cache_inside_the_data_folder_is_refused(tmp_path):
    save(tmp_path / "a" / "x.png", solid((8, 8), RED))
    with pytest.raises(ConfigError) as info:
        load_image_folder(tmp_path / "a", 8, cache_dir=tmp_path / "a" / "cache")
    assert info.value.setting == "cache_dir"
    assert not (tmp_path / "a" / "cache").exists()


# ---------------------------------------------------------------------------- cache


@pytest.fixture
def opened(monkeypatch):
    """The files Pillow opens during the test."""
    calls = []
    real_open = Image.open

    def counting_open(fp, *args, **kwargs):
        calls.append(fp)
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    return calls


def test_cache_is_written_outside_and_read_back(tmp_path, opened):
    folder, cache = tmp_path / "data", tmp_path / "cache"
    for i in range(3):
        save(folder / f"{i}.png", solid((12, 10), (i, 2 * i, 3 * i)))
    before = sorted(folder.rglob("*"))
    first = load_image_folder(folder, 8, cache_dir=cache)
    assert len(opened) == 3
    assert sorted(folder.rglob("*")) == before  # nothing written into the data
    assert len(list(cache.glob("*.npz"))) == 1
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".npz")] == []

    opened.clear()
    second = load_image_folder(folder, 8, cache_dir=cache)
    assert opened == []
    np.testing.assert_array_equal(second.x_train, first.x_train)
    assert second.source == first.source

    # Other options are another key, another file.
    load_image_folder(folder, 4, cache_dir=cache)
    assert len(opened) == 3 and len(list(cache.glob("*.npz"))) == 2


def test_a_changed_file_changes_the_cache_key(tmp_path, opened):
    folder, cache = tmp_path / "data", tmp_path / "cache"
    path = save(folder / "x.png", solid((8, 8), RED))
    assert (load_image_folder(folder, 8, cache_dir=cache).x_train == RED).all()
    save(path, solid((8, 8), BLUE))
    stat = path.stat()  # a rewrite within the clock's resolution keeps mtime: move it on
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    opened.clear()
    assert (load_image_folder(folder, 8, cache_dir=cache).x_train == BLUE).all()
    assert len(opened) == 1 and len(list(cache.glob("*.npz"))) == 2


def test_corrupt_cache_is_ignored_and_rewritten(tmp_path):
    folder, cache = tmp_path / "data", tmp_path / "cache"
    save(folder / "x.png", solid((8, 8), RED))
    first = load_image_folder(folder, 8, cache_dir=cache)
    (cache_file,) = cache.glob("*.npz")
    cache_file.write_bytes(b"PK\3\4 truncated")
    again = no_warnings(load_image_folder, folder, 8, cache_dir=cache)
    np.testing.assert_array_equal(again.x_train, first.x_train)
    with np.load(cache_file) as rewritten:
        np.testing.assert_array_equal(rewritten["x"], first.x_train)


def test_an_unwritable_cache_only_warns(tmp_path):
    save(tmp_path / "data" / "x.png", solid((8, 8), RED))
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    with pytest.warns(UserWarning, match="could not write the image cache"):
        data = load_image_folder(tmp_path / "data", 8, cache_dir=blocked)
    assert (data.x_train == RED).all()


def test_cache_hit_still_refuses_unreadable_files(tmp_path, opened):
    folder, cache = tmp_path / "data", tmp_path / "cache"
    _with_broken_files(folder, good=19, bad=1)
    with pytest.warns(UserWarning, match="left out 1 of 20"):
        load_image_folder(folder, 4, cache_dir=cache, skip_unreadable=True)
    opened.clear()
    message = refusal(DataError, load_image_folder, folder, 4, cache_dir=cache)
    assert opened == [] and "bad0.png" in message


# ---------------------------------------------------------------------------- arrays


def test_prepare_images_from_arrays():
    rgba = np.zeros((20, 20, 4), np.uint8)  # all transparent: white
    images = [np.full((40, 30, 3), RED, np.uint8), np.full((30, 40), 9, np.uint8), rgba]
    x = prepare_images(images, 10)
    assert x.shape == (3, 10, 10, 3) and x.dtype == np.uint8
    assert (x[0] == RED).all() and (x[1] == 9).all() and (x[2] == 255).all()
    grey = prepare_images(np.zeros((2, 6, 6), np.uint8), 3)
    assert grey.shape == (2, 3, 3, 1)


def test_prepare_images_refuses_bad_arrays():
    message = refusal(DataError, prepare_images, [np.zeros((8, 8), np.float32)], 4)
    assert "image 0" in message and "float32" in message
    message = refusal(DataError, prepare_images, [np.zeros((8, 8, 5), np.uint8)], 4)
    assert "image 0" in message
    images = [np.zeros((20, 20), np.uint8), np.zeros((9, 30), np.uint8)]
    message = refusal(DataError, prepare_images, images, 4, crop=10)
    assert "image 1 (30x9)" in message


# ---------------------------------------------------------------------------- CIFAR-10

# Image 0 of data_batch_1 has this pixel at row 0, column 1; CIFAR stores each image as
# its red plane, then green, then blue.
PIXEL = (10, 20, 30)


def write_cifar(root, per_batch=2):
    """A CIFAR-10 python folder in the real layout: pickled dicts with bytes keys."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for b, name in enumerate(names):
        n = per_batch + (name == "test_batch")
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        if b == 0:
            data[0, [1, 1024 + 1, 2048 + 1]] = PIXEL
        batch = {
            b"batch_label": name.encode(),
            b"labels": [(b + i) % 10 for i in range(n)],
            b"data": data,
            b"filenames": [f"{name}_{i}.png".encode() for i in range(n)],
        }
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"airplane"]}))
    return folder


def write_archive(folder, archive):
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    return archive


def test_cifar10_folder_and_archive_agree(tmp_path):
    folder = write_cifar(tmp_path / "unpacked")
    archive = write_archive(folder, tmp_path / "cifar-10-python.tar.gz")
    loaded = [load_cifar10(folder), load_cifar10(tmp_path / "unpacked"), load_cifar10(archive)]
    for data in loaded:
        assert data.x_train.shape == (10, 32, 32, 3) and data.x_train.dtype == np.uint8
        assert data.x_test.shape == (3, 32, 32, 3)
        assert data.y_train.dtype == np.int64 and data.y_train.tolist() == [
            0, 1, 1, 2, 2, 3, 3, 4, 4, 5,
        ]  # fmt: skip
        assert data.y_test.tolist() == [5, 6, 7]
        assert tuple(data.x_train[0, 0, 1]) == PIXEL
        for a, b in zip(data, loaded[0], strict=True):
            np.testing.assert_array_equal(a, b)
    assert loaded[2].source == str(archive)


def test_cifar10_archive_in_a_folder(tmp_path):
    folder = write_cifar(tmp_path / "unpacked")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    write_archive(folder, downloads / "cifar-10-python.tar.gz")
    assert tuple(load_cifar10(downloads).x_train[0, 0, 1]) == PIXEL


def test_cifar10_at_another_size(tmp_path):
    data = load_cifar10(write_cifar(tmp_path))
    x = prepare_images(data.x_train, 16)
    assert x.shape == (10, 16, 16, 3) and x.dtype == np.uint8


def test_cifar10_missing_batch(tmp_path):
    folder = write_cifar(tmp_path / "unpacked")
    (folder / "data_batch_3").unlink()
    message = refusal(DataError, load_cifar10, folder)
    assert str(folder / "data_batch_3") in message and "missing" in message
    archive = write_archive(folder, tmp_path / "cifar.tar.gz")
    message = refusal(DataError, load_cifar10, archive)
    assert str(archive) in message and "data_batch_3" in message


def test_cifar10_corrupt_files(tmp_path):
    folder = write_cifar(tmp_path / "unpacked")
    (folder / "test_batch").write_bytes(b"\x80\x02}q\x00(truncated")
    message = refusal(DataError, load_cifar10, folder)
    assert str(folder / "test_batch") in message
    broken = tmp_path / "cifar-10-python.tar.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    message = refusal(DataError, load_cifar10, broken)
    assert str(broken) in message
    assert str(tmp_path / "nowhere") in refusal(DataError, load_cifar10, tmp_path / "nowhere")


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_cifar10_pickle_cannot_run_code(tmp_path):
    folder = write_cifar(tmp_path / "unpacked")
    marker = tmp_path / "ran"
    with open(folder / "data_batch_2", "wb") as f:
        pickle.dump({b"data": _Exploit(marker), b"labels": []}, f, protocol=2)
    message = refusal(DataError, load_cifar10, folder)
    assert str(folder / "data_batch_2") in message and "system" in message
    assert not marker.exists()


# ---------------------------------------------------------------------------- real data


@pytest.mark.skipif(not EMOJI.is_dir(), reason=f"no emoji folder at {EMOJI} (shared data)")
def test_emoji_folder():
    data = no_warnings(load_image_folder, EMOJI, 32)
    assert data.x_train.shape == (1406, 32, 32, 3) and data.y_train is None
    # Emoji are drawn on a light page: far from a folder of blank or black images.
    assert 100 < data.x_train.mean() < 250
