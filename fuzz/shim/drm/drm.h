#include </usr/include/libdrm/drm.h>
