"""outreach: books car-service appointments for dealerships by SMS and phone."""
