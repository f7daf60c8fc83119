/*
 * fuzz_plan.c - libFuzzer harness: a plan file.  The input's checksums are recomputed
 * first (sw__plan_io_reseal), so that mutations reach the parser and the validators
 * behind the checksums instead of stopping at the first checksum.  Then:
 *   - the whole plan and one rank's part are read (sw_plan_read_mem);
 *   - a plan that reads is verified (sw_plan_verify);
 *   - a plan that verifies and is small runs on the local backend with validation (every
 *     source element filled from its logical index, every destination element checked).
 * Oracles (a violation aborts): failures have a known status and a message; a plan that
 * verifies syncs without error and moves every element right.  Seeds: fuzz/corpus/plan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_io.h"
#include "plan_verify.h"
#include "shardwave.h"

static void die(const char *what, const sw_error *err) {
    fprintf(stderr, "fuzz oracle: %s: status %d: %s\n", what, err->status, err->msg);
    abort();
}

static void check_error(int rc, const sw_error *err, const char *what) {
    if (rc >= 0 || rc <= SW_INTERNAL || err->status != rc || !err->msg[0]) die(what, err);
}

/* Runs p on the local backend with validation; every failure is a finding. */
static void run_local(const sw_plan *p) {
    sw_error err;
    sw_session *s = NULL;
    sw_session_opts so = {.struct_size = sizeof so, .timeout_s = 5};
    int rc = sw_session_open(&s, p, -1, SW_BACKEND_LOCAL, &so, &err);
    if (rc) {
        if (rc == SW_NOMEM) return;
        die("a verified plan does not open", &err);
    }
    size_t nbufs = 0;
    void **bufs = calloc((size_t)p->nlocals + 1, sizeof *bufs);
    for (uint32_t r = 0; r < p->nranks && bufs; r++) {
        int32_t rank = p->ranks[r].rank;
        size_t n = 0;
        if (sw_plan_tensors(p, rank, NULL, 0, &n, &err)) die("sw_plan_tensors", &err);
        sw_tensor_info *info = calloc(n + 1, sizeof *info);
        if (!info) break;
        if (sw_plan_tensors(p, rank, info, n, &n, &err)) die("sw_plan_tensors", &err);
        for (size_t i = 0; i < n; i++) {
            void *m = calloc(1, info[i].nbytes ? info[i].nbytes : 1);
            if (!m) continue;
            bufs[nbufs++] = m;
            char q[600];
            snprintf(q, sizeof q, "%s/%s", info[i].layout, info[i].name);
            if (sw_bind_rank(s, rank, q, m, info[i].nbytes, &err)) die("bind", &err);
        }
        free(info);
    }
    uint64_t checked = 0;
    if ((rc = sw_validation_fill(s, &err))) die("fill", &err);
    if ((rc = sw_sync(s, NULL, &err))) die("a verified plan does not sync", &err);
    if ((rc = sw_validation_check(s, &checked, &err))) die("a verified plan moves wrong data", &err);
    sw_session_close(s);
    for (size_t i = 0; i < nbufs; i++) free(bufs[i]);
    free(bufs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    sw__plan_io_reseal(buf, size); /* -1 (offsets out of range): read it as it is */
    sw_plan p;
    sw_error err;
    int rc = sw_plan_read_mem(&p, buf, size, "fuzz.swp", -1, &err);
    if (rc) {
        check_error(rc, &err, "read");
    } else {
        if (p.nranks) { /* one rank's part, as sw_plan_load_rank reads it */
            sw_plan part;
            rc = sw_plan_read_mem(&part, buf, size, "fuzz.swp", p.ranks[p.nranks - 1].rank, &err);
            if (rc) die("the whole plan reads but not one rank's part", &err);
            sw_plan_free(&part);
        }
        rc = sw_plan_verify(&p, &err);
        if (rc == SW_OK) {
            uint64_t bytes = 0;
            for (uint32_t i = 0; i < p.nlocals; i++) bytes += sw_plan_local_nbytes(&p.locals[i]);
            if (p.nranks <= 16 && bytes <= (4u << 20) && p.ntasks <= 4096) run_local(&p);
        } else if (rc != SW_INTERNAL || !err.msg[0]) {
            die("verify", &err);
        }
        sw_plan_free(&p);
    }
    free(buf);
    return 0;
}
