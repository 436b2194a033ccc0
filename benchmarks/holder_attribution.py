"""Issue 29's figure, on the running CPython: the C JSON encoder (encode_batch) beside a pure-Python loop
(scan), tests/test_stacks.py's workload. The share of each thread's GIL-holding samples whose folded stack
holds its own function, and the share of the scanner's wait for the GIL blamed on the encoder's function.

    for py in python3.11 python3.12 python3.13; do $py benchmarks/holder_attribution.py; done
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_stacks import encoder_beside_scanner, folded_counts  # noqa: E402


def main() -> None:
    recorded = encoder_beside_scanner()
    counts = folded_counts(recorded)
    found = [sys.version.split()[0]]
    for thread, function in (("encoder", "encode_batch"), ("scanner", "scan")):
        held = {stack: count for (name, stack), count in counts.items() if name == thread}
        own = sum(count for stack, count in held.items() if f".{function} (" in stack)
        found.append(f"{thread}: {own}/{sum(held.values())} holding samples under {function} "
                     f"({own / sum(held.values()):.1%})")
    waited, behind = recorded.blame("scanner")
    blamed = sum(entry.seconds for entry in behind if entry.holder == "encoder" and entry.site is not None
                 and entry.site.entry.function.endswith(".encode_batch"))
    found.append(f"scanner waited {waited:.2f} s: {blamed:.2f} s behind encoder in encode_batch "
                 f"({blamed / waited:.1%})")
    print("; ".join(found))


if __name__ == "__main__":
    main()
