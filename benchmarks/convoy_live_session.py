"""A session of `gilkit demo convoy --live`, as a class would see it, driven by keys and captured.

    python benchmarks/convoy_live_session.py > results/convoy-live-gil.txt

The demo runs in tmux (so that the capture is the terminal the class sees); this script waits for the
counter to settle, then presses p (a pure-Python thread beside the service), p again, g (compiled code
holding the GIL), g, s (1 ms switch interval) with p, and q, capturing the pane after each step. The
capture shows each change on a line of its own and the counter as it stood; the table after q says what
the counter showed before each change.
"""

import shlex
import subprocess
import sys
import time

SESSION = "gilkit-convoy-live"
#: Seconds the counter runs in each state before the next key (a few of its quarter-second updates).
SETTLE_S = 3.0
STEPS = [("", "alone"), ("p", "beside a pure-Python thread"), ("p", "alone again"),
         ("g", "beside compiled code holding the GIL"), ("g", "alone again"),
         ("s", "switch interval 1 ms"), ("p", "beside pure Python at 1 ms"), ("p", "alone, 1 ms")]


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def counter_line(pane: str) -> str:
    """The last line that shows the counter."""
    lines = [line for line in pane.splitlines() if "requests/s" in line]
    return lines[-1].split("   [p]")[0].strip() if lines else "(no counter yet)"


def main() -> None:
    command = shlex.join([sys.executable, "-m", "gilkit", "demo", "convoy", "--live"])
    tmux("new-session", "-d", "-s", SESSION, "-x", "200", "-y", "40", command)
    tmux("set-option", "-t", SESSION, "remain-on-exit", "on")  # the pane stays readable after q
    try:
        for key, what in STEPS:
            if key:
                tmux("send-keys", "-t", SESSION, key)
            time.sleep(SETTLE_S)  # the counter's own pace: it is what the class watches
            print(f"{what:<40} {counter_line(tmux('capture-pane', '-p', '-t', SESSION))}", flush=True)
        tmux("send-keys", "-t", SESSION, "q")
        time.sleep(1.0)
        print("\nThe pane after q:\n")
        print(tmux("capture-pane", "-p", "-t", SESSION).rstrip())
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)


if __name__ == "__main__":
    main()
