"""Tests of replication/figures/, one module per module."""
