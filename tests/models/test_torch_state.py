"""replication/models/torch_state.py: the PyTorch state-dict reader, on files of both
``torch.save`` layouts written by tests/helpers/torch_writer.py."""

from __future__ import annotations

import pickle
import struct

import pytest

from replication.models.torch_state import (LEGACY_MAGIC, LEGACY_PROTOCOL, TorchStateError,
                                            read_state_dict)
from tests.helpers.torch_writer import TensorView as _TensorView
from tests.helpers.torch_writer import assert_same as _assert_same
from tests.helpers.torch_writer import synthetic as _synthetic
from tests.helpers.torch_writer import write_legacy, write_zip


@pytest.mark.parametrize("writer", [write_legacy, write_zip], ids=["legacy", "zip"])
def test_a_synthetic_state_dict_reads_back_exactly(tmp_path, writer):
    entries, expected = _synthetic()
    got = read_state_dict(writer(tmp_path / "state.pth", entries))
    _assert_same(got, expected)
    got["shared.first"][0, 0] = -1.0  # copies: one tensor's change is not another's
    assert got["shared.second"][0] == 10.0


def test_truncated_files_give_one_clear_error(tmp_path):
    entries, _ = _synthetic()
    data = write_legacy(tmp_path / "whole.pth", entries).read_bytes()
    for cut in (0, 5, 40, len(data) // 3, len(data) - 200, len(data) - 1):
        path = tmp_path / f"cut{cut}.pth"
        path.write_bytes(data[:cut])
        with pytest.raises(TorchStateError) as info:
            read_state_dict(path)
        text = str(info.value)
        assert str(path) in text and "\n" not in text, text
    with pytest.raises(TorchStateError, match="no such file"):
        read_state_dict(tmp_path / "absent.pth")


def test_corrupt_or_foreign_files_are_refused(tmp_path):
    entries, _ = _synthetic()
    good = write_legacy(tmp_path / "good.pth", entries).read_bytes()
    cases = {
        "garbage": b"\x00\x01 not a pickle at all" * 10,
        "wrong magic": pickle.dumps(12345, protocol=2) + good[len(pickle.dumps(LEGACY_MAGIC,
                                                                                protocol=2)):],
        "trailing bytes": good + b"\x00",
        # a pickle that would run code: refused, not executed
        "foreign global": b"".join(pickle.dumps(h, protocol=2) for h in
                                   (LEGACY_MAGIC, LEGACY_PROTOCOL, {})) +
        b"cos\nsystem\n(S'echo pwned'\ntR.",
        "not a dict": b"".join(pickle.dumps(h, protocol=2) for h in
                               (LEGACY_MAGIC, LEGACY_PROTOCOL, {}, [1, 2], [])),
    }
    # a storage whose element count disagrees with its tensors
    count_at = good.rindex(struct.pack("<q", 20))  # the shared storage of 20 floats
    cases["wrong count"] = good[:count_at] + struct.pack("<q", 21) + good[count_at + 8:]
    for what, data in cases.items():
        path = tmp_path / f"{what.replace(' ', '_')}.pth"
        path.write_bytes(data)
        with pytest.raises(TorchStateError) as info:
            read_state_dict(path)
        text = str(info.value)
        assert str(path) in text and "\n" not in text, (what, text)
    assert "os.system" in str(pytest.raises(TorchStateError, read_state_dict,
                                            tmp_path / "foreign_global.pth").value)
    out_of_range = dict(entries, bad=_TensorView(entries["shared.first"].storage, 18, (3,), (1,)))
    with pytest.raises(TorchStateError, match="reaches past its storage"):
        read_state_dict(write_legacy(tmp_path / "range.pth", out_of_range))
