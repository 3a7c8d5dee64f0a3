"""Shared fixtures for the geo tests."""

from __future__ import annotations

import pytest
from geo_reference import grid_catalogue

from geo import RegionCatalogue, default_catalogue


@pytest.fixture(scope="session")
def catalogue() -> RegionCatalogue:
    """The real default catalogue (Serbia's 30 districts)."""
    return default_catalogue()


@pytest.fixture(scope="session")
def grid() -> RegionCatalogue:
    """A synthetic 3x3 grid of 0.5° squares (lon 20-21.5, lat 44-45.5) with exact shared borders."""
    return grid_catalogue()
