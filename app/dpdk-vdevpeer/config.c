/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --config FILE: an INI file read with librte_cfgfile ('#' starts a
 * comment). librte_cfgfile keeps no line numbers and skips lines it does
 * not understand, so the file is first scanned here with the same rules:
 * every structural mistake and every bad value gets one line naming the
 * file, the line, the section and the key.
 *
 *   [eal]              read before EAL starts (config_eal)
 *   args = -l 0,1 ...  EAL options, when the command line has none
 *   hugepages = N      2 MiB pages the system must have reserved
 *
 *   [port NAME]        one per port; NAME is how [forwarding] pairs name it
 *   devargs = ...      the device, as for --vdev / port attach (required)
 *   mtu = N            optional
 *   host_if = yes|NAME a guest port's kernel interface (--host-if)
 *   role = guest|uplink uplink: a port to the world (--uplink)
 *   rx_mode = poll|adaptive|interrupt   this port's (--rx-mode)
 *
 *   [forwarding]
 *   mode = io|macswap|rxonly|txonly|bridge
 *   pairs = A:B C:D    ports by section NAME, id, bind or ethdev name
 *   lcores = 1,2       worker lcores that forward (default: all workers)
 *   rxq, txq, nb_desc, burst, mbufs, wait_links, rx_idle_us = N
 *   rx_mode = poll|adaptive|interrupt
 *
 *   [bridge]
 *   aging = SEC, entries = N, static = MAC@PORT ...
 *
 *   [stats]
 *   period = SEC
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include <rte_pmd_vdevpeer.h>

#include "app_params.h"
#include "config.h"
#include "fwd.h"
#include "options.h"
#include "ports.h"
#include "vdevpeer_app.h"

#define CFG_COMMENT '#'
#define CFG_MAX_KEYS 256

struct cfg_key {
	char section[CFG_NAME_LEN];
	char key[CFG_NAME_LEN];     /* "" for the section's own line */
	unsigned int line;
};

struct cfg_ctx {
	const char *path;
	struct rte_cfgfile *cfg;
	struct cfg_key keys[CFG_MAX_KEYS];
	unsigned int nb_keys;
	/* [port NAME] sections: name -> port id */
	char port_names[RTE_MAX_ETHPORTS][CFG_NAME_LEN];
	uint16_t port_ids[RTE_MAX_ETHPORTS];
	unsigned int nb_ports;
};

static unsigned int
key_line(const struct cfg_ctx *c, const char *section, const char *key)
{
	for (unsigned int i = 0; i < c->nb_keys; i++)
		if (strcmp(c->keys[i].section, section) == 0 &&
		    strcmp(c->keys[i].key, key) == 0)
			return c->keys[i].line;
	return 0;
}

static int
cfg_error(const struct cfg_ctx *c, const char *section, const char *key,
	  const char *value, const char *why)
{
	unsigned int line = key_line(c, section, key);

	fprintf(stderr, "%s: %s:%u: [%s]%s%s: ", APP_NAME, c->path, line, section,
		key[0] != '\0' ? " " : "", key);
	if (value != NULL)
		fprintf(stderr, "bad value '%s': ", value);
	fprintf(stderr, "%s\n", why);
	return -EINVAL;
}

static char *
strip(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* The structure of the file, with line numbers; librte_cfgfile's rules. */
static int
cfg_scan(struct cfg_ctx *c)
{
	char buf[CFG_NAME_LEN + CFG_VALUE_LEN + 4];
	char section[CFG_NAME_LEN] = "";
	unsigned int line = 0;
	int ret = 0;
	FILE *f;

	f = fopen(c->path, "r");
	if (f == NULL) {
		fprintf(stderr, "%s: --config %s: %s\n", APP_NAME, c->path, strerror(errno));
		return -EINVAL;
	}
	while (ret == 0 && fgets(buf, sizeof(buf), f) != NULL) {
		char *s, *eq, *hash;
		struct cfg_key *k;

		line++;
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "%s: %s:%u: line longer than %zu characters\n",
				APP_NAME, c->path, line, sizeof(buf) - 2);
			ret = -EINVAL;
			break;
		}
		hash = strchr(buf, CFG_COMMENT);
		if (hash != NULL)
			*hash = '\0';
		s = strip(buf);
		if (*s == '\0')
			continue;
		if (c->nb_keys == CFG_MAX_KEYS) {
			fprintf(stderr, "%s: %s:%u: more than %u lines of settings\n",
				APP_NAME, c->path, line, CFG_MAX_KEYS);
			ret = -EINVAL;
			break;
		}
		k = &c->keys[c->nb_keys];
		k->line = line;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (end == NULL || strip(end + 1)[0] != '\0') {
				fprintf(stderr, "%s: %s:%u: '%s': a section is [name]\n",
					APP_NAME, c->path, line, s);
				ret = -EINVAL;
				break;
			}
			*end = '\0';
			s = strip(s + 1);
			if (*s == '\0' || strlen(s) >= CFG_NAME_LEN) {
				fprintf(stderr, "%s: %s:%u: [%s]: section name empty or "
					"too long\n", APP_NAME, c->path, line, s);
				ret = -EINVAL;
				break;
			}
			if (key_line(c, s, "") != 0) {
				fprintf(stderr, "%s: %s:%u: [%s]: section already given at "
					"line %u\n", APP_NAME, c->path, line, s,
					key_line(c, s, ""));
				ret = -EINVAL;
				break;
			}
			snprintf(section, sizeof(section), "%s", s);
			snprintf(k->section, sizeof(k->section), "%s", s);
			k->key[0] = '\0';
			c->nb_keys++;
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			fprintf(stderr, "%s: %s:%u: '%s': expected key = value or "
				"[section]\n", APP_NAME, c->path, line, s);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		if (section[0] == '\0') {
			fprintf(stderr, "%s: %s:%u: %s: a key before the first "
				"[section]\n", APP_NAME, c->path, line, strip(s));
			ret = -EINVAL;
			break;
		}
		snprintf(k->section, sizeof(k->section), "%s", section);
		snprintf(k->key, sizeof(k->key), "%s", strip(s));
		if (k->key[0] == '\0' || strip(eq + 1)[0] == '\0') {
			fprintf(stderr, "%s: %s:%u: [%s] %s: empty %s\n", APP_NAME,
				c->path, line, section, k->key,
				k->key[0] == '\0' ? "key" : "value");
			ret = -EINVAL;
			break;
		}
		if (key_line(c, section, k->key) != 0) {
			fprintf(stderr, "%s: %s:%u: [%s] %s: already set at line %u\n",
				APP_NAME, c->path, line, section, k->key,
				key_line(c, section, k->key));
			ret = -EINVAL;
			break;
		}
		c->nb_keys++;
	}
	fclose(f);
	return ret;
}

static const char *
cfg_get(const struct cfg_ctx *c, const char *section, const char *key)
{
	return rte_cfgfile_get_entry(c->cfg, section, key);
}

static int
cfg_uint(const struct cfg_ctx *c, const char *section, const char *key,
	 unsigned long min, unsigned long max, unsigned long *out)
{
	const char *v = cfg_get(c, section, key);
	char why[64], *end;
	unsigned long n;

	if (v == NULL)
		return 1;   /* not given */
	if (v[0] >= '0' && v[0] <= '9') {
		errno = 0;
		n = strtoul(v, &end, 10);
		if (*end == '\0' && errno == 0 && n >= min && n <= max) {
			*out = n;
			return 0;
		}
	}
	snprintf(why, sizeof(why), "expected an integer in %lu..%lu", min, max);
	return cfg_error(c, section, key, v, why);
}

/* Every key of the section must be one of known[]. */
static int
cfg_known_keys(const struct cfg_ctx *c, const char *section, const char *const *known)
{
	for (unsigned int i = 0; i < c->nb_keys; i++) {
		const struct cfg_key *k = &c->keys[i];
		unsigned int j;

		if (strcmp(k->section, section) != 0 || k->key[0] == '\0')
			continue;
		for (j = 0; known[j] != NULL; j++)
			if (strcmp(known[j], k->key) == 0)
				break;
		if (known[j] == NULL) {
			char why[256];
			size_t used = 0;

			used += snprintf(why, sizeof(why), "unknown key (known:");
			for (j = 0; known[j] != NULL && used < sizeof(why); j++)
				used += snprintf(why + used, sizeof(why) - used, " %s", known[j]);
			if (used < sizeof(why))
				snprintf(why + used, sizeof(why) - used, ")");
			return cfg_error(c, section, k->key, NULL, why);
		}
	}
	return 0;
}

static const char *const port_keys[] = { "devargs", "mtu", "host_if", "role", "rx_mode", NULL };
/*
 * host_if = yes|NAME: the guest port gets a kernel interface (as
 * --host-if BIND[=NAME]); role = guest|uplink (uplink: as --uplink).
 * The strings live as long as the app, like argv.
 */
static int
cfg_port_role(const struct cfg_ctx *c, const char *section, struct app_params *p,
	      uint16_t port)
{
	const char *bind = rte_pmd_vdevpeer_bind_name(port);
	const char *v;
	char spec[RTE_ETH_NAME_MAX_LEN + 32];

	v = cfg_get(c, section, "host_if");
	if (v != NULL) {
		if (bind == NULL)
			return cfg_error(c, section, "host_if", v, "only a guest "
					 "(net_vdevpeer) port has a host interface");
		if (strcmp(v, "yes") == 0)
			snprintf(spec, sizeof(spec), "%s", bind);
		else if (strlen(v) > 15 || strchr(v, '/') != NULL || strchr(v, ' ') != NULL)
			return cfg_error(c, section, "host_if", v, "yes, or an "
					 "interface name of 1..15 characters");
		else
			snprintf(spec, sizeof(spec), "%s=%s", bind, v);
		if (p->nb_hostifs == RTE_DIM(p->hostifs))
			return cfg_error(c, section, "host_if", v, "too many host interfaces");
		p->hostifs[p->nb_hostifs++] = strdup(spec);
	}
	v = cfg_get(c, section, "role");
	if (v == NULL)
		return 0;
	if (strcmp(v, "guest") == 0) {
		if (bind == NULL)
			return cfg_error(c, section, "role", v, "not a net_vdevpeer port");
		return 0;
	}
	if (strcmp(v, "uplink") != 0)
		return cfg_error(c, section, "role", v, "expected guest or uplink");
	if (bind != NULL)
		return cfg_error(c, section, "role", v, "a guest port cannot be an uplink");
	if (rte_eth_dev_get_name_by_port(port, spec) != 0 ||
	    p->nb_uplinks == RTE_DIM(p->uplinks))
		return cfg_error(c, section, "role", v, "too many uplinks");
	p->uplinks[p->nb_uplinks++] = strdup(spec);
	return 0;
}

static int
cfg_port(struct cfg_ctx *c, const char *section, struct app_params *p)
{
	const char *name = section + strlen("port ");
	const char *devargs, *rx_mode;
	bool before[RTE_MAX_ETHPORTS] = { false };
	unsigned long mtu = 0;
	uint16_t port, found = RTE_MAX_ETHPORTS;
	int ret;

	while (*name == ' ')
		name++;
	if (*name == '\0')
		return cfg_error(c, section, "", NULL, "a port section is [port NAME]");
	ret = cfg_known_keys(c, section, port_keys);
	if (ret != 0)
		return ret;
	devargs = cfg_get(c, section, "devargs");
	if (devargs == NULL)
		return cfg_error(c, section, "", NULL, "no devargs key: "
				 "devargs = net_vdevpeer0,peer=/path/to.sock,...");
	ret = cfg_uint(c, section, "mtu", RTE_ETHER_MIN_MTU, UINT16_MAX, &mtu);
	if (ret < 0)
		return ret;
	rx_mode = cfg_get(c, section, "rx_mode");
	if (rx_mode != NULL && fwd_rx_mode_parse(rx_mode) < 0)
		return cfg_error(c, section, "rx_mode", rx_mode,
				 "expected poll, adaptive or interrupt");
	RTE_ETH_FOREACH_DEV(port)
		before[port] = true;
	ret = rte_dev_probe(devargs);
	if (ret != 0)
		return cfg_error(c, section, "devargs", devargs,
				 "the device did not come up (see the driver's "
				 "message above)");
	RTE_ETH_FOREACH_DEV(port) {
		if (!before[port]) {
			found = port;
			break;
		}
	}
	if (found == RTE_MAX_ETHPORTS)
		return cfg_error(c, section, "devargs", devargs,
				 "not an ethdev: the device made no port");
	snprintf(c->port_names[c->nb_ports], CFG_NAME_LEN, "%s", name);
	c->port_ids[c->nb_ports++] = found;
	if (mtu != 0)
		p->mtu[found] = (uint16_t)mtu;
	if (rx_mode != NULL)
		p->port_rx_mode[found] = (uint8_t)(fwd_rx_mode_parse(rx_mode) + 1);
	return cfg_port_role(c, section, p, found);
}

static int
cfg_resolve(const struct cfg_ctx *c, const char *name, uint16_t *port)
{
	for (unsigned int i = 0; i < c->nb_ports; i++) {
		if (strcmp(c->port_names[i], name) == 0) {
			*port = c->port_ids[i];
			return 0;
		}
	}
	return ports_resolve(name, port);
}

/* [forwarding], [bridge], [stats]: sections of the option table */
static bool
cfg_option_section(const char *section)
{
	const struct app_option *o;

	for (o = app_options; o->name != NULL; o++)
		if (o->section != NULL && strcmp(o->section, section) == 0)
			return true;
	return false;
}

static int
cfg_resolve_cb(const void *ctx, const char *name, uint16_t *port)
{
	return cfg_resolve(ctx, name, port);
}

/*
 * A section of options ([forwarding], [bridge], [stats]): every key is an
 * option of the table (options.c), with the command line's parser and
 * range; a list value (pairs, static) one item at a time.
 */
static int
cfg_options(const struct cfg_ctx *c, const char *section, struct app_params *p)
{
	const struct app_opt_src src = {
		.resolve = cfg_resolve_cb,
		.ctx = c,
		.config = true,
		.unknown_port = "unknown port (not a [port NAME], port id, bind or "
				"ethdev name)",
	};
	char list[CFG_VALUE_LEN], buf[256], *save, *tok;
	const struct app_option *o;
	const char *v, *why;
	unsigned int i;
	int ret;

	for (i = 0; i < c->nb_keys; i++) {
		const struct cfg_key *k = &c->keys[i];

		if (strcmp(k->section, section) != 0 || k->key[0] == '\0')
			continue;
		o = app_option_by_key(section, k->key);
		if (o == NULL) {
			char keys[160];

			snprintf(buf, sizeof(buf), "unknown key (known: %s)",
				 app_option_keys(section, keys, sizeof(keys)));
			return cfg_error(c, section, k->key, NULL, buf);
		}
		v = cfg_get(c, section, k->key);
		if (!app_option_is_list(o)) {
			ret = app_option_set(o, v, &src, p, buf, sizeof(buf), &why);
			if (ret != 0)
				return cfg_error(c, section, k->key, v, why);
			continue;
		}
		snprintf(list, sizeof(list), "%s", v);
		save = NULL;
		for (tok = strtok_r(list, " ,", &save); tok != NULL;
		     tok = strtok_r(NULL, " ,", &save)) {
			ret = app_option_set(o, tok, &src, p, buf, sizeof(buf), &why);
			if (ret != 0)
				return cfg_error(c, section, k->key, tok, why);
		}
	}
	return 0;
}

/* Scan and load path into a new context (*cp; free with cfg_close). */
static int
cfg_open(const char *path, struct cfg_ctx **cp)
{
	struct rte_cfgfile_parameters params = { .comment_character = CFG_COMMENT };
	struct cfg_ctx *c;
	int ret;

	*cp = c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->path = path;
	ret = cfg_scan(c);
	if (ret != 0)
		return ret;
	c->cfg = rte_cfgfile_load_with_params(path, 0, &params);
	if (c->cfg == NULL) {
		fprintf(stderr, "%s: %s: librte_cfgfile cannot read it\n", APP_NAME, path);
		return -EINVAL;
	}
	return 0;
}

static void
cfg_close(struct cfg_ctx *c)
{
	if (c == NULL)
		return;
	if (c->cfg != NULL)
		rte_cfgfile_close(c->cfg);
	free(c);
}

int
config_eal(const char *path, struct config_eal *out)
{
	static const char *const eal_keys[] = { "args", "hugepages", NULL };
	struct cfg_ctx *c;
	unsigned long n = 0;
	const char *v;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = cfg_open(path, &c);
	if (ret == 0)
		ret = cfg_known_keys(c, "eal", eal_keys);
	if (ret == 0) {
		ret = cfg_uint(c, "eal", "hugepages", 0, CONFIG_MAX_HUGEPAGES, &n);
		if (ret == 1)
			ret = 0;
		out->hugepages = (unsigned int)n;
	}
	v = ret == 0 ? cfg_get(c, "eal", "args") : NULL;
	if (v != NULL)
		snprintf(out->args, sizeof(out->args), "%s", v);
	cfg_close(c);
	return ret;
}

int
config_load(const char *path, struct app_params *p)
{
	struct cfg_ctx *c;
	int ret;

	ret = cfg_open(path, &c);
	if (ret != 0)
		goto out;
	/* Sections: ports first (pairs name them), then the others. */
	for (unsigned int i = 0; ret == 0 && i < c->nb_keys; i++) {
		const struct cfg_key *k = &c->keys[i];

		if (k->key[0] != '\0')
			continue;
		if (strncmp(k->section, "port ", 5) == 0 || strcmp(k->section, "port") == 0)
			ret = cfg_port(c, k->section, p);
		else if (strcmp(k->section, "eal") == 0)
			continue; /* config_eal, before EAL started */
		else if (!cfg_option_section(k->section))
			ret = cfg_error(c, k->section, "", NULL, "unknown section "
					"(known: [eal], [port NAME], [forwarding], [bridge], [stats])");
	}
	for (unsigned int i = 0; ret == 0 && i < c->nb_keys; i++)
		if (c->keys[i].key[0] == '\0' && cfg_option_section(c->keys[i].section))
			ret = cfg_options(c, c->keys[i].section, p);
	if (ret == 0)
		printf("Configuration %s: %u port(s), mode %s\n", path, c->nb_ports,
		       p->engine->name);
out:
	cfg_close(c);
	return ret;
}

/* The last --config FILE in argv[from..argc), or NULL. */
static const char *
config_path_from(int argc, char **argv, int from)
{
	const char *path = NULL;

	for (int i = from; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
	}
	return path;
}

const char *
config_path_in_argv(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return config_path_from(argc, argv, i + 1);
	return NULL;
}

#define HUGEPAGES_2M "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

static int
hugepages_read(unsigned long *n)
{
	FILE *f = fopen(HUGEPAGES_2M, "r");
	int ok;

	if (f == NULL)
		return -errno;
	ok = fscanf(f, "%lu", n) == 1;
	fclose(f);
	return ok ? 0 : -EIO;
}

int
config_reserve_hugepages(unsigned int want)
{
	unsigned long have = 0;
	FILE *f;
	int ret;

	ret = hugepages_read(&have);
	if (ret == 0 && have >= want) {
		printf("Hugepages: %lu of 2 MiB reserved ([eal] hugepages = %u)\n", have, want);
		return 0;
	}
	if (ret == 0) {
		f = fopen(HUGEPAGES_2M, "w");
		if (f == NULL)
			ret = -errno;
		else {
			if (fprintf(f, "%u\n", want) < 0)
				ret = -EIO;
			if (fclose(f) != 0 && ret == 0)
				ret = -errno;
		}
	}
	if (ret == 0)
		ret = hugepages_read(&have);
	if (ret != 0) {
		fprintf(stderr, "%s: [eal] hugepages = %u: %s: %s\n", APP_NAME, want,
			HUGEPAGES_2M, strerror(-ret));
		return ret;
	}
	if (have < want) {
		fprintf(stderr, "%s: [eal] hugepages = %u: the kernel reserved only %lu "
			"(free memory too fragmented? reserve them at boot: "
			"hugepages=%u on the kernel command line)\n", APP_NAME, want, have, want);
		return -ENOMEM;
	}
	printf("Hugepages: %lu of 2 MiB reserved now ([eal] hugepages = %u)\n", have, want);
	return 0;
}

/* --config FILE in the application's arguments: load it (0 when there is
 * none). Read before the other options, which override it. */
int
config_load_args(int argc, char **argv, struct app_params *p)
{
	const char *path = config_path_from(argc, argv, 1);

	if (path == NULL)
		return 0;
	p->config_file = path;
	return config_load(path, p);
}
