"""Tests of replication/evaluate/, one module per module."""
