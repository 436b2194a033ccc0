"""gilkit against what a user would pick instead: numba, SciPy, NumPy, OpenCV and primesieve, one thread each.

    apt-get install libprimesieve-dev   # or any libprimesieve.so; without it primesieve is left out
    pip install ".[peers]" && python benchmarks/peers.py [--rounds 7] [--only box_blur,...] [--huge]

Every contender of a problem is called once per round, round-robin, so a drifting machine hits all of
them alike; the table gives the best and the median time of each and gilkit's speed relative to the
peer (peer time / gilkit time: > 1 means gilkit is faster), checks that the results agree, and says
whether each goal of the fast-kernels issue is met. A second table times gilkit itself on 1 and 2
workers. BLAS, OpenCV, numba and primesieve are held to one thread. box_blur is also timed against the
physical floor, one streaming pass over the same image (``image + 1.0``: read it, write a new one).
``--huge`` adds count_primes(10^11), a minute a round.
"""

import argparse
import ctypes
import ctypes.util
import math
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

import gilkit
from gilkit._info import build_label, cpu_model

#: gilkit 0.1.0's count_primes(2*10**8), one thread, best of 7 on this machine (results/peers-0.1.0.txt).
COUNT_PRIMES_0_1_MS = 216.0


@dataclass
class Contender:
    name: str
    call: object
    times: list = field(default_factory=list)
    result: object = None
    compared: bool = True  # False for a floor that computes something else

    def best(self):
        return min(self.times)

    def median(self):
        return statistics.median(self.times)


@dataclass
class Problem:
    label: str
    gilkit: Contender
    peers: list
    #: (peer name, minimum speed of gilkit relative to it); the peer may be "0.1.0", a fixed time. A goal
    #: is met by the best times, and by the median times too where the peer is in by_median.
    goals: list
    same: object  # same(gilkit_result, peer_result) -> bool
    by_median: tuple = ()
    rounds: int | None = None  # fewer rounds than the others (a slow problem)


def _numba_kernels():
    import numba

    @numba.njit(nogil=True)
    def mandelbrot(width, height, max_iter, xmin, xmax, ymin, ymax):
        out = np.empty((height, width), dtype=np.int32)
        dx = (xmax - xmin) / width
        dy = (ymax - ymin) / height
        for i in range(height):
            ci = ymin + i * dy
            for j in range(width):
                cr = xmin + j * dx
                zr = 0.0
                zi = 0.0
                n = 0
                while n < max_iter:
                    if zr * zr + zi * zi > 4.0:
                        break
                    t = zr * zr - zi * zi + cr
                    zi = 2.0 * zr * zi + ci
                    zr = t
                    n += 1
                out[i, j] = n
        return out

    @numba.njit(nogil=True, inline="always")
    def uniform(key, counter):
        z = key + counter * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)

    @numba.njit(nogil=True)
    def estimate_pi(samples, key):
        hits = 0
        for k in range(samples):
            x = uniform(key, np.uint64(2) * np.uint64(k) + np.uint64(1))
            y = uniform(key, np.uint64(2) * np.uint64(k) + np.uint64(2))
            if x * x + y * y <= 1.0:
                hits += 1
        return 4.0 * hits / samples

    @numba.njit(nogil=True)
    def count_primes(n, root):  # root = math.isqrt(n), which numba lacks
        sieve = np.ones(n + 1, dtype=np.uint8)
        sieve[:2] = 0
        for p in range(2, root + 1):
            if sieve[p]:
                sieve[p * p :: p] = 0
        return int(sieve.sum())

    return mandelbrot, estimate_pi, count_primes


def _power_of_ten(n):
    """2*10^8 for 200,000,000; 10^9 for 1,000,000,000."""
    exponent = len(str(n)) - 1
    mantissa = n // 10**exponent
    return f"{'' if mantissa == 1 else f'{mantissa}*'}10^{exponent}"


def _primesieve():
    """primesieve's count_primes(n) on one thread, through its C API, or None without the library."""
    path = ctypes.util.find_library("primesieve")
    if path is None:
        return None
    library = ctypes.CDLL(path)
    library.primesieve_count_primes.restype = ctypes.c_uint64
    library.primesieve_count_primes.argtypes = [ctypes.c_uint64, ctypes.c_uint64]
    library.primesieve_set_num_threads(1)
    library.primesieve_version.restype = ctypes.c_char_p
    print(f"primesieve {library.primesieve_version().decode()} from {path}")
    return lambda n: library.primesieve_count_primes(0, n)


def problems(only, huge):
    import cv2
    import scipy.ndimage
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    cv2.setNumThreads(1)
    nb_mandelbrot, nb_estimate_pi, nb_count_primes = _numba_kernels()
    found = []

    def add(kernel, problem):
        if not only or kernel in only:
            found.append(problem)

    window = {"xmin": -2.0, "xmax": 1.0, "ymin": -1.25, "ymax": 1.25}
    add("mandelbrot", Problem(
        "mandelbrot 1200x900, max_iter 256",
        Contender("gilkit", lambda: gilkit.mandelbrot(1200, 900, max_iter=256, **window)),
        [Contender("numba", lambda: nb_mandelbrot(1200, 900, 256, *window.values()))],
        [("numba", 4.0)], np.array_equal,
    ))
    key = np.uint64(gilkit._implementations.kernel_module("python", "montecarlo").stream_key(1))
    add("estimate_pi", Problem(
        "estimate_pi 5*10^7, seed 1",
        Contender("gilkit", lambda: gilkit.estimate_pi(50_000_000, seed=1)),
        [Contender("numba", lambda: nb_estimate_pi(50_000_000, key))],
        [("numba", 1.0)], lambda a, b: a == b,
    ))
    image = np.random.default_rng(0).random((2000, 2000))
    for radius in (1, 3, 25, 100):
        size = 2 * radius + 1
        add("box_blur", Problem(
            f"box_blur 2000x2000, r={radius}",
            Contender("gilkit", lambda radius=radius: gilkit.box_blur(image, radius)),
            [Contender("scipy", lambda size=size: scipy.ndimage.uniform_filter(image, size, mode="nearest")),
             Contender("opencv", lambda size=size: cv2.blur(image, (size, size), borderType=cv2.BORDER_REPLICATE)),
             Contender("stream", lambda: image + 1.0, compared=False)],
            [("scipy", 2.0), ("opencv", 1.25), ("stream", 1 / 3)],
            lambda a, b: np.allclose(a, b, rtol=1e-12, atol=1e-12),
            by_median=("opencv",),
        ))
    values = np.random.default_rng(0).random(20_000_000)
    add("sum_squares", Problem(
        "sum_squares 2*10^7 float64",
        Contender("gilkit", lambda: gilkit.sum_squares(values)),
        [Contender("numpy", lambda: float(np.dot(values, values)))],
        [("numpy", 0.85)], lambda a, b: math.isclose(a, b, rel_tol=1e-12),
    ))
    primesieve = _primesieve()
    for n, goal in [(2 * 10**8, 0.8), (10**9, 0.8), (10**10, 0.8)] + ([(10**11, 0.5)] if huge else []):
        peers, goals = [], []
        if n == 2 * 10**8:
            peers.append(Contender("numba", lambda n=n: nb_count_primes(n, math.isqrt(n))))
            goals += [("numba", 1.0), ("0.1.0", 2.5)]
        if primesieve is not None:
            peers.append(Contender("primesieve", lambda n=n: primesieve(n)))
            goals.append(("primesieve", goal))
        add("count_primes", Problem(
            f"count_primes {_power_of_ten(n)}",
            Contender("gilkit", lambda n=n: gilkit.count_primes(n)),
            peers, goals, lambda a, b: a == b, rounds=3 if n > 10**10 else None,
        ))
    return found


def scaling_problems(only):
    """gilkit alone on 1 and 2 workers: the compute-bound kernels should keep >= 1.8x (count_primes at 10^9)."""
    image = np.random.default_rng(0).random((2000, 2000))
    values = np.random.default_rng(0).random(20_000_000)
    calls = {
        "mandelbrot": lambda **how: gilkit.mandelbrot(1200, 900, max_iter=256, **how),
        "estimate_pi": lambda **how: gilkit.estimate_pi(50_000_000, seed=1, **how),
        "box_blur": lambda **how: gilkit.box_blur(image, 3, **how),
        "sum_squares": lambda **how: gilkit.sum_squares(values, **how),
        "count_primes": lambda **how: gilkit.count_primes(10**9, **how),
    }
    return {
        kernel: [Contender(f"workers={w}", lambda call=call, w=w: call(workers=w)) for w in (1, 2)]
        for kernel, call in calls.items()
        if not only or kernel in only
    }


def time_round_robin(contenders, rounds):
    for contender in contenders:
        contender.result = contender.call()  # warm-up: numba compiles, pools start, pages fault in
    for _ in range(rounds):
        for contender in contenders:
            start = time.perf_counter()
            contender.call()
            contender.times.append(time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", default="", help="comma-separated kernels (default: all)")
    parser.add_argument("--huge", action="store_true", help="count_primes(10^11) as well (3 rounds)")
    args = parser.parse_args()
    only = {name for name in args.only.split(",") if name}

    isa = getattr(gilkit, "ISA_VARIANT", None)  # None for gilkit 0.1.0, which had one variant
    print(f"gilkit {gilkit.__version__}, ISA variant {isa!r}, on {build_label()}, {cpu_model()}")
    print(f"one thread each, {args.rounds} interleaved rounds; speed = peer time / gilkit time (> 1: gilkit faster)\n")
    header = (f"{'problem':<36} {'contender':<10} {'best ms':>9} {'median ms':>10} {'speed best':>11} {'median':>7}"
              "  goal")
    print(header)
    print("-" * len(header))
    all_met = True
    blur_best = {}
    for problem in problems(only, args.huge):
        time_round_robin([problem.gilkit, *problem.peers], problem.rounds or args.rounds)
        mine = problem.gilkit
        print(f"{problem.label:<36} {'gilkit':<10} {1e3 * mine.best():9.1f} {1e3 * mine.median():10.1f}")
        for peer in problem.peers:
            agree = not peer.compared or problem.same(mine.result, peer.result)
            goal = dict(problem.goals).get(peer.name)
            speed_best, speed_median = peer.best() / mine.best(), peer.median() / mine.median()
            met = goal is None or (speed_best >= goal and (peer.name not in problem.by_median or speed_median >= goal))
            by = "best and median" if peer.name in problem.by_median else "best"
            verdict = "" if goal is None else f">= {goal:.3g}x ({by}): {'met' if met else 'NOT MET'}"
            if not peer.compared:
                verdict += f"; gilkit takes {1 / speed_best:.2f} such passes"
            all_met &= met and agree
            print(f"{'':<36} {peer.name:<10} {1e3 * peer.best():9.1f} {1e3 * peer.median():10.1f} "
                  f"{speed_best:10.2f}x {speed_median:6.2f}x  {verdict}{'' if agree else '  RESULTS DIFFER'}")
        for name, goal in problem.goals:
            if name == "0.1.0":
                speed = COUNT_PRIMES_0_1_MS / (1e3 * mine.best())
                all_met &= speed >= goal
                print(f"{'':<36} {'0.1.0':<10} {COUNT_PRIMES_0_1_MS:9.1f} {'(saved)':>10} {speed:10.2f}x {'':6}   "
                      f">= {goal}x: {'met' if speed >= goal else 'NOT MET'}")
        if problem.label.startswith("box_blur"):
            blur_best[problem.label.rsplit("r=", 1)[1]] = mine.best()
    if {"1", "100"} <= blur_best.keys():
        growth = blur_best["100"] / blur_best["1"]
        all_met &= growth <= 2.0
        verdict = "met" if growth <= 2 else "NOT MET"
        print(f"\nbox_blur cost per pixel, r=100 over r=1: {growth:.2f}x (goal <= 2x: {verdict})")

    print("\ngilkit native on 1 and 2 workers (same rounds):")
    for kernel, contenders in scaling_problems(only).items():
        time_round_robin(contenders, args.rounds)
        one, two = contenders
        print(f"  {kernel:<13} 1 worker {1e3 * one.best():8.1f} ms, 2 workers {1e3 * two.best():8.1f} ms: "
              f"{one.best() / two.best():.2f}x best, {one.median() / two.median():.2f}x median")
    print(f"\nevery goal met: {all_met}")


if __name__ == "__main__":
    main()
