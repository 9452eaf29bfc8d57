#!/bin/sh
# Run once by the postgres image on an empty data volume: one database per service, owned
# by POSTGRES_USER (its password is POSTGRES_PASSWORD from .env.production).
set -eu
for service in registration orders notify; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -c "CREATE DATABASE eupolnet_$service OWNER \"$POSTGRES_USER\""
done
