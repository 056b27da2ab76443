"""Job functions used by the tests (importable by a real worker)."""


def explode(message: str) -> None:
    raise RuntimeError(message)
