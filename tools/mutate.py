"""`./dev mutate`: mutation testing (mutmut 3) of the modules that guard access, money and
evidence, each against only the tests that cover it, so the whole run fits well under an hour on
a 2-core machine. Not part of CI: run it after changing a guarded module or its tests.

Each group runs in its own copy of the working tree (mutmut writes `mutants/` beside the code
and reads one `[tool.mutmut]` section), in parallel up to the number of cores. A mutant that
survives must get a test, or a one-line reason in tools/mutants-accepted.txt (an equivalent
mutant, log text). The run fails if a survivor is neither killed nor accepted.

    ./dev mutate                 every group
    ./dev mutate audit engine    some groups
    ./dev mutate --list          the groups and their tests
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCEPTED = ROOT / "tools" / "mutants-accepted.txt"

# group: (modules to mutate, the tests that cover them). The role × route matrix test (600
# requests) is left out of "access": every request goes through the guarded functions, so each
# survivor would replay it; the other matrix tests, the records, sign-in and deputy tests stay.
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "access": (["intranet/core/access.py"],
               ["tests/test_records.py", "tests/test_auth.py", "tests/test_platform.py",
                "tests/test_access_matrix.py", "-k", "not test_role_on_route"]),
    "audit": (["intranet/core/audit.py"], ["tests/test_audit.py", "tests/test_backup.py"]),
    "engine": (["intranet/workflows/engine.py"],
               ["tests/test_workflow_conventions.py", "tests/test_credit_workflow.py"]),
    "pdf-fetcher": (["intranet/pdf/fetcher.py"], ["tests/test_pdf.py", "tests/test_credit_pdf.py"]),
    "exposure": (["intranet/credit/exposure.py"], ["tests/test_credit_limits.py"]),
    "credit-machine": (["intranet/workflows/credit.py", "intranet/credit/scope.py"],
                       ["tests/test_credit_workflow.py", "tests/test_workflow_conventions.py",
                        "tests/test_links.py"]),
    # Rules P1-P8: recusal, who may act, the clocks and their job.
    "complaint-machine": (["intranet/workflows/complaint_rules.py",
                           "intranet/workflows/deadlines.py", "intranet/complaints/scope.py",
                           "intranet/complaints/jobs.py"],
                          ["tests/test_complaints.py", "tests/test_complaint_deadlines.py",
                           "tests/test_workflow_conventions.py"]),
    # Rules R1-R9, C2, C4: who may move a customer, and the one recorded path for it.
    "resources": (["intranet/workflows/resource_rules.py", "intranet/resources/scope.py",
                   "intranet/resources/requests.py", "intranet/resources/ownership.py",
                   "intranet/resources/suspensions.py"],
                  ["tests/test_transfers.py", "tests/test_resources.py",
                   "tests/test_allocation.py", "tests/test_intake.py"]),
    "sealing": (["intranet/archive/sealing.py", "intranet/archive/access.py",
                 "intranet/workflows/archive_access.py"], ["tests/test_sealed_files.py"]),
    # Rules Q1, Q2: who writes and who accepts a report, its due day, its figures.
    "reports": (["intranet/workflows/report.py", "intranet/reports/package.py",
                 "intranet/reports/sections.py"], ["tests/test_reports.py"]),
}

STATUS = re.compile(r"^\s*(?P<name>[\w.]+__mutmut_\d+): (?P<status>[\w ]+)$")


def accepted() -> dict[str, str]:
    """mutant name → reason, from tools/mutants-accepted.txt ("name  reason" per line)."""
    reasons = {}
    if ACCEPTED.exists():
        for line in ACCEPTED.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                reasons[name] = reason.strip()
    return reasons


def config(modules: list[str], tests: list[str]) -> str:
    quoted = ", ".join(f'"{m}"' for m in modules)
    selection = ", ".join(f'"{t}"' for t in tests)
    return (f'\n[tool.mutmut]\nsource_paths = ["intranet"]\nonly_mutate = [{quoted}]\n'
            f'pytest_add_cli_args_test_selection = [{selection}]\n'
            'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]\n'
            "also_copy = [\"migrations\", \"wsgi.py\"]\n")


def run_group(name: str, workdir: Path, python: str) -> dict:
    modules, tests = GROUPS[name]
    copy = workdir / name
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".venv", ".git", "mutants", "instance", "__pycache__", ".pytest_cache", "node_modules"))
    with open(copy / "pyproject.toml", "a", encoding="utf-8") as handle:
        handle.write(config(modules, tests))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    log = (workdir / f"{name}.log").open("w")
    subprocess.run([python, "-m", "mutmut", "run", "--max-children", "1"], cwd=copy, env=env,
                   stdout=log, stderr=subprocess.STDOUT, check=False)
    results = subprocess.run([python, "-m", "mutmut", "results", "--all", "true"], cwd=copy,
                             env=env, capture_output=True, text=True, check=False).stdout
    statuses = {}
    for line in results.splitlines():
        match = STATUS.match(line)
        if match:
            statuses[match["name"]] = match["status"].strip()
    return {"name": name, "seconds": time.monotonic() - started, "statuses": statuses,
            "log": workdir / f"{name}.log", "copy": copy}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("groups", nargs="*", help="groups to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the groups and stop")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", action="store_true", help="keep the working copies")
    args = parser.parse_args()
    if args.list:
        for name, (modules, tests) in GROUPS.items():
            print(f"{name:15} {' '.join(modules)}\n{'':15} tests: {' '.join(tests)}")
        return 0
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups: {', '.join(sorted(unknown))}")
    chosen = args.groups or list(GROUPS)
    reasons = accepted()
    workdir = Path(tempfile.mkdtemp(prefix="mutate-"))
    started = time.monotonic()
    print(f"mutating {', '.join(chosen)} in {workdir} ({args.jobs} at a time)", flush=True)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(lambda g: run_group(g, workdir, sys.executable), chosen))
    problems = 0
    print(f"\n{'group':15} {'mutants':>8} {'killed':>7} {'survived':>9} {'accepted':>9} "
          f"{'other':>6} {'minutes':>8}")
    totals = [0, 0, 0, 0, 0]
    for outcome in outcomes:
        statuses = outcome["statuses"]
        killed = sum(s == "killed" for s in statuses.values())
        survivors = sorted(n for n, s in statuses.items() if s == "survived")
        ok = [n for n in survivors if n in reasons]
        other = len(statuses) - killed - len(survivors)
        row = [len(statuses), killed, len(survivors), len(ok), other]
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        print(f"{outcome['name']:15} {row[0]:8} {row[1]:7} {row[2]:9} {row[3]:9} {row[4]:6} "
              f"{outcome['seconds'] / 60:8.1f}")
        for survivor in survivors:
            if survivor not in reasons:
                problems += 1
                print(f"    SURVIVED  {survivor}   (see: cd {outcome['copy']} && "
                      f"{sys.executable} -m mutmut show {survivor})")
        for name, status in statuses.items():
            if status not in ("killed", "survived"):
                print(f"    {status.upper():9} {name}")
        if not statuses:
            problems += 1
            print(f"    no results: see {outcome['log']}")
    print(f"{'total':15} {totals[0]:8} {totals[1]:7} {totals[2]:9} {totals[3]:9} {totals[4]:6} "
          f"{(time.monotonic() - started) / 60:8.1f}")
    if not args.keep and problems == 0:
        shutil.rmtree(workdir, ignore_errors=True)
    if problems:
        print(f"\n{problems} survivor(s) need a test or a line in {ACCEPTED.relative_to(ROOT)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
