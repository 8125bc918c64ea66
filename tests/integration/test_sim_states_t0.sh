#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# test_sim_states.sh, the whole of it, with ztp-sim as a T=0 card (--t0):
# every state is read with CC, 6104 and GET RESPONSE, as the public SAFE2
# device library reads it (lib_sim.sh's card).
SIM_MODE=t0 exec bash "$(dirname "$0")/test_sim_states.sh"
