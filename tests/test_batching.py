"""replication/batching.py: the one loop over many inputs."""

from __future__ import annotations

import numpy as np
import pytest

from replication.batching import in_batches


def test_batches_are_joined_in_order_and_none_passes_through():
    x = np.arange(11.0)
    seen = []

    def fn(batch, nothing):
        seen.append((len(batch), nothing))
        return batch * 2, batch[:, None]

    doubled, column = in_batches(fn, x, None, batch_size=4)
    assert seen == [(4, None), (4, None), (3, None)]
    np.testing.assert_array_equal(doubled, x * 2)
    assert column.shape == (11, 1)
    np.testing.assert_array_equal(in_batches(lambda b: b + 1, x, batch_size=100), x + 1)


def test_bad_calls_say_what_is_wrong():
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        in_batches(lambda b: b, np.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="all were None"):
        in_batches(lambda b: b, None)
    with pytest.raises(ValueError, match="empty arrays"):
        in_batches(lambda b: b, np.zeros(0))
