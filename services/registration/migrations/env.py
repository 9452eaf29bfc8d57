from shared.migrations import run_env

run_env("registration", shared_tables=("outbox_message", "staff_account", "staff_session", "audit_entry"))
