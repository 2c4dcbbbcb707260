"""Data: read and validate what municipalities export, and keep it in the warehouse."""
