/* shardwave fmt FILE --to dsl|yaml [-o OUT]: a layout file in the other (or the same)
 * syntax.  Reads either front end, writes the document tree back; never elaborates, so a
 * file with semantic errors can still be converted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "doc_write.h"
#include "dsl_load.h"
#include "yaml_load.h"

static const char fmt_help[] =
    "usage: shardwave fmt FILE --to dsl|yaml [-o OUT] [-D NAME=VALUE]...\n"
    "\n"
    "Prints a layout file as canonical YAML or as the textual DSL.  FILE is read as the DSL\n"
    "when it ends in .sw (or starts with `shardwave 1`), else as YAML.  Formatting the\n"
    "output again changes nothing; both forms elaborate to the same IR.\n"
    "\n"
    "  --to dsl|yaml   the output syntax (default: the other one)\n"
    "  -o OUT          write to OUT instead of standard output\n"
    "  -D NAME=VALUE   print the model's let constant NAME as VALUE (repeatable)\n";

/* -D for fmt: the model's `let` entry NAME is written as VALUE. */
static int apply_defines(sw_arena *a, sw_doc *root, const cli_common *c) {
    sw_doc *let = sw_doc_get(sw_doc_get(root, "model"), "let");
    for (size_t i = 0; i < c->ndefines; i++) {
        sw_doc *key = sw_doc_key(let, c->defines[i].name);
        if (!key) return cli_usage_error("-D %s: the model has no let constant '%s'", c->defines[i].name, c->defines[i].name);
        for (size_t k = 0; k < let->n; k++)
            if (let->keys[k] == key) {
                char num[32];
                int n = snprintf(num, sizeof num, "%lld", (long long)c->defines[i].value);
                sw_doc *v = sw_doc_scalar(a, let->vals[k]->loc, num, (size_t)n, SW_DOC_PLAIN);
                if (!v) return cli_usage_error("out of memory");
                let->vals[k] = v;
            }
    }
    return 0;
}

int cmd_fmt(int argc, char **argv) {
    const char *path = NULL, *to = NULL, *outp = NULL;
    cli_common c = {0};
    for (int i = 1; i < argc; i++) {
        int d = cli_take_define(&c, argc, argv, &i);
        if (d < 0) return 2;
        if (d) continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(fmt_help, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--to") || !strcmp(argv[i], "-o")) {
            if (i + 1 >= argc) return cli_usage_error("fmt: %s needs a value", argv[i]);
            if (argv[i][1] == 'o') outp = argv[++i];
            else to = argv[++i];
        } else if (!strncmp(argv[i], "--to=", 5)) {
            to = argv[i] + 5;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("fmt: unknown option '%s' (see shardwave fmt --help)", argv[i]);
        } else if (path) {
            return cli_usage_error("fmt: one FILE only");
        } else {
            path = argv[i];
        }
    }
    if (!path) return cli_usage_error("fmt: missing FILE (see shardwave fmt --help)");
    if (to && strcmp(to, "dsl") && strcmp(to, "yaml"))
        return cli_usage_error("fmt: --to must be dsl or yaml, not '%s'", to);

    sw_error err;
    char *text = NULL;
    size_t len = 0;
    if (sw_read_input(path, &text, &len, &err)) return cli_fail(&err);
    sw_arena a;
    sw_arena_init(&a);
    sw_doc *root = NULL;
    int is_dsl = sw_is_dsl(path, text, len);
    int rc = is_dsl ? sw_dsl_load(&a, path, text, len, &root, &err) : sw_yaml_load(&a, path, text, len, &root, &err);
    int to_dsl = to ? !strcmp(to, "dsl") : !is_dsl;
    char *out = NULL;
    if (!rc && c.ndefines && apply_defines(&a, root, &c)) {
        sw_arena_free(&a);
        free(text);
        for (size_t i = 0; i < c.ndefines; i++) free((char *)c.defines[i].name);
        return 2;
    }
    if (!rc) rc = sw_doc_to_string(root, to_dsl, &out, &err);
    if (!rc) { /* the output must read back: a writer bug is not the user's fault */
        sw_arena b;
        sw_arena_init(&b);
        sw_doc *back;
        sw_error e2;
        int r2 = to_dsl ? sw_dsl_load(&b, "<fmt output>", out, strlen(out), &back, &e2)
                        : sw_yaml_load(&b, "<fmt output>", out, strlen(out), &back, &e2);
        sw_arena_free(&b);
        if (r2) {
            char m[1200];
            rc = sw__err(&err, SW_RUNTIME, "fmt produced text that does not read back: %s",
                         sw_error_format(&e2, m, sizeof m));
        }
    }
    if (!rc) {
        FILE *f = outp ? fopen(outp, "wb") : stdout;
        if (!f) {
            rc = sw__err(&err, SW_IO, "cannot write '%s': %s", outp, strerror(errno));
        } else {
            size_t n = strlen(out);
            if (fwrite(out, 1, n, f) != n) rc = sw__err(&err, SW_IO, "cannot write the output");
            if (outp && fclose(f) && !rc) rc = sw__err(&err, SW_IO, "cannot write '%s'", outp);
        }
    }
    free(out);
    free(text);
    sw_arena_free(&a);
    for (size_t i = 0; i < c.ndefines; i++) free((char *)c.defines[i].name);
    return rc ? cli_fail(&err) : 0;
}
