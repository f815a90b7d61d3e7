"""The store: the append-only database, its migrations, and ingest, which records what people saved."""
