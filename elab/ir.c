#include "ir.h"

#include <stdlib.h>
#include <string.h>

void sw_ir_free(sw_ir *ir) {
    if (!ir) return;
    free(ir->tensors); /* grown with SW_GROW during elaboration, not in the arena */
    for (size_t i = 0; i < ir->nlayouts; i++) free(ir->layouts[i].insts);
    sw_strmap_free(&ir->tensor_index);
    sw_arena_free(&ir->arena);
    memset(ir, 0, sizeof *ir);
}

int sw_ir_layout(const sw_ir *ir, const char *name) {
    for (size_t i = 0; i < ir->nlayouts; i++)
        if (!strcmp(ir->layouts[i].name, name)) return (int)i;
    return -1;
}

int sw_ir_sync(const sw_ir *ir, const char *name) {
    for (size_t i = 0; i < ir->nsyncs; i++)
        if (!strcmp(ir->syncs[i].name, name)) return (int)i;
    return -1;
}

void sw_layout_coords(const sw_layout *L, int64_t l, int64_t *coords) {
    for (int i = 0; i < L->naxes; i++) coords[i] = (l / L->stride[i]) % L->size[i];
}

void sw_layout_place(const sw_layout *L, int64_t l, int64_t *host, int64_t *device) {
    if (L->hosts_mode == SW_HOSTS_DEVICES) {
        *host = L->dev_host[l];
        *device = L->dev_index[l];
        return;
    }
    int64_t p = L->hosts_mode == SW_HOSTS_RANK_BASE ? L->rank_base + l : L->first_rank + l;
    *host = p / L->gpus_per_host;
    *device = p % L->gpus_per_host;
}

int sw_inst_matches(const sw_layout *L, const sw_inst *in, const int64_t *coords) {
    for (int i = 0; i < L->naxes; i++)
        if (in->where[i] >= 0 && in->where[i] != coords[i]) return 0;
    return 1;
}

int64_t sw_tensor_bytes(const sw_tensor *t) {
    int64_t n = sw_dtype_size(t->dtype);
    for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    return n;
}
