/*
 * bounds.h - the fixed sizes every layer agrees on.
 *
 * Tensors have at most SW_MAXDIM dims (the stacked dim included), meshes at most
 * SW_MAXAXES axes.  Input limits that protect against runaway inputs live beside them.
 */
#ifndef SW_BOUNDS_H
#define SW_BOUNDS_H

#define SW_MAXDIM 8   /* dims of a tensor, stacked dim included */
#define SW_MAXAXES 8  /* axes of a mesh */

#endif
