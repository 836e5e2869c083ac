"""outreach: books car-service appointments for dealerships by SMS and phone."""

__version__ = "0.1.0"
