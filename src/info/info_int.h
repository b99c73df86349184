/* msign: the model built from an image another layer already read. */
#ifndef MSIGN_INFO_INFO_INT_H
#define MSIGN_INFO_INFO_INT_H

#include "macho/macho.h"
#include "msign/info.h"

/* The model of img, which it takes (freed with the model, or here on
 * failure): verify describes the very bytes it checked. */
int msign_info_adopt(struct msign_image *img, msign_info **out,
		     struct msign_diag *d);

#endif
