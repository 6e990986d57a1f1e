"""replication/plots.py: the structure diagram (fig13) shows where each label design's label
enters."""

from __future__ import annotations

from tests.helpers.builds import design_nets as _nets


def test_the_structure_diagram_shows_where_the_label_enters():
    """fig13 is drawn from the run's networks: its blocks name each design's label path."""
    from replication.plots import model_blocks

    def ops(model):
        return " ".join(op for block in model_blocks(model) for op in block["ops"])

    generator, discriminator = _nets("projection")
    assert "× γ[y]" in ops(generator) and "join one-hot label" not in ops(generator)
    assert "⟨embed(y), φ(x)⟩" in ops(discriminator)
    generator, discriminator = _nets("input-concat")
    assert "join one-hot label" in ops(generator) and "γ[y]" not in ops(generator)
    assert "join one-hot label" in ops(discriminator) and "embed(y)" not in ops(discriminator)
    _, discriminator = _nets("late-concat")
    blocks = model_blocks(discriminator)
    joined = next(i for i, b in enumerate(blocks) if "join one-hot label" in " ".join(b["ops"]))
    assert blocks[joined]["shape"][:2] == (4, 4)  # the label meets the 4x4 features
