"""Every overlay rendered once per run; a missing kustomize fails loudly (never skips)."""

from __future__ import annotations

import pytest

from tests.deploy import rendering


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    """Objects of every overlay, by overlay name (``dev``, ``dev/migrate``, ...)."""
    try:
        rendering.kustomize_binary()
    except rendering.KustomizeMissing as missing:
        pytest.fail(str(missing), pytrace=False)
    return {name: rendering.render(name) for name in rendering.overlay_names()}


@pytest.fixture(scope="session")
def all_objects(rendered) -> list[tuple[str, dict]]:
    """(overlay, object) for every rendered object of every overlay."""
    return [(overlay, obj) for overlay, objects in rendered.items() for obj in objects]
