#include "cli.h"
#include "clock.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_exit_code(int status) {
    switch (status) {
    case SW_OK: return 0;
    case SW_INPUT:
    case SW_IO:
    case SW_CORRUPT: return 1;
    case SW_USAGE:
    case SW_UNSUPPORTED: return 2;
    default: return 3;
    }
}

/* Prints line `line` of file and a caret under column col: a window of the line around
 * col ("..." where it is cut: a generated file may have lines of megabytes), control bytes
 * as '?'. */
static void print_source_line(const char *path, int line, int col) {
    enum { WIDTH = 100, BEFORE = 60 };
    FILE *f = fopen(path, "rb");
    if (!f) return;
    int ln = 1, c;
    while (ln < line && (c = getc(f)) != EOF)
        if (c == '\n') ln++;
    if (ln != line) {
        fclose(f);
        return;
    }
    if (col < 1) col = 1;
    long from = col > BEFORE ? col - BEFORE : 1; /* the first column shown */
    char buf[WIDTH + 1];
    int n = 0, cut = 0;
    for (long at = 1; (c = getc(f)) != EOF && c != '\n'; at++) {
        if (at < from) continue;
        if (n == WIDTH) {
            cut = 1;
            break;
        }
        buf[n++] = (char)(c != '\t' && (c < 0x20 || c == 0x7f) ? '?' : c);
    }
    fclose(f);
    while (n && buf[n - 1] == '\r') n--;
    if (n == 0 && from > 1) return; /* the line is shorter than col: nothing to show */
    const char *lead = from > 1 ? "..." : "";
    fprintf(stderr, "%5d | %s%.*s%s\n      | %s", line, lead, n, buf, cut ? "..." : "", from > 1 ? "   " : "");
    for (long k = 0; k < col - from && k < n; k++) fputc(buf[k] == '\t' ? '\t' : ' ', stderr);
    fputs("^\n", stderr);
}

int cli_fail(const sw_error *err) {
    char buf[sizeof err->msg + sizeof err->file + 64];
    fprintf(stderr, "%s\n", sw_error_format(err, buf, sizeof buf));
    if (err->file[0] && err->line > 0) print_source_line(err->file, err->line, err->col);
    return cli_exit_code(err->status);
}

int cli_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("shardwave: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

int cli_take_define(cli_common *c, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    const char *def;
    if (!strcmp(a, "-D")) {
        if (*i + 1 >= argc) return cli_usage_error("-D needs NAME=VALUE"), -1;
        def = argv[++*i];
    } else if (!strncmp(a, "-D", 2)) {
        def = a + 2;
    } else {
        return 0;
    }
    const char *eq = strchr(def, '=');
    if (!eq || eq == def) return cli_usage_error("-D %s: expected NAME=VALUE", def), -1;
    char *end;
    errno = 0;
    long long v = strtoll(eq + 1, &end, 0);
    if (errno || end == eq + 1 || *end)
        return cli_usage_error("-D %s: VALUE must be an integer", def), -1;
    if (c->ndefines == CLI_MAX_DEFINES) return cli_usage_error("too many -D options"), -1;
    size_t nl = (size_t)(eq - def);
    char *name = malloc(nl + 1);
    if (!name) return cli_usage_error("out of memory"), -1;
    memcpy(name, def, nl);
    name[nl] = '\0';
    for (size_t k = 0; k < c->ndefines; k++)
        if (!strcmp(c->defines[k].name, name)) {
            c->defines[k].value = v; /* the last one wins */
            free(name);
            return 1;
        }
    c->defines[c->ndefines].name = name;
    c->defines[c->ndefines++].value = v;
    return 1;
}

int cli_load(cli_common *c, const char *path, sw_ir *ir) {
    sw_error err;
    c->load.defines = c->defines;
    c->load.ndefines = c->ndefines;
    int rc = sw_load_file(path, &c->load, ir, &err);
    if (rc) return cli_fail(&err);
    return 0;
}

void cli_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

void cli_progress_init(cli_progress_t *pr, const char *cmd, int quiet) {
    memset(pr, 0, sizeof *pr);
    pr->cmd = cmd;
    pr->quiet = quiet;
    pr->t0 = sw_now_s();
    /* tests lower the one-second threshold to see the lines on small inputs */
    const char *after = getenv("SHARDWAVE_PROGRESS_AFTER");
    pr->after = after ? strtod(after, NULL) : 1.0;
}

void cli_progress(void *ctx, const char *stage, long done, long total) {
    cli_progress_t *pr = ctx;
    if (!pr || pr->quiet) return;
    double now = sw_now_s(), t = now - pr->t0;
    if (t < pr->after) return;
    int same = pr->stage && stage && !strcmp(pr->stage, stage);
    if (same && now - pr->last < 0.5) return;
    if (done < 0 && same) return;
    if (done < 0) fprintf(stderr, "shardwave %s: %s (%.1f s)\n", pr->cmd, stage, t);
    else if (total > 0) fprintf(stderr, "shardwave %s: %s %ld/%ld (%.1f s)\n", pr->cmd, stage, done, total, t);
    else fprintf(stderr, "shardwave %s: %s %ld (%.1f s)\n", pr->cmd, stage, done, t);
    fflush(stderr);
    pr->stage = stage;
    pr->last = now;
}
