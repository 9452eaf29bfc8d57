import pytest


@pytest.fixture(autouse=True)
def _clean(clean) -> None:
    """Every registration test starts from empty databases and an empty Redis."""
