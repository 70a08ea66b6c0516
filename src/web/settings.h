/* settings.h - which configuration keys the dashboard may override, and their validation. */
#ifndef CALLBOT_WEB_SETTINGS_H
#define CALLBOT_WEB_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

#define SETTING_VALUE_MAX 4000

/* True for the non-secret dialogue/backend keys an admin may change from the dashboard. */
bool setting_editable(const char *key);
/* Validates value with the configuration table's rules (type, range, choices, syntax)
 * and writes its canonical form ("on"/"off" for booleans). EINVAL with *why. */
int setting_normalize(const struct conf_key *k, const char *value, char *out, size_t cap,
		      const char **why);

#endif
