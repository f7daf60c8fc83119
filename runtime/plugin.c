/*
 * plugin.c - finding and loading a backend plugin (see plugin.h for where it looks).
 */
#define _GNU_SOURCE /* dl_iterate_phdr, RTLD_NODELETE */
#include "plugin.h"
#include "diag.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SW_PLUGIN_BIN_TO_LIB
#define SW_PLUGIN_BIN_TO_LIB "../lib" /* from the installed bin/ folder to the lib/ one */
#endif

/* The object (executable or shared library) whose code holds `addr`. */
typedef struct self_find {
    uintptr_t addr;
    int found, is_main;
    char path[PATH_MAX];
} self_find;

static int find_object(struct dl_phdr_info *info, size_t size, void *data) {
    self_find *f = data;
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
        if (f->addr < lo || f->addr >= lo + ph->p_memsz) continue;
        f->found = 1;
        /* the program itself has no name in the list: /proc/self/exe says where it is */
        f->is_main = !info->dlpi_name || !info->dlpi_name[0];
        snprintf(f->path, sizeof f->path, "%s", f->is_main ? "" : info->dlpi_name);
        return 1;
    }
    return 0;
}

/* The folder of the object that holds this code, into dir; 0 when it cannot be told. */
static int self_dir(char *dir, size_t cap, int *is_main) {
    self_find f;
    memset(&f, 0, sizeof f);
    f.addr = (uintptr_t)&sw_plugin_load;
    dl_iterate_phdr(find_object, &f);
    if (!f.found) return 0;
    char real[PATH_MAX];
    if (f.is_main) {
        ssize_t n = readlink("/proc/self/exe", real, sizeof real - 1);
        if (n <= 0) return 0;
        real[n] = 0;
    } else if (!realpath(f.path, real)) {
        return 0;
    }
    char *slash = strrchr(real, '/');
    if (!slash) return 0;
    *slash = 0;
    snprintf(dir, cap, "%s", real[0] ? real : "/");
    *is_main = f.is_main;
    return 1;
}

static const char *install_hint(const char *name) {
    if (!strcmp(name, "mpi")) return "install MPI (OpenMPI) or add the folder of its libmpi to LD_LIBRARY_PATH";
    if (!strcmp(name, "nccl"))
        return "install the CUDA runtime and NCCL (and a driver) or add their lib folders to LD_LIBRARY_PATH";
    return "install what it needs or add its folder to LD_LIBRARY_PATH";
}

/* A plugin file that exists but would not load: the loader's reason, without the
 * plugin's own path in front ("PATH: libnccl.so.2: cannot open ..."). */
static int load_failed(const char *name, const char *path, const char *why, sw_error *err) {
    size_t n = strlen(path);
    if (why && !strncmp(why, path, n) && !strncmp(why + n, ": ", 2)) why += n + 2;
    return sw__err(err, SW_UNSUPPORTED, "the %s backend needs %s (loading %s): %s", name, why ? why : "a library",
                   path, install_hint(name));
}

/* Checks the table against this build; fills ref. */
static int adopt(const char *name, const char *where, void *dl, sw_plugin_ref *ref, sw_error *err) {
    sw_plugin_entry_fn entry;
    void *sym = dlsym(dl, SW_PLUGIN_ENTRY);
    memcpy(&entry, &sym, sizeof entry); /* ISO C has no object-to-function pointer cast */
    const sw_plugin *api = sym ? entry() : NULL;
    const char *bad = NULL;
    if (!api) bad = "it has no " SW_PLUGIN_ENTRY;
    else if (api->abi != SW_PLUGIN_ABI || api->size < sizeof(sw_plugin)) bad = "its plugin interface differs";
    else if (!api->version || strcmp(api->version, SW_VERSION_STRING)) bad = "it is another version";
    else if (api->exec_size != sizeof(sw_exec) || api->backend_size != sizeof(sw_backend) ||
             api->plan_size != sizeof(sw_plan) || api->opts_size != sizeof(sw_session_opts))
        bad = "it is from another build";
    else if (!api->name || strcmp(api->name, name)) bad = "it is another backend's";
    if (bad) {
        int rc = sw__err(err, SW_UNSUPPORTED,
                         "the %s backend's plugin %s cannot be used: %s (this runtime is %s; plugin %s %s): install the "
                         "plugins of the same build next to libshardwave-runtime, or point SHARDWAVE_PLUGIN_DIR at them",
                         name, where, bad, SW_VERSION_STRING, api && api->name ? api->name : "?",
                         api && api->version ? api->version : "?");
        dlclose(dl);
        return rc;
    }
    ref->api = api;
    ref->dl = dl;
    return SW_OK;
}

int sw_plugin_load(const char *name, sw_plugin_ref *ref, sw_error *err) {
    if (!ref) return sw__err(err, SW_USAGE, "sw_plugin_load: NULL ref");
    memset(ref, 0, sizeof *ref);
    if (!name || !name[0] || strchr(name, '/')) return sw__err(err, SW_USAGE, "sw_plugin_load: bad name");
    char file[128];
    snprintf(file, sizeof file, "%s%s%s", SW_PLUGIN_PREFIX, name, SW_PLUGIN_SUFFIX);
    /* MPI implementations may load components of their own that expect libmpi's symbols
     * to be global (mpi4py loads it so); the CUDA libraries stay local */
    int flags = RTLD_NOW | RTLD_NODELETE | (!strcmp(name, "mpi") ? RTLD_GLOBAL : RTLD_LOCAL);

    /* the folders to look in, in order */
    char dirs[2][PATH_MAX];
    int ndirs = 0, is_main = 0;
    const char *env = getenv("SHARDWAVE_PLUGIN_DIR");
    if (env && env[0]) {
        snprintf(dirs[ndirs++], PATH_MAX, "%s", env);
    } else if (self_dir(dirs[0], PATH_MAX, &is_main)) {
        ndirs = 1;
        if (is_main) {
            int n = snprintf(dirs[1], PATH_MAX, "%s/%s", dirs[0], SW_PLUGIN_BIN_TO_LIB);
            if (n > 0 && n < PATH_MAX) ndirs = 2;
        }
    }
    char tried[1024] = "";
    size_t nt = 0;
    for (int i = 0; i < ndirs; i++) {
        char path[PATH_MAX + 128];
        int n = snprintf(path, sizeof path, "%s/%s", dirs[i], file);
        if (n < 0 || (size_t)n >= sizeof path) continue;
        if (nt < sizeof tried)
            nt += (size_t)snprintf(tried + nt, sizeof tried - nt, "%s%s", nt ? ", " : "", path);
        if (access(path, F_OK) != 0) continue;
        void *dl = dlopen(path, flags);
        if (!dl) return load_failed(name, path, dlerror(), err);
        return adopt(name, path, dl, ref, err);
    }
    /* then the loader's own path */
    void *dl = dlopen(file, flags);
    if (dl) return adopt(name, file, dl, ref, err);
    const char *why = dlerror();
    /* "FILE: cannot open shared object file": not there; anything else: it is there, but
     * it (or a library it needs) would not load */
    size_t fl = strlen(file);
    if (why && !(strncmp(why, file, fl) == 0 && strncmp(why + fl, ": cannot open shared object file", 32) == 0))
        return load_failed(name, file, why, err);
    return sw__err(err, SW_UNSUPPORTED,
                   "the %s backend needs its plugin %s, which is not installed: not in %s%s, nor on the loader path "
                   "(%s): install shardwave's plugins next to libshardwave-runtime, or set SHARDWAVE_PLUGIN_DIR",
                   name, file, ndirs ? tried : "the runtime's folder", env && env[0] ? " (SHARDWAVE_PLUGIN_DIR)" : "",
                   why ? why : "not found");
}

void sw_plugin_unload(sw_plugin_ref *ref) {
    if (!ref) return;
    if (ref->dl) dlclose(ref->dl);
    ref->dl = NULL;
    ref->api = NULL;
}
