"""Tests of replication/experiments/, one module per module."""
