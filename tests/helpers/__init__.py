"""What the tests share: tiny datasets and models, hand-computed loss terms, expected file
lists, a writer of PyTorch state dicts, small file helpers (and two scripts the tests run as
subprocesses, ``mirrored_step.py`` and ``free_ports.py``)."""
