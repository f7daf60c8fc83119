/* shardwave - the command-line tool.  Dispatches to one function per command. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"check", cmd_check, "parse and validate a layout file; print a summary"},
    {"layout", cmd_layout, "print the local tensors and pieces of one rank"},
    {"compile", cmd_compile, "compile a sync into a plan of waves"},
    {"show", cmd_show, "print a compiled plan (its waves and tasks), or one rank's part"},
    {"dot", cmd_dot, "the task DAG of a plan in Graphviz DOT, waves as clusters"},
    {"run", cmd_run, "execute a plan (local, mpi or nccl backend), optionally validated"},
    {"verify", cmd_verify, "statically verify a compiled plan"},
    {"sim", cmd_sim, "simulate a plan with the cost model; per-wave table, Gantt SVG"},
    {"fmt", cmd_fmt, "print a layout file as canonical YAML or as the DSL"},
    {"init", cmd_init, "write a layout file from a Hugging Face config.json and framework presets"},
};

static void usage(FILE *f) {
    fprintf(f,
            "usage: shardwave COMMAND [ARGS...]\n"
            "\n"
            "shardwave compiles weight-sync schedules between parallel layouts of a model\n"
            "(trainer -> inference engines) and runs them.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "  shardwave COMMAND --help   the options of a command\n"
            "  shardwave --version        the version\n"
            "\n"
            "Exit status: 0 ok, 1 bad input, 2 bad usage, 3 runtime failure.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("shardwave %s (layout language version 1)\n", SW_VERSION_STRING);
        return 0;
    }
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(cmd, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "shardwave: error: unknown command '%s' (see shardwave --help)\n", cmd);
    return 2;
}
