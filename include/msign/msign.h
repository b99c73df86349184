/* msign: umbrella header. */
#ifndef MSIGN_H
#define MSIGN_H
#include "msign/err.h"
#include "msign/macho.h"
#include "msign/codesign.h"
#include "msign/sign.h"
#include "msign/version.h"
#endif
