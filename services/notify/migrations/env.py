import services.notify.models  # noqa: F401  (the tables this history manages)
from shared.migrations import run_env

run_env("notify", shared_tables=("outbox_message", "audit_entry"))
