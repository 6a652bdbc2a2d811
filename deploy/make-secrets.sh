#!/bin/sh
# Writes the secrets deploy/compose.yaml mounts, once, never over existing ones:
#   secrets/encryption.key  the council's key-encryption key (back it up apart from the database)
#   secrets/db_password     PostgreSQL's password;  secrets/pgpass  the same, for the services
# Each is mode 0600 and owned by the user that reads it in its container (10001 = caseassist,
# 999 = postgres), because the service refuses a key file that others can read.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets models
for f in secrets/encryption.key secrets/db_password secrets/pgpass; do
    if [ -e "$f" ]; then echo "$f exists: left as it is" >&2; exit 1; fi
done
# 32 random bytes in urlsafe base64, the format `caseassist` writes (assistant/storage/keys.py)
head -c 32 /dev/urandom | base64 | tr '+/' '-_' > secrets/encryption.key
head -c 24 /dev/urandom | base64 | tr -d '+/=' > secrets/db_password
printf '*:*:*:caseassist:%s\n' "$(cat secrets/db_password)" > secrets/pgpass
if [ "$(id -u)" = 0 ]; then
    chown 10001 secrets/encryption.key secrets/pgpass
    chown 999 secrets/db_password
else
    echo "not root: chown 10001 secrets/encryption.key secrets/pgpass; chown 999 secrets/db_password" >&2
fi
echo "wrote deploy/secrets/: back up encryption.key apart from the database"
