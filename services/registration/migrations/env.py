import services.registration.models  # noqa: F401  (the tables this history manages)
from shared.migrations import run_env

run_env("registration", shared_tables=("outbox_message", "staff_account", "staff_session", "audit_entry"))
