/* fake_int.h - what fake_kernels.c uses of fake_cuda.c (test code). */
#ifndef SW_FAKE_INT_H
#define SW_FAKE_INT_H

#include <pthread.h>
#include <stdint.h>

struct CUstream_st;
extern pthread_mutex_t fake_mu;
/* Under fake_mu: checks a launch into stream (its device, the device's health); counts
 * a launch that finds an error left in its thread. */
int fake_kernel_begin(void *stream, struct CUstream_st **s);
/* Queues fn(arg, device) on s (arg: malloc'd, freed after the run). */
void fake_kernel_enqueue(struct CUstream_st *s, void (*fn)(void *, int), void *arg);
/* The launcher's `return cudaGetLastError()` (clears it). */
int fake_kernel_end(void);
/* 1 when the kernel about to run on dev faults (injected); the device is poisoned. */
int fake_kernel_faults(int dev);
/* A fault of a running kernel on dev (a misaligned access). */
void fake_device_fault(int dev, int code);
void fake_note_preload(void);
/* Under fake_mu: a move kernel ran, packing / unpacking these bytes (staging). */
void fake_note_moved(uint64_t packed, uint64_t unpacked);

#endif
