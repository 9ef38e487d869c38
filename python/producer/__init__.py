"""Data generator: writes a realistic shop schema into PostgreSQL and keeps changing it (`python -m producer`)."""
