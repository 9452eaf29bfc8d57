"""Everything above the services that runs them, not library code: the `eupolnet` command,
the process list and launchers (`make run`, Procfile, compose), the development mail sink and
Redis, the databases of all services, and the test harness. `shared/` never imports it."""
