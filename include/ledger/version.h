/*
 * The release both programs report: `ledgerd --version` and
 * `ledgerctl --version` print the same string.
 */
#ifndef LEDGER_VERSION_H
#define LEDGER_VERSION_H

#define LEDGER_VERSION "0.1.0"

#endif
