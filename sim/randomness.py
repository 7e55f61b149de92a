"""Keyed random draws: a uniform that depends only on a component's seed and the draw's own keys.

A stream (``numpy.random.Generator``) gives its k-th number to whoever asks k-th: when a channel
draws only while it is switched on, or a platform is added, every later draw of that stream moves,
and two variants of an experiment no longer share their draws. An industry of thousands of
platforms therefore draws what belongs to one platform on one day (does it fail today? how large
is its j-th new loan?) from a counter-based generator: the draw is a hash of the component's key and
the draw's own coordinates (platform, day, number), so it is the same in every run that asks for
it, whatever else that run asks for (DESIGN.md: randomness).

The hash is SplitMix64's finaliser (Steele, Lea and Flood, 2014), applied in turn to each
coordinate; the top 53 bits make a uniform on [0, 1). It passes the usual tests of independence for
consecutive counters, and costs a few nanoseconds a draw in numpy.
"""

from __future__ import annotations

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)
TO_UNIT = 2.0 ** -53


def stream_key(sequence: np.random.SeedSequence) -> int:
    """A 64-bit key for keyed draws from a component's ``SeedSequence``."""
    return int(sequence.generate_state(1, dtype=np.uint64)[0])


def _mix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(30))
    x = x * MIX_1
    x = x ^ (x >> np.uint64(27))
    x = x * MIX_2
    return x ^ (x >> np.uint64(31))


def keyed_uniforms(key: int, *coordinates) -> np.ndarray:
    """Uniforms on [0, 1), one per element of the broadcast ``coordinates`` (non-negative integers).

    ``keyed_uniforms(key, platforms, day)`` gives each platform its own draw of the day; the same
    arguments always give the same numbers.
    """
    with np.errstate(over="ignore"):
        state = np.full(np.broadcast_shapes(*(np.shape(c) for c in coordinates)),
                        np.uint64(key), dtype=np.uint64)
        for coordinate in coordinates:
            state = _mix(state + GOLDEN + np.asarray(coordinate, dtype=np.int64).astype(np.uint64))
    return (state >> np.uint64(11)).astype(np.float64) * TO_UNIT


def keyed_normals(key: int, *coordinates) -> np.ndarray:
    """Standard normals keyed like :func:`keyed_uniforms` (Box-Muller on two keyed uniforms)."""
    u1 = keyed_uniforms(key, *coordinates, 0)
    u2 = keyed_uniforms(key, *coordinates, 1)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
