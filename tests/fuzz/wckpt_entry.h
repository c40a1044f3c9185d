/*
 * wckpt_entry.h - one window-checkpoint entry built from its main fields,
 * for wckpt_test.c and the seed generator of fuzz_wckpt.c. The fields not
 * given are fixed: a 900 s window, k 5, epsilon 1 (1000 thousandths), and
 * part WCKPT_ENTRY_PART (7 unless the includer defines it).
 */
#ifndef VT_WCKPT_ENTRY_H
#define VT_WCKPT_ENTRY_H

#include <stdio.h>
#include <string.h>

#include "wckpt.h"

#ifndef WCKPT_ENTRY_PART
#define WCKPT_ENTRY_PART 7
#endif

static inline struct vt_wckpt_entry wckpt_entry(const char *plugin, int releasing,
						int64_t start_ms, uint32_t metric, uint32_t dim1,
						uint32_t dim2, const char *label, uint64_t count)
{
	struct vt_wckpt_entry e;

	memset(&e, 0, sizeof(e));
	snprintf(e.plugin, sizeof(e.plugin), "%s", plugin);
	e.releasing = releasing;
	e.start_ms = start_ms;
	e.cell.length_s = 900;
	e.cell.metric = metric;
	e.cell.dim1 = dim1;
	e.cell.dim2 = dim2;
	snprintf(e.cell.label, sizeof(e.cell.label), "%s", label);
	e.cell.count = count;
	e.cell.k = 5;
	e.cell.epsilon_milli = 1000;
	e.cell.part = WCKPT_ENTRY_PART;
	return e;
}

#endif
