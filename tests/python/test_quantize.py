"""fixq's Python array API (fixq._core, docs/python.md) against an independent
reference (tests/python/reference.py: exact Fraction arithmetic, no shared code)
and against its documented behaviour.

Run: PYTHONPATH=build/release/python /usr/bin/python3 -m pytest -q tests/python/test_quantize.py

Nothing here hard-codes a result computed by fixq: expected codes and values come
from the reference (exact rationals, or its float64 twin quantize_codes_np where
that is exact), from published known answers (Random123's ARS vectors, checked in
the reference's test), or from the module compared with itself under a change
that must not matter (threads, layout, torch vs numpy, mode spellings).
"""

import math
import os
import sys
from fractions import Fraction

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402

import fixq  # noqa: E402

ROUNDS = ref.ROUNDS
OVERFLOWS = ref.OVERFLOWS
MODE_PAIRS = [(r, o) for r in ROUNDS for o in OVERFLOWS]
MODE_IDS = ["%s-%s" % p for p in MODE_PAIRS]

# (word, frac, signed): every word class, negative fracs, frac > word, 1-bit formats.
FORMATS = [
    (1, 0, True), (1, 3, True), (1, -2, True), (2, 1, True), (3, 0, True), (4, 2, True),
    (5, 9, True), (7, -1, True), (8, 4, True), (8, -3, True), (8, 8, True), (12, 15, True),
    (16, 8, True), (16, -6, True), (23, 11, True), (24, 0, True), (24, 30, True),
    (25, 5, True), (31, 3, True), (32, 16, True), (32, -8, True), (8, 140, True), (8, -120, True),
    (1, 0, False), (1, 1, False), (1, -1, False), (3, 5, False), (8, 8, False), (8, 0, False),
    (8, -2, False), (16, 20, False), (24, 12, False), (25, 0, False), (32, 32, False), (32, 0, False),
    (1, -930, True), (8, -930, False),  # float32 subnormals * 2^frac underflow a double
]
# With float64 input only: wide words and extreme fracs.
FORMATS64 = [
    (33, 10, True), (40, -5, True), (52, 26, True), (53, 0, True), (54, 60, True), (63, 31, True),
    (64, 0, True), (64, 70, True), (64, -20, True), (8, 1022, True), (16, -1000, True),
    (33, 3, False), (53, 53, False), (63, 0, False), (64, 0, False), (64, 64, False), (64, -8, False),
]
SEED = 0x5EED_1234_ABCD_0042


# --- helpers --------------------------------------------------------------------------

def make_spec(word, frac, signed=True, round="NearestEven", overflow="Saturate", seed=None):
    fmt = fixq.Format(word, frac, signed=signed)
    return fixq.QuantSpec(fmt, round=getattr(fixq.Round, round), overflow=getattr(fixq.Overflow, overflow),
                          seed=seed)


def default_code_dtype(word, signed):
    for bits in (8, 16, 32, 64):
        if word <= bits:
            return np.dtype(("int%d" if signed else "uint%d") % bits)
    raise AssertionError(word)


def u32_words(seed, n):
    """fixq.random_u32 for indices 0..n-1 (checked against the reference's ARS in
    test_random_u32_matches_reference)."""
    if n == 0:
        return np.zeros(0, np.uint64)
    u = np.asarray(fixq.random_u32(seed, np.arange(n, dtype=np.uint64)))
    assert u.shape == (n,)
    return u.astype(np.uint64)


def ref_codes(x, word, frac, signed, rnd, ovf, u=None):
    """Reference codes of x (C order); OverflowError (the class) where Throw raises."""
    flat = np.asarray(x).ravel(order="C")
    out = []
    for k, v in enumerate(flat):
        try:
            out.append(ref.quantize_code(v, word, frac, signed, rnd, ovf,
                                         None if u is None else int(u[k])))
        except OverflowError:
            out.append(OverflowError)
    return out


def ref_values(codes, frac, dtype):
    """The codes' values correctly rounded to dtype (what quantize returns)."""
    name = np.dtype(dtype).name
    return np.array([ref.to_binary(ref.code_value(c, frac), name) for c in codes], dtype=dtype)


def as_ints(a):
    return [int(v) for v in np.asarray(a).ravel(order="C").tolist()]


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        ib = np.dtype("int%d" % (8 * a.dtype.itemsize))
        return np.array_equal(np.ascontiguousarray(a).view(ib), np.ascontiguousarray(b).view(ib))
    return np.array_equal(a, b)


def describe_mismatch(x, got, want, limit=5):
    x = np.asarray(x).ravel()
    got = list(np.asarray(got, dtype=object).ravel())
    want = list(np.asarray(want, dtype=object).ravel())
    bad = [i for i in range(len(want)) if got[i] != want[i]]
    return "%d mismatches, e.g. %s" % (
        len(bad), ", ".join("x[%d]=%r: got %r want %r" % (i, float(x[i]), got[i], want[i]) for i in bad[:limit]))


def edge_values(word, frac, signed, dtype):
    """Ties (and their float neighbours), the range's ends and one LSB (or half)
    beyond, huge values, +-inf, NaN, +-0, subnormals, all as `dtype` values."""
    dtype = np.dtype(dtype)
    lo, hi = ref.min_code(word, signed), ref.max_code(word, signed)
    h = Fraction(1, 2)
    ties = {k + h for k in range(-3, 3)}
    points = {Fraction(k) for k in range(-2, 3)} | {Fraction(1, 4), Fraction(-1, 4), Fraction(3, 4),
                                                   Fraction(-3, 4), Fraction(5, 4), Fraction(-7, 4)}
    for c in (hi, lo, -hi, 2 ** word, -(2 ** word), 3 * 2 ** word):
        points.update({c, c + 1, c - 1})
        ties.update({c + h, c - h})
    finfo = np.finfo(dtype)

    def as_dtype(units):
        out = []
        for q in sorted(units):
            try:
                out.append(float(q * ref.pow2(-frac)))  # float64 rounding is fine: the
            except OverflowError:                        # reference sees the actual input
                pass
        with np.errstate(over="ignore"):
            a = np.array(out, np.float64).astype(dtype)
        return a[np.isfinite(a)]

    t = as_dtype(ties)
    near = np.concatenate([np.nextafter(t, dtype.type(np.inf)), np.nextafter(t, dtype.type(-np.inf))])
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, finfo.max, -finfo.max,
                        finfo.tiny, finfo.smallest_subnormal, -finfo.smallest_subnormal,
                        finfo.tiny - finfo.smallest_subnormal, -3 * finfo.smallest_subnormal,
                        1e30, -1e30, 0.1, -0.3], dtype=dtype)
    if dtype == np.float64:
        special = np.concatenate([special, np.array([1e300, -1e300, 2.0 ** 64, -(2.0 ** 63), 2.0 ** 63 - 1024])])
    return np.unique(np.concatenate([as_dtype(points), t, near, special]).astype(dtype))


def check_array(x, word, frac, signed, rnd, ovf, seed=None, where=""):
    """quantize_codes, quantize and dequantize of x (any layout) against the
    reference, element by element; x must not overflow under Throw."""
    spec = make_spec(word, frac, signed, rnd, ovf, seed)
    u = u32_words(seed, x.size) if rnd == "Stochastic" else None
    want = ref_codes(x, word, frac, signed, rnd, ovf, u)
    assert OverflowError not in want
    codes = fixq.quantize_codes(x, spec)
    assert codes.shape == x.shape and codes.dtype == default_code_dtype(word, signed), where
    got = as_ints(codes)
    assert got == want, where + " codes: " + describe_mismatch(x, got, want)
    vals = fixq.quantize(x, spec)
    assert vals.dtype == x.dtype and vals.shape == x.shape, where
    want_v = ref_values(want, frac, x.dtype).reshape(x.shape)
    assert np.array_equal(vals, want_v), where + " values: " + describe_mismatch(x, vals, want_v)
    back = fixq.dequantize(codes, fixq.Format(word, frac, signed=signed), dtype=x.dtype)
    assert back.dtype == x.dtype and np.array_equal(back, vals), where + " dequantize(quantize_codes(x)) != quantize(x)"
    return codes, vals


# --- the reference itself ---------------------------------------------------------------

def test_reference_ars_known_answers():
    # Random123 examples/kat_vectors, "ars4x32 10" lines (counter, key, expected).
    kats = [
        ([0, 0, 0, 0], [0, 0, 0, 0], [0x8D73EE19, 0x506401EF, 0x13C2DBE4, 0x0CBE9C0D]),
        ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0, 0x082EFA98, 0xEC4E6C89],
         [0xA516E7D6, 0x8357AD74, 0x5B59B3EC, 0x8763FFF3]),
        ([0xFFFFFFFF] * 4, [0xFFFFFFFF, 0xFFFFFFFF, 0, 0], [0xBB3743B1, 0x9F635551, 0xECBC87FC, 0xA19478A9]),
    ]
    for counter, key, expected in kats:
        assert ref.ars_block(counter, key, rounds=10) == expected


def test_reference_stats_documented_example():
    # kernels/stats.hpp: x = {0.3f, 1, -0.5, 2.5}, Format{4, 2}
    s = ref.stats(np.array([0.3, 1, -0.5, 2.5], np.float32), 4, 2, dtype="float32")
    assert (s["count"], s["saturated_high"], s["saturated_low"], s["nan_count"]) == (4, 1, 0, 0)
    assert s["max_abs_error"] == 0.75
    assert math.isclose(s["mse"], 0.14125, rel_tol=1e-7)
    assert round(s["sqnr_db"], 4) == 11.2819


def test_reference_vectorised_twin_agrees():
    rng = np.random.default_rng(11)
    for word, frac, signed in [(8, 4, True), (1, 0, True), (5, 7, False), (16, -3, True), (30, 10, False)]:
        x = np.concatenate([rng.normal(size=60) * 2.0 ** (word - frac - 1),
                            rng.integers(-2 ** (word + 1), 2 ** (word + 1), 40) / 2 * 2.0 ** -frac,
                            [np.nan, np.inf, -np.inf, -0.0, 1e300, -1e300, -0.49999999999999994 * 2.0 ** -frac,
                             -2.0 ** -60, 2.0 ** -60, -1.5 + 2.0 ** -52, 0.5 - 2.0 ** -54, -0.5 - 2.0 ** -53,
                             -(2.0 ** 52) - 0.5, 2.0 ** 52 + 1, -3 * 2.0 ** 51 - 0.5]])
        u = rng.integers(0, 2 ** 32, x.size)
        for rnd in ROUNDS:
            for ovf in OVERFLOWS[:4]:
                assert list(ref.quantize_codes_np(x, word, frac, signed, rnd, ovf, u)) == \
                    ref_codes(x, word, frac, signed, rnd, ovf, u)


# --- formats and specs --------------------------------------------------------------------

@pytest.mark.parametrize("word,frac,signed", FORMATS + FORMATS64)
def test_format_attributes(word, frac, signed):
    f = fixq.Format(word, frac, signed=signed)
    assert (f.word, f.frac, bool(f.signed)) == (word, frac, signed)
    assert int(f.min_code) == ref.min_code(word, signed)
    assert int(f.max_code) == ref.max_code(word, signed)
    assert f.lsb == float(ref.pow2(-frac))
    assert f.min == ref.to_binary(ref.code_value(ref.min_code(word, signed), frac))
    assert f.max == ref.to_binary(ref.code_value(ref.max_code(word, signed), frac))


def test_format_limits_and_tuples():
    assert fixq.Format(8, 1022).frac == 1022
    assert fixq.Format(8, 8 - 1023).frac == -1015
    assert fixq.Format(64, -959).frac == -959
    assert bool(fixq.Format(8, 4).signed) is True
    x = np.array([0.3, -1.7, 9.0, 2.03125], np.float64)
    want = ref_values(ref_codes(x, 8, 4, True, "NearestEven", "Saturate"), 4, np.float64)
    for spec in [(8, 4), (8, 4, True), fixq.Format(8, 4), fixq.QuantSpec((8, 4)), fixq.QuantSpec(fixq.Format(8, 4))]:
        assert np.array_equal(fixq.quantize(x, spec), want), spec
    want_u = ref_values(ref_codes(x, 8, 4, False, "NearestEven", "Saturate"), 4, np.float64)
    assert np.array_equal(fixq.quantize(x, (8, 4, False)), want_u)
    assert np.array_equal(fixq.quantize(x, fixq.Format(8, 4, signed=False)), want_u)


@pytest.mark.parametrize("word,frac,bad", [(0, 0, "word = 0"), (65, 0, "word = 65"), (-3, 0, "word = -3"),
                                           (8, 1023, "frac = 1023"), (8, -1016, "frac = -1016")])
def test_bad_format_raises_value_error(word, frac, bad):
    x = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match=bad):
        fixq.Format(word, frac)
    with pytest.raises(ValueError, match=bad):
        fixq.quantize(x, (word, frac))
    with pytest.raises(ValueError, match=bad):
        fixq.quantize_codes(x, fixq.QuantSpec((word, frac)))


def test_bad_modes_and_seeds_raise_value_error():
    x = np.linspace(-1, 1, 7, dtype=np.float32)
    with pytest.raises(ValueError, match="Nearest"):
        fixq.quantize(x, fixq.QuantSpec((8, 4), round="Nearest"))
    with pytest.raises(ValueError, match="Clamp"):
        fixq.quantize(x, fixq.QuantSpec((8, 4), overflow="Clamp"))
    with pytest.raises(ValueError, match="AC_RND_EVEN"):
        fixq.quantize(x, fixq.QuantSpec((8, 4), round="AC_RND_EVEN"))
    with pytest.raises(ValueError, match="(?i)seed"):
        fixq.quantize(x, fixq.QuantSpec((8, 4), round="Stochastic"))
    with pytest.raises(ValueError, match="(?i)seed"):
        fixq.quantize(x, fixq.QuantSpec((8, 4), round=fixq.Round.Stochastic, overflow="Wrap"))
    for seed in (-1, 2 ** 64):
        with pytest.raises(ValueError):
            fixq.quantize(x, fixq.QuantSpec((8, 4), round="Stochastic", seed=seed))
    # the extremes of the seed range are valid
    for seed in (0, 2 ** 64 - 1):
        u = u32_words(seed, x.size)
        got = fixq.quantize_codes(x, fixq.QuantSpec((8, 4), round="Stochastic", seed=seed))
        assert as_ints(got) == ref_codes(x, 8, 4, True, "Stochastic", "Saturate", u)


def test_mode_strings_and_ac_names_equal_enums():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(size=400) * 6, (rng.integers(-300, 300, 200) / 2) / 16, [np.inf, -np.inf, np.nan]])
    x = x.astype(np.float32)
    ac_round = {v: k for k, v in ref.AC_ROUND_NAMES.items()}
    ac_over = {v: k for k, v in ref.AC_OVERFLOW_NAMES.items()}
    for rnd in ref.DETERMINISTIC_ROUNDS:
        for ovf in ("Saturate", "SaturateSymmetric", "SaturateZero", "Wrap"):
            by_enum = fixq.quantize(x, make_spec(6, 4, True, rnd, ovf))
            want = ref_values(ref_codes(x, 6, 4, True, rnd, ovf), 4, np.float32)
            assert np.array_equal(by_enum, want), (rnd, ovf)
            spellings = [(rnd, ovf)]
            if rnd in ac_round:
                spellings += [(ac_round[rnd], ovf), (ac_round[rnd], ac_over[ovf]), (rnd, ac_over[ovf])]
            for r_name, o_name in spellings:
                got = fixq.quantize(x, fixq.QuantSpec((6, 4), round=r_name, overflow=o_name))
                assert same_bits(got, by_enum), (r_name, o_name)
    s = fixq.quantize_codes(x, fixq.QuantSpec((6, 4), round="Stochastic", overflow="AC_SAT_SYM", seed=3))
    assert as_ints(s) == ref_codes(x, 6, 4, True, "Stochastic", "SaturateSymmetric", u32_words(3, x.size))
    with pytest.raises(OverflowError):
        fixq.quantize(x, fixq.QuantSpec((6, 4), round="AC_TRN", overflow="Throw"))
    finite = x[np.isfinite(x) & (np.abs(x) < 1)]
    assert as_ints(fixq.quantize_codes(finite, fixq.QuantSpec((6, 4), round="Ceil", overflow="Throw"))) == \
        ref_codes(finite, 6, 4, True, "Ceil", "Throw")


# --- every mode on edge values ------------------------------------------------------------

def _check_edges(word, frac, signed, rnd, ovf, dtype):
    x = edge_values(word, frac, signed, dtype)
    seed = SEED + word * 1000 + frac if rnd == "Stochastic" else None
    where = "%s %s %s %s" % (ref.format_name(word, frac, signed), rnd, ovf, np.dtype(dtype).name)
    if ovf != "Throw":
        check_array(x, word, frac, signed, rnd, ovf, seed, where)
        return
    # Throw. The elements that cannot overflow (whatever the random word: both
    # floor and ceil in range) are checked as one array; the whole array raises
    # when any element does; each other element is checked alone, with its own
    # seed at index 0 (U = random_u32(seed_k, 0)).
    name = ref.format_name(word, frac, signed)
    safe = np.array([bool(np.isfinite(v)) and all(ref.min_code(word, signed) <= ref.rounded_code(v, frac, r) <=
                                                  ref.max_code(word, signed) for r in ("Floor", "Ceil"))
                     for v in x], bool)
    check_array(x[safe], word, frac, signed, rnd, ovf, seed, where + " (in range)")
    spec = make_spec(word, frac, signed, rnd, ovf, seed)
    if not np.all(safe):
        with pytest.raises(OverflowError) as info:
            fixq.quantize(x, spec)
        assert name in str(info.value), (where, str(info.value))
        with pytest.raises(OverflowError):
            fixq.quantize_codes(x, spec)
    for k in np.flatnonzero(~safe):
        x1 = x[k:k + 1]
        s_k = None if seed is None else seed + 7919 * int(k)
        spec_k = make_spec(word, frac, signed, rnd, ovf, s_k)
        u_k = None if s_k is None else u32_words(s_k, 1)
        want = ref_codes(x1, word, frac, signed, rnd, ovf, u_k)[0]
        if want is OverflowError:
            for f in (fixq.quantize_codes, fixq.quantize):
                try:
                    got = f(x1, spec_k)
                except OverflowError as e:
                    assert name in str(e), (where, str(e))
                else:
                    pytest.fail("%s: %s(np.array([%r], %s)) gave %r, want OverflowError" % (
                        where, f.__name__, float(x1[0]), x1.dtype.name, got[0]))
        else:
            got = as_ints(fixq.quantize_codes(x1, spec_k))[0]
            assert got == want, "%s x=%r: code %r, want %r" % (where, float(x1[0]), got, want)
            v = fixq.quantize(x1, spec_k)
            assert v[0] == ref.to_binary(ref.code_value(want, frac), np.dtype(dtype).name), (where, float(x1[0]))


@pytest.mark.parametrize("rnd,ovf", MODE_PAIRS, ids=MODE_IDS)
def test_edges_float32(rnd, ovf):
    for word, frac, signed in FORMATS:
        _check_edges(word, frac, signed, rnd, ovf, np.float32)


@pytest.mark.parametrize("rnd,ovf", MODE_PAIRS, ids=MODE_IDS)
def test_edges_float64(rnd, ovf):
    for word, frac, signed in FORMATS + FORMATS64:
        _check_edges(word, frac, signed, rnd, ovf, np.float64)


# --- random arrays --------------------------------------------------------------------------

def random_data(rng, n, word, frac, signed, dtype, in_range=False):
    """A mix of normal values spanning the range (and beyond), exact ties and
    grid points, in `dtype`."""
    span = 2.0 ** (word - frac - (1 if signed else 0))
    lo, hi = ref.min_code(word, signed), ref.max_code(word, signed)
    k = n // 3
    normal = rng.normal(size=k) * span * (0.4 if in_range else 0.8)
    if not signed:
        normal = np.abs(normal) if in_range else normal + 0.3 * span
    # integers and half-integers (ties) in LSB units
    a, b = 2 * lo - (0 if in_range else 8), 2 * hi + (1 if in_range else 9)
    halves = rng.integers(a, b, k) if word <= 50 else np.floor(rng.uniform(a, b, k))
    ties = halves / 2.0 * 2.0 ** -frac
    many_bits = rng.uniform(lo, hi, n - 2 * k) * 2.0 ** -frac  # fractions with all the bits
    x = np.concatenate([normal, ties, many_bits]).astype(dtype)
    rng.shuffle(x)
    if in_range:
        x = np.clip(x, lo * 2.0 ** -frac, hi * 2.0 ** -frac).astype(dtype)
        # clipping to the float value of hi may round beyond it in float32: drop those
        keep = [ref.min_code(word, signed) <= Fraction(float(v)) * ref.pow2(frac) <= hi for v in x]
        x = x[np.array(keep, bool)]
    return x


RANDOM_FORMATS = [(8, 4, True), (3, -2, True), (12, 14, False), (1, 0, True), (16, 3, True), (24, 20, False),
                  (29, 8, True)]
RANDOM_FORMATS64 = [(40, 30, True), (53, 10, True), (64, 32, True), (64, 0, False)]


@pytest.mark.parametrize("rnd,ovf", MODE_PAIRS, ids=MODE_IDS)
def test_random_arrays(rnd, ovf):
    rng = np.random.default_rng([ROUNDS.index(rnd), OVERFLOWS.index(ovf)])
    seed = 1000 + ROUNDS.index(rnd) if rnd == "Stochastic" else None
    cases = [(f, np.float32) for f in RANDOM_FORMATS] + [(f, np.float64) for f in RANDOM_FORMATS + RANDOM_FORMATS64]
    for (word, frac, signed), dtype in cases:
        x = random_data(rng, 90, word, frac, signed, dtype, in_range=(ovf == "Throw"))
        x = x.reshape(-1, 2) if x.size % 2 == 0 else x
        check_array(x, word, frac, signed, rnd, ovf, seed, "%s %s %s %s" % ((word, frac, signed), rnd, ovf, dtype))
        if ovf == "Throw":
            # one element beyond the range makes the whole call raise
            bad = np.concatenate([x.ravel(), np.array([ref.max_code(word, signed) * 2.0 ** -frac * 4 + 2.0 ** -frac],
                                                       dtype)])
            with pytest.raises(OverflowError):
                fixq.quantize(bad, make_spec(word, frac, signed, rnd, ovf, seed))


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("word", range(1, 33))
def test_every_word_vectorised(word, signed):
    """Words 1..32, fracs negative, small and beyond the word, float32 and float64,
    4096 elements each, against the reference's float64 twin."""
    rng = np.random.default_rng(word * 2 + signed)
    for frac in (-3, word // 2, word + 5):
        for dtype in (np.float32, np.float64):
            x = random_data(rng, 4096, word, frac, signed, dtype)
            for rnd, ovf in [("NearestEven", "Saturate"), ("Floor", "Wrap"), ("NearestAway", "SaturateSymmetric"),
                             ("Ceil", "SaturateZero"), ("Stochastic", "Wrap"), ("NearestOdd", "Wrap"),
                             ("TowardZero", "Saturate")]:
                seed = word * 31 + frac if rnd == "Stochastic" else None
                u = u32_words(seed, x.size) if seed is not None else None
                want = ref.quantize_codes_np(x, word, frac, signed, rnd, ovf, u)
                spec = make_spec(word, frac, signed, rnd, ovf, seed)
                got = fixq.quantize_codes(x, spec)
                assert np.array_equal(got.astype(np.int64), want), \
                    "%s %s: %s" % ((word, frac, signed, rnd, ovf), np.dtype(dtype).name, describe_mismatch(x, got, want))
                vals = fixq.quantize(x, spec)
                if word <= 24 or dtype == np.float64:  # exact in the input's dtype
                    assert np.array_equal(vals, (want * 2.0 ** -frac).astype(dtype))
                assert np.array_equal(fixq.dequantize(got, (word, frac, signed), dtype=x.dtype), vals)


# --- codes, dequantize, dtypes -------------------------------------------------------------

@pytest.mark.parametrize("word,frac,signed", FORMATS + FORMATS64)
def test_code_dtypes(word, frac, signed):
    x = np.array([0.0, 1.0, -1.0, 1e30, -1e30], np.float64)
    spec = make_spec(word, frac, signed)
    want = ref_codes(x, word, frac, signed, "NearestEven", "Saturate")
    codes = fixq.quantize_codes(x, spec)
    assert codes.dtype == default_code_dtype(word, signed)
    assert as_ints(codes) == want
    for bits in (8, 16, 32, 64):
        for dt in (np.dtype("int%d" % bits), np.dtype("uint%d" % bits)):
            info = np.iinfo(dt)
            fits = info.min <= ref.min_code(word, signed) and ref.max_code(word, signed) <= info.max
            if fits:
                c = fixq.quantize_codes(x, spec, dtype=dt)
                assert c.dtype == dt and as_ints(c) == want
            else:
                with pytest.raises(ValueError):
                    fixq.quantize_codes(x, spec, dtype=dt)
    # not an integer dtype: docs/python.md says ValueError, the module raises
    # TypeError (as for x's dtype); either names the problem
    for dt in (np.float32, np.float64, np.bool_):
        with pytest.raises((ValueError, TypeError), match="(?i)integer"):
            fixq.quantize_codes(x, spec, dtype=dt)


def test_dequantize_dtypes_and_values():
    rng = np.random.default_rng(3)
    # the default dtype: float32 when every value of the format is exact in float32
    f32 = [(8, 4, True), (24, 0, True), (16, -50, True), (24, 104, False), (1, 0, True), (12, 20, False)]
    f64 = [(25, 0, True), (32, 16, True), (8, 160, True), (8, -130, True), (64, 3, True), (64, 70, False),
           (25, 12, False)]
    other = [(8, 140, True), (24, -104, True)]  # exact in float32 at the edge (subnormal / largest binade)
    for word, frac, signed in f32 + f64 + other:
        lo, hi = ref.min_code(word, signed), ref.max_code(word, signed)
        codes = [c for c in [lo, hi, 0, 1, -1, 2, lo + 1, hi - 1] if lo <= c <= hi] + \
            [int(v) for v in rng.integers(max(lo, -2 ** 62), min(hi, 2 ** 62), 50)]
        fmt = fixq.Format(word, frac, signed=signed)
        code_dtypes = {default_code_dtype(word, signed).name}
        if -2 ** 63 <= lo and hi < 2 ** 63:
            code_dtypes.add("int64")
        for cdt in sorted(code_dtypes):
            arr = np.array(codes, dtype=cdt)
            v = fixq.dequantize(arr, fmt)
            if (word, frac, signed) in f32:
                assert v.dtype == np.float32, (word, frac, signed)
            elif (word, frac, signed) in f64:
                assert v.dtype == np.float64, (word, frac, signed)
            assert v.dtype in (np.float32, np.float64)
            assert np.array_equal(v, ref_values(codes, frac, v.dtype)), (word, frac, signed)
            if v.dtype == np.float32:  # then exact
                assert all(Fraction(float(a)) == ref.code_value(c, frac) for a, c in zip(v, codes)), (word, frac)
            for dt in (np.float32, np.float64):
                v = fixq.dequantize(arr, fmt, dtype=dt)
                assert v.dtype == dt and np.array_equal(v, ref_values(codes, frac, dt)), (word, frac, dt)
    # any integer dtype holding the codes
    c = np.array([-3, 0, 5, 100], np.int16)
    for dt in (np.int8, np.int16, np.int32, np.int64):
        assert np.array_equal(fixq.dequantize(c.astype(dt), (8, 3)), np.array([-3, 0, 5, 100]) / 8.0)
    assert np.array_equal(fixq.dequantize(np.array([0, 200, 255], np.uint8), (8, 4, False)),
                          np.array([0, 12.5, 15.9375]))
    with pytest.raises(TypeError):
        fixq.dequantize(np.array([0.5, 1.0]), (8, 4))
    # codes outside the format are a bad argument
    for codes, fmt in [(np.array([0, 128], np.int16), (8, 4)), (np.array([-129], np.int64), (8, 0)),
                       (np.array([1], np.int8), (1, 0)), (np.array([-1], np.int8), (8, 0, False)),
                       (np.array([256], np.int32), (8, 0, False))]:
        with pytest.raises(ValueError):
            fixq.dequantize(codes, fmt)


# --- special values and signed zero ------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(dtype):
    x = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0], dtype)
    for ovf in ("Saturate", "SaturateSymmetric", "SaturateZero", "Wrap"):
        for word, frac, signed in [(8, 4, True), (8, 4, False), (1, 0, True), (16, -3, True)]:
            lo, hi = ref.kept_range(word, signed, ovf)
            want = [0, 0 if ovf == "SaturateZero" else hi, 0 if ovf == "SaturateZero" else lo, 0, 0]
            got = as_ints(fixq.quantize_codes(x, make_spec(word, frac, signed, "NearestEven", ovf)))
            assert got == want, (ovf, word, frac, signed)
            vals = fixq.quantize(x, make_spec(word, frac, signed, "Floor", ovf))
            # the codes' values: code 0 (NaN, -0.0) is +0.0, as dequantize gives it
            assert same_bits(vals, fixq.dequantize(np.array(want), (word, frac, signed), dtype=dtype))
    for v in (np.nan, np.inf, -np.inf):
        with pytest.raises(OverflowError):
            fixq.quantize(np.array([0.5, v], dtype), make_spec(8, 4, True, "NearestEven", "Throw"))


# --- stochastic rounding ------------------------------------------------------------------

def test_random_u32_matches_reference():
    pairs = [(0, 0), (0, 1), (0, 7), (0, 8), (1, 0), (7, 12345), (2 ** 32, 3), (2 ** 32 + 5, 2 ** 32 - 1),
             (2 ** 64 - 1, 0), (2 ** 64 - 1, 2 ** 64 - 1), (0xDEADBEEFCAFEBABE, 2 ** 35 + 17), (SEED, 999),
             (123, 2 ** 63), (5, 0x7FFFFFFF8)]
    for seed, index in pairs:
        assert int(fixq.random_u32(seed, index)) == ref.random_u32(seed, index), (seed, index)
    idx = np.arange(40, dtype=np.uint64) + np.uint64(2 ** 33 - 20)
    got = np.asarray(fixq.random_u32(99, idx))
    assert as_ints(got) == [ref.random_u32(99, int(i)) for i in idx]
    idx = np.array([[2 ** 64 - 1, 0], [2 ** 63, 8]], np.uint64)
    got = fixq.random_u32(2 ** 40 + 3, idx)
    assert got.shape == idx.shape and as_ints(got) == [ref.random_u32(2 ** 40 + 3, int(i)) for i in idx.ravel()]
    for seed, index in ((-1, 0), (2 ** 64, 0), (0, -1), (0, 2 ** 64)):
        with pytest.raises(ValueError):
            fixq.random_u32(seed, index)


def test_random_u32_numpy_integers():
    """docs/python.md: the seed is an integer (numpy's too), the index an integer or an integer array."""
    want = ref.random_u32(99, 5)
    assert int(fixq.random_u32(99, np.uint64(5))) == want
    assert int(fixq.random_u32(np.uint64(99), 5)) == want
    idx = np.array([1, 2, 99], np.uint64)
    assert as_ints(fixq.random_u32(99, idx)) == [ref.random_u32(99, int(i)) for i in idx]
    with pytest.raises(TypeError, match="seed"):
        fixq.random_u32(np.array([1, 2, 99], np.uint64), 5)
    with pytest.raises(ValueError, match="negative"):
        fixq.random_u32(99, np.array([-1]))


def test_derive_seed_matches_reference():
    for parts in [(), (0,), (1, 2, 3), (2 ** 64 - 1, 0, 17), (42, 1000, 7)]:
        assert int(fixq.derive_seed(*parts)) == ref.derive_seed(*parts), parts


def test_stochastic_seeds():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(100, 100)).astype(np.float32)
    a = fixq.quantize(x, make_spec(8, 5, True, "Stochastic", "Saturate", 17))
    b = fixq.quantize(x, make_spec(8, 5, True, "Stochastic", "Saturate", 17))
    c = fixq.quantize(x, make_spec(8, 5, True, "Stochastic", "Saturate", 18))
    assert same_bits(a, b)
    assert not np.array_equal(a, c)
    # about half of the elements that are not on the grid differ between the seeds
    off_grid = (x * 32) != np.floor(x * 32)
    frac_diff = np.mean(a[off_grid] != c[off_grid])
    assert 0.25 < frac_diff < 0.75, frac_diff
    # C-order index k keys element k: the reference with random_u32(seed, k)
    u = u32_words(17, x.size)
    sel = rng.choice(x.size, 300, replace=False)
    want = [ref.quantize_code(x.ravel()[k], 8, 5, True, "Stochastic", "Saturate", int(u[k])) for k in sel]
    codes = fixq.quantize_codes(x, make_spec(8, 5, True, "Stochastic", "Saturate", 17)).ravel()
    assert as_ints(codes[sel]) == want
    assert np.array_equal(a.ravel()[sel], np.array(want, np.float32) / 32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stochastic_unbiased(dtype):
    n = 1 << 17
    for value, word, frac, signed in [(0.3, 8, 4, True), (-1.7, 8, 2, True), (0.01, 8, 3, False),
                                      (2.0 ** -12 / 3, 12, 8, True), (100.4, 16, -3, True)]:
        v = dtype(value)
        x = np.full(n, v, dtype)
        q = fixq.quantize(x, make_spec(word, frac, signed, "Stochastic", "Saturate", 12345 + word))
        lsb = 2.0 ** -frac
        lower = math.floor(float(v) / lsb) * lsb
        assert set(np.unique(q).tolist()) <= {lower, lower + lsb}
        p = (float(v) - lower) / lsb
        se = lsb * math.sqrt(max(p * (1 - p), 1e-12) / n)
        mean = float(np.mean(q.astype(np.float64)))
        assert abs(mean - float(v)) < 5 * se + 1e-12, (value, mean, float(v), se)
    # a value on the grid never moves
    x = np.full(4096, 0.75, dtype)
    assert np.all(fixq.quantize(x, make_spec(8, 4, True, "Stochastic", "Saturate", 1)) == 0.75)


# --- threads, layouts, out= -------------------------------------------------------------------

@pytest.fixture
def restore_threads():
    before = fixq.get_threads()
    yield
    fixq.set_threads(before)


def test_threads_do_not_change_results(restore_threads):
    rng = np.random.default_rng(21)
    big32 = (rng.normal(size=(1 << 10, 1 << 10)) * 3).astype(np.float32)  # 2^20 elements
    big64 = rng.normal(size=1 << 19) * 3
    big32.ravel()[::997] = np.nan
    cases = [(big32, make_spec(8, 4, True, "Stochastic", "Saturate", 77)),
             (big32, make_spec(8, 4, True, "NearestEven", "SaturateSymmetric")),
             (big32, make_spec(12, 6, False, "NearestAway", "Wrap")),
             (big64, make_spec(16, 10, True, "Stochastic", "Wrap", 78)),
             (big64, make_spec(40, 30, True, "NearestOdd", "Saturate")),
             (big32[::2, 1::3], make_spec(8, 4, True, "Stochastic", "SaturateZero", 79))]
    for x, spec in cases:
        out = {}
        for n in (1, 2):
            fixq.set_threads(n)
            assert fixq.get_threads() == n
            out[n] = (fixq.quantize(x, spec), fixq.quantize_codes(x, spec), fixq.quantize_stats(x, spec))
        assert same_bits(out[1][0], out[2][0])
        assert same_bits(out[1][1], out[2][1])
        for field in ("count", "saturated_high", "saturated_low", "nan_count", "max_abs_error", "mse", "sqnr_db"):
            assert getattr(out[1][2], field) == getattr(out[2][2], field), field
    # and the stochastic results are the reference's (vectorised twin, C-order keys)
    x = big32[::2, 1::3]
    want = ref.quantize_codes_np(x, 8, 4, True, "Stochastic", "SaturateZero", u32_words(79, x.size))
    fixq.set_threads(2)
    got = fixq.quantize_codes(x, make_spec(8, 4, True, "Stochastic", "SaturateZero", 79))
    assert np.array_equal(got.astype(np.int64), want)
    fixq.set_threads(0)
    assert fixq.get_threads() >= 1


def layouts(base):
    """Views of different layouts with their C-order copies."""
    views = {
        "C": base,
        "F": np.asfortranarray(base),
        "strided": base[::2, 1::3],
        "reversed": base[::-1, ::-2],
        "transposed": base.T,
        "3d-permuted": base.reshape(8, -1, 6).transpose(2, 0, 1),
        "3d-strided": base.reshape(8, -1, 6)[1::3, ::-1, ::2],
        "1d-step": base.ravel()[5::7],
    }
    return views


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layouts(dtype):
    rng = np.random.default_rng(31)
    base = (rng.normal(size=(48, 96)) * 4).astype(dtype)
    base[3, 5] = np.nan
    specs = [make_spec(8, 4, True, "Stochastic", "Saturate", 5), make_spec(6, 3, True, "NearestEven", "Wrap"),
             make_spec(10, 12, False, "Floor", "SaturateSymmetric"),
             make_spec(30, 20, True, "Stochastic", "Wrap", 6)]
    for name, v in layouts(base).items():
        c = np.ascontiguousarray(v)
        assert np.array_equal(c, v, equal_nan=True)
        for spec in specs:
            q = fixq.quantize(v, spec)
            assert q.shape == v.shape and same_bits(q, fixq.quantize(c, spec)), name
            k = fixq.quantize_codes(v, spec)
            assert k.shape == v.shape and same_bits(k, fixq.quantize_codes(c, spec)), name
            sv, sc = fixq.quantize_stats(v, spec), fixq.quantize_stats(c, spec)
            assert (sv.saturated_high, sv.mse) == (sc.saturated_high, sc.mse), name
        # the C-order index keys the stochastic words: the reference on the view
        u = u32_words(5, v.size)
        want = ref.quantize_codes_np(v, 8, 4, True, "Stochastic", "Saturate", u)
        assert np.array_equal(fixq.quantize_codes(v, specs[0]).astype(np.int64), want), name


def test_shapes_zero_d_and_empty():
    spec = make_spec(8, 4, True, "Stochastic", "Saturate", 9)
    for x in (np.array(0.3, np.float32), np.zeros((0,), np.float64), np.zeros((3, 0, 2), np.float32),
              np.ones((2, 1, 1, 3, 1), np.float64) * 0.3):
        q = fixq.quantize(x, spec)
        assert q.shape == x.shape and q.dtype == x.dtype
        c = fixq.quantize_codes(x, spec)
        assert c.shape == x.shape and c.dtype == np.int8
        want = ref_codes(x, 8, 4, True, "Stochastic", "Saturate", u32_words(9, x.size))
        assert as_ints(c) == want
    s = fixq.quantize_stats(np.zeros(0, np.float32), (8, 4))
    assert (s.count, s.saturated_high, s.saturated_low, s.nan_count, s.mse) == (0, 0, 0, 0, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_and_in_place(dtype):
    rng = np.random.default_rng(41)
    x = (rng.normal(size=(40, 30)) * 5).astype(dtype)
    for rnd, ovf, seed in (("NearestTiesToZero", "SaturateZero", None), ("Stochastic", "Wrap", 55)):
        spec = make_spec(7, 3, True, rnd, ovf, seed)
        want = fixq.quantize(x, spec)
        u = u32_words(seed, x.size) if seed is not None else None
        assert np.array_equal(want.astype(np.float64), ref.quantize_codes_np(x, 7, 3, True, rnd, ovf, u) / 8.0)
        out = np.full_like(x, 123.0)
        r = fixq.quantize(x, spec, out=out)
        assert same_bits(out, want)
        if r is not None:
            assert same_bits(np.asarray(r), want)
        # in place: C order, and a strided view of a larger array
        y = x.copy()
        fixq.quantize(y, spec, out=y)
        assert same_bits(y, want)
        big = np.tile(x, (2, 2))
        view = big[::2, ::2]
        xv = view.copy()
        fixq.quantize(view, spec, out=view)
        assert same_bits(view, fixq.quantize(xv, spec))
        assert same_bits(big[1::2, :], np.tile(x, (2, 2))[1::2, :])  # untouched
        # out a strided view of a larger array
        canvas = np.zeros((80, 60), dtype)
        fixq.quantize(x, spec, out=canvas[::2, 1::2])
        assert same_bits(canvas[::2, 1::2], want)
        assert not np.any(canvas[1::2, :]) and not np.any(canvas[:, ::2])
        # Fortran-order out
        fo = np.asfortranarray(np.zeros_like(x))
        fixq.quantize(x, spec, out=fo)
        assert same_bits(np.ascontiguousarray(fo), want)
    spec = make_spec(7, 3)
    with pytest.raises(ValueError):
        fixq.quantize(x, spec, out=np.zeros((30, 40), dtype))
    ro = np.zeros_like(x)
    ro.setflags(write=False)
    with pytest.raises(ValueError):
        fixq.quantize(x, spec, out=ro)


# --- memory that is not plain ----------------------------------------------------------------

def test_readonly_unaligned_swapped_and_overlapping_memory():
    spec = make_spec(8, 4, True, "Stochastic", "Saturate", 91)
    src = np.array([0.3, -1.2, 5.55, 1e9, -0.01, np.nan, 2.03125], np.float32)
    want = ref_values(ref_codes(src, 8, 4, True, "Stochastic", "Saturate", u32_words(91, src.size)), 4, np.float32)
    ro = src.copy()
    ro.setflags(write=False)
    assert np.array_equal(fixq.quantize(ro, spec), want)
    raw = bytearray(src.nbytes + 1)
    raw[1:] = src.tobytes()
    unaligned = np.frombuffer(raw, np.float32, count=src.size, offset=1)
    assert not unaligned.flags.aligned
    assert np.array_equal(fixq.quantize(unaligned, spec), want)
    out = np.frombuffer(bytearray(src.nbytes + 1), np.float32, count=src.size, offset=1)
    fixq.quantize(src, spec, out=out)
    assert np.array_equal(out, want)
    # non-native byte order: the right values or a TypeError, never other bits
    swapped = src.astype(src.dtype.newbyteorder())
    try:
        got = fixq.quantize(swapped, spec)
    except TypeError:
        pass
    else:
        assert np.array_equal(np.asarray(got, np.float32), want)
    # out overlapping x (shifted by one element) gets the values of x as it was
    a = np.array([0.3, 0.7, 1.1, 1.5, -0.26], np.float64)
    want_a = ref_values(ref_codes(a[:-1], 8, 4, True, "NearestEven", "Saturate"), 4, np.float64)
    fixq.quantize(a[:-1], (8, 4), out=a[1:])
    assert np.array_equal(a[1:], want_a)
    # a float64 x into a float32 out (the module's one mixed case): the values rounded to float32
    x = np.array([0.1, 2.0 ** 30 + 1.0, -(2.0 ** 40) - 3.0, 1e-30], np.float64)
    o = np.zeros(4, np.float32)
    fixq.quantize(x, (48, 10), out=o)
    assert np.array_equal(o, ref_values(ref_codes(x, 48, 10, True, "NearestEven", "Saturate"), 10, np.float32))


def test_interpreter_exits_cleanly():
    """A program that quantizes strided arrays (the module's copies through numpy)
    and chooses per-channel fracs must exit normally, without torch imported."""
    import subprocess
    code = "\n".join([
        "import numpy as np, fixq",
        "a = np.arange(24.0).reshape(4, 6) / 7",
        "fixq.quantize(a[::2, ::3], (8, 4))",
        "fixq.quantize(np.asfortranarray(a), fixq.QuantSpec((8, 4), round='Stochastic', seed=1))",
        "fixq.quantize(a.ravel()[:-1], (8, 4), out=a.ravel()[1:])",
        "fixq.choose_frac_per_channel(a, 8, axis=1)",
        "print('done')",
    ])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(os.path.abspath(fixq.__file__)))] +
                                        [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "done" and r.returncode == 0, (r.returncode, r.stderr[-500:])


# --- wrong inputs ------------------------------------------------------------------------

def test_wrong_inputs_raise_type_error():
    spec = make_spec(8, 4)
    bad_inputs = [np.arange(6, dtype=np.int32), np.ones(4, np.float16), [0.5, 1.0], (0.5,), None, "0.5",
                  np.ones(3, np.complex64), np.ones(3, np.longdouble)]
    for bad in bad_inputs:
        for call in (lambda b: fixq.quantize(b, spec), lambda b: fixq.quantize_codes(b, spec),
                     lambda b: fixq.quantize_stats(b, spec), lambda b: fixq.choose_frac(b, 8)):
            with pytest.raises(TypeError) as info:
                call(bad)
            assert "float32" in str(info.value) or "numpy array" in str(info.value), str(info.value)
    with pytest.raises(TypeError):
        fixq.quantize(np.ones(4, np.float32), spec, out=np.ones(4, np.float16))


# --- Throw ---------------------------------------------------------------------------------

def test_throw_message_and_stats():
    x = np.array([0.5, -1.25, 100.0, 0.25], np.float32)
    spec = make_spec(8, 4, True, "NearestEven", "Throw")
    with pytest.raises(OverflowError) as info:
        fixq.quantize(x, spec)
    assert "100" in str(info.value) and "Fixed<8,4>" in str(info.value)
    with pytest.raises(OverflowError):
        fixq.quantize_codes(x, spec)
    y = x.copy()
    with pytest.raises(OverflowError):
        fixq.quantize(y, spec, out=y)
    # the statistics are those of Saturate and do not raise
    s = fixq.quantize_stats(x, spec)
    r = ref.stats(x, 8, 4, True, "NearestEven", "Throw", dtype="float32")
    assert (s.saturated_high, s.saturated_low) == (r["saturated_high"], r["saturated_low"]) == (1, 0)
    assert math.isclose(s.mse, r["mse"], rel_tol=1e-12)
    # a carry out of rounding overflows: 7.984375 rounds to 8 (128 LSBs) in Fixed<8,4>
    with pytest.raises(OverflowError):
        fixq.quantize(np.array([127.75 / 16], np.float64), spec)
    assert fixq.quantize(np.array([127.75 / 16]), make_spec(8, 4, True, "Floor", "Throw"))[0] == 127 / 16


# --- statistics ------------------------------------------------------------------------------

STAT_FIELDS = ("count", "saturated_high", "saturated_low", "nan_count", "max_abs_error", "mse", "sqnr_db")


def check_stats(s, r, where):
    for field in STAT_FIELDS[:4]:
        assert int(getattr(s, field)) == r[field], (where, field, getattr(s, field), r[field])
    assert math.isclose(s.max_abs_error, r["max_abs_error"], rel_tol=1e-12, abs_tol=0), (where, s.max_abs_error, r)
    assert math.isclose(s.mse, r["mse"], rel_tol=1e-9, abs_tol=0), (where, s.mse, r)
    if math.isinf(r["sqnr_db"]):
        assert s.sqnr_db == r["sqnr_db"], where
    else:
        assert math.isclose(s.sqnr_db, r["sqnr_db"], rel_tol=0, abs_tol=1e-8), (where, s.sqnr_db, r)


@pytest.mark.parametrize("rnd,ovf", MODE_PAIRS, ids=MODE_IDS)
def test_stats(rnd, ovf):
    rng = np.random.default_rng([7, ROUNDS.index(rnd), OVERFLOWS.index(ovf)])
    seed = 4242 if rnd == "Stochastic" else None
    for (word, frac, signed), dtype in [((8, 4, True), np.float32), ((5, -1, False), np.float64),
                                        ((1, 0, True), np.float64), ((16, 18, True), np.float32),
                                        ((30, 10, True), np.float32), ((48, 20, False), np.float64)]:
        x = random_data(rng, 150, word, frac, signed, dtype)
        x = np.concatenate([x, np.array([np.nan, np.inf, -np.inf, -0.0, 0.0], dtype)])
        x = x.reshape(5, -1).T  # a non-contiguous 2-D view: C-order indices key the words
        spec = make_spec(word, frac, signed, rnd, ovf, seed)
        u = u32_words(seed, x.size) if seed is not None else None
        r = ref.stats(x.ravel(order="C"), word, frac, signed, rnd, ovf, u, dtype=np.dtype(dtype).name)
        s = fixq.quantize_stats(x, spec)
        check_stats(s, r, (word, frac, signed, rnd, ovf, np.dtype(dtype).name))
        assert r["saturated_high"] + r["saturated_low"] > 2  # the data do overflow
    # the documented example
    s = fixq.quantize_stats(np.array([0.3, 1, -0.5, 2.5], np.float32), (4, 2))
    assert (s.count, s.saturated_high, s.saturated_low, s.nan_count, s.max_abs_error) == (4, 1, 0, 0, 0.75)


def test_stats_overflow_rate_field():
    x = np.array([0.5, 100.0, -100.0, np.nan, np.inf, 0.25, 3.0, -9.0], np.float64)
    s = fixq.quantize_stats(x, (8, 4))
    r = ref.stats(x, 8, 4)
    assert (s.saturated_high, s.saturated_low, s.nan_count) == (r["saturated_high"], r["saturated_low"], 1)
    # docs/python.md names s.overflow_rate without defining it; the module's
    # docstring: (saturated_high + saturated_low) / count (NaN and +-inf counted)
    assert s.overflow_rate == (r["saturated_high"] + r["saturated_low"]) / r["count"]


# --- choose_frac --------------------------------------------------------------------------

def frac_data(rng, dtype):
    """Arrays that exercise choose_frac's corner cases."""
    cases = [
        rng.normal(size=200) * 3,
        rng.normal(size=50) * 1e-5,
        rng.uniform(0, 1, 64),
        np.array([4.0, -1.0, 0.5]),                # largest positive a power of two
        np.array([-4.0, 1.0]),                     # most negative a power of two: allowed to -2^(word-1) LSB
        np.array([-4.0 - 1e-6, 2.0]),
        np.array([3.999999, -0.001]),
        np.array([-2.0, -3.0, -0.5]),              # negatives only
        np.array([0.0, -0.0, np.nan, np.inf, -np.inf]),  # no finite non-zero value
        np.array([1e300, -3.0]), np.array([1.7e308]), np.array([5e-324, -5e-324]), np.array([1e-310, 2e-300]),
        np.array([7.0, np.nan, -np.inf, 0.0, 2.5]),
        rng.normal(size=100) * 1e20,
    ]
    out = []
    for c in cases:
        c = np.asarray(c, np.float64)
        if dtype == np.float32:
            with np.errstate(over="ignore", under="ignore"):
                c = c.astype(np.float32)
        out.append(c.astype(dtype))
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_choose_frac_maxabs(dtype):
    rng = np.random.default_rng(51)
    for x in frac_data(rng, dtype):
        for word, signed in [(8, True), (8, False), (1, True), (1, False), (2, True), (16, True), (24, False),
                             (32, True), (53, True), (64, True), (64, False)]:
            want = ref.choose_frac(x, word, signed, "MaxAbs")
            got = fixq.choose_frac(x, word, signed=signed)
            assert got == want, (x[:4], word, signed, got, want)
            assert fixq.choose_frac(x, word, signed, "MaxAbs") == want


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_choose_frac_overflow_rate_and_min_mse(dtype):
    rng = np.random.default_rng(52)
    for x in frac_data(rng, dtype):
        for word, signed in [(8, True), (6, False), (1, True), (16, True), (64, True)]:
            for rate in (0.0, 0.01, 0.1, 0.5, 1.0):
                want = ref.choose_frac(x, word, signed, "OverflowRate", rate)
                got = fixq.choose_frac(x, word, signed=signed, method="OverflowRate", overflow_rate=rate)
                assert got == want, (x[:4], word, signed, rate, got, want)
    small = [rng.normal(size=40) * 3, rng.uniform(-1, 1, 30), np.array([0.75, -0.5, 0.25]), np.array([0.0, np.nan])]
    for x in small:
        x = x.astype(dtype)
        for word, signed in [(4, True), (6, False), (8, True)]:
            for rnd in ("NearestEven", "Floor"):
                want = ref.choose_frac(x, word, signed, "MinMSE", round=rnd, dtype=np.dtype(dtype).name)
                assert fixq.choose_frac(x, word, signed=signed, method="MinMSE", round=rnd) == want, (word, rnd)
    x = rng.normal(size=10).astype(dtype)
    for kwargs in (dict(method="OverflowRate", overflow_rate=1.5), dict(method="OverflowRate", overflow_rate=-0.1),
                   dict(method="MaxAbs", overflow_rate=0.1), dict(method="MinMSE", round="Stochastic"),
                   dict(method="Fastest")):
        with pytest.raises(ValueError):
            fixq.choose_frac(x, 8, **kwargs)
    for word in (0, 65):
        with pytest.raises(ValueError, match=str(word)):
            fixq.choose_frac(x, word)


def test_choose_frac_per_channel():
    rng = np.random.default_rng(53)
    w = rng.normal(size=(6, 20)) * np.array([1e-3, 0.1, 1, 10, 1000, 3])[:, None]
    w[2, :] = 0.0
    w[4, 3] = np.nan
    for dtype in (np.float32, np.float64):
        x = w.astype(dtype)
        for axis in (0, 1):
            for word, signed in [(8, True), (5, False)]:
                got = list(np.asarray(fixq.choose_frac_per_channel(x, word, axis=axis, signed=signed)).ravel())
                slices = [x[i, :] for i in range(x.shape[0])] if axis == 0 else [x[:, j] for j in range(x.shape[1])]
                assert [int(g) for g in got] == [ref.choose_frac(s, word, signed) for s in slices], (axis, word)
        got = fixq.choose_frac_per_channel(x, 8, axis=0, method="OverflowRate", overflow_rate=0.1)
        assert [int(g) for g in np.asarray(got).ravel()] == \
            [ref.choose_frac(x[i], 8, True, "OverflowRate", 0.1) for i in range(6)]
        # a Fortran-order copy gives the same
        assert list(np.asarray(fixq.choose_frac_per_channel(np.asfortranarray(x), 8, axis=1))) == \
            list(np.asarray(fixq.choose_frac_per_channel(x, 8, axis=1)))


# --- torch --------------------------------------------------------------------------------

def test_torch_tensors():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(61)
    for dtype, tdtype in ((np.float32, torch.float32), (np.float64, torch.float64)):
        x = (rng.normal(size=(33, 20)) * 4).astype(dtype)
        x[0, 0] = np.nan
        for spec in (make_spec(8, 4, True, "Stochastic", "Saturate", 71), make_spec(8, 4, True, "NearestAway", "Wrap"),
                     make_spec(8, 4, False, "Floor", "SaturateZero")):
            t = torch.from_numpy(x.copy())
            q = fixq.quantize(t, spec)
            assert isinstance(q, torch.Tensor) and q.dtype == tdtype and tuple(q.shape) == x.shape
            assert same_bits(q.numpy(), fixq.quantize(x, spec))
            c = fixq.quantize_codes(t, spec)
            assert isinstance(c, torch.Tensor)
            assert np.array_equal(c.numpy().astype(np.int64), fixq.quantize_codes(x, spec).astype(np.int64))
            # non-contiguous tensors and tensors that require grad
            tt = torch.from_numpy(x.copy()).t()
            assert same_bits(fixq.quantize(tt, spec).numpy(), fixq.quantize(np.ascontiguousarray(x.T), spec))
            ts = torch.from_numpy(x.copy())[::2, 1::3]
            assert same_bits(fixq.quantize(ts, spec).numpy(), fixq.quantize(x[::2, 1::3], spec))
            g = torch.from_numpy(x.copy()).requires_grad_(True)
            assert same_bits(fixq.quantize(g, spec).detach().numpy(), fixq.quantize(x, spec))
            # out= a tensor, and in place
            o = torch.zeros_like(t)
            fixq.quantize(t, spec, out=o)
            assert same_bits(o.numpy(), fixq.quantize(x, spec))
            fixq.quantize(t, spec, out=t)
            assert same_bits(t.numpy(), fixq.quantize(x, spec))
            s = fixq.quantize_stats(torch.from_numpy(x), spec)
            assert (s.saturated_high, s.mse) == (fixq.quantize_stats(x, spec).saturated_high,
                                                 fixq.quantize_stats(x, spec).mse)
        assert fixq.choose_frac(torch.from_numpy(x), 8) == fixq.choose_frac(x, 8)
    for bad in (torch.ones(4, dtype=torch.float16), torch.ones(4, dtype=torch.int32),
                torch.ones(4, dtype=torch.bfloat16), torch.empty(4, device="meta")):
        with pytest.raises(TypeError):
            fixq.quantize(bad, make_spec(8, 4))
