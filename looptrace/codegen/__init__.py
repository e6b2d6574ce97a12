"""Backends: the NumPy interpreter (reference), Numba CPU, numba.cuda."""


def available_backends() -> tuple[str, ...]:
    return ("interpret",)
