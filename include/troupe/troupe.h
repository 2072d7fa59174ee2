// SPDX-License-Identifier: MIT
//
// The umbrella header: include this to get troupe's whole public API.
#ifndef TROUPE_TROUPE_H
#define TROUPE_TROUPE_H

#include "troupe/common.h"
#include "troupe/error.h"
#include "troupe/msg.h"
#include "troupe/node.h"
#include "troupe/actor.h"
#include "troupe/request.h"
#include "troupe/client.h"
#include "troupe/limiter.h"
#include "troupe/gather.h"
#include "troupe/remote.h"
#include "troupe/fault.h"
#include "troupe/supervisor.h"
#include "troupe/io.h"
#include "troupe/offload.h"
#include "troupe/process.h"

#define TROUPE_VERSION_MAJOR 0
#define TROUPE_VERSION_MINOR 1
#define TROUPE_VERSION_PATCH 0

#endif
