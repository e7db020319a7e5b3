#include "../ukernel.h"
