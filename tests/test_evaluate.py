"""The evaluation classifier and Evaluator on synthetic labelled data."""

import itertools
import json

import numpy as np
import pytest

from gan_tf.data import Data
from gan_tf.errors import EvaluationError
from gan_tf.evaluation.classifier import load_or_train_classifier, scale
from gan_tf.evaluation.quality import PRECISION_CAVEAT, Evaluator, evaluate, format_table

from conftest import labelled_data


@pytest.fixture(scope="module")
def data():
    return labelled_data()


@pytest.fixture(scope="module")
def classifier(trained_classifier):
    """conftest's `trained_classifier`: trained on `labelled_data()` once per session, with
    the epochs a run trains it for; (model, info, its cache folder)."""
    return trained_classifier


def test_classifier_learns_and_is_cached(data, classifier):
    model, info, cache = classifier
    assert info["test_accuracy"] > 0.9
    cached = list(cache.glob("classifier-*.keras"))
    assert len(cached) == 1 and cached[0].with_suffix(".json").is_file()
    again, info_again = load_or_train_classifier(data, cache, verbose=0)
    assert info_again == info  # read from the cache, not retrained
    assert len(info["weights_sha256"]) == 64  # the copy's name, the same once reloaded
    assert getattr(again, "optimizer", None) is None  # the weights alone: a third of the file
    np.testing.assert_allclose(
        again.predict(scale(data.x_test[:5]), verbose=0),
        model.predict(scale(data.x_test[:5]), verbose=0),
        rtol=1e-5,
    )


def test_other_data_gets_another_classifier(data, classifier):
    _, info, _ = classifier
    other = Data(data.x_train[:-1], data.y_train[:-1], data.x_test, data.y_test)
    from gan_tf.evaluation.classifier import CLASSIFIER_EPOCHS, fingerprint

    assert fingerprint(data, CLASSIFIER_EPOCHS) == info["fingerprint"]
    assert fingerprint(other, CLASSIFIER_EPOCHS) != info["fingerprint"]
    assert fingerprint(data, CLASSIFIER_EPOCHS + 1) != info["fingerprint"]  # the recipe too


def test_a_second_process_waits_for_the_classifier_instead_of_training_it(
    data, classifier, tmp_path, capsys
):
    """While one process trains the classifier (here: holds its lock), another waits, then
    loads what the first cached: a study's shards train it once between them."""
    import shutil
    import threading
    import time
    from pathlib import Path

    from gan_tf.files import waiting_lock

    _, info, _ = classifier
    cached = Path(info["path"])
    cache = tmp_path / "cache"
    cache.mkdir()
    result = {}
    waiter = threading.Thread(
        target=lambda: result.update(got=load_or_train_classifier(data, cache))
    )
    out = ""
    with waiting_lock(cache / cached.with_suffix(".lock").name):
        waiter.start()
        deadline = time.monotonic() + 60
        while "Waiting for another process" not in out and time.monotonic() < deadline:
            time.sleep(0.05)
            out += capsys.readouterr().out
        assert "Waiting for another process to train the evaluation classifier" in out
        assert waiter.is_alive()  # blocked on the lock, not training
        for source in (cached, cached.with_suffix(".json")):  # the other process's result
            shutil.copy(source, cache / source.name)
    waiter.join(timeout=60)
    out += capsys.readouterr().out
    assert result["got"][1] == info and "Training" not in out


def test_unlabelled_data_is_refused(data, tmp_path):
    with pytest.raises(EvaluationError, match="no y_train"):
        load_or_train_classifier(Data(data.x_train, None, None, None), tmp_path)


def test_corruption_moves_fd_and_score_the_right_way(data, classifier):
    evaluator = Evaluator(classifier[0], data, n=300, seed=0)
    reference = evaluator.reference()
    real = scale(data.x_test)
    rng = np.random.default_rng(0)
    fds, scores = [], []
    for sigma in (0.0, 0.5, 1.0, 2.0):
        noisy = np.clip(real + rng.normal(0, sigma, real.shape).astype(np.float32), -1, 1)
        figures = evaluator.score(noisy)
        fds.append(figures["fd"])
        scores.append(figures["score"])
    assert fds[0] < 1e-6 + 0.05 * max(fds)  # the test set against itself
    assert all(a < b for a, b in itertools.pairwise(fds)), fds
    assert scores[0] > scores[-1], scores
    assert reference["covered"] == 10 and reference["fd"] < fds[1]


def test_constant_images_cover_one_class(data, classifier):
    evaluator = Evaluator(classifier[0], data, n=300, seed=0)
    same = np.repeat(scale(data.x_test[:1]), 300, axis=0)
    figures = evaluator.score(same)
    assert figures["covered"] == 1
    assert figures["score"] == pytest.approx(1.0, abs=1e-6)
    assert figures["mode_kl"] > 1.5  # about log 10 for a uniform reference
    # The collapse precision cannot see: every fake is test image 0, which is in the real
    # sample (n is the whole test split), so each lies in real image 0's ball. Coverage
    # counts only the few real images with image 0 among their 3 nearest neighbours.
    assert figures["precision"] == 1.0
    assert figures["coverage"] < 0.1
    assert figures["recall"] < 0.1


def test_evaluate_run_writes_json(tmp_path, data, classifier):
    from gan_tf.models import make_generator_model

    run = tmp_path / "run"
    run.mkdir()
    make_generator_model(8).save(run / "generator.keras")
    npz = tmp_path / "data.npz"
    np.savez(npz, **data._asdict())
    result = evaluate(run, n=50, data=npz, cache_dir=classifier[2], verbose=0)
    saved = json.loads((run / "evaluation.json").read_text())
    assert saved["n"] == 50 and set(saved) == {"n", "generator", "reference", "classifier"}
    keys = ("fd", "score", "covered", "mode_kl", "precision", "recall", "density", "coverage")
    for key in keys:
        assert key in saved["generator"] and key in saved["reference"]
    assert 0.0 <= saved["reference"]["coverage"] <= 1.0 and saved["reference"]["density"] > 0
    assert "FD (lower is better)" in format_table(result)


def test_format_table_prints_density_coverage_and_the_precision_caveat():
    def figures(precision, density, coverage):
        return {
            "fd": 40.0,
            "score": 7.0,
            "covered": 10,
            "mode_kl": 0.02,
            "histogram": [10] * 10,
            "precision": precision,
            "recall": 0.6,
            "density": density,
            "coverage": coverage,
        }

    result = {
        "n": 100,
        "classifier": {"test_accuracy": 0.99},
        "generator": figures(1.0, 1.667, 0.005),
        "reference": figures(0.859, 1.012, 0.874),
    }
    lines = format_table(result).splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:-2]}
    assert rows["precision"] == ["1.000", "0.859"]
    assert rows["density"] == ["1.667", "1.012"]
    assert rows["coverage"] == ["0.005", "0.874"]
    assert lines[-1] == PRECISION_CAVEAT
    assert "recall, density and coverage" in PRECISION_CAVEAT


def test_evaluate_uses_the_classifier_the_run_was_scored_with(
    tmp_path, data, classifier, monkeypatch
):
    """A run whose config.json names a classifier folder (a study's) is judged by it, if
    that folder is there; a --cache-dir given wins."""
    import gan_tf.evaluation.quality as evaluation
    from gan_tf.config import Config
    from gan_tf.models import make_generator_model
    from gan_tf.rundir import RunDir

    asked = []  # the folder each evaluation asks for; all are served from the test's cache

    def load(real, cache_dir=None, **kwargs):
        asked.append(cache_dir)
        return load_or_train_classifier(real, classifier[2], **kwargs)

    monkeypatch.setattr(evaluation, "load_or_train_classifier", load)
    npz = tmp_path / "data.npz"
    np.savez(npz, **data._asdict())
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    make_generator_model(8).save(run.generator)
    study_judge = tmp_path / "study" / "classifier"
    study_judge.mkdir(parents=True)
    run.write_config(Config(noise_dim=8, data=str(npz), cache_dir=str(study_judge)))
    evaluate(run.path, n=20, verbose=0)
    evaluate(run.path, n=20, cache_dir=tmp_path / "given", verbose=0)
    run.write_config(Config(noise_dim=8, data=str(npz), cache_dir=str(tmp_path / "gone")))
    evaluate(run.path, n=20, verbose=0)
    assert asked == [str(study_judge), tmp_path / "given", None]  # absent: the default
