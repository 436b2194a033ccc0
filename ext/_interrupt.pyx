"""Ctrl-C for the nogil loops: a SIGINT handler that raises a flag the loops poll, then passes the
signal on to Python's own handler, which raises KeyboardInterrupt in the main thread as usual.

Python's handler only records the signal; KeyboardInterrupt is raised when the main thread next runs
Python code, which a long nogil loop on the main thread would otherwise delay until it ends.
"""

cdef extern from *:
    """
    #include <signal.h>
    static volatile int gilkit_sigint_flag = 0;
    #if defined(SA_SIGINFO) && !defined(_WIN32)
    static struct sigaction gilkit_python_sigint;
    static void gilkit_on_sigint(int signum) {
        gilkit_sigint_flag = 1;
        gilkit_python_sigint.sa_handler(signum);
    }
    /* 1: our handler is in place, in front of a one-argument C handler (Python's); 0: left alone. */
    static int gilkit_chain_sigint(void) {
        struct sigaction current, ours;
        if (sigaction(SIGINT, NULL, &current) != 0) return 0;
        if (current.sa_handler == gilkit_on_sigint) return 1;
        if ((current.sa_flags & SA_SIGINFO) || current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN)
            return 0;
        gilkit_python_sigint = current;
        ours = current;
        ours.sa_handler = gilkit_on_sigint;
        return sigaction(SIGINT, &ours, NULL) == 0;
    }
    #else
    static int gilkit_chain_sigint(void) { return 0; }
    #endif
    """
    int gilkit_sigint_flag
    int gilkit_chain_sigint() noexcept nogil

cdef int[::1] _flag = <int[:1]> <int *> &gilkit_sigint_flag


def sigint_flag():
    """The flag (an int buffer of one item) that SIGINT sets, once chain_sigint() has put the handler in place."""
    return _flag


def chain_sigint():
    """Put the flag-raising handler in front of Python's SIGINT handler (again, if something replaced it).

    True when it is in place; False where SIGINT is ignored, left to the default action, or handled by
    something other than Python's one-argument handler (and on Windows): the loops are then not
    interrupted by Ctrl-C, only by their call's own flag.
    """
    return bool(gilkit_chain_sigint())
