# pyrun.py MODULE: runs one module of CPython's regression tests the way
# `python3 -m test -v MODULE` sets them up (libregrtest's setup_tests, a
# temporary working directory, no optional resources), but reports each test
# case on a line of its own, written as soon as the case ends, so a run that
# is killed by a timeout still tells which cases passed:
#   @@CASE <ok|fail|error|skip|xfail|xpass> <test id> <reason on one line>
#   @@IMPORT <reason>   (the module could not be loaded: no case ran)
#   @@DONE
# regrtest itself cannot be used in the sandbox: it starts a watchdog thread
# at exit, and the sandbox has no threads yet.
import os
import signal
import sys
import traceback
import unittest

from test.libregrtest.cmdline import _parse_args
from test.libregrtest.setup import setup_tests
from test.support import os_helper

OUT = os.fdopen(os.dup(1), 'w', buffering=1)


def reason_of(err):
    # The whole message: a test that runs a child Python puts the child's
    # error in it, and that is what tells the cause (say, no threads).
    etype, value, _ = err
    text = ''.join(traceback.format_exception_only(etype, value)).strip()
    return text or etype.__name__


class LineResult(unittest.TextTestResult):
    def stopTest(self, test):
        super().stopTest(test)
        # A test that blocks a signal around starting a thread leaves it
        # blocked when the thread cannot start (no threads in the sandbox):
        # every later test waiting for that signal would hang. Each case
        # starts with the mask it had at the start of the run (empty).
        if signal.pthread_sigmask(signal.SIG_SETMASK, []):
            OUT.write(f'@@MASK reset after {test.id()}\n')

    def _say(self, status, test, reason=''):
        reason = ' '.join(str(reason).split())[:1500]
        OUT.write(f'@@CASE {status} {test.id()} {reason}\n')

    def addSuccess(self, test):
        super().addSuccess(test)
        self._say('ok', test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._say('fail', test, reason_of(err))

    def addError(self, test, err):
        super().addError(test, err)
        # setUpClass/module fixtures fail as a _ErrorHolder with no method.
        self._say('error', test, reason_of(err))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._say('skip', test, reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._say('xfail', test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._say('xpass', test)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            # A failed subtest fails its test; report it under the test's id.
            self._say('fail' if issubclass(err[0], test.failureException) else 'error', test, reason_of(err))


def drop(suite, ids):
    """drop returns suite without the test cases whose id is in ids, or
    whose class is (an id naming a class drops all its cases)."""
    kept = unittest.TestSuite()
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            kept.addTest(drop(t, ids))
        elif t.id() not in ids and t.id().rsplit('.', 1)[0] not in ids:
            kept.addTest(t)
    return kept


def main():
    name = sys.argv[1]
    ns = _parse_args(['-v', name])
    setup_tests(ns)
    with os_helper.temp_cwd(None, quiet=True):
        try:
            module = __import__('test.' + name, fromlist=['*'])
            suite = unittest.defaultTestLoader.loadTestsFromModule(module)
            skip = set(filter(None, os.environ.get('PYRUN_SKIP', '').split(',')))
            if skip:
                suite = drop(suite, skip)
        except unittest.SkipTest as e:
            OUT.write(f'@@IMPORT skipped: {e}\n')
            return
        except BaseException as e:
            OUT.write(f'@@IMPORT {reason_of((type(e), e, None))}\n')
            return
        runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=LineResult)
        runner.run(suite)
    OUT.write('@@DONE\n')


# The spawn and forkserver start methods of multiprocessing import the main
# module again in each child: unguarded, every child would run the module's
# tests itself (test_concurrent_futures then hangs, natively too).
if __name__ == '__main__':
    main()
