/*
 * bounds.h - the fixed sizes every layer agrees on.
 *
 * Tensors have at most SW_MAXDIM dims (the stacked dim included), meshes at most
 * SW_MAXAXES axes.  Input limits that protect against runaway inputs live beside them:
 * each is checked before the work it bounds is done, and an input beyond it is an input
 * error at FILE:LINE:COL naming the limit (docs/language.md, "Input limits", gives each
 * with its reason).  `check` and `compile` share them: check refuses what compile could
 * not build.
 */
#ifndef SW_BOUNDS_H
#define SW_BOUNDS_H

#define SW_MAXDIM 8   /* dims of a tensor, stacked dim included */
#define SW_MAXAXES 8  /* axes of a mesh */

/* ---- input limits (docs/language.md, "Input limits") ---------------------------------- */

/* Bytes of one layout file (YAML or DSL).  The largest real file (DeepSeek-V3, 90k
 * tensors, written with templates) is 25 KiB; an explicit listing of every tensor of it
 * is about 20 MiB.  Loading costs up to about 65 bytes of memory per input byte (a file
 * of 30 MB of one-character list items: 1.9 GB), so this also bounds the memory of a
 * load.  Reading stops here: /dev/zero is refused, not read to exhaustion. */
#define SW_MAX_INPUT_BYTES ((long long)32 << 20)
/* Nesting of YAML mappings and sequences, and of DSL brackets: real files nest 6 deep;
 * the loaders recurse once per level. */
#define SW_MAX_NEST 64
/* Depth of one integer expression (parentheses, unary signs, operators chained): real
 * expressions are a few levels deep; parsing and evaluation recurse once per level. */
#define SW_MAX_EXPR_DEPTH 256
/* Keys of one mapping (a `let`, a `mesh`, ...): real mappings have tens. */
#define SW_MAX_MAP_KEYS 4096
/* Elaborated instances: every iteration of a `for` (model tensors and placement rules
 * together).  DeepSeek-V3 needs about 153k. */
#define SW_MAX_INSTANCES 4000000LL
/* Logical tensors of a model (DeepSeek-V3: 90,427). */
#define SW_MAX_TENSORS 1000000LL
/* Global ranks: a layout's first_rank + its mesh's ranks (the largest jobs have 10^5
 * GPUs; DeepSeek-V3's example has 1,280 ranks). */
#define SW_MAX_RANKS 131072LL
/* Local tensors of one layout over all its ranks (what the plan's tables hold per
 * layout; DeepSeek-V3: 507k in `train`).  Compile time and memory grow with it. */
#define SW_MAX_LOCALS 4000000LL
/* Transfers of one sync, estimated before the compile (elab/coverage.c: every destination
 * piece cut by the source pieces' boundaries).  DeepSeek-V3's refit has 1.06 M and
 * compiles in 3-4 s and 1.4 GiB; a sync of rows over 4096 ranks into columns over 4096
 * would make 16.8 M and run out of memory. */
#define SW_MAX_TRANSFERS 4000000LL
/* The smallest staging bucket of a sync (the same floor as `compile --bucket`): the
 * chunk size of messages comes from it, and a smaller one makes millions of tiny chunks. */
#define SW_MIN_BUCKET 4096LL
/* The longest timeout a session takes (longer ones are this): a year of seconds, so that
 * every deadline computed from it stays representable. */
#define SW_MAX_TIMEOUT_S 3.2e7
/* Ranks the local backend runs as threads of one process. */
#define SW_MAX_LOCAL_RANKS 4096

#endif
