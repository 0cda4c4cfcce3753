"""The rules of the business in plain Python: no Qt, no SQLAlchemy, time always a parameter."""
