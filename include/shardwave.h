/*
 * shardwave.h - the public C API of shardwave.
 *
 * shardwave compiles a weight-sync schedule between two parallel layouts of one model
 * and runs it.  This header is the only public one; everything under dsl/, compiler/
 * and runtime/ is internal.
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
const char *sw_status_str(int status);

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
char *sw_error_format(const sw_error *err, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* SHARDWAVE_H */
