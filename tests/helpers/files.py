"""Damaging a run's files, and what a command's failure leaves behind."""

from __future__ import annotations

from replication.runs import PARTIAL_MARK


def truncate(path, keep=1000):
    data = path.read_bytes()
    path.write_bytes(data[:min(keep, len(data) // 2)])


def one_line_error(capsys, *needles):
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def partial_files(folder):
    return [p for p in folder.rglob("*") if PARTIAL_MARK in p.name]
