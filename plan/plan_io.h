/*
 * plan_io.h - the plan file: writing an sw_plan to disk and reading it back.
 *
 * The byte layout is documented in docs/plan-format.md.  In short: a 64-byte preamble
 * (magic "SWPLAN\0\1", version, file size, checksums), a header (names,
 * scheduler, topology, bucket, chunk caps, stats, logical tensors, ranks, every local
 * tensor with its pieces, and a directory of per-rank sections), then one section per
 * rank holding the tasks where that rank sends or receives, their segments, deps and the
 * transfers they reference.
 *
 * Reading validates every count, offset, index and size: a corrupted or hostile file is
 * SW_CORRUPT with a message naming the file and the defect, never an out-of-bounds
 * access.  Reading only one rank (only_rank >= 0) reads the preamble, the header and
 * that rank's section, nothing else; its tasks, segments, transfers and deps are then
 * renumbered densely (wave order kept) and deps on tasks outside the section dropped.
 *
 * Ownership: a plan filled by a reader owns its arena (free with sw_plan_free); on
 * failure the plan is left empty.  sw_plan_write_mem's buffer is malloc'd: free() it.
 */
#ifndef SW_PLAN_IO_H
#define SW_PLAN_IO_H

#include <stddef.h>
#include <stdint.h>
#include "plan.h"
#include "shardwave.h"

#define SW_PLAN_MAGIC "SWPLAN\0\1"
#define SW_PLAN_VERSION 2u
#define SW_PLAN_PREAMBLE 64u

/* What a reader learned about the file beyond the plan (totals of the whole plan even
 * when only one rank's section was read). */
typedef struct sw_plan_file_info {
    uint32_t version;
    uint64_t size;                  /* file bytes */
    int32_t only_rank;              /* -1 when the whole plan was read */
    uint32_t ntasks, nxfers, nsegs, ndeps; /* totals of the whole plan */
    uint64_t bytes_read;            /* of the file: all of it, or (one rank) preamble, header and section */
} sw_plan_file_info;

/* Writes plan p to path (replaced).  SW_IO when the file cannot be written,
 * SW_INTERNAL when p is inconsistent (an index out of range). */
int sw_plan_write(const sw_plan *p, const char *path, sw_error *err);
/* Serializes p into a malloc'd buffer *out of *len bytes (caller frees). */
int sw_plan_write_mem(const sw_plan *p, uint8_t **out, size_t *len, sw_error *err);
/* sw_plan_write for a plan that has just passed the structural check (sw_plan_verify runs
 * it first): the same bytes, without checking every index a second time. */
int sw_plan_write_checked(const sw_plan *p, const char *path, sw_error *err);

/* Reads a plan file into *p (which must not hold a plan).  only_rank = -1 reads every
 * section; a global rank reads the header and that rank's section only (SW_USAGE when
 * the rank takes no part).  SW_IO when the file cannot be read, SW_CORRUPT when it is
 * not a valid plan.  info may be NULL. */
int sw_plan_read(sw_plan *p, const char *path, int32_t only_rank, sw_error *err);
int sw_plan_read_ex(sw_plan *p, const char *path, int32_t only_rank, sw_plan_file_info *info,
                    sw_error *err);
/* Same from len bytes at buf; name is used in messages ("plan 'NAME': ..."). */
int sw_plan_read_mem(sw_plan *p, const void *buf, size_t len, const char *name, int32_t only_rank,
                     sw_error *err);
int sw_plan_read_mem_ex(sw_plan *p, const void *buf, size_t len, const char *name, int32_t only_rank,
                        sw_plan_file_info *info, sw_error *err);

/* The plan's identity (plan.h, sw_plan.id): the stored one of a plan read from bytes,
 * else the header checksum of the file it serializes to (the same as a process that
 * loads that file gets). */
int sw_plan_identity(const sw_plan *p, uint64_t *id, sw_error *err);

/* ---- internal, shared with the verifier and the tests ---------------------------- */

/* Structural consistency of an in-memory plan: every count, index and range in bounds,
 * ranks sorted and known, ndim <= SW_MAXDIM, map entries in [-1, tensor ndim), boxes
 * inside tensor shapes, pieces and transfer sides inside their local tensors, segments
 * inside their transfers, task ranges and deps in range, waves in [0, nwaves).
 * Messages start with `what` ("plan 'x.swp'"); returns SW_OK or `status`. */
int sw__plan_struct_check(const sw_plan *p, const char *what, int status, sw_error *err);
/* The plan checksum of n bytes: four FNV-style lanes over little-endian 64-bit words
 * (not FNV-1a itself; see plan_write.c).  A change of any one byte changes it. */
uint64_t sw__plan_checksum(const void *data, size_t n);
/* Recomputes every checksum of a serialized plan in place (tests mutate a file and
 * reseal it to reach the validators behind the checksums).  Returns -1 when the buffer
 * is too short or its offsets are out of range. */
int sw__plan_io_reseal(uint8_t *buf, size_t len);

#endif
