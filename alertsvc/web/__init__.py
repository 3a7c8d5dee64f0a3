"""HTML pages (citizens: unsubscribe, public alerts; staff: case and decision screens)."""
