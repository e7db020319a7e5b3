#include_next <asm/byteorder.h>
#include "../ukernel.h"
#define le64_to_cpup(p) (*(const u64 *)(p))
#define le32_to_cpup(p) (*(const u32 *)(p))
#define cpu_to_le64(x) ((__le64)(x))
#define cpu_to_le32(x) ((__le32)(x))
