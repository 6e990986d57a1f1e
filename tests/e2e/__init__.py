"""End-to-end tests (marked e2e): subprocesses, scripts, runs trained and then driven across
several modules, resumed runs compared with uninterrupted ones."""
