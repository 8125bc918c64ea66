/* SPDX-License-Identifier: Apache-2.0 */
#include "store.h"
#include "store_int.h"
