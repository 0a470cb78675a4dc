"""Fixtures of the Compute/ARM simulator tests: one demo simulator per test module (fast:
startup ~0.2 s), driven by the real SDK clients."""

import pytest

from avdsim.testing import SimServer

FAST = 6000.0


@pytest.fixture(scope="module")
def demo_sim():
    with SimServer(scenario="demo", time_scale=FAST) as sim:
        yield sim


@pytest.fixture(scope="module")
def compute(demo_sim):
    return demo_sim.compute_client()
