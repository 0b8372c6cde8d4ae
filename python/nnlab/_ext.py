"""The C++ module: ``nnlab._nnlab`` in an installed package; a top-level ``_nnlab`` on the path when
the package runs from the source tree beside a CMake build (PYTHONPATH=python:build/python, as
scripts/test.sh runs the tests)."""
try:
    from . import _nnlab  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on how the package was made
    import _nnlab  # type: ignore[no-redef]

__all__ = ["_nnlab"]
