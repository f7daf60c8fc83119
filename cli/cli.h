/*
 * cli.h - shared pieces of the shardwave command: option helpers, error printing and
 * exit codes (0 ok, 1 bad input, 2 bad usage, 3 runtime failure).
 */
#ifndef SW_CLI_H
#define SW_CLI_H

#include <stdio.h>
#include "load.h"
#include "shardwave.h"
#include "units.h"

#define CLI_MAX_DEFINES 64

typedef struct cli_common {
    sw_define defines[CLI_MAX_DEFINES];
    size_t ndefines;
    sw_load_opts load;
} cli_common;

/* Exit status for a library status. */
int cli_exit_code(int status);
/* Prints an error to stderr ("FILE:LINE:COL: error: MSG" plus the source line and a
 * caret when it has a position) and returns its exit status. */
int cli_fail(const sw_error *err);
/* Prints "shardwave: error: MSG" and returns 2. */
int cli_usage_error(const char *fmt, ...);

/* Consumes -D NAME=VALUE / -DNAME=VALUE at argv[*i]; returns 1 when consumed, 0 when
 * argv[*i] is not a define, -1 after printing a usage error. */
int cli_take_define(cli_common *c, int argc, char **argv, int *i);
/* Loads a layout file with the defines. */
int cli_load(cli_common *c, const char *path, sw_ir *ir);

/* Progress on stderr for commands that can take long (compile, run): nothing during the
 * first second, then a line per stage and at most two a second for steps inside one;
 * nothing at all with --quiet.  Never on stdout, so never in a --json output. */
typedef struct cli_progress {
    const char *cmd;
    double t0, last, after; /* after: seconds of silence (SHARDWAVE_PROGRESS_AFTER, default 1) */
    int quiet;
    const char *stage; /* the stage a line was last printed for */
} cli_progress_t;
void cli_progress_init(cli_progress_t *pr, const char *cmd, int quiet);
/* A stage starts (done < 0) or advances (done of total; total 0: unknown).  The
 * signature of sw_compile_params.progress, ctx a cli_progress. */
void cli_progress(void *ctx, const char *stage, long done, long total);

/* Writes s as a JSON string (with quotes). */
void cli_json_str(FILE *f, const char *s);


struct sw_plan;
/* The compile summary: transfers, tasks, waves, bytes, loads, time vs lower bound. */
void cli_print_plan_summary(const struct sw_plan *p);

int cmd_check(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_layout(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_dot(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_fmt(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_init(int argc, char **argv);

#endif
