/* sim_svg.c - the Gantt chart of a simulated plan (sw_sim_svg in sim.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "units.h"
#include "sim.h"

#define SVG_W 1280.0
#define SVG_LEFT 150.0
#define SVG_RIGHT 30.0
#define SVG_TOP 78.0
#define SVG_BINS 400

static const char *const cls_color[SW_LINK_COUNT] = {"#8e6cc9", "#2a9d8f", "#e76f51"};
static const char *const cls_label[SW_LINK_COUNT] = {"device (same GPU)", "host (NVLink)", "network (NIC)"};

/* A lane order: ranks by (host, device, rank). */
typedef struct lkey {
    int32_t host, device, rank;
    uint32_t idx;
} lkey;

static int cmp_lkey(const void *a, const void *b) {
    const lkey *x = a, *y = b;
    if (x->host != y->host) return x->host < y->host ? -1 : 1;
    if (x->device != y->device) return x->device < y->device ? -1 : 1;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

/* A tick step of 1, 2 or 5 times a power of ten giving about 8 ticks over span. */
static double tick_step(double span) {
    double raw = span / 8, p = pow(10, floor(log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10);
}

static void fmt_time(char *buf, size_t cap, double s, double unit, const char *uname) {
    double v = s / unit;
    if (fabs(v - round(v)) < 1e-9) snprintf(buf, cap, "%.0f %s", v, uname);
    else snprintf(buf, cap, "%g %s", v, uname);
}


/* Draws the chart (contract in sim.h).  Lanes: ranks sorted by (host, device, rank); when
 * there are more than max_lanes, consecutive ranks are merged into lanes (one per host
 * when hosts fit, else equal groups) whose bars are utilisation histograms per class. */
int sw_sim_svg(const sw_plan *p, const sw_sim_result *r, FILE *f, int max_lanes, sw_error *err) {
    if (max_lanes <= 0) max_lanes = 64;
    uint32_t n = p->nranks;
    lkey *lk = malloc(((size_t)n + 1) * sizeof *lk);
    uint32_t *lane_of = malloc(((size_t)n + 1) * sizeof *lane_of); /* rank index -> lane */
    uint32_t *lane_first = malloc(((size_t)n + 2) * sizeof *lane_first); /* lane -> first position in lk */
    double *util = NULL;
    if (!lk || !lane_of || !lane_first) {
        free(lk);
        free(lane_of);
        free(lane_first);
        return sw__err(err, SW_NOMEM, "out of memory drawing the chart");
    }
    for (uint32_t a = 0; a < n; a++) lk[a] = (lkey){p->ranks[a].host, p->ranks[a].device, p->ranks[a].rank, a};
    qsort(lk, n, sizeof *lk, cmp_lkey);
    uint32_t nhosts = 0;
    for (uint32_t a = 0; a < n; a++)
        if (!a || lk[a].host != lk[a - 1].host) nhosts++;
    int aggregate = n > (uint32_t)max_lanes;
    uint32_t nlanes = 0;
    const char *mode = "one lane per rank";
    if (!aggregate) {
        for (uint32_t a = 0; a < n; a++) lane_first[nlanes] = a, lane_of[lk[a].idx] = nlanes++;
    } else if (nhosts <= (uint32_t)max_lanes) {
        mode = "one lane per host: port utilisation of its ranks (up: sends, down: receives)";
        for (uint32_t a = 0; a < n; a++) {
            if (!a || lk[a].host != lk[a - 1].host) lane_first[nlanes++] = a;
            lane_of[lk[a].idx] = nlanes - 1;
        }
    } else {
        mode = "one lane per group of hosts: port utilisation (up: sends, down: receives)";
        uint32_t per = (nhosts + (uint32_t)max_lanes - 1) / (uint32_t)max_lanes, h = 0;
        for (uint32_t a = 0; a < n; a++) {
            if (a && lk[a].host != lk[a - 1].host) h++;
            if (!a || (lk[a].host != lk[a - 1].host && h % per == 0)) lane_first[nlanes++] = a;
            lane_of[lk[a].idx] = nlanes - 1;
        }
    }
    lane_first[nlanes] = n;
    double span = r->makespan > 0 ? r->makespan : 1e-6;
    double plot_w = SVG_W - SVG_LEFT - SVG_RIGHT;
    double lh = nlanes ? 640.0 / nlanes : 16;
    if (lh > 22) lh = 22;
    if (lh < 7) lh = 7;
    double plot_h = lh * nlanes, H = SVG_TOP + plot_h + 92;
    double sx = plot_w / span;
    int32_t crit = r->critical_rank, crit_idx = sw_plan_rank_index(p, crit);
    char b1[32], b2[32], b3[32];

    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "font-family=\"Helvetica, Arial, sans-serif\">\n",
            SVG_W, H, SVG_W, H);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", SVG_W, H);
    /* title */
    double unit = span >= 1 ? 1 : span >= 1e-3 ? 1e-3 : 1e-6;
    const char *uname = span >= 1 ? "s" : span >= 1e-3 ? "ms" : "us";
    fprintf(f, "<text x=\"%.0f\" y=\"26\" font-size=\"17\" font-weight=\"bold\" fill=\"#222\">", SVG_LEFT);
    fprintf(f, "sync %s: %s \xe2\x86\x92 %s, scheduler %s</text>\n", p->sync ? p->sync : "?", p->from ? p->from : "?",
            p->to ? p->to : "?", sw_scheduler_name(p->scheduler));
    fprintf(f,
            "<text x=\"%.0f\" y=\"46\" font-size=\"12\" fill=\"#555\">%u ranks on %u hosts, %u tasks in %d waves; "
            "predicted %.4g %s, lower bound %.4g %s (%.3fx); network %s, host %s</text>\n",
            SVG_LEFT, n, nhosts, p->ntasks, r->nwaves, r->makespan / unit, uname, r->lower_bound / unit, uname,
            r->lower_bound > 0 ? r->makespan / r->lower_bound : 1.0, sw_fmt_bytes(r->bytes[2], b1, sizeof b1),
            sw_fmt_bytes(r->bytes[1], b2, sizeof b2));
    fprintf(f, "<text x=\"%.0f\" y=\"62\" font-size=\"11\" fill=\"#777\">%s%s; critical rank %d highlighted</text>\n",
            SVG_LEFT, mode, aggregate ? "" : " (upper half: sends, lower half: receives)", crit);
    /* lanes: background, host bands, labels */
    for (uint32_t l = 0; l < nlanes; l++) {
        double y = SVG_TOP + l * lh;
        const lkey *k0 = &lk[lane_first[l]], *k1 = &lk[lane_first[l + 1] - 1];
        int has_crit = crit_idx >= 0 && lane_of[crit_idx] == l;
        const char *bg = has_crit ? "#fff3c4" : (k0->host % 2 ? "#f4f6f8" : "#fbfcfd");
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", SVG_LEFT, y, plot_w, lh,
                bg);
        double fs = lh - 3 < 11 ? lh - 3 : 11;
        if (fs >= 5) {
            if (!aggregate)
                fprintf(f,
                        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" text-anchor=\"end\" fill=\"%s\"%s>"
                        "h%d d%d  r%d</text>\n",
                        SVG_LEFT - 6, y + lh / 2 + fs * 0.35, fs, has_crit ? "#b35c00" : "#333",
                        has_crit ? " font-weight=\"bold\"" : "", k0->host, k0->device, k0->rank);
            else if (k0->host == k1->host && (l == 0 || lk[lane_first[l - 1]].host != k0->host) &&
                     (l + 1 == nlanes || lk[lane_first[l + 1]].host != k0->host))
                fprintf(f,
                        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" text-anchor=\"end\" fill=\"%s\"%s>host %d "
                        "(r%d\xe2\x80\x93%d)</text>\n",
                        SVG_LEFT - 6, y + lh / 2 + fs * 0.35, fs, has_crit ? "#b35c00" : "#333",
                        has_crit ? " font-weight=\"bold\"" : "", k0->host, k0->rank, k1->rank);
            else
                fprintf(f,
                        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" text-anchor=\"end\" fill=\"%s\"%s>"
                        "h%d\xe2\x80\x93%d (r%d\xe2\x80\x93%d)</text>\n",
                        SVG_LEFT - 6, y + lh / 2 + fs * 0.35, fs, has_crit ? "#b35c00" : "#333",
                        has_crit ? " font-weight=\"bold\"" : "", k0->host, k1->host, k0->rank, k1->rank);
        }
        /* a line between hosts */
        if (l > 0 && lk[lane_first[l - 1]].host != k0->host)
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9aa5b1\" stroke-width=\"1\"/>\n",
                    SVG_LEFT - 110, y, SVG_LEFT + plot_w, y);
    }
    /* wave boundaries (the end of each wave; at most ~120 drawn) */
    int32_t wstep = r->nwaves > 120 ? (r->nwaves + 119) / 120 : 1;
    fprintf(f, "<g stroke=\"#5b6b7b\" stroke-opacity=\"0.18\" stroke-width=\"0.7\">\n");
    for (int32_t w = 0; w < r->nwaves; w += wstep) {
        double x = SVG_LEFT + r->waves[w].end * sx;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, SVG_TOP, x, SVG_TOP + plot_h);
    }
    fprintf(f, "</g>\n");
    if (!aggregate) {
        /* bars: a send bar on the sender's upper half, a receive bar on the receiver's lower half */
        for (int c = 0; c < SW_LINK_COUNT; c++) {
            fprintf(f, "<g fill=\"%s\">\n", cls_color[c]);
            for (uint32_t i = 0; i < p->ntasks; i++) {
                const sw_plan_task *t = &p->tasks[i];
                if (t->cls != c) continue;
                int32_t s = sw_plan_rank_index(p, t->src), d = sw_plan_rank_index(p, t->dst);
                if (s < 0 || d < 0) continue;
                double x = SVG_LEFT + r->task_start[i] * sx, w = (r->task_end[i] - r->task_start[i]) * sx;
                if (w < 0.6) w = 0.6;
                for (int side = 0; side < 2; side++) {
                    double y = SVG_TOP + lane_of[side ? d : s] * lh + (side ? lh / 2 : 1);
                    fprintf(f,
                            "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\"%s><title>w%d r%d\xe2\x86\x92r%d "
                            "%s %s%s, %.4g\xe2\x80\x93%.4g %s</title></rect>\n",
                            x, y, w, lh / 2 - 1, t->relay ? " stroke=\"#222\" stroke-width=\"0.6\"" : "", t->wave,
                            t->src, t->dst, cls_label[c] + 0, sw_fmt_bytes(r->wire[i], b3, sizeof b3),
                            t->relay ? " relay" : "", r->task_start[i] / unit, r->task_end[i] / unit, uname);
                }
            }
            fprintf(f, "</g>\n");
        }
    } else {
        /* utilisation: per lane, direction, bin and class, busy port time / (bin width x ranks);
         * sends grow up from the lane's middle, receives grow down */
        size_t cells = (size_t)nlanes * 2 * SVG_BINS * SW_LINK_COUNT;
        util = calloc(cells + 1, sizeof *util);
        if (!util) {
            free(lk);
            free(lane_of);
            free(lane_first);
            return sw__err(err, SW_NOMEM, "out of memory drawing the chart");
        }
        double bw = span / SVG_BINS;
        for (uint32_t i = 0; i < p->ntasks; i++) {
            const sw_plan_task *t = &p->tasks[i];
            int32_t s = sw_plan_rank_index(p, t->src), d = sw_plan_rank_index(p, t->dst);
            if (s < 0 || d < 0 || t->cls >= SW_LINK_COUNT) continue;
            double a = r->task_start[i], b = r->task_end[i];
            int b0 = (int)(a / bw), b1i = (int)(b / bw);
            if (b1i >= SVG_BINS) b1i = SVG_BINS - 1;
            for (int k = b0 < 0 ? 0 : b0; k <= b1i; k++) {
                double lo = k * bw, hi = lo + bw;
                double ov = (b < hi ? b : hi) - (a > lo ? a : lo);
                if (ov <= 0) continue;
                for (int dir = 0; dir < 2; dir++) {
                    uint32_t lane = lane_of[dir ? d : s];
                    util[(((size_t)lane * 2 + (size_t)dir) * SVG_BINS + (size_t)k) * SW_LINK_COUNT + t->cls] += ov;
                }
            }
        }
        double bx = plot_w / SVG_BINS;
        for (uint32_t l = 0; l < nlanes; l++) {
            double nr = (double)(lane_first[l + 1] - lane_first[l]);
            double mid = SVG_TOP + l * lh + lh / 2, hmax = lh / 2 - 1;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d5dbe1\" stroke-width=\"0.5\"/>\n",
                    SVG_LEFT, mid, SVG_LEFT + plot_w, mid);
            for (int c = 0; c < SW_LINK_COUNT; c++) {
                fprintf(f, "<g fill=\"%s\">", cls_color[c]);
                for (int dir = 0; dir < 2; dir++)
                    for (int k = 0; k < SVG_BINS; k++) {
                        const double *u = &util[(((size_t)l * 2 + (size_t)dir) * SVG_BINS + (size_t)k) * SW_LINK_COUNT];
                        double below = 0;
                        for (int c2 = 0; c2 < c; c2++) below += u[c2];
                        double frac = u[c] / (bw * nr), fb = below / (bw * nr);
                        if (fb > 1) fb = 1;
                        if (frac + fb > 1) frac = 1 - fb;
                        if (frac * hmax < 0.15) continue;
                        double y = dir ? mid + fb * hmax : mid - (fb + frac) * hmax;
                        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>", SVG_LEFT + k * bx, y,
                                bx + 0.05, frac * hmax);
                    }
                fprintf(f, "</g>\n");
            }
        }
    }
    /* time axis */
    double ay = SVG_TOP + plot_h;
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", SVG_LEFT, ay,
            SVG_LEFT + plot_w, ay);
    double step = tick_step(span);
    for (double tv = 0; tv <= span * 1.0001; tv += step) {
        double x = SVG_LEFT + tv * sx;
        fmt_time(b1, sizeof b1, tv, unit, uname);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#333\">%s</text>\n",
                x, ay, x, ay + 5, x, ay + 18, b1);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">time (%s)</text>\n",
            SVG_LEFT + plot_w / 2, ay + 34, uname);
    /* makespan and lower bound markers */
    double xm = SVG_LEFT + r->makespan * sx, xb = SVG_LEFT + r->lower_bound * sx;
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/>\n",
            xb, SVG_TOP - 6, xb, ay);
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\" fill=\"#c0392b\">lower bound</text>\n",
            xb - 3, SVG_TOP - 8);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\" stroke-width=\"1.2\"/>\n", xm,
            SVG_TOP - 6, xm, ay);
    /* legend */
    double ly = ay + 56, lx = SVG_LEFT;
    for (int c = 0; c < SW_LINK_COUNT; c++) {
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#333\">%s</text>\n",
                lx, ly, cls_color[c], lx + 19, ly + 9, cls_label[c]);
        lx += 150;
    }
    if (!aggregate)
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"#ccc\" stroke=\"#222\" "
                "stroke-width=\"0.6\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#333\">relay forward</text>\n",
                lx, ly, lx + 19, ly + 9);
    else
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#333\">bar height = share of the lane's "
                   "ports busy</text>\n",
                lx, ly + 9);
    lx += 150;
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"#fff3c4\" stroke=\"#e0c060\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#333\">critical rank</text>\n",
            lx + 110, ly, lx + 129, ly + 9);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#555\">faint lines: wave ends%s</text>\n", lx + 230,
            ly + 9, wstep > 1 ? " (sampled)" : "");
    int bad = fprintf(f, "</svg>\n") < 0 || ferror(f);
    free(util);
    free(lk);
    free(lane_of);
    free(lane_first);
    return bad ? sw__err(err, SW_IO, "cannot write the chart") : SW_OK;
}
