/*
 * ir.h - the elaborated model: logical tensors, layouts and their placement instances.
 *
 * Elaboration (elab/elab.c) turns the document tree into this IR; every fuse, stack,
 * group, unit, pad and uneven split is resolved into *instances*: one local tensor
 * template each, held by every rank whose coordinates match its `where`.  What a rank
 * stores (its pieces) is a pure function of (instance, the rank's coordinates on the
 * instance's split axes): see place.h.  Nothing after elaboration reads the input.
 *
 * Ownership: an sw_ir owns one arena; every pointer inside points into it.
 */
#ifndef SW_IR_H
#define SW_IR_H

#include <stdint.h>
#include "arena.h"
#include "diag.h"
#include "dtype.h"
#include "bounds.h"
#include "strmap.h"
#include "topology.h"

typedef struct sw_tensor {
    const char *name;
    sw_dtype dtype;
    int ndim;
    int64_t shape[SW_MAXDIM];
    sw_loc loc; /* its name in the model */
} sw_tensor;

/* One source of a local tensor along its fused dim: a fuse part, or the only source of a
 * plain rule.  A stacked instance has the same parts for every item (the logical tensor
 * ids differ per item). */
typedef struct sw_part {
    int8_t perm[SW_MAXDIM]; /* local (stored, stack dim excluded) dim k -> logical dim */
    int64_t len;            /* its size along the fused dim (stored order), unsplit */
    int64_t unit;           /* part-major split in whole units of this many rows; 0 = none */
    sw_loc loc;
} sw_part;

/* One dim of a local tensor, unsplit. */
typedef struct sw_dim {
    int64_t full;           /* logical size (items for the stack dim, sum of parts for the fused dim) */
    int64_t padded;         /* after `pad` (== full when none) */
    int naxes;              /* split axes, major first; 0 = not split */
    int8_t axes[SW_MAXAXES];
    int64_t T;              /* product of the split axes' sizes (1 when not split) */
} sw_dim;

typedef struct sw_inst {
    const char *name;  /* local tensor name */
    sw_loc loc;        /* `as` of the rule, else `tensor` */
    sw_dtype dtype;
    int ndim;          /* local dims, stacked dim included */
    int stacked;       /* dim 0 stacks nitems items */
    int fuse_dim;      /* local dim of the fuse (or of the only part); -1 when no dim is fused */
    int64_t groups;    /* > 0: group-major fuse */
    int uneven;
    int nitems, nparts;
    uint32_t *tensor;  /* [nitems * nparts] logical tensor ids, item-major */
    sw_part *parts;    /* [nparts] */
    int64_t *where;    /* [layout naxes]: required coordinate, -1 = any */
    sw_dim *dims;      /* [ndim] */
} sw_inst;

typedef enum sw_hosts_mode { SW_HOSTS_DEFAULT, SW_HOSTS_RANK_BASE, SW_HOSTS_DEVICES } sw_hosts_mode;

typedef struct sw_layout {
    const char *name;
    sw_loc loc;
    int64_t first_rank, nranks;
    int naxes;
    const char *axis[SW_MAXAXES];
    int64_t size[SW_MAXAXES];
    int64_t stride[SW_MAXAXES]; /* row-major, last axis fastest */
    sw_hosts_mode hosts_mode;
    int64_t gpus_per_host;
    int64_t rank_base;
    int64_t *dev_host, *dev_index; /* [nranks] for SW_HOSTS_DEVICES */
    sw_inst *insts;
    size_t ninsts;
} sw_layout;

typedef struct sw_syncdef {
    const char *name;
    sw_loc loc;       /* the sync entry (coverage errors point here) */
    int from, to;     /* layout indices */
    uint8_t *skip;    /* [ntensors] 1 = not transferred */
    size_t nskip;
    int64_t bucket;   /* staging bytes per rank per wave */
} sw_syncdef;

#define SW_DEFAULT_BUCKET ((int64_t)256 << 20)

typedef struct sw_ir {
    sw_arena arena;
    const char *path;
    const char *model_name;
    sw_dtype dtype;
    sw_tensor *tensors;
    size_t ntensors;
    int64_t model_bytes;         /* of every logical tensor (below 2^63: checked) */
    sw_strmap tensor_index; /* name -> tensor id */
    sw_layout *layouts;
    size_t nlayouts;
    sw_syncdef *syncs;
    size_t nsyncs;
    int implicit_sync; /* the one sync was made by rule 15 */
    sw_topology topo;
} sw_ir;

void sw_ir_free(sw_ir *ir);

/* Index of a layout or sync by name, or -1. */
int sw_ir_layout(const sw_ir *ir, const char *name);
int sw_ir_sync(const sw_ir *ir, const char *name);

/* Coordinates of layout rank index l (0-based in the layout) along each axis. */
void sw_layout_coords(const sw_layout *L, int64_t l, int64_t *coords);
/* (host, device) of layout rank index l, following spec rule 3. */
void sw_layout_place(const sw_layout *L, int64_t l, int64_t *host, int64_t *device);
/* 1 when an instance is held by the rank with these coordinates. */
int sw_inst_matches(const sw_layout *L, const sw_inst *in, const int64_t *coords);

/* Total bytes of a logical tensor. */
int64_t sw_tensor_bytes(const sw_tensor *t);

#endif
