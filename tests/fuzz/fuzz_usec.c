/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the host side of the module's security AT commands
 * (include/ztp/usec.h). The input is what a modem sends back on the serial
 * line: split into lines at CR and LF, as an AT layer does, and fed to the
 * answer reader of each of the three commands; the whole input is also one
 * +USECDEVINFO line, and (split at its first NUL) the two arguments of a
 * seal. Invariants: only the documented results, nothing after the final
 * result, the numbers 0 or 1, an error text bounded and printable, a seal
 * command only of valid arguments and within USEC_CMD_MAX.
 */
#include <string.h>

#include "fuzz.h"
#include "ztp/err.h"
#include "ztp/usec.h"

static void
check_text(const char *s)
{
	size_t n = strnlen(s, USEC_ERROR_MAX + 1), i;

	FUZZ_CHECK(n <= USEC_ERROR_MAX);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e);
}

static void
check_status(const struct usec_status *st)
{
	FUZZ_CHECK(st->registered <= 1 && st->claimed <= 1 && st->bootstrapped <= 1);
	FUZZ_CHECK(usec_status_describe(st) != NULL);
}

static void
fuzz_answer(enum usec_cmd cmd, const uint8_t *data, size_t size)
{
	struct usec_answer a;
	size_t start = 0, i;
	int rc = USEC_MORE, final = 0;

	usec_answer_init(&a, cmd);
	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\r' && data[i] != '\n')
			continue;
		rc = usec_answer_line(&a, (const char *)data + start, i - start);
		start = i + 1;
		if (final) {
			FUZZ_CHECK(rc == ZTP_EINVAL);
			continue;
		}
		FUZZ_CHECK(rc == USEC_MORE || rc == 0 || rc == ZTP_ECONFLICT ||
		    rc == ZTP_EMALFORMED);
		if (rc == USEC_MORE) {
			FUZZ_CHECK(!a.done);
			continue;
		}
		final = 1;
		FUZZ_CHECK(a.done);
		check_text(a.error);
		if (rc == 0) {
			FUZZ_CHECK(a.error[0] == '\0');
			if (cmd == USEC_STATUS) {
				FUZZ_CHECK(a.seen && !a.bad);
				check_status(&a.status);
			}
		}
		if (cmd != USEC_STATUS)
			FUZZ_CHECK(!a.seen);
	}
}

static void
fuzz_status_line(const uint8_t *data, size_t size)
{
	struct usec_status st = { 9, 9, 9 };
	int rc;

	rc = usec_status_parse((const char *)data, size, &st);
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_ENOENT || rc == ZTP_EMALFORMED);
		FUZZ_CHECK(st.registered == 9 && st.claimed == 9 && st.bootstrapped == 9);
		return;
	}
	check_status(&st);
	/* the line ends with the three numbers, as they were parsed */
	FUZZ_CHECK(size >= 18);
	FUZZ_CHECK(data[size - 5] == '0' + st.registered && data[size - 4] == ',');
	FUZZ_CHECK(data[size - 3] == '0' + st.claimed && data[size - 2] == ',');
	FUZZ_CHECK(data[size - 1] == '0' + st.bootstrapped);
}

static void
fuzz_seal(const uint8_t *data, size_t size)
{
	char profile[USEC_CMD_MAX], serial[USEC_CMD_MAX], out[USEC_CMD_MAX];
	size_t p = strnlen((const char *)data, size), s;
	int rc;

	if (p >= sizeof(profile) || p == size)
		return;
	s = strnlen((const char *)data + p + 1, size - p - 1);
	if (s >= sizeof(serial))
		return;
	memcpy(profile, data, p);
	profile[p] = '\0';
	memcpy(serial, data + p + 1, s);
	serial[s] = '\0';
	memset(out, 'z', sizeof(out));
	rc = usec_seal_cmd(profile, serial, out, sizeof(out));
	if (rc != 0) {
		FUZZ_CHECK(rc == ZTP_EINVAL && out[0] == 'z');
		return;
	}
	FUZZ_CHECK(p == USEC_PROFILE_LEN && s >= 1 && s <= USEC_SERIAL_MAX);
	FUZZ_CHECK(strlen(out) == 16 + p + 3 + s + 1);
	FUZZ_CHECK(memchr(serial, '"', s) == NULL);
	FUZZ_CHECK(memcmp(out + 16, profile, p) == 0 && memcmp(out + 16 + p + 3, serial, s) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_answer(USEC_SEAL, data, size);
	fuzz_answer(USEC_STATUS, data, size);
	fuzz_answer(USEC_HEARTBEAT, data, size);
	fuzz_status_line(data, size);
	fuzz_seal(data, size);
	return 0;
}
