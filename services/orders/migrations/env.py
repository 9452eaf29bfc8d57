from alembic import context

from services.orders.seed import seed_after_migrations
from shared.migrations import run_env

run_env("orders", shared_tables=("outbox_message", "audit_entry"))
seed_after_migrations(context.config)
