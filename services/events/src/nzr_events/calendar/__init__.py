"""Calendar: RFC 5545 feeds of public events and series."""
