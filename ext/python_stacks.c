/* Python stacks read from another thread without the GIL (see python_stacks.h), compiled against CPython's
 * internal headers like gil_sampler.c: the frame and code layouts come from the interpreter that builds
 * gilkit.
 *
 * The thread keeps running while its stack is read: frames are pushed and popped, code objects freed and
 * their memory reused. So nothing of it is dereferenced: every read goes through process_vm_readv on the
 * process itself, which fails with EFAULT on unmapped memory instead of faulting. What is read is then
 * checked: every code object and string must have its type's pointer; once the names are known, no frame
 * below the innermost read may have ended (stack_stands), so every code object read was alive; otherwise
 * the stack is unknown.
 *
 * Frames live in the thread's data stack; the part of its current chunk nearest the top is copied in one
 * read, and a frame elsewhere (a generator's, a C-stack shim) is read alone. A code object's names are read
 * once and cached by its address, with its name and file pointers and first line: a code object freed and
 * another made at the same address reads as a new entry, never under the old one's name.
 */
#define Py_BUILD_CORE 1
#include "Python.h"

#include "python_stacks.h"

#include <stdlib.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000 && defined(__linux__)
#  define GILKIT_STACK_LAYOUT 1
#  include "internal/pycore_frame.h"
#  include "internal/pycore_interp.h"
#  include <errno.h>
#  include <sys/uio.h>
#  include <unistd.h>
#endif

#ifdef GILKIT_STACK_LAYOUT

#if PY_VERSION_HEX >= 0x030D0000
#  define FRAME_CODE(frame) ((uintptr_t)(frame)->f_executable)
#else
#  define FRAME_CODE(frame) ((uintptr_t)(frame)->f_code)
#endif
#if PY_VERSION_HEX >= 0x030C0000
/* The entry frames 3.12 and 3.13 push on the C stack run no code of the program's. */
#  define SHIM_FRAME(frame) ((frame)->owner == FRAME_OWNED_BY_CSTACK)
#else
#  define SHIM_FRAME(frame) 0
#endif
#define FRAME_SIZE offsetof(_PyInterpreterFrame, localsplus)
#define CODE_SIZE offsetof(PyCodeObject, co_code_adaptive)
/* How much of the data stack's current chunk, below its top, one read copies. */
#define WINDOW_BYTES 4096
/* A chain of frames longer than this is not a stack (it changed under the read into a loop). */
#define MAX_STEPS 4096
#define MAX_TEXT 512
#define MAX_FUNCTIONS (1 << 20)
#define MAX_NODES (1 << 22)
#define MAX_TEXT_BYTES ((int64_t)64 << 20)
#define THREAD_CACHE 64
/* What node_of returns when the tables are full (-1 is the root's parent). */
#define NO_NODE (-2)

typedef struct {
    uintptr_t code, qualname, filename;  /* code 0: a free slot */
    int32_t first_line, function;
    uint64_t destroyed;  /* codes_destroyed when the entry was last read from its code object */
} code_entry;

struct gilkit_stacks {
    pid_t pid;
    int full;
    code_entry *codes;
    int64_t code_slots, n_codes;
    gilkit_function *functions;
    int32_t n_functions, cap_functions;
    char *texts;
    int64_t n_texts, cap_texts;
    gilkit_stack_node *nodes;
    int32_t n_nodes, cap_nodes;
    int32_t *node_slots;    /* node index + 1, 0 free, hashed by (parent, function) */
    int64_t node_slot_count;
    struct { int32_t tid; uintptr_t state; } threads[THREAD_CACHE];
    int n_threads;
    unsigned char window[WINDOW_BYTES];
    unsigned char heads[GILKIT_STACK_DEPTH][CODE_SIZE];
};

static uintptr_t main_interpreter;  /* set with the GIL held, by gilkit_stacks_readable */

#if PY_VERSION_HEX >= 0x030C0000
/* How many code objects the interpreter has destroyed since gilkit started counting (a code watcher,
 * 3.12+): while it stands still, no code object's memory can have gone to another, so a code object named
 * before is the same one and need not be read again. */
static uint64_t codes_destroyed;
static int counting_destroyed;  /* set with the GIL held, once */

static int count_destroyed(PyCodeEvent event, PyCodeObject *code)
{
    (void)code;
    if (event == PY_CODE_EVENT_DESTROY) {
        __atomic_add_fetch(&codes_destroyed, 1, __ATOMIC_SEQ_CST);
    }
    return 0;
}

static void start_counting_destroyed(void)
{
    if (!counting_destroyed) {
        if (PyCode_AddWatcher(count_destroyed) >= 0) {
            counting_destroyed = 1;
        } else {
            PyErr_Clear();  /* no watcher free: every code object is read every time */
        }
    }
}

/* The count now; UINT64_MAX where it is not kept (then no count ever matches an entry's). */
static uint64_t destroyed_now(void)
{
    return counting_destroyed ? __atomic_load_n(&codes_destroyed, __ATOMIC_SEQ_CST) : UINT64_MAX;
}
#else
static void start_counting_destroyed(void) {}
static uint64_t destroyed_now(void) { return UINT64_MAX; }
#endif

static int copy_in(const gilkit_stacks *s, void *to, uintptr_t from, size_t size)
{
    struct iovec local = {to, size}, remote = {(void *)from, size};
    return from != 0 && process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == (ssize_t)size;
}

static uint64_t mix(uint64_t key) { return key * 0x9E3779B97F4A7C15ull; }

static int grow(void **items, int32_t *capacity, int32_t count, int32_t limit, size_t size)
{
    if (count < *capacity) {
        return 1;
    }
    int32_t wanted = *capacity ? (*capacity > limit / 2 ? limit : 2 * *capacity) : 256;
    void *more = wanted > count ? realloc(*items, (size_t)wanted * size) : NULL;
    if (more == NULL) {
        return 0;
    }
    *items = more;
    *capacity = wanted;
    return 1;
}

/* The current frame of a thread state, as read; 0 where it cannot be read. */
static uintptr_t current_frame(const gilkit_stacks *s, const PyThreadState *state)
{
#if PY_VERSION_HEX >= 0x030D0000
    (void)s;
    return (uintptr_t)state->current_frame;
#else
    _PyCFrame cframe;
    return copy_in(s, &cframe, (uintptr_t)state->cframe, sizeof cframe) ? (uintptr_t)cframe.current_frame : 0;
#endif
}

/* A str object's text as UTF-8 (cut at MAX_TEXT bytes) appended to the pool: its offset, or -1. */
static int32_t add_text(gilkit_stacks *s, uintptr_t address)
{
    PyCompactUnicodeObject head;
    if (!copy_in(s, &head, address, sizeof(PyASCIIObject)) || Py_TYPE((PyObject *)&head) != &PyUnicode_Type
            || !head._base.state.compact) {
        return -1;
    }
    int kind = head._base.state.kind;
    int ascii = head._base.state.ascii;
    unsigned char raw[MAX_TEXT];
    Py_ssize_t length = kind > 0 && head._base.length > MAX_TEXT / kind ? MAX_TEXT / kind : head._base.length;
    uintptr_t data = address + (ascii ? sizeof(PyASCIIObject) : sizeof(PyCompactUnicodeObject));
    if (length < 0 || (kind != 1 && kind != 2 && kind != 4) || (size_t)length * (size_t)kind > sizeof raw
            || (length > 0 && !copy_in(s, raw, data, (size_t)length * (size_t)kind))) {
        return -1;
    }
    if (s->n_texts + 4 * length + 1 > MAX_TEXT_BYTES) {
        s->full = 1;
        return -1;
    }
    while (s->cap_texts < s->n_texts + 4 * length + 1) {
        int64_t wanted = s->cap_texts ? 2 * s->cap_texts : 65536;
        char *more = realloc(s->texts, (size_t)wanted);
        if (more == NULL) {
            s->full = 1;
            return -1;
        }
        s->texts = more;
        s->cap_texts = wanted;
    }
    int32_t offset = (int32_t)s->n_texts;
    unsigned char *out = (unsigned char *)s->texts + s->n_texts;
    for (Py_ssize_t i = 0; i < length; i++) {
        uint32_t c = kind == 1 ? raw[i] : kind == 2 ? ((uint16_t *)raw)[i] : ((uint32_t *)raw)[i];
        if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) {
            c = 0xFFFD;  /* never a NUL inside the text, nor an invalid code point */
        }
        if (c < 0x80) {
            *out++ = (unsigned char)c;
        } else if (c < 0x800) {
            *out++ = (unsigned char)(0xC0 | (c >> 6));
            *out++ = (unsigned char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            *out++ = (unsigned char)(0xE0 | (c >> 12));
            *out++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *out++ = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            *out++ = (unsigned char)(0xF0 | (c >> 18));
            *out++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            *out++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *out++ = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    *out++ = '\0';
    /* The string, read again, must be the one read: freed meanwhile, its memory may hold anything now. */
    PyASCIIObject again;
    if (!copy_in(s, &again, address, sizeof again) || Py_TYPE((PyObject *)&again) != &PyUnicode_Type
            || again.length != head._base.length || again.hash != head._base.hash
            || memcmp(&again.state, &head._base.state, sizeof again.state) != 0) {
        return -1;
    }
    s->n_texts = (char *)out - s->texts;
    return offset;
}

static code_entry *code_slot(gilkit_stacks *s, uintptr_t code)
{
    uint64_t mask = (uint64_t)s->code_slots - 1;
    for (uint64_t i = mix(code >> 4) >> 20 & mask;; i = (i + 1) & mask) {
        if (s->codes[i].code == code || s->codes[i].code == 0) {
            return &s->codes[i];
        }
    }
}

static int grow_codes(gilkit_stacks *s)
{
    if (2 * (s->n_codes + 1) <= s->code_slots) {
        return 1;
    }
    code_entry *old = s->codes;
    int64_t old_slots = s->code_slots;
    code_entry *fresh = calloc((size_t)(old_slots ? 2 * old_slots : 1024), sizeof *fresh);
    if (fresh == NULL) {
        return 0;
    }
    s->codes = fresh;
    s->code_slots = old_slots ? 2 * old_slots : 1024;
    for (int64_t i = 0; i < old_slots; i++) {
        if (old[i].code) {
            *code_slot(s, old[i].code) = old[i];
        }
    }
    free(old);
    return 1;
}

/* The function of a code object read at ``code`` (``head``: its first CODE_SIZE bytes) when the count of
 * destroyed code objects was ``destroyed``, named once; *known: whether it was named before. */
static int32_t function_of(gilkit_stacks *s, uintptr_t code, const PyCodeObject *head, uint64_t destroyed,
                           int *known)
{
    *known = 0;
    if (Py_TYPE((PyObject *)head) != &PyCode_Type) {
        return -1;
    }
    uintptr_t qualname = (uintptr_t)head->co_qualname, filename = (uintptr_t)head->co_filename;
    int32_t first_line = head->co_firstlineno;
    if (!grow_codes(s)) {
        s->full = 1;
        return -1;
    }
    code_entry *entry = code_slot(s, code);
    if (entry->code == code && entry->qualname == qualname && entry->filename == filename
            && entry->first_line == first_line) {
        *known = 1;
        entry->destroyed = destroyed;
        return entry->function;
    }
    if (s->n_functions >= MAX_FUNCTIONS || !grow((void **)&s->functions, &s->cap_functions, s->n_functions,
                                                 MAX_FUNCTIONS, sizeof *s->functions)) {
        s->full = 1;
        return -1;
    }
    int64_t texts_before = s->n_texts;
    int32_t name = add_text(s, qualname), file = name < 0 ? -1 : add_text(s, filename);
    PyCodeObject again;  /* and the code object, read again, still names them */
    if (file < 0 || !copy_in(s, &again, code, CODE_SIZE) || Py_TYPE((PyObject *)&again) != &PyCode_Type
            || (uintptr_t)again.co_qualname != qualname || (uintptr_t)again.co_filename != filename
            || again.co_firstlineno != first_line) {
        s->n_texts = texts_before;
        return -1;
    }
    s->n_codes += entry->code == 0;
    *entry = (code_entry){code, qualname, filename, first_line, s->n_functions, destroyed};
    s->functions[s->n_functions] = (gilkit_function){name, file, first_line};
    return s->n_functions++;
}

static int32_t node_of(gilkit_stacks *s, int32_t parent, int32_t function)
{
    if (2 * ((int64_t)s->n_nodes + 1) > s->node_slot_count) {
        int64_t count = s->node_slot_count ? 2 * s->node_slot_count : 4096;
        int32_t *slots = calloc((size_t)count, sizeof *slots);
        if (slots == NULL) {
            s->full = 1;
            return NO_NODE;
        }
        free(s->node_slots);
        s->node_slots = slots;
        s->node_slot_count = count;
        for (int32_t n = 0; n < s->n_nodes; n++) {
            uint64_t mask = (uint64_t)count - 1, i = mix(((uint64_t)(uint32_t)s->nodes[n].parent << 32)
                                                         | (uint32_t)s->nodes[n].function) >> 20 & mask;
            while (slots[i]) {
                i = (i + 1) & mask;
            }
            slots[i] = n + 1;
        }
    }
    uint64_t mask = (uint64_t)s->node_slot_count - 1;
    uint64_t i = mix(((uint64_t)(uint32_t)parent << 32) | (uint32_t)function) >> 20 & mask;
    for (; s->node_slots[i]; i = (i + 1) & mask) {
        const gilkit_stack_node *node = &s->nodes[s->node_slots[i] - 1];
        if (node->parent == parent && node->function == function) {
            return s->node_slots[i] - 1;
        }
    }
    if (s->n_nodes >= MAX_NODES
            || !grow((void **)&s->nodes, &s->cap_nodes, s->n_nodes, MAX_NODES, sizeof *s->nodes)) {
        s->full = 1;
        return NO_NODE;
    }
    s->nodes[s->n_nodes] = (gilkit_stack_node){parent, function};
    s->node_slots[i] = s->n_nodes + 1;
    return s->n_nodes++;
}

/* The innermost frame's address and its code's; 0, 0 where the thread state cannot be read or is not
 * thread ``tid``'s. */
static uintptr_t innermost(const gilkit_stacks *s, uintptr_t thread_state, int32_t tid, PyThreadState *state)
{
    if (!copy_in(s, state, thread_state, sizeof *state) || (int32_t)state->native_thread_id != tid) {
        return 0;
    }
    return current_frame(s, state);
}

static int same_frame(const _PyInterpreterFrame *a, const _PyInterpreterFrame *b)
{
    return FRAME_CODE(a) == FRAME_CODE(b) && a->previous == b->previous;
}

/* Whether the stack read from frame ``top`` down (``top_frame``, and ``caller_frame`` its caller's) still
 * stands once the names are read: no frame below the innermost read can have ended, so every code object
 * read was alive. ``top_known``: the innermost frame's code object was named before this read. */
static int stack_stands(const gilkit_stacks *s, uintptr_t thread_state, int32_t tid, uintptr_t top,
                        const _PyInterpreterFrame *top_frame, const _PyInterpreterFrame *caller_frame, int top_known)
{
    PyThreadState state;
    _PyInterpreterFrame now_frame, again;
    uintptr_t now = innermost(s, thread_state, tid, &state);
    if (now == 0 || !copy_in(s, &now_frame, now, FRAME_SIZE)) {
        return 0;
    }
    if (now == top) {  /* still running it: the frame is as it was read */
        return same_frame(&now_frame, top_frame);
    }
    if ((uintptr_t)now_frame.previous == top) {  /* running a function it called */
        return copy_in(s, &again, top, FRAME_SIZE) && same_frame(&again, top_frame);
    }
    /* It returned (and its caller may have called another since): the caller, as it was read, is innermost
     * or the innermost's caller. A short function is sampled so, mostly. Only a code object named before
     * is trusted then: one made for this call alone may have been freed with it and its memory reused. */
    uintptr_t caller = (uintptr_t)top_frame->previous;
    return top_known && caller != 0 && (now == caller || (uintptr_t)now_frame.previous == caller)
           && copy_in(s, &again, caller, FRAME_SIZE) && same_frame(&again, caller_frame);
}

/* A read that failed after naming code objects forgets what it named: the names it appended, and its
 * entries for codes[0 .. count-1] that were read (read[i] >= 0), which will be read afresh next time. */
static void forget(gilkit_stacks *s, const uintptr_t *codes, const int *read, int count, int32_t functions_before,
                   int64_t texts_before)
{
    s->n_functions = functions_before;
    s->n_texts = texts_before;
    for (int i = 0; i < count; i++) {
        code_entry *entry = read[i] >= 0 && s->code_slots ? code_slot(s, codes[i]) : NULL;
        if (entry != NULL && entry->code == codes[i]) {
            entry->qualname = 0;  /* no code object's name is at 0: never matches again */
            entry->destroyed = UINT64_MAX;
        }
    }
}

static int32_t read_stack(gilkit_stacks *s, uintptr_t thread_state, int32_t tid, uintptr_t *top_code)
{
    uint64_t destroyed = destroyed_now();
    PyThreadState state;
    uintptr_t top = innermost(s, thread_state, tid, &state);
    *top_code = 0;
    if (top == 0) {
        return GILKIT_STACK_UNKNOWN;
    }
    /* The frames nearest the top of the current data stack chunk, in one read. */
    uintptr_t high = (uintptr_t)state.datastack_top, chunk = (uintptr_t)state.datastack_chunk;
    uintptr_t low = chunk ? chunk + offsetof(_PyStackChunk, data) : high;
    low = high - low > WINDOW_BYTES ? high - WINDOW_BYTES : low;
    if (high <= low || !copy_in(s, s->window, low, high - low)) {
        low = high = 0;
    }
    uintptr_t codes[GILKIT_STACK_DEPTH];
    int depth = 0, steps = 0;
    uintptr_t frame = top;
    _PyInterpreterFrame alone, top_frame, caller_frame;
    memset(&caller_frame, 0, sizeof caller_frame);
    for (; frame != 0 && depth < GILKIT_STACK_DEPTH; steps++) {
        const _PyInterpreterFrame *read = &alone;
        if (frame >= low && frame < high && high - frame >= FRAME_SIZE) {  /* no overflow, whatever was read */
            read = (const _PyInterpreterFrame *)(s->window + (frame - low));
        } else if (steps >= MAX_STEPS || !copy_in(s, &alone, frame, FRAME_SIZE)) {
            return GILKIT_STACK_UNKNOWN;
        }
        if (steps <= 1) {
            memcpy(steps == 0 ? &top_frame : &caller_frame, read, FRAME_SIZE);
        }
        if (!SHIM_FRAME(read)) {
            codes[depth++] = FRAME_CODE(read);
        }
        frame = (uintptr_t)read->previous;
    }
    /* A code object named before, with no code object destroyed since, nor while the frames were read, is
     * the one named; every other one is read, all in one read. */
    int32_t functions[GILKIT_STACK_DEPTH];
    int read[GILKIT_STACK_DEPTH], reads = 0;
    int still = destroyed != UINT64_MAX && destroyed_now() == destroyed;
    struct iovec local[GILKIT_STACK_DEPTH], remote[GILKIT_STACK_DEPTH];
    for (int i = 0; i < depth; i++) {
        const code_entry *entry = s->code_slots ? code_slot(s, codes[i]) : NULL;
        if (still && entry != NULL && entry->code == codes[i] && entry->destroyed == destroyed) {
            functions[i] = entry->function;
            read[i] = -1;
            continue;
        }
        read[i] = reads;
        local[reads] = (struct iovec){s->heads[reads], CODE_SIZE};
        remote[reads++] = (struct iovec){(void *)codes[i], CODE_SIZE};
    }
    if (reads > 0 && process_vm_readv(s->pid, local, (unsigned long)reads, remote, (unsigned long)reads, 0)
                     != (ssize_t)(CODE_SIZE * (size_t)reads)) {
        return GILKIT_STACK_UNKNOWN;
    }
    int known, top_known = depth > 0 && read[0] < 0, named = 0;
    int32_t functions_before = s->n_functions;
    int64_t texts_before = s->n_texts;
    for (int i = 0; i < depth; i++) {
        if (read[i] < 0) {
            continue;
        }
        functions[i] = function_of(s, codes[i], (const PyCodeObject *)s->heads[read[i]], destroyed, &known);
        if (functions[i] < 0) {
            forget(s, codes, read, i, functions_before, texts_before);
            return GILKIT_STACK_UNKNOWN;
        }
        top_known = i == 0 ? known : top_known;
        named |= !known;
    }
    /* A code object destroyed while new names were read may have been theirs (3.12+ counts them). */
    if (!stack_stands(s, thread_state, tid, top, &top_frame, &caller_frame, top_known)
            || (named && destroyed != UINT64_MAX && destroyed_now() != destroyed)) {
        forget(s, codes, read, depth, functions_before, texts_before);
        return GILKIT_STACK_UNKNOWN;
    }
    /* Outermost first; the frames left out past the depth limit stand as one elided frame at the root. */
    int32_t node = frame != 0 ? node_of(s, -1, GILKIT_FUNCTION_ELIDED) : -1;
    for (int i = depth - 1; i >= 0 && node != NO_NODE; i--) {
        node = node_of(s, node, functions[i]);
    }
    *top_code = depth ? codes[0] : 0;
    return node < 0 ? GILKIT_STACK_UNKNOWN : node;
}

int32_t gilkit_stacks_read(gilkit_stacks *s, uintptr_t thread_state, int32_t tid)
{
    uintptr_t top_code;
    int32_t node = read_stack(s, thread_state, tid, &top_code);
    if (node == GILKIT_STACK_UNKNOWN) {
        s->n_threads = 0;  /* a cached thread state may be another thread's by now */
    }
    return node;
}

uintptr_t gilkit_stacks_thread_state(gilkit_stacks *s, int32_t tid)
{
    for (int i = 0; i < s->n_threads; i++) {
        if (s->threads[i].tid == tid) {
            return s->threads[i].state;
        }
    }
    /* Not known yet (or the cache was dropped): walk the main interpreter's list of thread states. */
    uintptr_t address = 0, found = 0;
    if (!copy_in(s, &address, main_interpreter + offsetof(PyInterpreterState, threads.head), sizeof address)) {
        return 0;
    }
    s->n_threads = 0;
    for (int steps = 0; address != 0 && steps < MAX_STEPS; steps++) {
        PyThreadState state;
        if (!copy_in(s, &state, address, sizeof state)) {
            break;
        }
        if (s->n_threads < THREAD_CACHE) {
            s->threads[s->n_threads].tid = (int32_t)state.native_thread_id;
            s->threads[s->n_threads++].state = address;
        }
        found = (int32_t)state.native_thread_id == tid ? address : found;
        address = (uintptr_t)state.next;
    }
    return found;
}

int gilkit_stacks_readable(const char **why)
{
    PyThreadState *self = PyThreadState_Get();
    PyFrameObject *frame = PyEval_GetFrame();  /* borrowed: the Python code that called this */
    gilkit_stacks *s = gilkit_stacks_new();
    if (s == NULL) {
        *why = "out of memory";
        return 0;
    }
    int32_t probe = 0;
    struct iovec local = {&probe, sizeof probe}, remote = {&s->pid, sizeof probe};
    if (process_vm_readv(s->pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof probe) {
        *why = errno == EPERM ? "this system does not let a process read its own memory (process_vm_readv: "
                                "not permitted, e.g. by a seccomp filter)"
                              : "this kernel has no process_vm_readv";
        gilkit_stacks_free(s);
        return 0;
    }
    main_interpreter = (uintptr_t)PyInterpreterState_Main();
    start_counting_destroyed();
    uintptr_t top_code = 0;
    PyCodeObject *expected = frame ? PyFrame_GetCode(frame) : NULL;
    int32_t node = read_stack(s, (uintptr_t)self, (int32_t)PyThread_get_thread_native_id(), &top_code);
    int same = expected != NULL && node != GILKIT_STACK_UNKNOWN && top_code == (uintptr_t)expected
               && gilkit_stacks_thread_state(s, (int32_t)PyThread_get_thread_native_id()) == (uintptr_t)self;
    Py_XDECREF(expected);
    gilkit_stacks_free(s);
    if (!same) {
        *why = "the stack read through the frame layout gilkit was built with is not the running one: gilkit "
               "was built for another CPython than the one running it (reinstall gilkit)";
        return 0;
    }
    *why = NULL;
    return 1;
}

gilkit_stacks *gilkit_stacks_new(void)
{
    gilkit_stacks *s = calloc(1, sizeof *s);
    if (s != NULL) {
        s->pid = getpid();
    }
    return s;
}

void gilkit_stacks_free(gilkit_stacks *s)
{
    if (s != NULL) {
        free(s->codes);
        free(s->functions);
        free(s->texts);
        free(s->nodes);
        free(s->node_slots);
        free(s);
    }
}

int32_t gilkit_stacks_nodes(const gilkit_stacks *s, const gilkit_stack_node **nodes)
{
    *nodes = s->nodes;
    return s->n_nodes;
}

int32_t gilkit_stacks_functions(const gilkit_stacks *s, const gilkit_function **functions)
{
    *functions = s->functions;
    return s->n_functions;
}

int64_t gilkit_stacks_texts(const gilkit_stacks *s, const char **texts)
{
    *texts = s->texts;
    return s->n_texts;
}

int gilkit_stacks_full(const gilkit_stacks *s) { return s->full; }

#else  /* no frame layout compiled in, or no process_vm_readv: no stacks */

int gilkit_stacks_readable(const char **why)
{
    *why = "stacks are read on Linux, on CPython 3.11 to 3.13";
    return 0;
}

gilkit_stacks *gilkit_stacks_new(void) { return NULL; }
void gilkit_stacks_free(gilkit_stacks *s) { (void)s; }
int32_t gilkit_stacks_read(gilkit_stacks *s, uintptr_t thread_state, int32_t tid)
{
    (void)s;
    (void)thread_state;
    (void)tid;
    return GILKIT_STACK_UNKNOWN;
}
uintptr_t gilkit_stacks_thread_state(gilkit_stacks *s, int32_t tid)
{
    (void)s;
    (void)tid;
    return 0;
}
int32_t gilkit_stacks_nodes(const gilkit_stacks *s, const gilkit_stack_node **nodes)
{
    (void)s;
    *nodes = NULL;
    return 0;
}
int32_t gilkit_stacks_functions(const gilkit_stacks *s, const gilkit_function **functions)
{
    (void)s;
    *functions = NULL;
    return 0;
}
int64_t gilkit_stacks_texts(const gilkit_stacks *s, const char **texts)
{
    (void)s;
    *texts = NULL;
    return 0;
}
int gilkit_stacks_full(const gilkit_stacks *s)
{
    (void)s;
    return 0;
}

#endif
