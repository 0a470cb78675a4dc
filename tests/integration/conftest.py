"""Fixtures of the integration tests: the simulator, started once per test session (per xdist worker).

- ``sim``: a session-wide ``avdsim.testing.SimServer`` with the ``demo`` scenario. Tests share it,
  so a test that changes the world either cleans up after itself or uses ``fresh_sim``.
- ``fresh_sim``: a factory for a private simulator, stopped at the end of the test:
  ``sim = fresh_sim(scenario="demo", time_scale=3000)``.

``AVDSIM_TIME_SCALE`` overrides the simulator's default time scale for every simulator started here.
Helpers to run modules and playbooks are in ``helpers.py`` (``from helpers import run_module``);
``build/collections`` is on ``sys.path``, so ``ansible_collections.goldenimage.avd...`` imports work.
"""

from __future__ import annotations

import os
import sys

import pytest

from helpers import COLLECTIONS, ensure_collection_link

# tests may import the collection's pure logic as Ansible does (ansible_collections.goldenimage.avd...)
ensure_collection_link()
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


def _sim_server_class():
    try:
        from avdsim.testing import SimServer  # pylint: disable=import-outside-toplevel
    except ImportError as exc:  # a missing simulator fails every test that needs it, never skips
        pytest.fail("the simulator package avdsim is not installed (run `make venv`): %s" % exc,
                    pytrace=False)
    return SimServer


def _time_scale(value):
    if value is not None:
        return value
    from_env = os.environ.get("AVDSIM_TIME_SCALE")
    return float(from_env) if from_env else None


@pytest.fixture(scope="session", autouse=True)
def collection_link():
    """build/collections/ansible_collections/goldenimage/avd exists (as `make collection` makes it)."""
    return ensure_collection_link()


@pytest.fixture(scope="session")
def sim():
    server_class = _sim_server_class()
    server = server_class(scenario="demo", time_scale=_time_scale(None))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_sim():
    server_class = _sim_server_class()
    started = []

    def start(scenario="demo", time_scale=None, **kwargs):
        server = server_class(scenario=scenario, time_scale=_time_scale(time_scale), **kwargs)
        server.start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
