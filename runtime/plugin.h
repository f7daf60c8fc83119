/*
 * plugin.h - backends loaded when asked for: the table a backend plugin exports, and
 * how the runtime finds and loads one.
 *
 * The mpi and nccl backends are not linked into libshardwave-runtime, libshardwave or the
 * shardwave command: each is a module of its own (libshardwave-mpi.so, linked against
 * MPI; libshardwave-nccl.so, linked against the CUDA runtime and NCCL), opened with
 * dlopen when a session of that backend opens (and by `shardwave run` for its launcher).
 * So one build runs on a machine without MPI, CUDA or NCCL, and a backend that needs
 * what is missing says which library and why (dlerror's text).
 *
 * A plugin exports one symbol, SW_PLUGIN_ENTRY, a function returning its table.  It
 * holds its own copy of the internal objects it needs (base/, plan/, the executor),
 * hidden; the structs that cross (sw_exec, sw_backend, sw_plan, sw_session_opts) must be
 * those of the same build, which the loader checks (version and sizes).  The table only
 * grows: a new member goes at the end, and the loader checks `size` before using it.
 *
 * Where a plugin is looked for, in order:
 *   1. $SHARDWAVE_PLUGIN_DIR/libshardwave-NAME.so when that variable is set, else the
 *      folder of the object that holds the runtime (libshardwave-runtime.so,
 *      libshardwave.so, or a program linked with it statically; for a program also
 *      ../lib beside its bin/ folder, the installed layout);
 *   2. libshardwave-NAME.so through the dynamic loader's own path (LD_LIBRARY_PATH,
 *      the loader cache).
 */
#ifndef SW_PLUGIN_H
#define SW_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "data_validate.h"
#include "exec.h"
#include "plan.h"
#include "shardwave.h"

#define SW_PLUGIN_ABI 1
#define SW_PLUGIN_ENTRY "sw_plugin_entry_v1"
/* What a folder or the loader is asked for: "libshardwave-" NAME ".so". */
#define SW_PLUGIN_PREFIX "libshardwave-"
#define SW_PLUGIN_SUFFIX ".so"

/* A process group to bootstrap over (the nccl backend's unique id, when the caller gave
 * no communicator): this process's rank and the group's size, a broadcast and a gather. */
typedef struct sw_boot {
    int rank, size;
    void *ctx;
    /* Copies n bytes at buf of rank `root` to buf of every rank.  Collective. */
    int (*bcast)(void *ctx, void *buf, size_t n, int root, sw_error *err);
    /* Every rank's n bytes at mine into all (size * n bytes, rank order).  Collective. */
    int (*allgather)(void *ctx, const void *mine, void *all, size_t n, sw_error *err);
} sw_boot;

typedef struct sw_plugin {
    uint32_t abi;           /* SW_PLUGIN_ABI */
    uint32_t size;          /* sizeof(sw_plugin) of the plugin's build */
    const char *name;       /* "mpi", "nccl" */
    const char *version;    /* SW_VERSION_STRING of the plugin's build */
    /* sizeof of the structs that cross, as the plugin was built */
    uint32_t exec_size, backend_size, plan_size, opts_size;

    /* ---- the backend (every plugin) ----
     * Opens the backend of one session for `rank` on x (the rank's executor, already
     * initialised; NULL for a backend of raw post/wait): fills b and *ctx.  opts are the
     * session's (struct_size set, timeout_s > 0).  boot: the group to bootstrap over when
     * the backend needs one (nccl without opts->nccl_comm), else NULL.  Collective over the
     * backend's communicator. */
    int (*open)(void **ctx, sw_backend *b, sw_exec *x, int32_t rank, const sw_session_opts *opts,
                const sw_boot *boot, sw_error *err);
    void (*close)(void *ctx);        /* NULL is ok */
    double (*warmup_s)(const void *ctx);

    /* ---- a communicator (mpi): comm is a const MPI_Comm * (NULL: MPI_COMM_WORLD) ----
     * For the nccl bootstrap and for the `shardwave run` launcher, so that neither the
     * runtime nor the command links MPI.  NULL members in other plugins. */
    /* Initialises MPI unless the caller did (MPI_THREAD_FUNNELED); world rank and size. */
    int (*comm_init)(int *rank, int *size, sw_error *err);
    /* MPI_Finalize when initialised here or by the caller and not finalized yet. */
    void (*comm_finalize)(void);
    /* MPI_Abort(MPI_COMM_WORLD, code): stops every process of the job. */
    void (*comm_abort)(int code);
    /* Rank, size and a broadcast over comm; SW_USAGE when MPI is not initialised. */
    int (*comm_boot)(const void *comm, sw_boot *boot, sw_error *err);
    int (*comm_barrier)(const void *comm, sw_error *err);
    /* In place over every rank of comm: the maximum of n doubles / the sum of n u64s. */
    int (*comm_max)(const void *comm, double *v, size_t n, sw_error *err);
    int (*comm_sum)(const void *comm, uint64_t *v, size_t n, sw_error *err);

    /* ---- a device (nccl): NULL members in other plugins ---- */
    /* SW_OK when this process sees a CUDA device, else SW_CUDA "no CUDA device: ...". */
    int (*have_device)(sw_error *err);
    int (*device_count)(int *n, sw_error *err);
    int (*set_device)(int dev, sw_error *err);
    /* n bytes of device memory, zeroed. */
    int (*dev_alloc)(void **p, size_t n, sw_error *err);
    void (*dev_free)(void *p);
    /* Waits for the default stream (what sw_sync ordered on it). */
    int (*dev_sync)(sw_error *err);
    /* Bracket one sw_exec_run of the session (see backend_nccl.h). */
    int (*begin)(void *ctx, void *stream, void *const *ptrs, sw_error *err);
    int (*end)(void *ctx, void *stream, sw_error *err);
    /* sw_validation_fill / sw_validation_check on device memory. */
    int (*validate_fill)(const sw_plan *p, int32_t rank, void *const *ptrs, sw_error *err);
    int (*validate_check)(const sw_plan *p, int32_t rank, void *const *ptrs, sw_data_report *rep, sw_error *err);

    /* ---- appended: collectives bounded by a deadline (mpi; NULL in other plugins) ----
     * Each returns SW_TIMEOUT, naming `what` and this rank, when not every rank of comm
     * took part within timeout_s (a stopped, stuck or dead process).  The collective then
     * stays pending (MPI cannot cancel one): the caller stops the job (comm_abort). */
    /* all (size * n bytes) gets every rank's n bytes at mine, in rank order. */
    int (*comm_allgather)(const void *comm, const void *mine, void *all, size_t n, double timeout_s, const char *what,
                          sw_error *err);
    int (*comm_bcast_within)(const void *comm, void *buf, size_t n, int root, double timeout_s, const char *what,
                             sw_error *err);
    int (*comm_barrier_within)(const void *comm, double timeout_s, const char *what, sw_error *err);
    int (*comm_max_within)(const void *comm, double *v, size_t n, double timeout_s, const char *what, sw_error *err);
    int (*comm_sum_within)(const void *comm, uint64_t *v, size_t n, double timeout_s, const char *what,
                           sw_error *err);
    /* sw_nccl_unique_id: a new ncclUniqueId (SW_NCCL_UNIQUE_ID_BYTES) into out. */
    int (*unique_id)(void *out, size_t cap, sw_error *err);
    /* Around every call of a session into the backend (sync, validation, close): enter
     * makes the session's device (the one current at open) current and remembers the
     * caller's, leave restores it.  They nest: only the outermost pair changes it. */
    int (*enter)(void *ctx, sw_error *err);
    void (*leave)(void *ctx);
} sw_plugin;

/* The entry point every plugin exports (as SW_PLUGIN_ENTRY). */
typedef const sw_plugin *(*sw_plugin_entry_fn)(void);

/* A loaded plugin: the table and the loader's handle. */
typedef struct sw_plugin_ref {
    const sw_plugin *api;
    void *dl;
} sw_plugin_ref;

/* Loads the plugin of backend `name` ("mpi", "nccl") into *ref.  On failure *ref is
 * empty and err (SW_UNSUPPORTED) names the backend, every place tried and, for a plugin
 * found that would not load, the loader's reason (a library it needs that is missing)
 * with what to install. */
int sw_plugin_load(const char *name, sw_plugin_ref *ref, sw_error *err);
/* Releases a loaded plugin (its code stays mapped: backends may leave threads or
 * handlers behind in the libraries they use).  An empty ref is ok. */
void sw_plugin_unload(sw_plugin_ref *ref);

/* For a plugin's SW_PLUGIN_ENTRY: fills the header of its table for this build. */
#define SW_PLUGIN_HEADER(nm)                                                                           \
    .abi = SW_PLUGIN_ABI, .size = sizeof(sw_plugin), .name = (nm), .version = SW_VERSION_STRING,       \
    .exec_size = sizeof(sw_exec), .backend_size = sizeof(sw_backend), .plan_size = sizeof(sw_plan),    \
    .opts_size = sizeof(sw_session_opts)

#endif
