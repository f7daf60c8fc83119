/* dot.c - Graphviz DOT of a plan's task DAG (see dot.h). */
#include "dot.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "units.h"

static const char *const cls_name[SW_LINK_COUNT] = {"device", "host", "network"};
static const char *const cls_color[SW_LINK_COUNT] = {"#b3e2cd", "#fdcdac", "#cbd5e8"};

/* Writes s as a DOT string body (quotes and backslashes escaped). */
static void dot_str(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
}

static void header(const sw_plan *p, FILE *f) {
    fputs("digraph plan {\n  graph [rankdir=LR, fontname=\"Helvetica\", label=\"", f);
    dot_str(f, p->sync);
    fputs(": ", f);
    dot_str(f, p->from);
    fputs(" -> ", f);
    dot_str(f, p->to);
    fprintf(f, " (%s, %u tasks, %d waves)\", labelloc=t];\n", sw_scheduler_name(p->scheduler), p->ntasks, p->nwaves);
    fputs("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n", f);
    fputs("  subgraph cluster_legend {\n    label=\"link class\";\n", f);
    for (int c = 0; c < SW_LINK_COUNT; c++)
        fprintf(f, "    legend_%s [label=\"%s\", fillcolor=\"%s\"];\n", cls_name[c], cls_name[c], cls_color[c]);
    fputs("  }\n", f);
}

/* Per-task graph: one node per task, one cluster per wave. */
static void tasks_graph(const sw_plan *p, FILE *f) {
    uint32_t i = 0;
    while (i < p->ntasks) {
        int32_t w = p->tasks[i].wave;
        uint32_t j = i;
        uint64_t bytes = 0;
        while (j < p->ntasks && p->tasks[j].wave == w) bytes += p->tasks[j++].bytes;
        char hb[32];
        sw_fmt_bytes(bytes, hb, sizeof hb);
        fprintf(f, "  subgraph cluster_w%d {\n    label=\"wave %d (%u tasks, %s)\";\n", w, w, j - i, hb);
        for (uint32_t k = i; k < j; k++) {
            const sw_plan_task *t = &p->tasks[k];
            sw_fmt_bytes(t->bytes, hb, sizeof hb);
            fprintf(f, "    t%u [label=\"r%d\xe2\x86\x92r%d %s%s\", fillcolor=\"%s\"%s];\n", k, t->src, t->dst, hb,
                    t->relay ? " (relay)" : "", cls_color[t->cls < SW_LINK_COUNT ? t->cls : SW_LINK_NETWORK],
                    t->relay ? ", penwidth=2" : "");
        }
        fputs("  }\n", f);
        i = j;
    }
    for (uint32_t k = 0; k < p->ntasks; k++)
        for (uint32_t d = 0; d < p->tasks[k].ndep; d++) {
            uint32_t from = p->deps[p->tasks[k].dep0 + d];
            if (from < p->ntasks) fprintf(f, "  t%u -> t%u;\n", from, k);
        }
}

typedef struct gedge {
    uint64_t from, to; /* group ids: wave * SW_LINK_COUNT + cls */
} gedge;

static int cmp_gedge(const void *a, const void *b) {
    const gedge *x = a, *y = b;
    if (x->from != y->from) return x->from < y->from ? -1 : 1;
    return (x->to > y->to) - (x->to < y->to);
}

static uint64_t group_of(const sw_plan_task *t) {
    return (uint64_t)t->wave * SW_LINK_COUNT + (t->cls < SW_LINK_COUNT ? t->cls : SW_LINK_NETWORK);
}

/* Aggregated graph: one node per (wave, class) group. */
static int groups_graph(const sw_plan *p, FILE *f, sw_error *err) {
    uint32_t i = 0;
    while (i < p->ntasks) {
        int32_t w = p->tasks[i].wave;
        uint32_t j = i, cnt[SW_LINK_COUNT] = {0}, nrel[SW_LINK_COUNT] = {0};
        uint64_t bytes[SW_LINK_COUNT] = {0}, total = 0;
        for (; j < p->ntasks && p->tasks[j].wave == w; j++) {
            const sw_plan_task *t = &p->tasks[j];
            int c = t->cls < SW_LINK_COUNT ? t->cls : SW_LINK_NETWORK;
            cnt[c]++;
            bytes[c] += t->bytes;
            nrel[c] += t->relay ? 1 : 0;
            total += t->bytes;
        }
        char hb[32];
        sw_fmt_bytes(total, hb, sizeof hb);
        fprintf(f, "  subgraph cluster_w%d {\n    label=\"wave %d (%u tasks, %s)\";\n", w, w, j - i, hb);
        for (int c = 0; c < SW_LINK_COUNT; c++) {
            if (!cnt[c]) continue;
            sw_fmt_bytes(bytes[c], hb, sizeof hb);
            fprintf(f, "    g%d_%d [label=\"%u %s tasks\\n%s", w, c, cnt[c], cls_name[c], hb);
            if (nrel[c]) fprintf(f, "\\n%u relays", nrel[c]);
            fprintf(f, "\", fillcolor=\"%s\"];\n", cls_color[c]);
        }
        fputs("  }\n", f);
        i = j;
    }
    gedge *e = malloc(((size_t)p->ndeps + 1) * sizeof *e);
    if (!e) return sw__err(err, SW_NOMEM, "out of memory writing DOT");
    size_t n = 0;
    for (uint32_t k = 0; k < p->ntasks; k++)
        for (uint32_t d = 0; d < p->tasks[k].ndep; d++) {
            uint32_t from = p->deps[p->tasks[k].dep0 + d];
            if (from < p->ntasks && n < p->ndeps) e[n++] = (gedge){group_of(&p->tasks[from]), group_of(&p->tasks[k])};
        }
    qsort(e, n, sizeof *e, cmp_gedge);
    for (size_t k = 0; k < n;) {
        size_t m = k;
        while (m < n && e[m].from == e[k].from && e[m].to == e[k].to) m++;
        fprintf(f, "  g%llu_%llu -> g%llu_%llu [label=\"%zu\"];\n", (unsigned long long)(e[k].from / SW_LINK_COUNT),
                (unsigned long long)(e[k].from % SW_LINK_COUNT), (unsigned long long)(e[k].to / SW_LINK_COUNT),
                (unsigned long long)(e[k].to % SW_LINK_COUNT), m - k);
        k = m;
    }
    free(e);
    return SW_OK;
}

int sw_plan_dot(const sw_plan *p, FILE *f, int aggregate, sw_error *err) {
    if (aggregate < 0) aggregate = p->ntasks > SW_DOT_MAX_TASKS;
    header(p, f);
    if (aggregate) SW_CHECK(groups_graph(p, f, err));
    else tasks_graph(p, f);
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f)) return sw__err(err, SW_IO, "cannot write DOT output");
    return SW_OK;
}
