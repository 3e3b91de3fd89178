/* ledgerctl who-saw, history, lineage (being written). */
#include "ctl.h"

int cmd_who_saw(struct ctl *ctl, int argc, char **argv) { return ctl_fail(EXIT_USAGE, "not yet"); }
int cmd_history(struct ctl *ctl, int argc, char **argv) { return ctl_fail(EXIT_USAGE, "not yet"); }
int cmd_lineage(struct ctl *ctl, int argc, char **argv) { return ctl_fail(EXIT_USAGE, "not yet"); }
