"""A tiny test runner for scripts that run under the real MicroPython interpreter.

Usage at the end of a MicroPython test script:

    import mpytest
    mpytest.main(globals())

Runs every top-level function named test_*, prints one line per test and a summary
line 'N passed, N failed', and exits 1 if any failed. Works on CPython too.
"""

import sys


def raises(exc_type, func, *args, **kwargs):
    """Assert that func(*args, **kwargs) raises exc_type; return the exception."""
    try:
        func(*args, **kwargs)
    except exc_type as exc:
        return exc
    raise AssertionError("expected %s" % exc_type.__name__)


def main(namespace):
    names = sorted(name for name in namespace if name.startswith("test_") and callable(namespace[name]))
    only = sys.argv[1:] if len(sys.argv) > 1 else None
    passed = 0
    failed = 0
    for name in names:
        if only and name not in only:
            continue
        try:
            namespace[name]()
        except Exception as exc:  # report and go on: one failure must not hide the rest
            failed += 1
            print("FAIL", name, "-", type(exc).__name__, exc)
            try:
                sys.print_exception(exc)  # MicroPython
            except AttributeError:
                import traceback

                traceback.print_exc()
        else:
            passed += 1
            print("ok  ", name)
    print("mpytest: %d passed, %d failed" % (passed, failed))
    if failed or not passed:
        sys.exit(1)
