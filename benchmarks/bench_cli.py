"""Start-up cost of the CLI itself: CPU and wall time of `--version`, `--help` and shell-completion requests.

Each case runs as a fresh process N times (as a shell runs it); the figure is the median. CPU is user+system of
the child (resource.getrusage(RUSAGE_CHILDREN)), so a loaded machine inflates wall time more than CPU time.
`python -c pass` is printed as the floor no CLI can go under. Help and completion are answered from the start-up
cache after the first run: the cold figure (first run after a code change) is printed too.

python benchmarks/bench_cli.py                  # 15 runs per case
python benchmarks/bench_cli.py --runs 41
python benchmarks/bench_cli.py --source /path/to/other/checkout   # the same cases against other code
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENTRY = "import sys; from calicotool.cli.main import main; sys.exit(main())"  # what the console script runs


def bash_completion(line: str) -> dict[str, str]:
    """The environment Typer's bash completion script sets for the command line `line` (cursor at its end)."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    return {"_CALICOTOOL_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(cword)}


CASES: list[tuple[str, list[str], dict[str, str]]] = [
    ("--version", ["--version"], {}),
    ("--help", ["--help"], {}),
    ("lab --help", ["lab", "--help"], {}),
    ("policy generate --help", ["policy", "generate", "--help"], {}),
    ("TAB: calicotool <TAB>", [], bash_completion("calicotool ")),
    ("TAB: get <TAB>", [], bash_completion("calicotool get ")),
    ("TAB: policy generate --env <TAB>", [], bash_completion("calicotool policy generate --env ")),
    ("TAB: lab stop <TAB>", [], bash_completion("calicotool lab stop ")),
]


def run_once(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """(CPU seconds, wall seconds, stdout) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd} exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, proc.stdout


def measure(cmd: list[str], env: dict[str, str], cwd: Path, runs: int) -> tuple[float, float, str]:
    samples = [run_once(cmd, env, cwd) for _ in range(runs)]
    return (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples), samples[-1][2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="processes per case (median reported)")
    parser.add_argument("--source", type=Path, help="run the calicotool package found in this checkout instead")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        repo = Path(__file__).resolve().parent.parent
        shutil.copytree(repo / "policies", work / "policies")
        env = {k: v for k, v in os.environ.items() if not k.startswith("_CALICOTOOL") and k != "COLUMNS"}
        env |= {"CALICOTOOL_CACHE_DIR": str(work / "cache"), "CALICOTOOL_DATASTORE": f"dir:{work / 'cluster'}"}
        if args.source:
            env["PYTHONPATH"] = str(args.source.resolve())
        python = [sys.executable]
        floor = measure([*python, "-c", "pass"], env, work, args.runs)
        cold_cpu, cold_wall, _ = run_once([*python, "-c", ENTRY, "--help"], env, work)
        print(f"calicotool start-up, median of {args.runs} runs (CPU = user+sys of the child)")
        print(f"{'case':40} {'CPU s':>7} {'wall s':>7}  answer")
        print(f"{'python -c pass (floor)':40} {floor[0]:7.3f} {floor[1]:7.3f}")
        print(f"{'--help, cold (first run, builds cache)':40} {cold_cpu:7.3f} {cold_wall:7.3f}")
        for label, argv, extra in CASES:
            cpu, wall, out = measure([*python, "-c", ENTRY, *argv], env | extra, work, args.runs)
            answer = " ".join(out.split())
            print(f"{label:40} {cpu:7.3f} {wall:7.3f}  {answer[:40] + '...' if len(answer) > 43 else answer}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
