/* msign: the version of the library that is running (include/msign/version.h;
 * the Makefile refuses to build when its four macros disagree). */
#include "msign/version.h"

const char *msign_version(void)
{
	return MSIGN_VERSION_STRING;
}
