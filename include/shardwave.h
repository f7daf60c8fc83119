/*
 * shardwave.h - the public C API of shardwave.
 *
 * shardwave compiles a weight-sync schedule between two parallel layouts of one model
 * and runs it.  This header is the only public one; everything else is internal (and
 * hidden in the shared libraries).  libshardwave has every function below;
 * libshardwave-runtime (no YAML, no compiler) has all but the sw_compile_* ones.
 * Neither links MPI, CUDA or NCCL: the mpi and nccl backends are plugins
 * (libshardwave-mpi.so, libshardwave-nccl.so, installed next to the library) loaded when
 * a session of them opens; when one, or a library it needs, is missing, sw_session_open
 * returns SW_UNSUPPORTED naming it.  SHARDWAVE_PLUGIN_DIR overrides where they are.
 *
 * Conventions (the whole API follows them):
 *  - Every function that can fail returns an int status: 0 (SW_OK) on success, a
 *    negative sw_status otherwise, and fills the sw_error the caller passed (which may
 *    be NULL when the caller does not care about the message).
 *  - Nothing in the library calls exit() or abort(), and nothing keeps global mutable
 *    state: every call takes the context it works on.
 *  - Free functions accept NULL.
 */
#ifndef SHARDWAVE_H
#define SHARDWAVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SW_VERSION_MAJOR 0
#define SW_VERSION_MINOR 1
#define SW_VERSION_PATCH 0
#define SW_VERSION_STRING "0.1.0"

/* Marks the public functions: the shared libraries export these and nothing else. */
#if defined(_WIN32)
#define SW_API
#elif defined(__GNUC__)
#define SW_API __attribute__((visibility("default")))
#else
#define SW_API
#endif

/* X(name, value, message).  Input errors are the user's file; usage errors the caller's
 * arguments; runtime errors what happened while running. */
#define SW_STATUS_MAP(X)                                                         \
    X(OK, 0, "success")                                                          \
    X(INPUT, -1, "invalid input")                                                \
    X(USAGE, -2, "invalid usage")                                                \
    X(NOMEM, -3, "out of memory")                                                \
    X(IO, -4, "input/output error")                                              \
    X(CORRUPT, -5, "corrupted plan")                                             \
    X(UNSUPPORTED, -6, "not supported by this build")                            \
    X(RUNTIME, -7, "runtime failure")                                            \
    X(TIMEOUT, -8, "timed out")                                                  \
    X(MISMATCH, -9, "validation mismatch")                                       \
    X(MPI, -10, "MPI error")                                                     \
    X(CUDA, -11, "CUDA error")                                                   \
    X(NCCL, -12, "NCCL error")                                                   \
    X(INTERNAL, -13, "internal error")

typedef enum sw_status {
#define SW__STATUS_ENUM(name, value, msg) SW_##name = value,
    SW_STATUS_MAP(SW__STATUS_ENUM)
#undef SW__STATUS_ENUM
} sw_status;

/* The message of a status code ("success", "invalid input", ...). */
SW_API const char *sw_status_str(int status);

/* An error as filled by every fallible call.  When the input caused it, file/line/col
 * point at the offending text (line and col 1-based; file is the path as given). */
typedef struct sw_error {
    int status;        /* a sw_status, SW_OK when nothing went wrong */
    int line, col;     /* 0 when the error has no position */
    char file[512];    /* "" when the error has no position */
    char msg[1536];
} sw_error;

/* Formats an error the way the CLI prints it: "FILE:LINE:COL: error: MSG" or
 * "shardwave: error: MSG".  Returns buf. */
SW_API char *sw_error_format(const sw_error *err, char *buf, size_t cap);

/* ---- plans ----------------------------------------------------------------------------
 *
 * A plan is compiled ahead of time (`shardwave compile`) and loaded by every process
 * that takes part in the sync.  Ownership: the caller owns the plan until sw_plan_free;
 * sessions borrow it and must be closed first. */
typedef struct sw_plan sw_plan;

/* Reads and validates a plan file (a corrupted plan is SW_CORRUPT, never a crash). */
SW_API int sw_plan_load(sw_plan **plan, const char *path, sw_error *err);
/* Reads only what global rank `rank` needs: the file's header and that rank's section
 * (the other sections are never read).  Such a plan opens sessions of that rank only.
 * SW_USAGE when the plan does not use the rank. */
SW_API int sw_plan_load_rank(sw_plan **plan, const char *path, int rank, sw_error *err);
/* The same from len bytes at buf (e.g. a plan rank 0 compiled and broadcast); rank -1
 * reads every section.  The bytes are copied: buf may be freed after the call. */
SW_API int sw_plan_load_mem(sw_plan **plan, const void *buf, size_t len, int rank, sw_error *err);
/* Writes a plan file (replaced atomically is not promised: write to a new path). */
SW_API int sw_plan_save(const sw_plan *plan, const char *path, sw_error *err);
/* The plan file's bytes in a buffer the caller frees with sw_free. */
SW_API int sw_plan_serialize(const sw_plan *plan, void **buf, size_t *len, sw_error *err);
SW_API void sw_plan_free(sw_plan *plan);
/* Frees what a shardwave call allocated for the caller (sw_plan_serialize).  NULL is ok. */
SW_API void sw_free(void *p);

/* What a plan is: its names and sizes.  The strings are owned by the plan. */
typedef struct sw_plan_info {
    const char *model, *sync, *from, *to; /* names: the model, the sync, its two layouts */
    int nranks;                /* global ranks the plan uses */
    int max_rank;              /* the highest of them (-1: none) */
    int only_rank;             /* -1, or the rank whose part alone was loaded */
    int nwaves;
    uint64_t ntasks;           /* tasks of the whole plan */
    double predicted_s;        /* the cost model's time and the lower bound */
    double lower_bound_s;
} sw_plan_info;
SW_API int sw_plan_get_info(const sw_plan *plan, sw_plan_info *info, sw_error *err);
/* Writes up to cap of the plan's global ranks (sorted) into out; returns how many there are. */
SW_API size_t sw_plan_ranks(const sw_plan *plan, int *out, size_t cap);

/* The dtypes ("bf16", ...) of the local tensors of the whole plan (also of a plan loaded
 * for one rank), in a fixed order: up to cap of them into out; returns how many there are. */
SW_API size_t sw_plan_dtypes(const sw_plan *plan, const char **out, size_t cap);

/* The highest global rank the plan uses (-1: none).  Ranks it does not use hold no
 * tensors; an MPI job of the plan has sw_plan_max_rank() + 1 processes. */
SW_API int sw_plan_max_rank(const sw_plan *plan);

/* The local tensors one rank binds: name, its layout and role, dtype, shape, bytes. */
typedef struct sw_tensor_info {
    const char *name;   /* owned by the plan */
    const char *layout; /* the sync's source or destination layout */
    int is_source;      /* 1: read by the sync (layout `from`); 0: written (layout `to`) */
    int rank;
    const char *dtype;  /* "bf16", ... */
    int ndim;
    int64_t shape[8];
    size_t nbytes;
} sw_tensor_info;

/* Writes up to cap entries for global rank `rank` into out and the total into *count.
 * A plan loaded for one rank (sw_plan_load_rank) knows that rank's tensors only: asking
 * it for another rank of the plan is SW_USAGE. */
SW_API int sw_plan_tensors(const sw_plan *plan, int rank, sw_tensor_info *out, size_t cap, size_t *count, sw_error *err);

/* One piece of a local tensor: a box of a logical tensor and where it lies in the local
 * tensor.  Logical index x (x[k] in start[k] .. start[k] + size[k] - 1) sits at local index
 *     j -> base[j] + (map[j] >= 0 ? x[map[j]] : 0)       for each local dim j
 * (map[j] = -1: a stacked dim, whose index is base[j]).  Elements of the local tensor in no
 * piece are padding.  Lets a program check its own tensors against the layout. */
typedef struct sw_piece_info {
    const char *tensor;   /* the logical tensor's name (owned by the plan) */
    const char *dtype;    /* the logical tensor's dtype */
    int ndim;             /* logical dims */
    int64_t shape[8];     /* the logical tensor's shape */
    int64_t start[8], size[8]; /* the box, logical dims */
    int local_ndim;
    int map[8];           /* [local_ndim]: the logical dim local dim j holds, or -1 */
    int64_t base[8];      /* [local_ndim] */
    int skipped;          /* 1: the sync does not transfer this tensor (`skip:`) */
} sw_piece_info;

/* The pieces of local tensor `name` of global rank `rank` (name as for sw_bind: "NAME",
 * or "LAYOUT/NAME" when the rank holds NAME in both layouts): up to cap into out, the
 * total into *count.  SW_USAGE naming the tensor when the rank has no such tensor. */
SW_API int sw_plan_pieces(const sw_plan *plan, int rank, const char *name, sw_piece_info *out, size_t cap,
                          size_t *count, sw_error *err);

/* ---- compiling (libshardwave only) -----------------------------------------------------
 *
 * What `shardwave compile` does, in process: read a layout file (YAML or the DSL), check
 * it, compile one sync into a plan and verify it.  Input errors are SW_INPUT with the
 * file, line and column in err. */

/* -D NAME=VALUE: overrides the model's let constant NAME before anything is evaluated. */
typedef struct sw_define {
    const char *name;
    int64_t value;
} sw_define;

typedef struct sw_compile_options {
    size_t struct_size;        /* sizeof(sw_compile_options): lets the struct grow compatibly */
    const char *sync;          /* the sync to compile; NULL: the file's first */
    const sw_define *defines;  /* overrides of let constants */
    size_t ndefines;
    int64_t bucket;            /* staging bytes per rank per wave; 0: the sync's own */
    const char *scheduler;     /* NULL or "optimal"; baselines "greedy", "naive", "broadcast" */
    int no_relay;              /* 1: every destination pulls over its own link (no relays) */
} sw_compile_options;

/* Compiles a layout file into *plan (free with sw_plan_free).  opts may be NULL. */
SW_API int sw_compile_file(sw_plan **plan, const char *path, const sw_compile_options *opts, sw_error *err);
/* The same from text in memory; name stands for the file in messages and picks the
 * syntax like a path does (".sw": the DSL, ".yaml": YAML, else by content). */
SW_API int sw_compile_text(sw_plan **plan, const char *name, const char *text, size_t len,
                           const sw_compile_options *opts, sw_error *err);

/* ---- sessions ---------------------------------------------------------------------------- */

typedef enum sw_backend_kind {
    SW_BACKEND_LOCAL = 0, /* every rank a thread of this process: no MPI, no GPU */
    SW_BACKEND_MPI = 1,   /* one process per rank; MPI must be initialised by the caller */
    SW_BACKEND_NCCL = 2   /* one process per GPU; CUDA streams and NCCL */
} sw_backend_kind;

typedef struct sw_session_opts {
    size_t struct_size;  /* sizeof(sw_session_opts): lets the struct grow compatibly */
    double timeout_s;    /* a sync that waits longer on any peer fails (0: 60 s) */
    int zero_padding;    /* zero the padding of destination tensors at every sync */
    const void *mpi_comm; /* const MPI_Comm *: use it instead of MPI_COMM_WORLD (mpi, nccl) */
    void *nccl_comm;     /* an ncclComm_t the caller owns (nccl; NULL: create one through MPI).
                          * Its rank must be comm_rank_of[rank] (rank without a map), its
                          * device the one current at open.  After a sync that failed or
                          * timed out shardwave has called ncclCommAbort on it: do not
                          * destroy it then. */
    void *cuda_stream;   /* nccl: the cudaStream_t that sw_sync orders against when it is
                          * given NULL (NULL here too: the default stream) */
    /* nccl without MPI (torchrun, Ray): one process makes an id with sw_nccl_unique_id, the
     * caller ships the bytes to every process of the communicator (a TCPStore, a
     * broadcast), and each opens its session with them; shardwave then creates, owns and
     * aborts the communicator.  Collective over the communicator's processes. */
    const void *nccl_unique_id;   /* SW_NCCL_UNIQUE_ID_BYTES bytes; NULL: nccl_comm or MPI */
    int comm_size;                /* processes in the communicator; 0: sw_plan_max_rank() + 1
                                   * (with comm_rank_of: its largest rank + 1) */
    const int32_t *comm_rank_of;  /* [ncomm_rank_of]: communicator rank of plan rank r (-1:
                                   * none); NULL: r.  Checked at open (SW_USAGE): in range,
                                   * no two plan ranks on one, every plan rank mapped */
    size_t ncomm_rank_of;
    /* Processes that share a GPU (a colocated trainer and engine) exchange their data
     * through CUDA IPC, not NCCL (docs/nccl.md). */
} sw_session_opts;

#define SW_NCCL_UNIQUE_ID_BYTES 128
/* Makes a new NCCL unique id (ncclGetUniqueId) into out (cap >= SW_NCCL_UNIQUE_ID_BYTES).
 * SW_UNSUPPORTED in a build or on a machine without NCCL, saying what is missing. */
SW_API int sw_nccl_unique_id(void *out, size_t cap, sw_error *err);

typedef struct sw_session sw_session;

/* Opens a session of global rank `rank` (-1 with the local backend: every rank of the plan
 * in this process).  With mpi and nccl it is collective: every rank of the communicator
 * opens one, also a rank the plan does not use (its syncs return at once).  opts may be
 * NULL. */
SW_API int sw_session_open(sw_session **s, const sw_plan *plan, int rank, sw_backend_kind backend,
                    const sw_session_opts *opts, sw_error *err);
/* With mpi (and nccl bootstrapped through MPI, i.e. without nccl_comm and
 * nccl_unique_id), opening is agreed: within opts.timeout_s every process of the
 * communicator says whether it could open and which plan it holds, and sw_session_open
 * returns SW_OK on every process or the same error on every process, naming the rank and
 * the cause ("rank 3 cannot open its session: ...", "rank 2 opened another plan than
 * rank 0 ..."); SW_TIMEOUT when a process did not take part in time (then abort the job,
 * e.g. MPI_Abort).  A process that cannot open a session (its plan did not load) calls
 * sw_session_fail_open with the reason instead, so that nobody waits for it: it returns
 * the agreed error (never SW_OK).  Local backend: returns why. */
SW_API int sw_session_fail_open(int rank, sw_backend_kind backend, const sw_session_opts *opts, const sw_error *why,
                                sw_error *err);

/* Binds the memory of a local tensor of the session's rank.  name is the local tensor's
 * name, or "LAYOUT/NAME" when the rank holds that name in both layouts.  nbytes must be
 * the tensor's size.  The memory stays the caller's; it must stay valid until the
 * session is closed or rebound. */
SW_API int sw_bind(sw_session *s, const char *name, void *ptr, size_t nbytes, sw_error *err);
/* The same for a given rank (needed with the local backend). */
SW_API int sw_bind_rank(sw_session *s, int rank, const char *name, void *ptr, size_t nbytes, sw_error *err);
/* A tensor as the caller holds it, for sw_bind_tensor: the session checks it against the
 * plan's local tensor (dtype, shape, a dense row-major layout, where it lives) and says
 * which tensor and what differs when it does not match. */
typedef enum sw_mem_kind {
    SW_MEM_UNCHECKED = 0, /* not said: not checked */
    SW_MEM_HOST = 1,      /* host memory (local and mpi backends) */
    SW_MEM_CUDA = 2       /* CUDA device memory of device_index (nccl backend) */
} sw_mem_kind;

typedef struct sw_tensor_desc {
    size_t struct_size;     /* sizeof(sw_tensor_desc) */
    void *data;
    const char *dtype;      /* the layout language's name ("bf16", "fp32", ...); NULL: not checked */
    int ndim;               /* dims of shape; -1: shape not checked */
    const int64_t *shape;   /* [ndim] */
    const int64_t *strides; /* [ndim] in elements; NULL: dense row-major */
    sw_mem_kind mem;
    int device_index;       /* with SW_MEM_CUDA */
} sw_tensor_desc;

/* Binds a local tensor of `rank` (the session's rank, or any rank with the local
 * backend) after checking t against it.  Lookup by name is a hash, not a scan. */
SW_API int sw_bind_tensor(sw_session *s, int rank, const char *name, const sw_tensor_desc *t, sw_error *err);

/* One weight sync (call once per RL step).  stream: the cudaStream_t to order against
 * (nccl; NULL: opts.cuda_stream), else NULL.  Fails if a tensor of the session is unbound.
 * nccl: the sync starts after the work queued on `stream` before the call, and work queued
 * on it after the call sees the result; the call itself returns once every wave's
 * transfer is done (it polls them, for the timeout), the last unpack may still run. */
SW_API int sw_sync(sw_session *s, void *stream, sw_error *err);
SW_API void sw_session_close(sw_session *s);
/* Seconds the backend's warm-up took when the session was opened (nccl: one tiny grouped
 * send/recv with every peer, so that the first sync does not pay for connecting); 0 for
 * the other backends. */
SW_API double sw_session_warmup_s(const sw_session *s);

/* ---- validation ------------------------------------------------------------------------
 *
 * What `shardwave run --validate` does, for programs that embed shardwave and want to
 * check a plan end to end on their own memory.  Bind every tensor of the session first.
 *
 * sw_validation_fill: fills every source tensor of the session with a pattern that is a
 * pure function of (logical tensor, logical index) (padding zeroed) and every destination
 * tensor with a poison pattern, so that an element no sync writes cannot pass.
 * sw_validation_check, after sw_sync: checks every destination element the plan writes
 * against the same function, converted through the dtypes it travelled.  *checked (may
 * be NULL) gets the number of elements checked.  Returns SW_MISMATCH, naming the first
 * wrong element and counting the wrong ones in err, when any is wrong. */
SW_API int sw_validation_fill(sw_session *s, sw_error *err);
SW_API int sw_validation_check(sw_session *s, uint64_t *checked, sw_error *err);

#ifdef __cplusplus
}
#endif
#endif /* SHARDWAVE_H */
