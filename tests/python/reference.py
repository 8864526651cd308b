"""An independent pure-Python reference of fixq's quantization (tests only).

Nothing here imports fixq or shares code with it: the rules are re-derived from
the documented definitions (README / docs/reference.md rounding and overflow
tables, include/fixq/core/*.hpp comments, kernels/stats.hpp, kernels/frac_select.hpp,
random/stream.hpp) and computed exactly with fractions.Fraction and Python ints.

A format is (word, frac, signed): a code c of `word` bits (two's complement when
signed) stands for c * 2^-frac. Quantizing x:
  1. X = x * 2^frac exactly (x a float: every finite float is a dyadic rational),
  2. r = round(X) under the rounding mode (n = floor(X), f = X - n),
  3. the overflow mode narrows r to [min_code, max_code].
NaN gives 0 (Throw raises); +-inf overflow high / low (Saturate and Wrap give
max / min, SaturateSymmetric +-max, SaturateZero 0, Throw raises).

Besides the exact scalar functions there is a vectorised numpy twin,
quantize_codes_np, for big arrays; it is exact only where float64 arithmetic is
(|x * 2^frac| < 2^52 or integral, words <= 52), which it asserts.
"""

from fractions import Fraction
import math

ROUNDS = (
    "Floor",
    "Ceil",
    "TowardZero",
    "NearestTiesToPosInf",
    "NearestTiesToNegInf",
    "NearestAway",
    "NearestTiesToZero",
    "NearestEven",
    "NearestOdd",
    "Stochastic",
)
DETERMINISTIC_ROUNDS = ROUNDS[:-1]
NEAREST_ROUNDS = ROUNDS[3:9]
OVERFLOWS = ("Saturate", "SaturateSymmetric", "SaturateZero", "Wrap", "Throw")

# ac_fixed's names (docs/reference.md): AC_TRN is floor, AC_RND ties toward +inf, ...
AC_ROUND_NAMES = {
    "AC_TRN": "Floor",
    "AC_TRN_ZERO": "TowardZero",
    "AC_RND": "NearestTiesToPosInf",
    "AC_RND_MIN_INF": "NearestTiesToNegInf",
    "AC_RND_INF": "NearestAway",
    "AC_RND_ZERO": "NearestTiesToZero",
    "AC_RND_CONV": "NearestEven",
    "AC_RND_CONV_ODD": "NearestOdd",
}
AC_OVERFLOW_NAMES = {
    "AC_SAT": "Saturate",
    "AC_SAT_SYM": "SaturateSymmetric",
    "AC_SAT_ZERO": "SaturateZero",
    "AC_WRAP": "Wrap",
}

MAX_WORD = 64
MAX_FRAC = 1022
MAX_INT_BITS = 1023
TWO32 = 1 << 32


# --- formats -----------------------------------------------------------------------

def check_format(word, frac):
    """ValueError for a format fixq rejects (format.hpp's limits)."""
    if not 1 <= word <= MAX_WORD:
        raise ValueError("word = %d is out of range [1, 64]" % word)
    if frac > MAX_FRAC:
        raise ValueError("frac = %d is larger than 1022" % frac)
    if word - frac > MAX_INT_BITS:
        raise ValueError("frac = %d is too small for word = %d (word - frac > 1023)" % (frac, word))


def format_valid(word, frac):
    try:
        check_format(word, frac)
    except ValueError:
        return False
    return True


def min_code(word, signed=True):
    return -(1 << (word - 1)) if signed else 0


def max_code(word, signed=True):
    return (1 << (word - 1)) - 1 if signed else (1 << word) - 1


def kept_range(word, signed, overflow):
    """[lo, hi]: the codes the overflow mode keeps (SaturateSymmetric: [-max, max])."""
    hi = max_code(word, signed)
    lo = -hi if (overflow == "SaturateSymmetric" and signed) else min_code(word, signed)
    return lo, hi


def format_name(word, frac, signed=True):
    return ("Fixed<%d,%d>" if signed else "UFixed<%d,%d>") % (word, frac)


def pow2(e):
    """2^e as an exact Fraction (any integer e)."""
    return Fraction(1 << e) if e >= 0 else Fraction(1, 1 << -e)


def canonical_round(name):
    name = AC_ROUND_NAMES.get(name, name)
    if name not in ROUNDS:
        raise ValueError("unknown rounding mode %r" % (name,))
    return name


def canonical_overflow(name):
    name = AC_OVERFLOW_NAMES.get(name, name)
    if name not in OVERFLOWS:
        raise ValueError("unknown overflow mode %r" % (name,))
    return name


# --- rounding and overflow on exact numbers -----------------------------------------

def round_exact(x, mode, u32=None):
    """round(x) under `mode` for an exact rational x (an int result)."""
    x = Fraction(x)
    n = math.floor(x)
    f = x - n  # 0 <= f < 1
    half = Fraction(1, 2)
    if mode == "Floor":
        return n
    if mode == "Ceil":
        return n + (1 if f > 0 else 0)
    if mode == "TowardZero":
        return n + (1 if (f > 0 and x < 0) else 0)
    if mode == "Stochastic":
        if u32 is None or not 0 <= int(u32) < TWO32:
            raise ValueError("Stochastic needs a 32-bit random word, got %r" % (u32,))
        # floor(x + U / 2^32), the documented definition.
        return math.floor(x + Fraction(int(u32), TWO32))
    if mode not in NEAREST_ROUNDS:
        raise ValueError("unknown rounding mode %r" % (mode,))
    if f < half:
        return n
    if f > half:
        return n + 1
    # An exact tie x = n + 1/2.
    if mode == "NearestTiesToPosInf":
        up = True
    elif mode == "NearestTiesToNegInf":
        up = False
    elif mode == "NearestAway":
        up = x > 0
    elif mode == "NearestTiesToZero":
        up = x < 0
    elif mode == "NearestEven":
        up = n % 2 == 1  # Python's % is non-negative: n odd
    else:  # NearestOdd
        up = n % 2 == 0
    return n + (1 if up else 0)


def narrow(code, word, signed, overflow, what=None):
    """The code kept by `overflow` for an already rounded integer `code`."""
    lo, hi = kept_range(word, signed, overflow)
    if lo <= code <= hi:
        return code
    if overflow in ("Saturate", "SaturateSymmetric"):
        return hi if code > hi else lo
    if overflow == "SaturateZero":
        return 0
    if overflow == "Wrap":
        low = code & ((1 << word) - 1)  # Python ints are two's complement for &
        if signed and low >> (word - 1):
            low -= 1 << word
        return low
    if overflow == "Throw":
        raise OverflowError("%s overflows %s" % (what if what is not None else code, format_name(word, 0, signed)))
    raise ValueError("unknown overflow mode %r" % (overflow,))


def _classify(value):
    """('nan', None), ('inf', +1 / -1) or ('finite', Fraction)."""
    v = float(value)
    if math.isnan(v):
        return "nan", None
    if math.isinf(v):
        return "inf", (1 if v > 0 else -1)
    return "finite", Fraction(v)  # exact: float -> Fraction has no rounding


def rounded_code(value, frac, round="NearestEven", u32=None):
    """round(value * 2^frac) before any overflow handling; +-inf give +-2^200
    (beyond every code), NaN gives None."""
    round = canonical_round(round)
    kind, v = _classify(value)
    if kind == "nan":
        return None
    if kind == "inf":
        return v * (1 << 200)
    return round_exact(v * pow2(frac), round, u32)


def quantize_code(value, word, frac, signed=True, round="NearestEven", overflow="Saturate", u32=None):
    """The code of `value` (a Python float, numpy float32 or float64) in the format
    (word, frac, signed) under the modes. `u32` is the random word of Stochastic."""
    check_format(word, frac)
    round = canonical_round(round)
    overflow = canonical_overflow(overflow)
    if round == "Stochastic" and u32 is None:
        raise ValueError("Stochastic rounding needs a random word")
    kind, v = _classify(value)
    if kind == "nan":
        if overflow == "Throw":
            raise OverflowError("NaN cannot be converted to %s" % format_name(word, frac, signed))
        return 0
    if kind == "inf":
        if overflow == "Throw":
            raise OverflowError("inf cannot be converted to %s" % format_name(word, frac, signed))
        lo, hi = kept_range(word, signed, overflow)
        if overflow == "SaturateZero":
            return 0
        return hi if v > 0 else lo  # Saturate, SaturateSymmetric and Wrap saturate
    r = round_exact(v * pow2(frac), round, u32)
    if overflow == "Throw":
        if not min_code(word, signed) <= r <= max_code(word, signed):
            raise OverflowError("%r overflows %s" % (float(value), format_name(word, frac, signed)))
        return r
    return narrow(r, word, signed, overflow)


def code_value(code, frac):
    """code * 2^-frac, exact."""
    return Fraction(code) * pow2(-frac)


# --- correctly rounded conversion of an exact value to float32 / float64 ------------

_BINARY = {"float64": (53, -1022, 1023), "float32": (24, -126, 127)}


def to_binary(q, dtype="float64"):
    """The exact rational q rounded to nearest (ties to even) in IEEE `dtype`
    ("float32" or "float64"), returned as a Python float (exact: float32 values
    are float64 values); overflow gives +-inf, and 0 gives +0.0."""
    p, emin, emax = _BINARY[str(dtype)]
    q = Fraction(q)
    if q == 0:
        return 0.0
    sign = -1 if q < 0 else 1
    a = abs(q)
    # e = floor(log2(a)): 2^e <= a < 2^(e+1)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if pow2(e) > a:
        e -= 1
    elif pow2(e + 1) <= a:
        e += 1
    quantum = max(e, emin) - (p - 1)  # exponent of the last significand bit
    m = round_exact(a * pow2(-quantum), "NearestEven")  # Python ints: exact
    if m.bit_length() > p:  # rounding carried into a new binade
        pass  # m = 2^p exactly; still representable as 2^(p-1) * 2^(quantum+1)
    value = Fraction(m) * pow2(quantum)
    max_finite = Fraction((1 << p) - 1) * pow2(emax - (p - 1))
    if value > max_finite:
        return sign * math.inf
    return sign * float(value)  # exact: value has <= p significant bits in range


def quantize_value(value, word, frac, signed=True, round="NearestEven", overflow="Saturate", u32=None, dtype=None):
    """The value of quantize_code(...): an exact Fraction when dtype is None, else
    that value correctly rounded to dtype ("float32" / "float64")."""
    q = code_value(quantize_code(value, word, frac, signed, round, overflow, u32), frac)
    return q if dtype is None else to_binary(q, dtype)


# --- QuantStats (kernels/stats.hpp) --------------------------------------------------

def stats(values, word, frac, signed=True, round="NearestEven", overflow="Saturate", u32s=None, dtype="float64"):
    """The QuantStats fields of quantizing `values` (a flat sequence; element k uses
    the random word u32s[k] under Stochastic). The q of the error terms is what
    quantize returns (the code's value rounded to `dtype`); under Throw the values
    are those of Saturate and nothing is raised. Returns a dict; the floating
    fields are computed exactly, then rounded once."""
    round = canonical_round(round)
    overflow = canonical_overflow(overflow)
    value_overflow = "Saturate" if overflow == "Throw" else overflow
    lo, hi = kept_range(word, signed, overflow)
    out = dict(count=0, saturated_high=0, saturated_low=0, nan_count=0)
    signal = Fraction(0)
    noise = Fraction(0)
    max_err = Fraction(0)
    finite = 0
    for k, x in enumerate(values):
        out["count"] += 1
        u = None if u32s is None else int(u32s[k])
        kind, v = _classify(x)
        if kind == "nan":
            out["nan_count"] += 1
            continue
        r = rounded_code(x, frac, round, u)
        out["saturated_high"] += r > hi
        out["saturated_low"] += r < lo
        if kind == "inf":
            continue
        q = Fraction(quantize_value(x, word, frac, signed, round, value_overflow, u, dtype=dtype))
        err = v - q
        finite += 1
        max_err = max(max_err, abs(err))
        signal += v * v
        noise += err * err
    out["max_abs_error"] = float(max_err)
    out["mse"] = float(noise / finite) if finite else 0.0
    if noise > 0:
        # 10 log10(signal / noise) without overflow of huge ratios
        out["sqnr_db"] = 10.0 * (math.log10(signal.numerator * noise.denominator) -
                                 math.log10(signal.denominator * noise.numerator)) if signal > 0 else -math.inf
    else:
        out["sqnr_db"] = math.inf
    return out


# --- choose_frac (kernels/frac_select.hpp) -----------------------------------------

def _clip_frac(frac, word):
    return min(max(frac, word - MAX_INT_BITS), MAX_FRAC)


def _largest_frac_within(a, m):
    """The largest integer f with a * 2^f <= m (a > 0 exact, m >= 1 an int)."""
    ratio = Fraction(m) / a
    f = ratio.numerator.bit_length() - ratio.denominator.bit_length()
    while pow2(f) > ratio:
        f -= 1
    while pow2(f + 1) <= ratio:
        f += 1
    return f


def element_frac_limit(value, word, signed=True):
    """The largest frac keeping `value` within [min value, max value], or None when
    the value never constrains (0, NaN, +-inf, negatives of unsigned formats,
    positives of signed one-bit formats)."""
    kind, v = _classify(value)
    if kind != "finite" or v == 0:
        return None
    if v > 0:
        m = max_code(word, signed)
        return None if m == 0 else _largest_frac_within(v, m)
    if not signed:
        return None
    return _largest_frac_within(-v, 1 << (word - 1))


def choose_frac(values, word, signed=True, method="MaxAbs", overflow_rate=0.0, round="NearestEven", dtype="float64"):
    """fixq's choose_frac for a flat sequence of floats (MaxAbs, OverflowRate, MinMSE)."""
    if not 1 <= word <= MAX_WORD:
        raise ValueError("word = %d is out of range [1, 64]" % word)
    values = [float(v) for v in values]
    limits = [l for l in (element_frac_limit(v, word, signed) for v in values) if l is not None]
    no_data = word - (1 if signed else 0)
    if not limits:
        return _clip_frac(no_data, word)
    maxabs = min(limits)
    if method == "MaxAbs":
        return _clip_frac(maxabs, word)
    if method == "OverflowRate":
        finite = sum(1 for v in values if math.isfinite(v))
        allowed = math.floor(overflow_rate * finite)  # the product in double, as C++
        if allowed >= len(limits):
            return _clip_frac(MAX_FRAC, word)
        return _clip_frac(sorted(limits)[allowed], word)
    if method == "MinMSE":
        best, best_sse = None, None
        for f in range(_clip_frac(maxabs, word), _clip_frac(maxabs + word, word) + 1):
            sse = Fraction(0)
            for v in values:
                if math.isfinite(v):
                    q = quantize_value(v, word, f, signed, round, "Saturate", dtype=dtype)
                    sse += (Fraction(v) - Fraction(q)) ** 2
            if best_sse is None or sse < best_sse:
                best, best_sse = f, sse
        return best
    raise ValueError("unknown method %r" % (method,))


# --- the random words: ARS-7 and fixq's convention (random/stream.hpp) --------------

def _gf_mul(a, b):
    p = 0
    while b:
        if b & 1:
            p ^= a
        a = ((a << 1) ^ 0x11B) if a & 0x80 else (a << 1)
        b >>= 1
    return p


def _make_sbox():
    inverse = [0] * 256
    for a in range(1, 256):
        for b in range(1, 256):
            if _gf_mul(a, b) == 1:
                inverse[a] = b
                break
    box = []
    for a in range(256):
        b = inverse[a]
        s = 0x63
        for i in range(5):  # b ^ rotl(b,1) ^ rotl(b,2) ^ rotl(b,3) ^ rotl(b,4)
            s ^= ((b << i) | (b >> (8 - i))) & 0xFF
        box.append(s)
    return box


SBOX = _make_sbox()
_MUL2 = [_gf_mul(a, 2) for a in range(256)]
_MUL3 = [_gf_mul(a, 3) for a in range(256)]


def _aes_round(state, key, last):
    """AESENC (or AESENCLAST) on 16 bytes, byte 4c + r = row r of column c."""
    s = [SBOX[b] for b in state]
    t = [s[4 * ((c + r) % 4) + r] for c in range(4) for r in range(4)]  # ShiftRows
    if not last:
        m = []
        for c in range(4):
            a0, a1, a2, a3 = t[4 * c:4 * c + 4]
            m += [
                _MUL2[a0] ^ _MUL3[a1] ^ a2 ^ a3,
                a0 ^ _MUL2[a1] ^ _MUL3[a2] ^ a3,
                a0 ^ a1 ^ _MUL2[a2] ^ _MUL3[a3],
                _MUL3[a0] ^ a1 ^ a2 ^ _MUL2[a3],
            ]
        t = m
    return [a ^ b for a, b in zip(t, key)]


def _to_bytes(words):
    return list(b"".join(int(w).to_bytes(4, "little") for w in words))


def _to_words(data):
    return [int.from_bytes(bytes(data[4 * i:4 * i + 4]), "little") for i in range(4)]


WEYL_LO = 0x9E3779B97F4A7C15
WEYL_HI = 0xBB67AE8584CAA73B


def ars_block(counter, key, rounds=7):
    """Random123's ars4x32-R: counter and key as 4 little-endian 32-bit words."""
    k_lo = key[0] | key[1] << 32
    k_hi = key[2] | key[3] << 32
    v = [a ^ b for a, b in zip(_to_bytes(counter), _to_bytes(key))]
    mask = (1 << 64) - 1
    for r in range(1, rounds + 1):
        k_lo = (k_lo + WEYL_LO) & mask
        k_hi = (k_hi + WEYL_HI) & mask
        rk = _to_bytes([k_lo & 0xFFFFFFFF, k_lo >> 32, k_hi & 0xFFFFFFFF, k_hi >> 32])
        v = _aes_round(v, rk, last=(r == rounds))
    return _to_words(v)


def random_u32(seed, index):
    """fixq's random word of element `index` under a 64-bit `seed`:
    H(0, i) << 16 | H(1, i), H(s, i) = halfword i mod 8 of the ARS-7 block with
    counter {lo32(i / 8), hi32(i / 8), s, 0} and key {lo32(seed), hi32(seed), 0, 0}."""
    seed, index = int(seed), int(index)
    key = [seed & 0xFFFFFFFF, seed >> 32, 0, 0]
    b = index // 8
    h = index % 8
    halves = []
    for stream in (0, 1):
        block = ars_block([b & 0xFFFFFFFF, b >> 32, stream, 0], key)
        halves.append((block[h // 2] >> (16 * (h % 2))) & 0xFFFF)
    return halves[0] << 16 | halves[1]


def derive_seed(*parts):
    """SplitMix64's finalizer chained over the parts (random/stream.hpp)."""
    mask = (1 << 64) - 1
    h = 0x6A09E667F3BCC908
    for p in parts:
        z = h ^ ((int(p) + 0x9E3779B97F4A7C15) & mask)
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        h = z ^ (z >> 31)
    return h


# --- a vectorised twin for big arrays -------------------------------------------------

def quantize_codes_np(x, word, frac, signed=True, round="NearestEven", overflow="Saturate", u32=None):
    """quantize_code over a numpy float array, in float64 arithmetic; int64 codes.
    Exact when x * 2^frac is exact in float64 (asserted) and word <= 52.
    Throw raises OverflowError if any element would."""
    import numpy as np

    assert word <= 52, "quantize_codes_np: word <= 52 only"
    round = canonical_round(round)
    overflow = canonical_overflow(overflow)
    x = np.asarray(x)
    xd = x.astype(np.float64).ravel(order="C")
    nan = np.isnan(xd)
    inf = np.isinf(xd)
    fin = ~(nan | inf)
    scale = math.ldexp(1.0, frac)
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.where(fin, xd, 0.0) * scale
    assert np.all(np.isfinite(y)), "x * 2^frac overflows float64"
    assert np.array_equal(np.ldexp(y, -frac), np.where(fin, xd, 0.0)), "x * 2^frac is not exact in float64"
    # t = trunc(y) and rem = y - t are exact (rem drops y's integral bits); the
    # fraction above floor, f = rem or 1 + rem, is not always a double (y = -2^-60),
    # so every test on f is written on rem.
    t = np.trunc(y)
    rem = y - t
    neg = rem < 0
    n = t - neg
    if round == "Floor":
        up = np.zeros(y.shape, bool)
    elif round == "Ceil":
        up = rem != 0
    elif round == "TowardZero":
        up = neg
    elif round == "Stochastic":
        assert u32 is not None
        u = np.asarray(u32, dtype=np.uint64).ravel()
        scaled = np.floor(rem * 4294967296.0)  # exact; in [-2^32, 2^32)
        big = np.where(neg, scaled + 4294967296.0, scaled).astype(np.uint64)  # floor(f * 2^32)
        up = big + u >= np.uint64(TWO32)
    else:
        above = np.where(neg, rem > -0.5, rem > 0.5)
        tie = np.where(neg, rem == -0.5, rem == 0.5)
        odd = np.fmod(n, 2.0) != 0
        tie_up = {
            "NearestTiesToPosInf": np.ones(y.shape, bool),
            "NearestTiesToNegInf": np.zeros(y.shape, bool),
            "NearestAway": y > 0,
            "NearestTiesToZero": y < 0,
            "NearestEven": odd,
            "NearestOdd": ~odd,
        }[round]
        up = above | (tie & tie_up)
    r = n + up  # exact: up is 0 whenever |y| >= 2^52
    lo, hi = kept_range(word, signed, overflow)
    full_lo, full_hi = min_code(word, signed), max_code(word, signed)
    r = np.where(inf, np.sign(xd) * 2.0 ** 200, r)
    if overflow == "Throw":
        if np.any(nan) or np.any(inf) or np.any((r < full_lo) | (r > full_hi)):
            raise OverflowError("an element overflows " + format_name(word, frac, signed))
        out = r
    elif overflow in ("Saturate", "SaturateSymmetric"):
        out = np.clip(r, lo, hi)
    elif overflow == "SaturateZero":
        out = np.where((r < lo) | (r > hi), 0.0, r)
    else:  # Wrap: finite values keep their low bits (fmod is exact); inf saturates
        m = np.fmod(r, 2.0 ** word)
        m = np.where(m < 0, m + 2.0 ** word, m)  # [0, 2^word)
        if signed:
            m = np.where(m >= 2.0 ** (word - 1), m - 2.0 ** word, m)
        out = np.where(inf, np.clip(r, lo, hi), m)
    out = np.where(nan, 0.0, out)
    return out.astype(np.int64).reshape(x.shape)
