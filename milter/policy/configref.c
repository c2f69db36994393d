/*
 * configref.c - the lifetime of a parsed config (config.h): reference
 * counts, and the one installed config the milter's callbacks read while a
 * reload swaps in the next.
 */
#include "config.h"
#include "lib/base/util.h"

#include <pthread.h>
#include <stdlib.h>

struct rg_config *rg_config_ref(struct rg_config *c)
{
	if (c != NULL)
		__atomic_add_fetch(&c->refcount, 1, __ATOMIC_RELAXED);
	return c;
}

void rg_config_unref(struct rg_config *c)
{
	if (c == NULL || __atomic_sub_fetch(&c->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < rg_config_schema_count; i++) {
		const struct rg_conf_key *k = &rg_config_schema[i];
		void *field = (char *)c + k->offset;

		switch (k->type) {
		case RG_CONF_STRING:
			free(*(char **)field);
			break;
		case RG_CONF_CIDR_LIST:
			rg_cidr_list_free(field);
			break;
		case RG_CONF_DOMAIN_LIST:
			rg_domain_list_free(field);
			break;
		case RG_CONF_REPLY:
			free(((struct rg_reply *)field)->text);
			break;
		case RG_CONF_DNSBL_LIST:
			rg_dnsbl_list_free(field);
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < rg_config_schema_count; i++) {
		free(c->origin[i].raw);
		free(c->origin[i].marks);
	}
	free(c->origin);
	if (c->runtime != NULL && c->runtime_free != NULL)
		c->runtime_free(c->runtime);
	free(c->path);
	free(c);
}

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rg_config *current_config;

struct rg_config *rg_config_current(void)
{
	struct rg_config *c;

	pthread_mutex_lock(&current_lock);
	c = rg_config_ref(current_config);
	pthread_mutex_unlock(&current_lock);
	return c;
}

void rg_config_install(struct rg_config *c)
{
	struct rg_config *old;

	pthread_mutex_lock(&current_lock);
	old = current_config;
	current_config = c;
	pthread_mutex_unlock(&current_lock);
	rg_config_unref(old);
}
