"""Fixtures of the Compute/ARM simulator tests: one demo simulator per test module (fast:
startup ~0.2 s), driven by the real SDK clients."""

import os
import sys

import pytest

# Test the simulator of this checkout, whatever the shared venv's editable install points at.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from avdsim.testing import SimServer  # noqa: E402  pylint: disable=wrong-import-position

FAST = 6000.0


@pytest.fixture(scope="module")
def demo_sim():
    with SimServer(scenario="demo", time_scale=FAST) as sim:
        yield sim


@pytest.fixture(scope="module")
def compute(demo_sim):
    return demo_sim.compute_client()
