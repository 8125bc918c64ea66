#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# test_sim_seed.sh, the whole of it, with ztp-sim as a T=0 card (--t0):
# where the card answers 61xx the test sends GET RESPONSE as the public
# SAFE2 device library does, and checks both answers (lib_sim.sh's card).
SIM_MODE=t0 exec bash "$(dirname "$0")/test_sim_seed.sh"
