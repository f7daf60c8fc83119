#include <stdio.h>
#include <string.h>
#include "shardwave.h"

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--version")) {
        printf("shardwave %s\n", SW_VERSION_STRING);
        return 0;
    }
    fprintf(stderr, "shardwave: error: no command (try --help)\n");
    return 2;
}
