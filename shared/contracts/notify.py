"""What the notify service's staff API speaks of: the statuses of a delivery (the back
office filters and shows them; the service's model declares its column with them)."""

QUEUED, SENT, FAILED = "queued", "sent", "failed"
DELIVERY_STATUSES = (QUEUED, SENT, FAILED)
