"""Labelled customer replies played end to end against the product (``outreach eval replies``)."""
