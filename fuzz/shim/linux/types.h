#include_next <linux/types.h>
