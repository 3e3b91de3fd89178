/* ledgerctl audit (being written). */
#include "ctl.h"

int cmd_audit(struct ctl *ctl, int argc, char **argv) { return ctl_fail(EXIT_USAGE, "not yet"); }
