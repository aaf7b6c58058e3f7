#include "sources/builtin.h"

#include <string.h>

extern const char lbvm_manifest_2021_sysa_start[], lbvm_manifest_2021_sysa_end[];
extern const char lbvm_manifest_2021_sysc_start[], lbvm_manifest_2021_sysc_end[];

const struct builtin_manifest *builtin_manifest(const char *name)
{
	static struct builtin_manifest table[2];
	if (!table[0].name) {
		table[0] = (struct builtin_manifest){ "live-bootstrap-2021-09-sysa.manifest", lbvm_manifest_2021_sysa_start,
						      (size_t)(lbvm_manifest_2021_sysa_end - lbvm_manifest_2021_sysa_start) };
		table[1] = (struct builtin_manifest){ "live-bootstrap-2021-09-sysc.manifest", lbvm_manifest_2021_sysc_start,
						      (size_t)(lbvm_manifest_2021_sysc_end - lbvm_manifest_2021_sysc_start) };
	}
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}
