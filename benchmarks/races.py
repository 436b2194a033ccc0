"""What threads writing shared data lose, with the GIL and without it: lesson 6's table.

    python benchmarks/races.py > results/races-gil.txt          # and on 3.13t: results/races-freethreaded.txt

THREADS threads each make UPDATES updates at once (released together by a barrier), six ways, each
without a lock and with one held for the smallest scope, three runs each (the worst is kept):
- ``list.append``: every item must arrive;
- ``d[k] += 1`` on one dict key, and ``obj.n += 1`` on one attribute: read, add, write;
- ``d[k] = d.get(k, 0) + 1`` with a call between the read and the write (``bump``), as the locks demo has;
- check-then-act, ``if k not in d: d[k] = me`` then claiming k: two threads may both see k missing;
- the same in one call, ``d.setdefault(k, me) == me``.
A lost update is one the final count does not show; a double claim is a key two threads both created.

Each case writes its statement twice, bare and under the lock, rather than once inside a wrapper such as
``with lock or nullcontext():``: under the GIL a thread is switched out only at a call or a backward jump,
so the wrapper's ``__enter__`` call would add a switch point to the bare statement and change what the
"no lock" column measures.
"""

from __future__ import annotations  # threading.Lock is a function before 3.13: no `Lock | None` at run time

import threading
from collections.abc import Callable

from gilkit._build import build_label
from gilkit._text import aligned

THREADS = 4
UPDATES = 200_000
RUNS = 3


class Counter:
    n = 0


def bump(value: int) -> int:
    return value + 1


def run_threads(work: Callable[[int], None]) -> None:
    start = threading.Barrier(THREADS)

    def worker(index: int) -> None:
        start.wait()
        work(index)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def appends(lock: threading.Lock | None) -> int:
    items: list[int] = []

    def work(index: int) -> None:
        for i in range(UPDATES):
            if lock is None:
                items.append(i)
            else:
                with lock:
                    items.append(i)

    run_threads(work)
    return THREADS * UPDATES - len(items)


def dict_increments(lock: threading.Lock | None) -> int:
    counts = {"k": 0}

    def work(index: int) -> None:
        for _ in range(UPDATES):
            if lock is None:
                counts["k"] += 1
            else:
                with lock:
                    counts["k"] += 1

    run_threads(work)
    return THREADS * UPDATES - counts["k"]


def attribute_increments(lock: threading.Lock | None) -> int:
    counter = Counter()

    def work(index: int) -> None:
        for _ in range(UPDATES):
            if lock is None:
                counter.n += 1
            else:
                with lock:
                    counter.n += 1

    run_threads(work)
    return THREADS * UPDATES - counter.n


def read_call_write(lock: threading.Lock | None) -> int:
    counts = {"k": 0}

    def work(index: int) -> None:
        for _ in range(UPDATES):
            if lock is None:
                counts["k"] = bump(counts.get("k", 0))
            else:
                with lock:
                    counts["k"] = bump(counts.get("k", 0))

    run_threads(work)
    return THREADS * UPDATES - counts["k"]


def check_then_act(lock: threading.Lock | None) -> int:
    owners: dict[int, int] = {}
    claims = [0] * THREADS

    def work(index: int) -> None:
        for key in range(UPDATES):
            if lock is None:
                if key not in owners:
                    owners[key] = index
                    claims[index] += 1
            else:
                with lock:
                    if key not in owners:
                        owners[key] = index
                        claims[index] += 1

    run_threads(work)
    return sum(claims) - len(owners)  # keys claimed twice


def set_default(lock: threading.Lock | None) -> int:
    owners: dict[int, int] = {}
    claims = [0] * THREADS

    def work(index: int) -> None:
        for key in range(UPDATES):
            if lock is None:
                claims[index] += owners.setdefault(key, index) == index
            else:
                with lock:
                    claims[index] += owners.setdefault(key, index) == index

    run_threads(work)
    return sum(claims) - len(owners)  # keys claimed twice


#: pattern: (the run, what it counts, out of how many)
CASES = {
    "items.append(i)": (appends, "lost items", THREADS * UPDATES),
    "d[k] += 1": (dict_increments, "lost updates", THREADS * UPDATES),
    "obj.n += 1": (attribute_increments, "lost updates", THREADS * UPDATES),
    "d[k] = bump(d.get(k, 0))": (read_call_write, "lost updates", THREADS * UPDATES),
    "if k not in d: d[k] = me": (check_then_act, "keys claimed twice", UPDATES),
    "d.setdefault(k, me) == me": (set_default, "keys claimed twice", UPDATES),
}


def main() -> None:
    print(f"{THREADS} threads x {UPDATES:,} updates each, worst of {RUNS} runs, on {build_label()}")
    rows = [["pattern", "what is counted", "no lock", "with a lock"]]
    for pattern, (case, counted, out_of) in CASES.items():
        bare = max(case(None) for _ in range(RUNS))
        locked = max(case(threading.Lock()) for _ in range(RUNS))
        rows.append([pattern, counted, f"{bare:,} of {out_of:,}", f"{locked:,}"])
    print("\n".join(aligned(rows)))


if __name__ == "__main__":
    main()
