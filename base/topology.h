/*
 * topology.h - link classes and the alpha-beta cost of each (the `topology` section).
 *
 * Shared by the IR (what the user wrote), the plan (what the compiler assumed) and the
 * cost model.  Plain data, no functions.
 */
#ifndef SW_TOPOLOGY_H
#define SW_TOPOLOGY_H

#include <stdint.h>

typedef struct sw_link {
    double bandwidth; /* bytes per second */
    double latency;   /* seconds */
} sw_link;

/* Two ranks on one device, on one host, or on two hosts. */
typedef enum sw_link_class { SW_LINK_DEVICE, SW_LINK_HOST, SW_LINK_NETWORK, SW_LINK_COUNT } sw_link_class;

typedef struct sw_topology {
    sw_link link[SW_LINK_COUNT];
    int64_t gpus_per_nic; /* devices sharing one NIC (1: one NIC per device) */
} sw_topology;

#endif
