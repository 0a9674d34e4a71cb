"""Shared fixture: small untrained checkpoints in the sr_train format (enough to test the plumbing)."""

from sr_deploy.testing import make_checkpoint  # noqa: F401 (a fixture for every test here)
