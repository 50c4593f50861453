"""Shared fixtures: real TurboGears applications, the sample application, real servers."""
import os

import pytest

from tests import apps, distributions


@pytest.fixture(autouse=True)
def installed_for_one_test():
    """Distributions a test installs are uninstalled once it ends (see tests/distributions.py)."""
    yield
    distributions.forget()


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


@pytest.fixture(scope="session")
def sample_aggregation():
    """Run `tgext-resources aggregate` for the sample app, as its README says; return the hash."""
    from tests.sample import aggregate

    return aggregate()


@pytest.fixture(scope="session")
def built_distributions(tmp_path_factory):
    """tgext.resources built once per session as it would be published: sdist and wheel
    (see tests/wheel.py)."""
    from tests import wheel

    return wheel.build(tmp_path_factory.mktemp("build"))


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Headless, as root, and quiet on a machine without outside network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's), driven by Playwright."""
    require(os.path.exists(CHROMIUM), "Chromium (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - installed by dev.py
        require(False, "playwright (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


