/* assets.h - the dashboard's static files and page templates, compiled in (private to src/web).
 * Sources live in src/web/assets/; src/web/assets/embed.sh regenerates assets_data.c. */
#ifndef CALLBOT_WEB_ASSETS_H
#define CALLBOT_WEB_ASSETS_H

#include <stddef.h>

struct asset {
	const char *name;	/* file name under src/web/assets/ */
	const char *type;	/* Content-Type */
	const char *body;
	size_t len;
};

extern const struct asset assets[];
extern const size_t assets_n;

/* By file name ("app.js"); NULL when unknown. */
const struct asset *asset_find(const char *name);

#endif
