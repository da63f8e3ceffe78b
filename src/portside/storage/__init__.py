"""Storage: SQLAlchemy tables and queries over SQLite (embedded) and PostgreSQL."""
