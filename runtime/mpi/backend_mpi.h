/*
 * backend_mpi.h - the `mpi` backend: one process per rank, nonblocking point-to-point
 * per wave.  MPI world rank k (or rank k of the communicator given) is global rank k.
 * Built into the plugin libshardwave-mpi.so (plugin_mpi.c), which also carries the MPI
 * calls of the nccl bootstrap and of `shardwave run`.
 */
#ifndef SW_BACKEND_MPI_H
#define SW_BACKEND_MPI_H

#include <mpi.h>
#include "exec.h"

typedef struct sw_mpi_ctx sw_mpi_ctx;

/* Opens the backend on a duplicate of comm (MPI_COMM_WORLD when comm is NULL), so
 * shardwave's messages never meet the caller's.  Every wait gives up after timeout_s
 * with SW_TIMEOUT naming the wave and the peer. */
int sw_mpi_open(sw_mpi_ctx **ctx, sw_backend *b, const MPI_Comm *comm, double timeout_s, sw_error *err);
void sw_mpi_close(sw_mpi_ctx *ctx);
/* The communicator shardwave uses (for reductions of results). */
MPI_Comm sw_mpi_comm(const sw_mpi_ctx *ctx);

/* Converts an MPI error code to a status with MPI's own message. */
int sw_mpi_error(int code, const char *what, sw_error *err);
#define SW_MPI_CHECK(call, err)                                                          \
    do {                                                                                 \
        int sw__m = (call);                                                              \
        if (sw__m != MPI_SUCCESS) return sw_mpi_error(sw__m, #call, (err));              \
    } while (0)

#endif
