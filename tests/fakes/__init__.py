"""In-memory fakes of the ports: the repositories and one unit of work over plain Python tables.
They keep the rules the services rely on from the real stores (seq numbering, unique keys,
conditional updates, queue order, expiry), so service unit tests run without a database."""
