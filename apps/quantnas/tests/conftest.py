"""The shared fixtures of `sr_deploy.testing` the tests here use."""

from sr_deploy.testing import drawn  # noqa: F401 (a fixture for the tests here)
