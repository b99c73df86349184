/* msign: umbrella header. */
#ifndef MSIGN_H
#define MSIGN_H
#include "msign/err.h"
#include "msign/version.h"
#include "msign/cs.h"
#include "msign/info.h"
#endif
