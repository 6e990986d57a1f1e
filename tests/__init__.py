"""The test suite: one module per package module under tests/ (tests/models/ for
replication/models/, ...), end-to-end tests in tests/e2e/ (marked ``e2e``)."""
