"""Backends: the NumPy interpreter (reference), Numba CPU, numba.cuda."""


def available_backends() -> tuple[str, ...]:
    """Backends this installation can run ("auto" picks "cpu" when listed)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return ("interpret",)
    return ("interpret", "cpu")
