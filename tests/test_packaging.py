"""Ready for PyPI: ``python -m build`` makes an sdist and a wheel that hold the package and
its README and nothing of the machine they were built on, ``twine check`` accepts them, and
the wheel installed into a clean virtualenv gives the module and both command lines.

The build itself runs once per session (the ``built_distributions`` fixture, tests/wheel.py),
on a copy of the checkout with the build tools in a virtualenv of their own.
"""
import email
import fnmatch
import os
import re
import tarfile
import zipfile

import pytest

from tests.wheel import DECOYS, ROOT, Virtualenv, package_files

NAME = "tgext.resources"
COMMANDS = ["aggregate", "export", "webserver-config"]


def readme():
    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        return f.read()


def section(text, title):
    """The body of the README section ``title`` (up to the next section of the same level)."""
    match = re.search(r"^%s\n-+\n(.*?)(?=^\S[^\n]*\n-{3,}\n)" % re.escape(title), text, re.M | re.S)
    assert match, "README.rst has no section %r" % title
    return match.group(1)


def test_the_build_leaves_the_checkout_as_it_was(built_distributions):
    # No egg-info, build/ or dist/ written into the checkout, nothing rewritten.
    changed = built_distributions.before ^ built_distributions.after
    assert not changed, sorted(changed)[:20]
    # The copy is where setuptools wrote (so the check above watched the right thing).
    assert os.path.isdir(os.path.join(built_distributions.source, "tgext.resources.egg-info"))


def test_the_sdist_holds_the_package_and_its_readme_and_nothing_machine_local(built_distributions):
    with tarfile.open(built_distributions.sdist) as sdist:
        names = sdist.getnames()
    top = os.path.basename(built_distributions.sdist)[:-len(".tar.gz")]
    assert all(name == top or name.startswith(top + "/") for name in names), names
    files = {name[len(top) + 1:] for name in names if name != top}
    files -= {name for name in files if any(other.startswith(name + "/") for other in files)}  # directories
    metadata = {name for name in files if name.startswith("tgext.resources.egg-info/")}
    expected = package_files() | {"PKG-INFO", "setup.cfg", "setup.py", "README.rst", "MANIFEST.in"}
    expected |= {name for name in ("LICENSE", "LICENSE.txt") if os.path.exists(os.path.join(ROOT, name))}
    assert files - metadata == expected
    assert not any(decoy in files for decoy in DECOYS)


def test_the_wheel_holds_the_package_and_its_metadata_only(built_distributions):
    with zipfile.ZipFile(built_distributions.wheel) as wheel:
        names = set(wheel.namelist())
        info = [name for name in names if name.split("/")[0].endswith(".dist-info")]
        metadata = email.message_from_bytes(wheel.read([n for n in info if n.endswith("/METADATA")][0]))
        entry_points = wheel.read([n for n in info if n.endswith("/entry_points.txt")][0]).decode()
    assert names - set(info) == package_files()
    assert metadata["Name"] == NAME
    assert metadata["Requires-Python"] == ">=3.10"
    assert any(requirement.startswith("TurboGears2") for requirement in metadata.get_all("Requires-Dist"))
    # The project's page on PyPI is the README, rendered as reStructuredText.
    assert metadata["Description-Content-Type"] == "text/x-rst"
    assert metadata.get_payload().strip() == readme().strip()
    assert "tgext-resources = tgext_resources.cli:main" in entry_points
    for command in COMMANDS:
        assert "resources-%s = tgext_resources.commands:" % command in entry_points


def test_twine_check_accepts_both_distributions(built_distributions):
    result = built_distributions.tools.run(
        "twine", "check", "--strict", built_distributions.sdist, built_distributions.wheel, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed(built_distributions, tmp_path_factory):
    """The wheel installed with its dependencies from the index into a clean virtualenv, with
    gearbox (which every TurboGears developer has, from tg.devtools)."""
    env = Virtualenv(tmp_path_factory.mktemp("clean") / "env")
    env.pip("install", "--quiet", built_distributions.wheel, "gearbox")
    return env


def test_the_wheel_installs_and_imports_in_a_clean_virtualenv(installed):
    code = (
        "import importlib.metadata, tgext_resources, pkg_resources\n"
        "from tgext_resources import ResourcesConfigMixin, cached_template\n"
        "print(importlib.metadata.version('tgext.resources'), tgext_resources.__file__)\n"
    )
    result = installed.run("python", "-c", code, check=False)
    assert result.returncode == 0, result.stderr
    version, module = result.stdout.split()
    assert module.startswith(installed.directory)  # the installed copy, not the checkout
    assert version == re.search(r'version="([^"]+)"', open(os.path.join(ROOT, "setup.py")).read()).group(1)
    assert installed.pip("check", check=False).returncode == 0


def test_the_command_line_runs_from_the_wheel(installed):
    result = installed.run("tgext-resources", "--help", check=False)
    assert result.returncode == 0, result.stderr
    for command in COMMANDS:
        assert command in result.stdout
    export = installed.run("tgext-resources", "export", "--help").stdout
    assert "-c INI" in export and "-o DIR" in export and "--verbose" in export


def test_gearbox_lists_the_commands_the_readme_names(installed):
    named = set(re.findall(r"gearbox (resources-[a-z-]+)", readme()))
    assert named == {"resources-%s" % command for command in COMMANDS}
    listing = installed.run("gearbox", "help").stdout
    for command in sorted(named):
        assert re.search(r"^\s+%s\s" % command, listing, re.M), listing
    usage = installed.run("gearbox", "help", "resources-export").stdout
    assert "-c INI" in usage and "-o DIR" in usage


def test_readme_says_how_to_install_before_the_package_is_on_pypi(built_distributions):
    text = readme()
    # The opening commands stay as they are.
    opening = re.search(r"\.\. code-block:: sh\n\n(.*?)\n\n", text, re.S).group(1)
    assert opening.splitlines() == [
        "    python3 dev.py serve    # set everything up, then serve the sample app on http://127.0.0.1:8080",
        "    python3 dev.py test     # set everything up, then run the whole test suite",
    ]
    installing = section(text, "Installing")
    assert "not on PyPI yet" in installing
    assert "pip install -e path/to/tgext.resources" in installing
    assert re.search(r"^\s+\S*python -m build\b", installing, re.M)
    # The wheel the README installs is the one the build makes.
    pattern = re.search(r"pip install (dist/\S+\.whl)", installing).group(1)
    assert fnmatch.fnmatch("dist/" + os.path.basename(built_distributions.wheel), pattern)
    assert "twine check --strict dist/*" in installing
