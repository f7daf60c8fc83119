#include "backend_mpi.h"
#include "clock.h"
#include "diag.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sw_mpi_ctx {
    MPI_Comm comm;
    double timeout_s;
    MPI_Request *req;
    sw_msg *msg;       /* what each request is, for messages */
    uint8_t *is_send;
    size_t n, cap;
    size_t capmsg, capsend;
};

int sw_mpi_error(int code, const char *what, sw_error *err) {
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, s, &len) != MPI_SUCCESS) snprintf(s, sizeof s, "MPI error %d", code);
    return sw__err(err, SW_MPI, "%s failed: %s", what, s);
}

MPI_Comm sw_mpi_comm(const sw_mpi_ctx *c) { return c->comm; }

/* Posts one message: a contiguous buffer, or (zero-copy) one MPI message per part of its
 * iov list: both ends cut the same parts (exec.h), MPI keeps messages of one pair and tag
 * in order, and each part is contiguous at both ends (MPI's fastest path, a single copy
 * where the transport has one; one derived datatype over the parts made OpenMPI slower
 * than packing).  Appends the requests at c->req[c->n ..). */
static int post_one(sw_mpi_ctx *c, const sw_msg *m, int send, int tag, sw_error *err) {
    if (m->bytes > INT_MAX) return sw__err(err, SW_UNSUPPORTED, "a message of %zu bytes", m->bytes);
    size_t np = m->iov ? m->niov : 1;
    if (SW_GROW(c->req, c->cap, c->n + np) || SW_GROW(c->msg, c->capmsg, c->n + np) ||
        SW_GROW(c->is_send, c->capsend, c->n + np))
        return sw__err(err, SW_NOMEM, "out of memory");
    for (size_t k = 0; k < np; k++) {
        void *buf = m->iov ? m->iov[k].addr : m->buf;
        size_t n = m->iov ? m->iov[k].bytes : m->bytes;
        if (send) SW_MPI_CHECK(MPI_Isend(buf, (int)n, MPI_BYTE, m->peer, tag, c->comm, &c->req[c->n]), err);
        else SW_MPI_CHECK(MPI_Irecv(buf, (int)n, MPI_BYTE, m->peer, tag, c->comm, &c->req[c->n]), err);
        c->msg[c->n] = *m;
        c->is_send[c->n++] = (uint8_t)send;
    }
    return SW_OK;
}

static int mpost(void *vctx, int32_t rank, int32_t wave, sw_msg *sends, size_t ns, sw_msg *recvs, size_t nr,
                 sw_error *err) {
    sw_mpi_ctx *c = vctx;
    (void)rank;
    c->n = 0;
    int tag = (int)(wave & 0x7fff); /* one message (or one run of parts) per (src, dst) per wave */
    /* receives first, so that eager sends find them posted */
    for (size_t i = 0; i < nr; i++) SW_CHECK(post_one(c, &recvs[i], 0, tag, err));
    for (size_t i = 0; i < ns; i++) SW_CHECK(post_one(c, &sends[i], 1, tag, err));
    return SW_OK;
}

/* Polls the wave's requests with a backoff (ranks may share few cores); after the
 * timeout, names the first message still pending. */
static int mwait(void *vctx, int32_t rank, int32_t wave, sw_error *err) {
    sw_mpi_ctx *c = vctx;
    if (!c->n) return SW_OK;
    double deadline = sw_now_s() + c->timeout_s;
    long pause_ns = 1000;
    for (;;) {
        int done = 0;
        int rc = MPI_Testall((int)c->n, c->req, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) return sw_mpi_error(rc, "MPI_Testall", err);
        if (done) {
            c->n = 0;
            return SW_OK;
        }
        if (sw_now_s() > deadline) {
            for (size_t i = 0; i < c->n; i++) {
                int f = 0;
                MPI_Test(&c->req[i], &f, MPI_STATUS_IGNORE);
                if (!f)
                    return sw__err(err, SW_TIMEOUT, "rank %d: wave %d: %s rank %d (%zu bytes) not done after %g s",
                                   rank, wave, c->is_send[i] ? "send to" : "receive from", c->msg[i].peer,
                                   c->msg[i].bytes, c->timeout_s);
            }
            return sw__err(err, SW_TIMEOUT, "rank %d: wave %d: not done after %g s", rank, wave, c->timeout_s);
        }
        struct timespec ts = {0, pause_ns};
        nanosleep(&ts, NULL);
        if (pause_ns < 200000) pause_ns *= 2;
    }
}

int sw_mpi_wait(MPI_Comm comm, MPI_Request *r, double timeout_s, const char *what, sw_error *err) {
    double deadline = sw_now_s() + timeout_s;
    long pause_ns = 1000;
    for (;;) {
        int done = 0;
        int rc = MPI_Test(r, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) return sw_mpi_error(rc, what, err);
        if (done) return SW_OK;
        if (sw_now_s() > deadline) {
            int me = -1;
            MPI_Comm_rank(comm, &me);
            return sw__err(err, SW_TIMEOUT,
                           "rank %d: %s: not every process of the communicator took part within %g s (one failed "
                           "before it, was stopped, or waits elsewhere; see its own message)",
                           me, what, timeout_s);
        }
        struct timespec ts = {0, pause_ns};
        nanosleep(&ts, NULL);
        if (pause_ns < 1000000) pause_ns *= 2;
    }
}

int sw_mpi_open(sw_mpi_ctx **out, sw_backend *b, const MPI_Comm *comm, double timeout_s, sw_error *err) {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) return sw__err(err, SW_USAGE, "the mpi backend needs MPI_Init first");
    sw_mpi_ctx *c = calloc(1, sizeof *c);
    if (!c) return sw__err(err, SW_NOMEM, "out of memory");
    c->timeout_s = timeout_s > 0 ? timeout_s : 60;
    /* nonblocking, so that a process that never comes makes this one fail, not hang */
    MPI_Comm parent = comm ? *comm : MPI_COMM_WORLD;
    MPI_Request req;
    int rc = MPI_Comm_idup(parent, &c->comm, &req);
    if (rc != MPI_SUCCESS) {
        free(c);
        return sw_mpi_error(rc, "MPI_Comm_idup", err);
    }
    if ((rc = sw_mpi_wait(parent, &req, c->timeout_s, "opening the session (MPI_Comm_idup)", err))) {
        /* the duplicate is still pending and would write into c: c is left to it (the
         * caller stops the job after a timeout) */
        if (rc != SW_TIMEOUT) free(c);
        return rc;
    }
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
    if (b) {
        b->name = "mpi";
        b->direct = 0;
        b->iov = 1; /* zero-copy: contiguous runs sent from and received into the tensors */
        b->ctx = c;
        b->post = mpost;
        b->wait = mwait;
    }
    *out = c;
    return SW_OK;
}

void sw_mpi_close(sw_mpi_ctx *c) {
    if (!c) return;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Comm_free(&c->comm);
    free(c->req);
    free(c->msg);
    free(c->is_send);
    free(c);
}
