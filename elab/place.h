/*
 * place.h - what one rank stores: the local tensors of a layout rank and their pieces.
 *
 * A piece is a box of one logical tensor stored at local_offset in a local tensor
 * (spec §7 and rule 8).  Pieces are canonical: along each local dim the index range is
 * cut where the source changes (part, group, stacked item, padding) and adjacent
 * segments that continue one logical tensor are merged; the pieces are the products of
 * the non-padding segments, in lexicographic order of local_offset.
 *
 * Computing one rank's local tensors touches only that rank's instances: nothing here
 * enumerates other ranks.
 */
#ifndef SW_PLACE_H
#define SW_PLACE_H

#include "ir.h"

typedef struct sw_piece {
    uint32_t tensor;          /* logical tensor id */
    int8_t ndim;              /* logical dims (local dims minus the stacked dim) */
    const int8_t *perm;       /* stored dim k -> logical dim perm[k] */
    int64_t off[SW_MAXDIM];   /* local offset: all local dims, stacked dim first */
    int64_t start[SW_MAXDIM]; /* box in the logical tensor, dims in stored order */
    int64_t size[SW_MAXDIM];
} sw_piece;

typedef struct sw_pieces {
    sw_piece *v;
    size_t n, cap;
} sw_pieces;

void sw_pieces_free(sw_pieces *p);

/* The local tensor that instance `in` gives the rank with these coordinates (which must
 * match the instance's `where`): writes its shape (in->ndim entries) and appends its
 * pieces to out.  Returns SW_OK or SW_NOMEM. */
int sw_inst_pieces(const sw_layout *L, const sw_inst *in, const int64_t *coords, int64_t *shape, sw_pieces *out,
                   sw_error *err);

/* Only the shape of that local tensor (no allocation). */
void sw_inst_shape(const sw_layout *L, const sw_inst *in, const int64_t *coords, int64_t *shape);

/* One local tensor of a rank. */
typedef struct sw_local {
    const sw_inst *inst;
    int64_t shape[SW_MAXDIM];
    size_t first, npieces; /* its pieces: pieces.v[first .. first + npieces) */
} sw_local;

typedef struct sw_rank_view {
    int64_t rank, index;      /* global rank, index in the layout */
    int64_t coords[SW_MAXAXES];
    int64_t host, device;
    sw_local *locals;         /* sorted by name (byte order) */
    size_t nlocals;
    sw_pieces pieces;
} sw_rank_view;

/* Everything global rank `rank` of layout L stores.  SW_USAGE when the rank is not one
 * of the layout's. */
int sw_rank_view_build(const sw_layout *L, int64_t rank, sw_rank_view *out, sw_error *err);
/* The same, from the instances that hold rank (insts[0..n), indices into L->insts, as
 * sw_layout_rank_insts gives them), without scanning the others. */
int sw_rank_view_build_from(const sw_layout *L, int64_t rank, const uint32_t *insts, size_t n, sw_rank_view *out,
                            sw_error *err);
void sw_rank_view_free(sw_rank_view *v);

/* For every rank of L, the instances it holds: off[l] .. off[l+1] index into *insts
 * (arrays malloc'd, the caller frees them).  Enumerates each instance's sub-mesh of
 * matching ranks: work proportional to the local tensors, not ranks x instances. */
int sw_layout_rank_insts(const sw_layout *L, size_t **off, uint32_t **insts, sw_error *err);

/* Bytes of a local tensor of this shape. */
int64_t sw_local_bytes(const sw_inst *in, const int64_t *shape);

/* Chunk t of T of a dim of n elements: even ([t*n/T, (t+1)*n/T)) or, with uneven,
 * torch.chunk ([min(t*c, n), min((t+1)*c, n)) with c = cdiv(n, T)). */
void sw_chunk(int64_t n, int64_t T, int64_t t, int uneven, int64_t *a, int64_t *b);
/* The combined split coordinate of a dim (its axes combined row-major). */
int64_t sw_dim_coord(const sw_layout *L, const sw_dim *d, const int64_t *coords);

#endif
