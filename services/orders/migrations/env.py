from alembic import context

import services.orders.models  # noqa: F401  (the tables this history manages)
from services.orders.seed import seed_after_migrations
from shared.migrations import run_env

run_env("orders", shared_tables=("outbox_message", "audit_entry"))
seed_after_migrations(context.config)
