"""Shared harness for the Python client checks run by engine/clients_test.go.

Each check is a function that raises on failure. run() prints one JSON line
per check, {"check": name, "error": message-or-null}, so that the Go test
reports each check as its own subtest and the script never stops at the
first failure.
"""
import json
import traceback


def run(checks):
    for check in checks:
        try:
            check()
            error = None
        except Exception as e:  # a check's failure is data, not a crash
            # The first line names the problem; drivers append the whole SQL.
            error = "".join(traceback.format_exception_only(type(e), e)).strip().splitlines()[0]
        print(json.dumps({"check": check.__name__, "error": error}), flush=True)


def expect(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")

