"""replication/models/classifier.py: the classifier's smoothed loss and warm-up schedule survive
saving and reloading."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tests.helpers.builds import built as _built
from tests.helpers.builds import tiny_dataset as _tiny


def test_classifier_loss_and_schedule_survive_save_and_reload(tmp_path):
    from replication.models.classifier import SmoothedSparseCrossentropy

    built = _built("classifier", dataset=_tiny())
    model = built.model
    path = tmp_path / "classifier.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.loss, SmoothedSparseCrossentropy)
    assert loaded.loss.smoothing == model.loss.smoothing == 0.2
    # (Keras keeps a schedule in ``_learning_rate``; ``learning_rate`` is its current value.)
    schedule, again = model.optimizer._learning_rate, loaded.optimizer._learning_rate
    assert type(again).__name__ == "_Warmup"
    for step in (0, 3, 10):
        assert float(again(step)) == pytest.approx(float(schedule(step)))
    x = np.random.default_rng(0).uniform(0, 1, (4, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
