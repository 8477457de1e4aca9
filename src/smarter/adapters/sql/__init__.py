"""The SQL adapter: SQLAlchemy (async) rows, repositories and the unit of work."""
