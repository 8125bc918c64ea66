#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# pg_ztpd.sh ZTPD [ztpd options...]: ZTPD with the store on PostgreSQL, for
# the integration tests run with ZTP_TEST_PG (lib.sh makes $ZTPD and
# $ZTPD_FAULT call it). The data directory of --data gets a database of
# its own: a new one (ZTP_PG_PREFIX_<n>, listed in ZTP_PG_MAP) when the
# directory has no secret.key yet, that is a first start on it or on a
# directory made anew (the secrets in a store are sealed with that key);
# else the one it had. ztpd is then exec'd with the options it was given
# and --store URL after them: same pid, so the callers' $! is ztpd's, and
# the command line still reads "ztpd --data DIR ..." for pgrep -f. Without
# --data (ztpd --help, a refused option) ZTPD runs as it is.
set -euo pipefail
real=$1
shift
data="" prev=""
for a in "$@"; do
	[ "$prev" = --data ] && data=$a
	case $a in --data=*) data=${a#--data=} ;; esac
	prev=$a
done
[ -n "$data" ] || exec "$real" "$@"

: "${ZTP_TEST_PG:?} ${ZTP_SRC:?} ${ZTP_PG_MAP:?} ${ZTP_PG_PREFIX:?}"
# shellcheck source=../pg/pg.sh
. "$ZTP_SRC/tests/pg/pg.sh"
data=$(realpath -m "$data")
name=$(awk -v d="$data" '$1 == d { n = $2 } END { print n }' "$ZTP_PG_MAP")
if [ -z "$name" ] || [ ! -e "$data/secret.key" ]; then
	[ -z "$name" ] || pg_dropdb "$ZTP_TEST_PG" "$name" >&2
	name=${ZTP_PG_PREFIX}_$(($(wc -l <"$ZTP_PG_MAP") + 1))
	pg_createdb "$ZTP_TEST_PG" "$name" >&2
	echo "$data $name" >>"$ZTP_PG_MAP"
fi
url=$(pg_url "$ZTP_TEST_PG" "$name")
exec "$real" "$@" --store "$url"
