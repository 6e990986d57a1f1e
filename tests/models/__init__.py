"""Tests of replication/models/, one module per module."""
