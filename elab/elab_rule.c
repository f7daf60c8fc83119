/*
 * elab_rule.c - placement rules to instances (spec section 4): sources, fuses (part-major
 * and group-major), stacks, splits, pads, perms, where; and the duplicate local tensor
 * check of a layout.
 */
#include "elab_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sort.h"

/* ---- placement rules ------------------------------------------------------------------ */

/* A resolved source: one logical tensor with its own perm. */
typedef struct src {
    uint32_t tid;
    int8_t perm[SW_MAXDIM]; /* stored dim -> logical dim */
    int ndim;
    int64_t shape[SW_MAXDIM]; /* stored order */
    int64_t unit;
    sw_doc *node;
} src;

/* An item: a plain source or a fuse of sources. */
typedef struct item {
    int nparts;
    int fused;
    int dim;          /* fuse dim (in the item's stored order) */
    int64_t groups;
    sw_doc *groups_node;
    int ndim;
    int64_t shape[SW_MAXDIM]; /* the item's shape */
    src parts[MAX_PARTS];     /* last: resolve_item clears all but the unused parts */
} item;

static int parse_perm(elab *E, sw_doc *d, int ndim, int8_t *perm) {
    SW_CHECK(sw__elab_need(E, d, SW_DOC_SEQ, "'perm'"));
    if ((int)d->n != ndim)
        return sw__err_at(E->err, SW_INPUT, d->loc, "perm has %zu entries for a tensor of %d dims", d->n, ndim);
    int seen[SW_MAXDIM] = {0};
    for (int k = 0; k < ndim; k++) {
        int64_t v;
        SW_CHECK(sw__elab_eval_int(E, d->items[k], &E->mesh_scope, "a perm entry", &v));
        if (v < 0 || v >= ndim || seen[v])
            return sw__err_at(E->err, SW_INPUT, d->loc, "perm is not a permutation of 0..%d", ndim - 1);
        seen[v] = 1;
        perm[k] = (int8_t)v;
    }
    return SW_OK;
}

static int resolve_src(elab *E, sw_doc *p, const sw_scope *s, int allow_unit, sw_doc *perm_node, src *out) {
    static const char *const pkeys[] = {"tensor", "unit", "perm", NULL};
    sw_doc *tn = p, *unit = NULL;
    memset(out, 0, sizeof *out);
    out->node = p;
    if (p->kind == SW_DOC_MAP) {
        SW_CHECK(sw__elab_check_keys(E, p, pkeys, "a fuse part"));
        tn = sw_doc_get(p, "tensor");
        if (!tn) return sw__err_at(E->err, SW_INPUT, p->loc, "a fuse part needs 'tensor'");
        unit = sw_doc_get(p, "unit");
        perm_node = sw_doc_get(p, "perm");
        if (unit && !allow_unit)
            return sw__err_at(E->err, SW_INPUT, sw_doc_key(p, "unit")->loc, "'unit' is only for fuse parts");
    }
    SW_CHECK(sw__elab_eval_name(E, tn, s, "a tensor name"));
    uint32_t id;
    if (!sw_strmap_get(&E->ir->tensor_index, E->name, &id))
        return sw__err_at(E->err, SW_INPUT, tn->loc, "no logical tensor '%s' in the model", E->name);
    const sw_tensor *t = &E->ir->tensors[id];
    out->tid = id;
    out->ndim = t->ndim;
    for (int k = 0; k < t->ndim; k++) out->perm[k] = (int8_t)k;
    if (perm_node) SW_CHECK(parse_perm(E, perm_node, t->ndim, out->perm));
    for (int k = 0; k < t->ndim; k++) out->shape[k] = t->shape[out->perm[k]];
    if (unit) SW_CHECK(sw__elab_eval_int_min(E, unit, s, "'unit'", 1, &out->unit));
    return SW_OK;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int k = 0; k < ndim && n < cap; k++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", k ? ", " : "", (long long)shape[k]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

static int resolve_fuse(elab *E, sw_doc *f, const sw_scope *s, item *it) {
    static const char *const fkeys[] = {"dim", "parts", "groups", NULL};
    SW_CHECK(sw__elab_need(E, f, SW_DOC_MAP, "'fuse'"));
    SW_CHECK(sw__elab_check_keys(E, f, fkeys, "fuse"));
    sw_doc *dim = sw_doc_get(f, "dim"), *parts = sw_doc_get(f, "parts"), *groups = sw_doc_get(f, "groups");
    if (!parts) return sw__err_at(E->err, SW_INPUT, f->loc, "a fuse needs 'parts'");
    SW_CHECK(sw__elab_need(E, parts, SW_DOC_SEQ, "'parts'"));
    if (parts->n == 0) return sw__err_at(E->err, SW_INPUT, parts->loc, "a fuse needs at least one part");
    if (parts->n > MAX_PARTS) return sw__err_at(E->err, SW_INPUT, parts->loc, "at most %d fuse parts", MAX_PARTS);
    it->fused = 1;
    it->nparts = (int)parts->n;
    for (size_t i = 0; i < parts->n; i++) SW_CHECK(resolve_src(E, parts->items[i], s, 1, NULL, &it->parts[i]));
    int64_t d = 0;
    if (dim) SW_CHECK(sw__elab_eval_int(E, dim, s, "fuse 'dim'", &d));
    const src *p0 = &it->parts[0];
    if (d < 0 || d >= p0->ndim)
        return sw__err_at(E->err, SW_INPUT, dim ? dim->loc : f->loc, "fuse dim %lld is out of range for parts of %d dims",
                          (long long)d, p0->ndim);
    it->dim = (int)d;
    it->ndim = p0->ndim;
    memcpy(it->shape, p0->shape, sizeof it->shape);
    it->shape[d] = 0;
    for (int i = 0; i < it->nparts; i++) {
        const src *p = &it->parts[i];
        int agree = p->ndim == p0->ndim;
        for (int k = 0; agree && k < p->ndim; k++)
            if (k != d && p->shape[k] != p0->shape[k]) agree = 0;
        if (!agree) {
            char a[128], b[128];
            shape_str(a, sizeof a, p->ndim, p->shape);
            shape_str(b, sizeof b, p0->ndim, p0->shape);
            return sw__err_at(E->err, SW_INPUT, p->node->loc,
                              "fuse part '%s' has shape %s, which disagrees with the first part's %s on a dim other "
                              "than the fused dim %d",
                              E->ir->tensors[p->tid].name, a, b, it->dim);
        }
        if (sw_add64(it->shape[d], p->shape[d], &it->shape[d]))
            return sw__err_at(E->err, SW_INPUT, p->node->loc, "fused dim too large");
    }
    if (groups) {
        SW_CHECK(sw__elab_eval_int_min(E, groups, s, "'groups'", 1, &it->groups));
        it->groups_node = groups;
        for (int i = 0; i < it->nparts; i++) {
            const src *p = &it->parts[i];
            if (p->unit)
                return sw__err_at(E->err, SW_INPUT, p->node->loc,
                                  "'unit' together with 'groups' is an error: a group-major fuse splits by groups");
            if (p->shape[d] % it->groups)
                return sw__err_at(E->err, SW_INPUT, groups->loc,
                                  "groups = %lld does not divide dim %d of fuse part '%s' (%lld)",
                                  (long long)it->groups, it->dim, E->ir->tensors[p->tid].name,
                                  (long long)p->shape[d]);
        }
    }
    for (int i = 0; i < it->nparts; i++) {
        const src *p = &it->parts[i];
        if (p->unit && p->shape[d] % p->unit)
            return sw__err_at(E->err, SW_INPUT, p->node->loc, "unit %lld does not divide dim %d of '%s' (%lld)",
                              (long long)p->unit, it->dim, E->ir->tensors[p->tid].name, (long long)p->shape[d]);
    }
    return SW_OK;
}

/* An item of a stack, or the body of a plain / fuse rule. */
static int resolve_item(elab *E, sw_doc *tensor, sw_doc *fuse, sw_doc *perm, const sw_scope *s, item *it) {
    memset(it, 0, offsetof(item, parts) + sizeof it->parts[0]);
    it->nparts = 1;
    if (fuse) return resolve_fuse(E, fuse, s, it);
    SW_CHECK(resolve_src(E, tensor, s, 0, perm, &it->parts[0]));
    it->ndim = it->parts[0].ndim;
    memcpy(it->shape, it->parts[0].shape, sizeof it->shape);
    it->dim = -1;
    return SW_OK;
}

static int same_structure(const item *a, const item *b) {
    if (a->nparts != b->nparts || a->ndim != b->ndim || a->dim != b->dim || a->groups != b->groups) return 0;
    for (int k = 0; k < a->ndim; k++)
        if (a->shape[k] != b->shape[k]) return 0;
    for (int i = 0; i < a->nparts; i++)
        if (a->parts[i].unit != b->parts[i].unit || a->parts[i].shape[a->dim >= 0 ? a->dim : 0] !=
                                                        b->parts[i].shape[a->dim >= 0 ? a->dim : 0] ||
            memcmp(a->parts[i].perm, b->parts[i].perm, sizeof a->parts[i].perm))
            return 0;
    return 1;
}

typedef struct rule_ctx {
    sw_doc *rule;
    item *it, *it2; /* scratch */
} rule_ctx;

static const char *axis_list(const sw_layout *L, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < L->naxes && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", L->axis[i]);
    return buf;
}

static int find_axis(elab *E, sw_doc *d, int *axis) {
    SW_CHECK(sw__elab_need(E, d, SW_DOC_SCALAR, "a mesh axis"));
    for (int i = 0; i < E->L->naxes; i++)
        if (!strcmp(E->L->axis[i], d->text)) {
            *axis = i;
            return SW_OK;
        }
    char buf[256];
    return sw__err_at(E->err, SW_INPUT, d->loc, "no axis '%s' in the mesh of layout '%s' (axes: %s)", d->text,
                      E->L->name, axis_list(E->L, buf, sizeof buf));
}

static int split_error(elab *E, sw_doc *at, const sw_inst *in, int d, const char *what, int64_t n) {
    const sw_dim *dm = &in->dims[d];
    char axes[128];
    size_t k = 0;
    axes[0] = '\0';
    for (int i = 0; i < dm->naxes && k < sizeof axes; i++)
        k += (size_t)snprintf(axes + k, sizeof axes - k, "%s%s=%lld", i ? " x " : "", E->L->axis[dm->axes[i]],
                              (long long)E->L->size[dm->axes[i]]);
    return sw__err_at(E->err, SW_INPUT, at->loc,
                      "dim %d of '%s' (%s %lld) does not split evenly over %s (%lld ranks); give `uneven: true` for "
                      "torch.chunk-style chunks",
                      d, in->name, what, (long long)n, axes, (long long)dm->T);
}

static int rule_body(elab *E, const sw_scope *s, void *vctx) {
    rule_ctx *C = vctx;
    sw_doc *r = C->rule;
    sw_layout *L = E->L;
    sw_doc *tensor = sw_doc_get(r, "tensor"), *fuse = sw_doc_get(r, "fuse"), *stack = sw_doc_get(r, "stack"),
           *as = sw_doc_get(r, "as"), *where = sw_doc_get(r, "where"), *split = sw_doc_get(r, "split"),
           *pad = sw_doc_get(r, "pad"), *perm = sw_doc_get(r, "perm"), *dtype = sw_doc_get(r, "dtype"),
           *uneven = sw_doc_get(r, "uneven");
    int nitems = 1;
    item *it = C->it;
    int stacked = stack != NULL;
    uint32_t *tids = NULL;

    if (stacked) {
        static const char *const skeys[] = {"over", "item", NULL};
        static const char *const ikeys[] = {"tensor", "fuse", "perm", NULL};
        if (perm)
            return sw__err_at(E->err, SW_INPUT, sw_doc_key(r, "perm")->loc,
                              "'perm' on a stack rule is an error: give it to the stack's item");
        SW_CHECK(sw__elab_need(E, stack, SW_DOC_MAP, "'stack'"));
        SW_CHECK(sw__elab_check_keys(E, stack, skeys, "stack"));
        sw_doc *over = sw_doc_get(stack, "over"), *itn = sw_doc_get(stack, "item");
        if (!over || !itn) return sw__err_at(E->err, SW_INPUT, stack->loc, "a stack needs 'over' and 'item'");
        SW_CHECK(sw__elab_need(E, over, SW_DOC_MAP, "'over'"));
        if (over->n != 1)
            return sw__err_at(E->err, SW_INPUT, over->loc, "'over' names exactly one variable, e.g. {e: experts}");
        SW_CHECK(sw__elab_need(E, itn, SW_DOC_MAP, "'item'"));
        SW_CHECK(sw__elab_check_keys(E, itn, ikeys, "a stack item"));
        sw_doc *itensor = sw_doc_get(itn, "tensor"), *ifuse = sw_doc_get(itn, "fuse"), *iperm = sw_doc_get(itn, "perm");
        if (!!itensor + !!ifuse != 1)
            return sw__err_at(E->err, SW_INPUT, itn->loc, "a stack item needs exactly one of 'tensor' or 'fuse'");
        const char *var = over->keys[0]->text;
        if (!sw__elab_is_ident(var)) return sw__err_at(E->err, SW_INPUT, over->keys[0]->loc, "'%s' is not a valid name", var);
        sw_doc *rn = over->vals[0];
        int64_t a = 0, b;
        if (rn->kind == SW_DOC_SEQ) {
            if (rn->n != 2) return sw__err_at(E->err, SW_INPUT, rn->loc, "a range is [first, end)");
            SW_CHECK(sw__elab_eval_int(E, rn->items[0], s, "a range start", &a));
            SW_CHECK(sw__elab_eval_int(E, rn->items[1], s, "a range end", &b));
        } else {
            SW_CHECK(sw__elab_eval_int(E, rn, s, "a stack count", &b));
        }
        if (b <= a) return sw__err_at(E->err, SW_INPUT, rn->loc, "a stack needs at least one item");
        /* every item is an instance of its own for the limit */
        if ((uint64_t)b - (uint64_t)a > (uint64_t)SW_MAX_INSTANCES - E->total_insts)
            return sw__err_at(E->err, SW_INPUT, rn->loc,
                              "%llu stacked items: more than the %lld instances allowed in all (the input limit)",
                              (unsigned long long)((uint64_t)b - (uint64_t)a), SW_MAX_INSTANCES);
        E->total_insts += (size_t)(b - a);
        nitems = (int)(b - a);
        const char *vn[1] = {var};
        int64_t vv[1];
        sw_scope inner = {s, 1, vn, vv};
        for (int e = 0; e < nitems; e++) {
            vv[0] = a + e;
            item *cur = e == 0 ? it : C->it2;
            if (ifuse && iperm)
                return sw__err_at(E->err, SW_INPUT, sw_doc_key(itn, "perm")->loc,
                                  "'perm' on a fused item: give it to the fuse parts");
            SW_CHECK(resolve_item(E, itensor, ifuse, iperm, &inner, cur));
            if (e > 0 && !same_structure(it, cur)) {
                char x[128], y[128];
                shape_str(x, sizeof x, cur->ndim, cur->shape);
                shape_str(y, sizeof y, it->ndim, it->shape);
                return sw__err_at(E->err, SW_INPUT, itn->loc,
                                  "stacked items differ: item %s=%lld is %s but item %s=%lld is %s", var,
                                  (long long)(a + e), x, var, (long long)a, y);
            }
            if (!tids && !(tids = sw_arena_array(E->a, (size_t)nitems * (size_t)it->nparts, sizeof *tids)))
                return sw__elab_nomem(E);
            for (int p = 0; p < cur->nparts; p++) tids[(size_t)e * (size_t)it->nparts + (size_t)p] = cur->parts[p].tid;
        }
    } else {
        if (!!tensor + !!fuse != 1)
            return sw__err_at(E->err, SW_INPUT, r->loc, "a rule needs exactly one of 'tensor', 'fuse' or 'stack'");
        if (fuse && perm) {
            /* perm applies after fusion: resolve the fuse in its own order first */
            SW_CHECK(resolve_item(E, NULL, fuse, NULL, s, it));
        } else {
            SW_CHECK(resolve_item(E, tensor, fuse, perm, s, it));
        }
        if (!(tids = sw_arena_array(E->a, (size_t)it->nparts, sizeof *tids))) return sw__elab_nomem(E);
        for (int p = 0; p < it->nparts; p++) tids[p] = it->parts[p].tid;
    }
    if ((fuse || stacked) && !as)
        return sw__err_at(E->err, SW_INPUT, r->loc, "a %s rule needs 'as' (the local tensor's name)",
                          fuse ? "fuse" : "stack");

    /* the rule's perm on a fused item (for a plain tensor it is the part's own perm) */
    int8_t rp[SW_MAXDIM];
    for (int k = 0; k < SW_MAXDIM; k++) rp[k] = (int8_t)k;
    if (fuse && perm) SW_CHECK(parse_perm(E, perm, it->ndim, rp));

    /* the instance */
    if (SW_GROW(L->insts, E->cap_insts, L->ninsts + 1)) return sw__elab_nomem(E);
    sw_inst *in = &L->insts[L->ninsts];
    memset(in, 0, sizeof *in);
    if (as) SW_CHECK(sw__elab_eval_name(E, as, s, "'as'"));
    else SW_CHECK(sw__elab_eval_name(E, tensor, s, "a tensor name"));
    if (!(in->name = sw_arena_strdup(E->a, E->name))) return sw__elab_nomem(E);
    in->loc = as ? as->loc : tensor ? tensor->loc : r->loc;
    in->stacked = stacked;
    in->ndim = it->ndim + stacked;
    if (in->ndim > SW_MAXDIM)
        return sw__err_at(E->err, SW_INPUT, r->loc, "'%s' would have %d dims; at most %d are supported", in->name,
                          in->ndim, SW_MAXDIM);
    in->nitems = nitems;
    in->nparts = it->nparts;
    in->tensor = tids;
    in->groups = it->groups;
    in->fuse_dim = -1;
    if (!(in->parts = sw_arena_array(E->a, (size_t)it->nparts, sizeof *in->parts)) ||
        !(in->dims = sw_arena_array(E->a, (size_t)in->ndim, sizeof *in->dims)) ||
        !(in->where = sw_arena_array(E->a, (size_t)L->naxes, sizeof *in->where)))
        return sw__elab_nomem(E);
    for (int p = 0; p < it->nparts; p++) {
        sw_part *pt = &in->parts[p];
        for (int k = 0; k < it->ndim; k++) pt->perm[k] = it->parts[p].perm[rp[k]];
        pt->len = it->dim >= 0 ? it->parts[p].shape[it->dim] : 0;
        pt->unit = it->parts[p].unit;
        pt->loc = it->parts[p].node->loc;
    }
    if (stacked) {
        in->dims[0].full = in->dims[0].padded = nitems;
    }
    for (int k = 0; k < it->ndim; k++) {
        in->dims[k + stacked].full = in->dims[k + stacked].padded = it->shape[rp[k]];
        if (it->fused && rp[k] == it->dim) in->fuse_dim = k + stacked;
    }
    for (int d = 0; d < in->ndim; d++) in->dims[d].T = 1;

    /* dtype (rule 10) */
    if (dtype) {
        SW_CHECK(sw__elab_parse_dtype(E, dtype, &in->dtype));
    } else {
        in->dtype = E->ir->tensors[tids[0]].dtype;
        for (int p = 1; p < it->nparts; p++)
            if (E->ir->tensors[tids[p]].dtype != in->dtype)
                return sw__err_at(E->err, SW_INPUT, it->parts[p].node->loc,
                                  "fuse part '%s' is %s but the first part is %s: give the rule a 'dtype'",
                                  E->ir->tensors[tids[p]].name, sw_dtype_name(E->ir->tensors[tids[p]].dtype),
                                  sw_dtype_name(in->dtype));
    }
    if (uneven) SW_CHECK(sw__elab_parse_bool(E, uneven, "'uneven'", &in->uneven));

    /* where and split (rule 11: an axis at most once among them) */
    sw_doc *axis_used[SW_MAXAXES] = {0};
    for (int i = 0; i < L->naxes; i++) in->where[i] = -1;
    if (where) {
        SW_CHECK(sw__elab_need(E, where, SW_DOC_MAP, "'where'"));
        for (size_t i = 0; i < where->n; i++) {
            int ax;
            SW_CHECK(find_axis(E, where->keys[i], &ax));
            int64_t v;
            SW_CHECK(sw__elab_eval_int(E, where->vals[i], s, "a where value", &v));
            if (v < 0 || v >= L->size[ax])
                return sw__err_at(E->err, SW_INPUT, where->vals[i]->loc,
                                  "where %s = %lld is outside the mesh (%s has size %lld, coordinates 0..%lld)",
                                  L->axis[ax], (long long)v, L->axis[ax], (long long)L->size[ax],
                                  (long long)L->size[ax] - 1);
            in->where[ax] = v;
            axis_used[ax] = where->keys[i];
        }
    }
    sw_doc *split_at[SW_MAXDIM] = {0};
    if (split) {
        SW_CHECK(sw__elab_need(E, split, SW_DOC_MAP, "'split'"));
        for (size_t i = 0; i < split->n; i++) {
            int64_t d;
            SW_CHECK(sw__elab_eval_int(E, split->keys[i], s, "a split dim", &d));
            if (d < 0 || d >= in->ndim)
                return sw__err_at(E->err, SW_INPUT, split->keys[i]->loc,
                                  "split dim %lld is out of range: '%s' has %d dims", (long long)d, in->name,
                                  in->ndim);
            if (split_at[d])
                return sw__err_at(E->err, SW_INPUT, split->keys[i]->loc, "dim %lld is split twice", (long long)d);
            sw_doc *v = split->vals[i];
            split_at[d] = v;
            sw_dim *dm = &in->dims[d];
            size_t nax = v->kind == SW_DOC_SEQ ? v->n : 1;
            if (v->kind == SW_DOC_SEQ && v->n == 0)
                return sw__err_at(E->err, SW_INPUT, v->loc, "a split names at least one axis");
            for (size_t j = 0; j < nax; j++) {
                sw_doc *an = v->kind == SW_DOC_SEQ ? v->items[j] : v;
                int ax;
                SW_CHECK(find_axis(E, an, &ax));
                if (axis_used[ax])
                    return sw__err_at(E->err, SW_INPUT, an->loc,
                                      "axis '%s' is used twice in this rule (also at line %d, column %d)",
                                      L->axis[ax], axis_used[ax]->loc.line, axis_used[ax]->loc.col);
                axis_used[ax] = an;
                dm->axes[dm->naxes++] = (int8_t)ax;
                dm->T *= L->size[ax];
            }
        }
    }
    if (pad) {
        SW_CHECK(sw__elab_need(E, pad, SW_DOC_MAP, "'pad'"));
        for (size_t i = 0; i < pad->n; i++) {
            int64_t d, m;
            SW_CHECK(sw__elab_eval_int(E, pad->keys[i], s, "a pad dim", &d));
            if (d < 0 || d >= in->ndim)
                return sw__err_at(E->err, SW_INPUT, pad->keys[i]->loc, "pad dim %lld is out of range: '%s' has %d dims",
                                  (long long)d, in->name, in->ndim);
            if (d == in->fuse_dim || (stacked && d == 0))
                return sw__err_at(E->err, SW_INPUT, pad->keys[i]->loc, "pad on a %s dim is an error",
                                  d == in->fuse_dim ? "fused" : "stacked");
            SW_CHECK(sw__elab_eval_int_min(E, pad->vals[i], s, "a pad multiple", 1, &m));
            sw_dim *dm = &in->dims[d];
            int64_t q = dm->full / m + (dm->full % m != 0);
            if (sw_mul64(q, m, &dm->padded))
                return sw__err_at(E->err, SW_INPUT, pad->vals[i]->loc,
                                  "pad multiple %lld makes dim %lld of '%s' larger than 2^63 elements", (long long)m,
                                  (long long)d, in->name);
        }
    }
    /* every size product of the local tensor fits in int64 (bytes included) */
    int64_t bytes = sw_dtype_size(in->dtype);
    for (int d = 0; d < in->ndim; d++)
        if (sw_mul64(bytes, in->dims[d].padded ? in->dims[d].padded : 1, &bytes))
            return sw__err_at(E->err, SW_INPUT, pad ? pad->loc : in->loc,
                              "local tensor '%s' would be larger than 2^63 bytes%s", in->name,
                              pad ? " after padding" : "");

    /* every split must be possible (rules 4, 6, 7) */
    for (int d = 0; d < in->ndim; d++) {
        sw_dim *dm = &in->dims[d];
        sw_doc *at = split_at[d];
        if (d == in->fuse_dim && in->groups > 0) {
            if (in->groups % dm->T)
                return sw__err_at(E->err, SW_INPUT, at->loc,
                                  "groups = %lld is not a multiple of the %lld ranks that split dim %d of '%s' "
                                  "(a group-major fuse splits whole groups; `uneven` does not relax this)",
                                  (long long)in->groups, (long long)dm->T, d, in->name);
            continue;
        }
        if (dm->T == 1 || in->uneven) continue;
        if (d == in->fuse_dim) {
            for (int p = 0; p < in->nparts; p++) {
                const sw_part *pt = &in->parts[p];
                const char *pn = E->ir->tensors[tids[p]].name;
                if (pt->unit) {
                    int64_t units = pt->len / pt->unit;
                    if ((units < dm->T && units > 0 && dm->T % units == 0) || units % dm->T == 0) continue;
                    return sw__err_at(E->err, SW_INPUT, at->loc,
                                      "fuse part '%s' has %lld units of %lld, which do not split evenly over %lld "
                                      "ranks nor replicate onto them (%lld %% units != 0); give `uneven: true` to "
                                      "chunk whole units",
                                      pn, (long long)units, (long long)pt->unit, (long long)dm->T, (long long)dm->T);
                }
                if (pt->len % dm->T) return split_error(E, at, in, d, pn, pt->len);
            }
        } else if (dm->padded % dm->T) {
            return split_error(E, at, in, d, stacked && d == 0 ? "items" : "size", dm->padded);
        }
    }
    L->ninsts++;
    return SW_OK;
}

int sw__elab_rule(elab *E, sw_doc *r) {
    static const char *const rkeys[] = {"tensor", "for", "let", "as", "where", "split", "uneven", "pad",
                                        "fuse", "stack", "perm", "dtype", NULL};
    SW_CHECK(sw__elab_need(E, r, SW_DOC_MAP, "a placement rule"));
    SW_CHECK(sw__elab_check_keys(E, r, rkeys, "a placement rule"));
    rule_ctx C = {r, malloc(sizeof(item)), malloc(sizeof(item))};
    int rc = (!C.it || !C.it2) ? sw__elab_nomem(E) : sw__elab_iterate(E, sw_doc_get(r, "for"), sw_doc_get(r, "let"), &E->mesh_scope, rule_body, &C);
    free(C.it);
    free(C.it2);
    return rc;
}

/* ---- duplicates: a local tensor name produced twice on one rank ------------------------- */

typedef struct dup_ent {
    const char *name;
    uint32_t idx;
} dup_ent;

static inline int dup_before(const dup_ent *x, const dup_ent *y) {
    int c = strcmp(x->name, y->name);
    return c ? c < 0 : x->idx < y->idx;
}
SW_SORT_DEFINE(sort_dup, dup_ent, dup_before)

static int overlap(const sw_layout *L, const sw_inst *a, const sw_inst *b) {
    for (int i = 0; i < L->naxes; i++)
        if (a->where[i] >= 0 && b->where[i] >= 0 && a->where[i] != b->where[i]) return 0;
    return 1;
}

/* The order of instances by their `where` coordinates (sw_sort_idx). */
static int cmp_where(const void *ctx, uint32_t a, uint32_t b) {
    const sw_layout *L = ctx;
    const int64_t *x = L->insts[a].where, *y = L->insts[b].where;
    for (int i = 0; i < L->naxes; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

/* 1 when no two of the n instances v[..].idx (one name) can overlap, found without
 * comparing every pair: when they all leave the same axes free, two overlap exactly when
 * their coordinates are equal, so sorting them finds any pair.  0 when some may overlap
 * (or the free axes differ, or out of memory): the caller compares every pair. */
static int surely_apart(const sw_layout *L, const dup_ent *v, size_t n) {
    if (n < 8) return 0; /* pairs are cheap */
    const int64_t *w0 = L->insts[v[0].idx].where;
    for (size_t k = 1; k < n; k++)
        for (int i = 0; i < L->naxes; i++)
            if ((L->insts[v[k].idx].where[i] < 0) != (w0[i] < 0)) return 0;
    uint32_t *o = malloc(n * sizeof *o);
    if (!o) return 0;
    for (size_t k = 0; k < n; k++) o[k] = v[k].idx;
    int apart = sw_sort_idx(o, n, cmp_where, L) == 0;
    for (size_t k = 1; k < n && apart; k++) apart = cmp_where(L, o[k - 1], o[k]) != 0;
    free(o);
    return apart;
}

int sw__elab_check_duplicates(elab *E, sw_layout *L) {
    if (L->ninsts < 2) return SW_OK;
    dup_ent *v = malloc(L->ninsts * sizeof *v);
    if (!v) return sw__elab_nomem(E);
    for (size_t i = 0; i < L->ninsts; i++) v[i] = (dup_ent){L->insts[i].name, (uint32_t)i};
    if (sort_dup(v, L->ninsts)) {
        free(v);
        return sw__elab_nomem(E);
    }
    int rc = SW_OK;
    size_t best_i = SIZE_MAX, best_j = 0;
    for (size_t s = 0; s < L->ninsts;) {
        size_t e = s + 1;
        while (e < L->ninsts && !strcmp(v[e].name, v[s].name)) e++;
        /* among instances with the same name, report the pair whose later one comes first */
        for (size_t j = surely_apart(L, v + s, e - s) ? e : s + 1; j < e; j++)
            for (size_t i = s; i < j; i++)
                if (overlap(L, &L->insts[v[i].idx], &L->insts[v[j].idx])) {
                    if (v[j].idx < best_i) {
                        best_i = v[j].idx;
                        best_j = v[i].idx;
                    }
                    break;
                }
        s = e;
    }
    if (best_i != SIZE_MAX) {
        const sw_inst *later = &L->insts[best_i], *first = &L->insts[best_j];
        int64_t coords[SW_MAXAXES];
        for (int i = 0; i < L->naxes; i++)
            coords[i] = later->where[i] >= 0 ? later->where[i] : first->where[i] >= 0 ? first->where[i] : 0;
        int64_t l = 0;
        for (int i = 0; i < L->naxes; i++) l += coords[i] * L->stride[i];
        rc = sw__err_at(E->err, SW_INPUT, later->loc,
                        "local tensor '%s' is produced twice on rank %lld of layout '%s' (first by the rule at line "
                        "%d)",
                        later->name, (long long)(L->first_rank + l), L->name, first->loc.line);
    }
    free(v);
    return rc;
}

/* ---- layouts --------------------------------------------------------------------------- */
