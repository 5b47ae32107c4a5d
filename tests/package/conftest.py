"""Fixtures for the packaging tests (tests/package).

The programs come from $EC2HA_BUILD (default <repo>/build), as for tests/agents.  Nothing here
writes into the checkout: `make install` goes to a DESTDIR under pytest's tmp_path and the
Debian package is built in a scratch copy of the tree (see pkghelp.copy_tree).
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import pkghelp as pk  # noqa: E402


@pytest.fixture(scope="session")
def repo():
    return pk.REPO


@pytest.fixture(scope="session")
def build_dir():
    return pk.BUILD


@pytest.fixture(scope="session")
def deb(tmp_path_factory):
    """Build the .deb once per session in a scratch copy of the tree; returns pk.DebBuild."""
    missing = pk.missing_tools("dpkg-buildpackage", "dh", "dpkg-deb")
    if missing:
        pytest.skip(f"Debian packaging tools not installed: {', '.join(missing)} "
                    "(Debian packages dpkg-dev, debhelper)")
    return pk.build_deb(tmp_path_factory.mktemp("debbuild"))
