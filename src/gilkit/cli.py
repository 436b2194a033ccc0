"""The `gilkit` command: `gilkit info`, `gilkit bench`, `gilkit demo`, `gilkit probe`, `gilkit timeline`,
`gilkit shell`."""

import argparse
import dataclasses
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TypeVar

from . import _implementations, _validate, bench, report
from ._build import build_label
from ._executor.interpreters import UNAVAILABLE_REASON as INTERPRETERS_UNAVAILABLE
from ._info import info
from ._registry import KERNELS
from ._validate import MAX_WORKERS, MODES
from ._version import __version__
from .demos import DEMOS, Option

T = TypeVar("T")
U = TypeVar("U")


class _Parser(argparse.ArgumentParser):
    """Bad options: one line on stderr and exit code 2, never a traceback or a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _choices(kind: str, allowed: Sequence[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {kind} {', '.join(map(repr, unknown)) or repr(text)}; choose from {', '.join(allowed)}"
            )
        return list(dict.fromkeys(names))

    return parse


def _checked(convert: Callable[[str], T], check: Callable[[T], U]) -> Callable[[str], U]:
    """An argparse type: ``convert`` the text, then the same check (and message) as the Python API."""

    def parse(text: str) -> U:
        try:
            return check(convert(text))
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {text!r}") from None


def _count(maximum: int, minimum: int = 1) -> Callable[[str], int]:
    return _checked(_whole, functools.partial(_validate.integer, "value", minimum=minimum, maximum=maximum))


_seconds = _checked(_number, functools.partial(_validate.positive_seconds, "value"))


def _interval_us(microseconds: float) -> float:
    from .gil_timeline import checked_interval

    return 1e6 * checked_interval(microseconds / 1e6)


_microseconds = _checked(_number, _interval_us)
_worker_counts = _checked(str, _validate.worker_counts)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gilkit", description="Make the GIL visible: benchmark native vs pure-Python kernels.")
    parser.add_argument("--version", action="version", version=f"gilkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("info", help="the interpreter, its GIL, the usable CPUs and this build of gilkit").set_defaults(
        run=_print_info)
    b = commands.add_parser("bench", help="time every kernel x impl x workers and show where threads help")
    b.set_defaults(run=_bench)
    b.add_argument("--kernels", type=_choices("kernel", KERNELS), default=list(KERNELS),
                   help=f"comma-separated, from {','.join(KERNELS)} (default: all)")
    b.add_argument("--impls", type=_choices("impl", _implementations.IMPLS), default=None,
                   help="comma-separated, from native,native-gil,python (default: every importable one)")
    b.add_argument("--workers", type=_worker_counts, default=None,
                   help="comma-separated worker counts (default: 1 up to the usable CPUs)")
    b.add_argument("--modes", type=_choices("mode", MODES), default=["threads"],
                   help="comma-separated, from threads,processes,openmp,interpreters (default: threads)")
    b.add_argument("--quick", action="store_true", help="smaller problems and fewer repeats (well under a minute)")
    b.add_argument("--detail", action="store_true",
                   help="also print every cell's figures (times, throughput, heartbeat) and the findings")
    b.add_argument("--budget", type=_seconds, default=None, help="seconds of timed repeats per cell")
    b.add_argument("--json", nargs="?", const=True, default=None, metavar="PATH",
                   help="print the meta data and every cell as JSON instead of the matrix (--json PATH, which "
                        "wrote them to PATH, is the old spelling of --save PATH)")
    b.add_argument("--save", metavar="PATH", help="write the meta data and every cell as JSON (read by --compare)")
    b.add_argument("--plot", metavar="PATH",
                   help="draw the speedups, one panel per idea (needs matplotlib: gilkit[plot])")
    b.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"),
                   help="print two saved runs side by side instead of measuring")

    d = commands.add_parser("demo", help=f"the other lessons, measured: {', '.join(DEMOS)}")
    d.set_defaults(run=_demo)
    demos = d.add_subparsers(dest="demo", required=True, parser_class=_Parser)
    for demo in DEMOS.values():
        sub = demos.add_parser(demo.name, help=demo.help)
        for option in demo.options:
            _add_demo_option(sub, option)
        sub.add_argument("--json", action="store_true", help="print the measurements as JSON")

    pr = commands.add_parser("probe", help="does a statement release the GIL, and will threads help?")
    pr.set_defaults(run=_probe)
    pr.add_argument("statement", help="Python code to time, e.g. 'np.sort(a)'")
    pr.add_argument("-s", "--setup", action="append", default=[], metavar="CODE",
                    help="code run once before, e.g. 'import numpy as np; a = np.random.rand(10**6)' (repeatable)")
    pr.add_argument("--workers", type=_worker_counts, default=[1, 2],
                    help="comma-separated thread counts (default: 1,2; 1 is always measured)")
    pr.add_argument("--rounds", type=_count(1000), default=5, help="timed rounds (default: 5)")
    pr.add_argument("--json", action="store_true", help="print the report as JSON")

    tl = commands.add_parser("timeline", help="who holds the GIL, thread by thread: a picture, a trace, figures")
    tl.set_defaults(run=_timeline)
    tl.add_argument("statement", help="Python code each thread runs once, e.g. 'gilkit.mandelbrot(3000, 2000)'")
    tl.add_argument("-s", "--setup", action="append", default=[], metavar="CODE",
                    help="code run once before, e.g. 'import gilkit' (repeatable)")
    tl.add_argument("--threads", type=_count(MAX_WORKERS), default=2, help="threads that run it at once (default: 2)")
    tl.add_argument("--interval", type=_microseconds, default=200.0, metavar="US",
                    help="microseconds between samples (default: 200)")
    tl.add_argument("-o", "--output", metavar="PNG", help="draw the timeline (needs matplotlib: gilkit[plot])")
    tl.add_argument("--presentation", action="store_true", help="draw it for a projector: larger text and lanes")
    tl.add_argument("--trace", metavar="JSON", help="write a Chrome trace that ui.perfetto.dev opens")
    tl.add_argument("--folded", metavar="PATH",
                    help="write the GIL holder's stacks as folded lines (flamegraph.pl, speedscope, inferno)")
    tl.add_argument("--flame", metavar="PNG", help="draw a flame graph of where the GIL was held (needs matplotlib)")
    tl.add_argument("--json", action="store_true", help="print the figures as JSON")

    sh = commands.add_parser("shell", help="run shell commands in parallel; exit codes kept")
    sh.set_defaults(run=_shell)
    sh.add_argument("-j", "--jobs", type=_count(MAX_WORKERS), default=None,
                    help="commands at once (default: usable CPUs)")
    sh.add_argument("--timeout", type=_seconds, default=None, help="seconds per command")
    sh.add_argument("--file", metavar="PATH", help="read commands from PATH, one a line ('-': stdin)")
    sh.add_argument("commands", nargs="*", metavar="CMD", help="a command for /bin/sh (quote each one)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: Ctrl-C ends any command with one line and exit code 130, a reader that closes
    the pipe (``gilkit info | head -3``) ends it quietly, as Unix tools do."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("gilkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point stdout at nothing first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _main(argv: Sequence[str] | None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # Command output may hold anything; an ASCII terminal (PYTHONIOENCODING=ascii) must not crash on it.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.ArgumentParser, argparse.Namespace], int] = args.run
    return command(parser, args)


def _add_demo_option(parser: argparse.ArgumentParser, option: Option) -> None:
    """A demo's option as its declaration says: the same limits the demo function checks."""
    flag = f"--{option.name}"
    if option.kind == "flag":
        parser.add_argument(flag, action="store_true", help=option.help)
    elif option.kind == "folder":
        parser.add_argument(flag, metavar="DIR", default=option.default, help=option.help)
    else:
        check = option.whole if option.kind == "count" else option.seconds
        convert = _whole if option.kind == "count" else _number
        parser.add_argument(flag, type=_checked(convert, check), default=option.default,
                            help=f"{option.help} (default: {option.default})")


def _demo(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    demo = DEMOS[args.demo]
    if demo.needs_native and not _implementations.NATIVE_AVAILABLE:
        print(f"gilkit demo {demo.name} needs the compiled kernels: {_implementations.NATIVE_UNAVAILABLE_REASON}",
              file=sys.stderr)
        return 2
    try:
        result = demo.run(**{option.name: getattr(args, option.name) for option in demo.options})
    except demo.cannot_run as exc:
        print(f"gilkit demo {demo.name}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_dict(), indent=1) if args.json else result.table())
    return 0


def _shell(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .shell import run_parallel

    commands = list(args.commands)
    if args.file:
        try:
            if args.file == "-":
                if isinstance(sys.stdin, io.TextIOWrapper):
                    sys.stdin.reconfigure(errors="replace")
                text = sys.stdin.read()
            else:
                with open(args.file, encoding="utf-8", errors="replace") as f:
                    text = f.read()
        except OSError as exc:
            parser.error(f"cannot read commands from {args.file}: {exc}")
        commands += [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not commands:
        parser.error("no commands: give them as arguments or with --file")
    if any(not command.strip() for command in commands):
        parser.error("a command is empty: give each command as one non-blank argument")
    try:
        results = run_parallel(commands, jobs=args.jobs, timeout=args.timeout)
    except KeyboardInterrupt:
        print("gilkit shell: interrupted; every running command was killed", file=sys.stderr)
        return 130
    for result in results:
        status = ("ok" if result.ok else f"TIMED OUT after {args.timeout:g} s" if result.timed_out
                  else f"FAILED, exit code {result.returncode}")
        print(f"=== [{status}] {result.duration_s:.2f} s: {result.command}")
        if result.stdout:
            print(result.stdout, end="" if result.stdout.endswith("\n") else "\n")
        if result.stderr:
            print("--- stderr:")
            print(result.stderr, end="" if result.stderr.endswith("\n") else "\n")
    failed = [r for r in results if not r.ok]
    print(f"{len(results)} commands: {len(results) - len(failed)} ok, "
          f"{sum(not r.timed_out for r in failed)} failed, {sum(r.timed_out for r in failed)} timed out",
          file=sys.stderr)
    return 1 if failed else 0


def _probe(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from ._statements import StatementError
    from .probing import probe_statement

    try:
        found = probe_statement(args.statement, setup="\n".join(args.setup), workers=args.workers,
                                rounds=args.rounds)
    except StatementError as exc:
        print(f"gilkit probe: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(found.as_dict(), indent=1) if args.json else found.table())
    return 0


def _timeline(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from ._statements import StatementError
    from .gil_timeline import timeline_statement

    for option, wanted in (("-o", args.output), ("--flame", args.flame)):
        if wanted:
            _require_matplotlib(parser, option)
    for path in filter(None, (args.output, args.trace, args.folded, args.flame)):
        _check_writable(parser, path)
    try:
        found = timeline_statement(args.statement, setup="\n".join(args.setup), threads=args.threads,
                                   interval=args.interval / 1e6)
    except (StatementError, ImportError, RuntimeError) as exc:  # no statement to run, or no way to record
        print(f"gilkit timeline: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(found.figures(), indent=1) if args.json else found.table())
    if args.output:
        found.save_png(args.output, presentation=args.presentation)
        print(f"wrote {args.output}", file=sys.stderr)
    if args.trace:
        found.save_trace(args.trace)
        print(f"wrote {args.trace}", file=sys.stderr)
    if args.folded:
        found.save_folded(args.folded)
        note = "" if found.stacks is not None else f" (empty: stacks not read: {found.stacks_note})"
        print(f"wrote {args.folded}{note}", file=sys.stderr)
    if args.flame:
        from .plot import save_flame_graph

        save_flame_graph(found, args.flame)
        print(f"wrote {args.flame}", file=sys.stderr)
    return 0


def _print_info(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    facts = info()
    width = max(map(len, facts))
    for key, value in facts.items():
        print(f"{key:<{width}}  {value}")
    return 0


def _bench(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from . import usable_cpus

    if args.compare:
        return _compare(parser, *args.compare)
    old_spelling = isinstance(args.json, str)  # --json PATH wrote the file
    if old_spelling:
        if args.save:
            parser.error("--json PATH is the old spelling of --save PATH: give one of them")
        args.save, args.json = args.json, None
    impls = args.impls or list(_implementations.available_impls())
    missing = [impl for impl in impls if impl not in _implementations.available_impls()]
    if missing:
        parser.error(f"impl {', '.join(missing)} unavailable: {_implementations.NATIVE_UNAVAILABLE_REASON}")
    if "openmp" in args.modes and not _implementations.OPENMP_ENABLED:
        parser.error("mode openmp unavailable: this build of gilkit was compiled without OpenMP (see gilkit info)")
    if "interpreters" in args.modes and INTERPRETERS_UNAVAILABLE is not None:
        parser.error(INTERPRETERS_UNAVAILABLE)
    if not bench.groups_to_run(args.kernels, impls, args.modes):
        only = "; ".join(f"mode {mode} runs only impl {impl}" for mode, impl in bench.ONLY_IMPL.items())
        parser.error(f"nothing to run: {only}; add that impl or another mode")
    if args.plot:
        _require_matplotlib(parser, "--plot")
    for path in filter(None, (args.save, args.plot)):
        _check_writable(parser, path)  # before the run, not after it
    if old_spelling:
        print("gilkit bench: --json PATH is deprecated: use --save PATH (--json alone prints the JSON)",
              file=sys.stderr)
    workers = args.workers or list(range(1, usable_cpus() + 1))
    timing = bench.QUICK if args.quick else bench.Timing()
    if args.budget:
        timing = dataclasses.replace(timing, budget_s=args.budget)
    print(f"gilkit bench on {build_label()}, {usable_cpus()} usable CPUs", file=sys.stderr)
    cells = bench.run_bench(args.kernels, impls, workers, args.modes, quick=args.quick, timing=timing,
                            progress=_progress)
    measured = bench.to_report(cells, quick=args.quick)
    if args.json:
        print(json.dumps(measured.to_json(), indent=1))
    else:
        if args.detail:
            print(report.format_table(measured))
            print()
            print(report.format_findings(measured))
            print()
        print(report.format_matrix(measured, colour=report.wants_colour(sys.stdout)))
    if args.save:
        with open(args.save, "w") as f:
            json.dump(measured.to_json(), f, indent=1)
        print(f"wrote {args.save}", file=sys.stderr)
    if args.plot:
        from .plot import save_speedups

        save_speedups(measured, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def _compare(parser: argparse.ArgumentParser, path_a: str, path_b: str) -> int:
    try:
        a, b = report.load(path_a), report.load(path_b)
    except report.ReportError as exc:
        parser.error(str(exc))
    print(report.format_comparison(a, b))
    return 0


def _check_writable(parser: argparse.ArgumentParser, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        parser.error(f"cannot write {path}: it is a directory")
    if not os.path.isdir(folder):
        parser.error(f"cannot write {path}: no directory {folder}")
    if not os.access(folder, os.W_OK):
        parser.error(f"cannot write {path}: {folder} is not writable")


def _require_matplotlib(parser: argparse.ArgumentParser, option: str) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        parser.error(f"{option} needs matplotlib: pip install 'gilkit[plot]'")


def _progress(done: int, total: int, step: str | None) -> None:
    bar = "#" * (20 * done // total) + "." * (20 - 20 * done // total)
    label = step or "done"
    end = "\n" if step is None else ""
    if sys.stderr.isatty():
        print(f"\r[{bar}] {done}/{total} {label:<48}", end=end, file=sys.stderr, flush=True)
    elif step is not None:
        print(f"[{bar}] {done}/{total} {label}", file=sys.stderr, flush=True)
