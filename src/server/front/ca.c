/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CRL: signed by the signer process from the store's revocations and
 * published in the store, so that every worker and every ztpd sharing the
 * database serves the same one at GET /crl.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"
#include "clock.h"
#include "hex.h"
#include "log.h"
#include "server.h"
#include "signer_client.h"
#include "store.h"
#include "ztp/err.h"

/* The unexpired revoked certificates, grown as the store's rows come. */
struct revoked_list {
	struct signer_revoked *e;
	size_t n, cap;
	int err; /* ZTP_ERANGE: over SIGNER_CRL_TOTAL_MAX; ZTP_ENOMEM */
};

/*
 * One revoked certificate into the list (a store_cert_cb): the array
 * doubles as needed, up to SIGNER_CRL_TOTAL_MAX entries; past that, or
 * without memory, it stops the listing with l->err set.
 */
static int
collect(const struct store_cert *c, void *arg)
{
	struct revoked_list *l = arg;
	struct signer_revoked *e;
	size_t len, cap;

	if (l->n == l->cap) {
		if (l->cap == SIGNER_CRL_TOTAL_MAX) {
			l->err = ZTP_ERANGE;
			return 1;
		}
		cap = l->cap == 0 ? 1024 : 2 * l->cap;
		if (cap > SIGNER_CRL_TOTAL_MAX)
			cap = SIGNER_CRL_TOTAL_MAX;
		if ((e = realloc(l->e, cap * sizeof(*e))) == NULL) {
			l->err = ZTP_ENOMEM;
			return 1;
		}
		l->e = e;
		l->cap = cap;
	}
	e = &l->e[l->n];
	memset(e, 0, sizeof(*e));
	if (hex_decode(c->serial, strlen(c->serial), e->serial, sizeof(e->serial), &len) != 0 ||
	    len == 0 || e->serial[0] == 0) {
		log_warnx("CRL: certificate %s has a malformed serial, left out", c->serial);
		return 0;
	}
	e->serial_len = len;
	e->reason = (uint8_t)c->reason;
	e->revoked_at = c->revoked_at > 0 ? c->revoked_at : 1;
	l->n++;
	return 0;
}

/*
 * One CRL update at a time in this process: two at once could publish an
 * older list under a newer number (the newer CRL would then be refused).
 */
static pthread_mutex_t crl_lock = PTHREAD_MUTEX_INITIALIZER;

static int crl_update(struct server *srv, struct store *st, int force);

int
ca_crl_update(struct server *srv, struct store *st, int force)
{
	int rc;

	pthread_mutex_lock(&crl_lock);
	rc = crl_update(srv, st, force);
	pthread_mutex_unlock(&crl_lock);
	return rc;
}

static int
crl_update(struct server *srv, struct store *st, int force)
{
	struct store_crl cur, crl;
	struct revoked_list l = { 0 };
	int64_t revs, t0, now = (int64_t)time(NULL);
	int rc, have;

	rc = store_crl_get(st, &cur);
	if (rc != 0 && rc != ZTP_ENOENT)
		return rc;
	have = rc == 0;
	free(cur.der);
	if ((rc = store_crl_revocations(st, &revs)) != 0)
		return rc;
	if (have && !force && cur.revocations >= revs &&
	    cur.next_update - now > srv->cfg->crl_validity / 2)
		return 0;
	/*
	 * The number first, then the revocations: a CRL then holds every
	 * revocation committed before its number was drawn. crl_lock orders
	 * the updates of this process only; another ztpd on the same
	 * database may read the list before a revocation and draw its
	 * number after the revoking node's update drew its own: in the other
	 * order, the higher number (the one store_crl_put keeps) went with
	 * the older list, and the CRL lacked that revocation until the next
	 * update. In this order, a number drawn after a revocation's
	 * commit goes with a list that holds it.
	 */
	memset(&crl, 0, sizeof(crl));
	if ((rc = store_crl_next_number(st, &crl.number)) != 0 ||
	    (rc = store_crl_revocations(st, &revs)) != 0)
		goto out;
	if ((rc = store_cert_revoked_list(st, now, collect, &l)) < 0)
		goto out;
	if (l.err == ZTP_ERANGE)
		log_warnx("CRL: more than %d revoked certificates that have not expired;"
			  " the CRL cannot hold them", SIGNER_CRL_TOTAL_MAX);
	if ((rc = l.err) != 0)
		goto out;
	t0 = clock_mono_ms();
	rc = signer_sign_crl(srv->signer, crl.number, (uint32_t)srv->cfg->crl_validity, l.e, l.n,
	    &crl.der, &crl.der_len);
	if (rc != 0) {
		log_warnx("CRL: the signer did not sign it: %s", ztp_strerror(rc));
		goto out;
	}
	crl.this_update = now;
	crl.next_update = now + srv->cfg->crl_validity;
	crl.revocations = revs;
	rc = store_crl_put(st, &crl);
	free(crl.der);
	if (rc == 0)
		log_info("CRL %llu signed: %zu revoked certificates, %zu bytes, in %lld ms,"
			 " next update in %d s",
		    (unsigned long long)crl.number, l.n, crl.der_len,
		    (long long)(clock_mono_ms() - t0), srv->cfg->crl_validity);
out:
	free(l.e);
	return rc;
}

int
ca_crl_der(struct store *st, uint8_t **der, size_t *len)
{
	struct store_crl crl;
	int rc;

	if ((rc = store_crl_get(st, &crl)) != 0)
		return rc;
	*der = crl.der;
	*len = crl.der_len;
	return 0;
}
