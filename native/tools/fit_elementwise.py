"""Fits the polynomial coefficients in native/src/vecmath_avx2.h and prints them with their relative error.

Weighted least squares with Lawson's reweighting towards the minimax fit, on Chebyshev-spaced points, in float64;
the float32-rounded coefficients are what the header uses. Needs numpy and scipy. Usage: python3 fit_elementwise.py
"""
import numpy as np
from scipy.special import erf, erfcx


def lawson(t, basis, f, iters=80):
    """Coefficients c minimising max |Σ c_k·basis_k(t) − f| / |f| (approximately)."""
    V = np.stack([b(t) for b in basis], axis=1)
    w = np.ones_like(t)
    best = (np.inf, None)
    for _ in range(iters):
        c, *_ = np.linalg.lstsq(V * (w / f)[:, None], w, rcond=None)
        err = (V @ c - f) / f
        m = np.abs(err).max()
        if m < best[0]:
            best = (m, c)
        w = w * np.maximum(np.abs(err) / m, 1e-3) ** 0.5
        w /= w.max()
    return best


def chebyshev_points(lo, hi, n=8000):
    return lo + (hi - lo) * 0.5 * (1 - np.cos(np.linspace(0, np.pi, n)))


def show(name, err, c):
    print(f"{name}: max relative error {err:.3g}")
    print("  " + ", ".join("%.9g" % v for v in np.float32(c)))


# e^r on |r| <= ln2/2, degree 6 (highest first in the header's Horner order)
r = chebyshev_points(-np.log(2) / 2 * 1.0001, np.log(2) / 2 * 1.0001, 20001)
err, c = lawson(r, [lambda t, k=k: t**k for k in range(7)], np.exp(r), iters=200)
show("exp: e^r = sum c_k r^k, k = 0..6", err, c)

# erfc(z)·e^(z²) = t·Q(t), t = 1/(1 + z/2), z in [0, 10], Q of degree 9
p = 0.5
t = chebyshev_points(1 / (1 + p * 10), 1)
z = (1 / t - 1) / p
err, c = lawson(t, [lambda s, k=k: s**k for k in range(10)], erfcx(z) / t)
show("erfc: Q(t) = sum c_k t^k, k = 0..9", err, c)

# erf(x) = x·P(x²) for |x| < 1, P of degree 6
s = chebyshev_points(0, 1)[1:]
err, c = lawson(s, [lambda v, k=k: v**k for k in range(7)], erf(np.sqrt(s)) / np.sqrt(s))
show("erf: P(s) = sum c_k s^k, k = 0..6", err, c)
