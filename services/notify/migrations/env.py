from shared.migrations import run_env

run_env("notify", shared_tables=("outbox_message", "audit_entry"))
