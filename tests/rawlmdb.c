/* LMDB files opened directly (rawlmdb.h). */
#include <stdio.h>
#include <string.h>

#include "rawlmdb.h"

/* Room for every test store; LMDB only reserves it. */
#define RAW_MAP_SIZE (1ULL << 30)

int
raw_begin(const char *dir, const char *file, unsigned flags, MDB_env **env,
    MDB_txn **txn)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (mdb_env_create(env) != 0)
		return -1;
	mdb_env_set_maxdbs(*env, 16);
	mdb_env_set_mapsize(*env, RAW_MAP_SIZE);
	if (mdb_env_open(*env, path, MDB_NOSUBDIR | flags, 0600) != 0 ||
	    mdb_txn_begin(*env, NULL, flags, txn) != 0) {
		mdb_env_close(*env);
		return -1;
	}
	return 0;
}

int
raw_end(MDB_env *env, MDB_txn *txn, int ok)
{
	int rc = -1;

	if (ok)
		rc = mdb_txn_commit(txn) == 0 ? 0 : -1;
	else
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc;
}

int
raw_has(const char *dir, const char *file, const char *database,
    const char *key)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;

	if (raw_begin(dir, file, MDB_RDONLY, &env, &txn) != 0)
		return -1;
	rc = mdb_dbi_open(txn, database, 0, &dbi) == 0;
	if (key != NULL) {
		MDB_val k = { strlen(key), (void *)key }, v;
		rc = rc ? mdb_get(txn, dbi, &k, &v) == 0 : -1;
	}
	raw_end(env, txn, 0);
	return rc;
}
