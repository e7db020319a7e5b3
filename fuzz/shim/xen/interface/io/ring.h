/* The fuzzer has no shared ring: the ring types are not needed. */
#define DEFINE_RING_TYPES(name, req, rsp) struct name##_no_ring
