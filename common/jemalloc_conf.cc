// jemalloc's options for the programs that link it (CMakeLists.txt: trib_use_jemalloc). It
// reads this symbol when it starts; MALLOC_CONF in the environment still overrides it.
//
// oversize_threshold:0 — by default jemalloc serves every request of 8 MiB or more from an
// arena of its own that hands freed memory back to the kernel at once. Ingest's write batches
// cross that line (a group of 512 generator events is about 8 MB, and the commit thread
// writes a sorted copy of as much), so every group's batches were faulted in page by page and
// zeroed by the kernel again. Served from the ordinary arenas, their memory is reused by the
// next group: 60,000 events ingested with a third less system time (docs/benchmarks.md).
//
// thp:always, metadata_thp:auto — jemalloc asks for transparent huge pages
// (madvise(MADV_HUGEPAGE)) on the memory it maps, and on its own metadata once that grows.
// Kernels set to THP "madvise", as Debian's is, then fault that memory in 2 MiB at a time
// rather than 4 KiB. Ingest touches fresh memory all the time (write batches, memtables,
// parsed events), and on a virtual machine a page fault costs far more than the page's use:
// 11-13 µs a 4 KiB fault measured here, against 0.26 µs per 4 KiB with huge pages. Where the
// kernel has THP off or lacks it, jemalloc leaves the mappings as they are.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's.
const char* malloc_conf = "oversize_threshold:0,thp:always,metadata_thp:auto";
}
