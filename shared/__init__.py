"""Code shared by the EU-POLNET services: configuration, database, broker, outbox, contracts."""
