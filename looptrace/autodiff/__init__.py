"""Reverse-mode differentiation of traced programs (see vjp.py, loops.py).

`api` is imported lazily: the primitive families import `rules` from here
while the package is still initializing."""


def __getattr__(name: str):
    if name in ("grad", "value_and_grad", "vjp"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
