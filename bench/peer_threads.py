"""Thread control for the PyTorch/numpy peers: torch.set_num_threads does not reach OpenBLAS's own pool, so without
openblas_set_num_threads a '1-thread' peer really runs its matrix products on every core."""
import ctypes

import torch


def find_openblas():
    """The loaded BLAS library that exports openblas_set_num_threads, or (path or None, None)."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]})
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if hasattr(lib, "openblas_set_num_threads"):
            return path, lib
    return (paths[0] if paths else None), None


blas_path, openblas = find_openblas()


def set_threads(n):
    torch.set_num_threads(n)
    if openblas is not None:
        openblas.openblas_set_num_threads(ctypes.c_int(n))
