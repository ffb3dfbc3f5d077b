#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H
/* Heap allocations made by this process so far (malloc, calloc, realloc,
 * posix_memalign, aligned_alloc, memalign), counted by replacing those
 * functions in the benchmark executable. */
unsigned long long ap_allocation_count(void);
#endif
