# The solution of the notebook's exercise (gil-lessons.ipynb, "Release the GIL in your own loop"): the same
# loop twice, the second inside `with nogil:`. The notebook compiles this only where the student's own
# cell has not written both functions yet.

def total_held(long n):
    cdef long i, total = 0
    for i in range(n):
        total += i % 7
    return total


def total_free(long n):
    cdef long i, total = 0
    with nogil:
        for i in range(n):
            total += i % 7
    return total
