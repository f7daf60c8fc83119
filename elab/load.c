/*
 * load.c - a layout file (YAML or the DSL) to a checked IR: read, parse with the front
 * end the file calls for, elaborate, check coverage (see load.h).
 */
#include "load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coverage.h"
#include "dsl_load.h"
#include "yaml_load.h"

int sw_is_dsl(const char *path, const char *text, size_t len) {
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && strchr(dot, '/')) dot = NULL;
    if (dot && !strcmp(dot, ".sw")) return 1;
    if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml"))) return 0;
    return sw_dsl_sniff(text, len);
}

int sw_load_text(const char *path, const char *text, size_t len, const sw_load_opts *opts, sw_ir *ir,
                 sw_error *err) {
    memset(ir, 0, sizeof *ir);
    if (len > (size_t)SW_MAX_INPUT_BYTES)
        return sw__err(err, SW_INPUT, "'%s' has %zu bytes: a layout file has at most %lld (%lld MiB, the input limit)",
                       path, len, SW_MAX_INPUT_BYTES, SW_MAX_INPUT_BYTES >> 20);
    sw_arena_init(&ir->arena);
    sw_doc *root;
    int rc = sw_is_dsl(path, text, len) ? sw_dsl_load(&ir->arena, path, text, len, &root, err)
                                        : sw_yaml_load(&ir->arena, path, text, len, &root, err);
    if (!rc) rc = sw_elaborate(root, path, opts, ir, err);
    if (!rc) rc = sw_coverage_check(ir, err);
    if (rc) sw_ir_free(ir);
    return rc;
}

int sw_read_input(const char *path, char **text, size_t *len, sw_error *err) {
    *text = NULL;
    *len = 0;
    /* nonblocking: opening a FIFO would wait for a writer; only regular files are read */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) return sw__err(err, SW_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int dir = S_ISDIR(st.st_mode);
        close(fd);
        return sw__err(err, SW_IO, "cannot read '%s': %s", path,
                       dir ? "it is a directory" : "not a regular file (a device, pipe or socket); give a file");
    }
    if ((long long)st.st_size > SW_MAX_INPUT_BYTES) {
        close(fd);
        return sw__err(err, SW_INPUT, "'%s' has %lld bytes: a layout file has at most %lld (%lld MiB, the input limit)",
                       path, (long long)st.st_size, SW_MAX_INPUT_BYTES, SW_MAX_INPUT_BYTES >> 20);
    }
    /* the size may change while reading: read at most one byte past the limit */
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n > (size_t)SW_MAX_INPUT_BYTES) {
            free(buf);
            close(fd);
            return sw__err(err, SW_INPUT, "'%s' has more than %lld bytes: a layout file has at most that many (%lld "
                           "MiB, the input limit)", path, SW_MAX_INPUT_BYTES, SW_MAX_INPUT_BYTES >> 20);
        }
        if (SW_GROW(buf, cap, n + 65536)) {
            free(buf);
            close(fd);
            return sw__err(err, SW_NOMEM, "out of memory reading '%s'", path);
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return sw__err(err, SW_IO, "cannot read '%s': %s", path, strerror(e));
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    *text = buf;
    *len = n;
    return SW_OK;
}

int sw_load_file(const char *path, const sw_load_opts *opts, sw_ir *ir, sw_error *err) {
    memset(ir, 0, sizeof *ir);
    char *buf;
    size_t len;
    SW_CHECK(sw_read_input(path, &buf, &len, err));
    int rc = sw_load_text(path, buf, len, opts, ir, err);
    free(buf);
    return rc;
}
