"""Shared fixtures: real TurboGears applications, the sample application, real servers."""
import os

import pytest

from tests import apps


@pytest.fixture
def make_app():
    """Build a real TurboGears application: ``make_app(kind, **ini_options)``."""
    return apps.build


@pytest.fixture(params=["development", "production"])
def mode(request):
    """Run a test under development (debug = true) and production (debug = false) settings."""
    return request.param


@pytest.fixture
def debug(mode):
    return "true" if mode == "development" else "false"


def in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition, what):
    """Skip when ``what`` is missing on a developer machine; fail in CI, where it must be there."""
    if condition:
        return
    if in_ci():
        pytest.fail("%s is missing: CI must install it (see .ci/run)" % what)
    pytest.skip("%s is not installed" % what)
