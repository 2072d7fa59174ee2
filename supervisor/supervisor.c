// SPDX-License-Identifier: MIT
//
// The supervisor layer (layer 3, on actors/ and transport/). Supervision
// trees arrive with their own issue; this file holds the layer's place in
// the build so that the layering (supervisor -> actors -> transport) is
// enforced from the start.
#include "node_internal.h"

// Keeps the translation unit non-empty; not exported.
int tr_supervisor_layer_present(void);
int tr_supervisor_layer_present(void)
{
    return 1;
}
