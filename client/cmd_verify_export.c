/* ledgerctl verify-export (being written). */
#include "ctl.h"

int cmd_verify_export(struct ctl *ctl, int argc, char **argv) { return ctl_fail(EXIT_USAGE, "not yet"); }
