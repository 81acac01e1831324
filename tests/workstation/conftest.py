from tests.training.conftest import engine  # noqa: F401 - an Engine per test
