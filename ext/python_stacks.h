/* Python stacks read from another thread without the GIL (python_stacks.c): the GIL sampler reads the
 * holder's stack in every sample. Plain C types only, like gil_sampler.h. */
#ifndef GILKIT_PYTHON_STACKS_H
#define GILKIT_PYTHON_STACKS_H

#include <stdint.h>

/* The stack of a sample that has none: the thread's frames changed under the read, or could not be read. */
#define GILKIT_STACK_UNKNOWN (-1)
/* The function of the node that stands for the outer frames left out past GILKIT_STACK_DEPTH. */
#define GILKIT_FUNCTION_ELIDED (-1)
/* The most frames kept of a stack: the innermost ones. */
#define GILKIT_STACK_DEPTH 32

/* A Python function, as its code object names it: offsets into the text pool, and its first line. */
typedef struct {
    int32_t qualname;
    int32_t filename;
    int32_t first_line;
} gilkit_function;

/* A stack is a node: its innermost frame's function, below the node of the frames that called it (-1: none). */
typedef struct {
    int32_t parent;
    int32_t function;
} gilkit_stack_node;

typedef struct gilkit_stacks gilkit_stacks;

/* Called from Python code, with the GIL held: checks that this thread's own stack reads, through the
 * layout compiled in and the reads the sampler makes, as the interpreter's own frame pointer says. 1 if
 * stacks can be read (*why NULL); else 0 and *why says why not. */
int gilkit_stacks_readable(const char **why);
/* NULL when out of memory. */
gilkit_stacks *gilkit_stacks_new(void);
void gilkit_stacks_free(gilkit_stacks *stacks);
/* Any thread, no GIL needed: the stack (a node) of the thread whose thread state is at ``thread_state``
 * and whose native id is ``tid``; GILKIT_STACK_UNKNOWN where it changed under the read or could not be
 * read. Every read of the thread's memory goes through a path that cannot fault. */
int32_t gilkit_stacks_read(gilkit_stacks *stacks, uintptr_t thread_state, int32_t tid);
/* Any thread, no GIL needed: the thread state of the main interpreter's thread ``tid`` (0: none found). */
uintptr_t gilkit_stacks_thread_state(gilkit_stacks *stacks, int32_t tid);

int32_t gilkit_stacks_nodes(const gilkit_stacks *stacks, const gilkit_stack_node **nodes);
int32_t gilkit_stacks_functions(const gilkit_stacks *stacks, const gilkit_function **functions);
/* The text pool: NUL-terminated UTF-8 strings at the functions' offsets. */
int64_t gilkit_stacks_texts(const gilkit_stacks *stacks, const char **texts);
/* 1 if the tables filled up: later stacks are unknown. */
int gilkit_stacks_full(const gilkit_stacks *stacks);

#endif
