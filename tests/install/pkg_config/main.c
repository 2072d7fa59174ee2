// SPDX-License-Identifier: MIT
//
// Install smoke check for troupe.pc: built outside troupe's tree by a plain
// Makefile that asks pkg-config for troupe's flags. It uses only the public
// API: creates a node and a client, destroys both, and prints "ok" (exit 0)
// or the failing call's error name (exit 1).
#include <stdio.h>

#include <troupe/troupe.h>

int main(void)
{
    troupe_node *node = NULL;
    int rc = troupe_node_new(&node, NULL);
    if (rc != 0) {
        fprintf(stderr, "troupe_node_new: %s\n", troupe_errname(rc));
        return 1;
    }
    troupe_client *client = NULL;
    rc = troupe_client_new(node, &client);
    if (rc != 0) {
        fprintf(stderr, "troupe_client_new: %s\n", troupe_errname(rc));
        troupe_node_destroy(&node);
        return 1;
    }
    troupe_client_destroy(&client);
    rc = troupe_node_destroy(&node);
    if (rc != 0) {
        fprintf(stderr, "troupe_node_destroy: %s\n", troupe_errname(rc));
        return 1;
    }
    if (client != NULL || node != NULL) {
        fprintf(stderr, "destroy did not clear the caller's pointer\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}
